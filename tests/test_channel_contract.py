"""The contract every channel keeps, run against each one through its real routes on one real server.

REST, the website widget (its HTTP interface), Messenger and Instagram (signed webhooks, replies to loopback
fakes of the Graph API): a payload becomes a turn and the customer gets the reply; a redelivery is one turn;
forged or malformed input is refused with a 4xx and stores nothing; a long message sent outside a turn reaches
the customer whole, within the channel's limits, now or when they come back.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bots.runtime import Runtime, open_runtime
from bots.server.admin import CHANNELS
from bots.server.app import create_app
from bots.types import Identity, Text
from tests.conftest import demo_config
from tests.fake_graph import FakeGraph
from tests.fake_instagram_graph import FakeInstagramGraph
from tests.test_instagram import ACCOUNT
from tests.test_instagram import envelope as ig_envelope
from tests.test_instagram import message as ig_message
from tests.test_messenger import envelope as fb_envelope
from tests.test_messenger import messenger_config, sign, text_event

LONG = " ".join(f"Sentence number {n} about your order and its delivery." for n in range(90))  # ~4,600 chars


@dataclass
class Rig:
    client: TestClient
    runtime: Runtime
    messenger: FakeGraph
    instagram: FakeInstagramGraph


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    messenger, instagram = await FakeGraph().start(), FakeInstagramGraph()
    await instagram.start()
    connectors = {
        "messenger": messenger_config(messenger, typing_indicators=False, mark_seen=False),
        "instagram": {
            "ig_user_id": ACCOUNT,
            "app_secret": instagram.app_secret,
            "access_token": instagram.access_token,
            "graph_api_url": instagram.url,
            "typing_indicators": False,
            "mark_seen": False,
            "retry_base_seconds": 0.01,
        },
    }
    config = demo_config(tmp_path / "data", connectors=connectors, server={"admin_token": "adm"})
    try:
        async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
            yield Rig(client, runtime, messenger, instagram)
    finally:
        await messenger.close()
        await instagram.close()


@dataclass
class Customer:
    """How a customer talks on one channel, through its real interface."""

    identity: Identity
    say: Callable[[Rig, str, str], Awaitable[int]]  # (text, message id) -> HTTP status
    received: Callable[[Rig], Awaitable[list[str]]]  # every text the customer got so far
    bad_requests: Callable[[Rig], Awaitable[list[int]]]  # statuses of forged and malformed requests


# ---------------------------------------------------------------------------- REST

rest_inbox: dict[str, list[str]] = {}


async def rest_say(rig: Rig, text: str, message_id: str) -> int:
    response = await rig.client.post(
        "/webhooks/rest/webhook", json={"sender": "ana", "message": text, "message_id": message_id}
    )
    rest_inbox.setdefault(id(rig), []).extend(m.get("text", "") for m in await response.json())
    return response.status


async def rest_received(rig: Rig) -> list[str]:
    await rest_say(rig, "thanks", f"rest-check-{len(rest_inbox.get(id(rig), []))}")  # it cannot push: ask again
    return rest_inbox[id(rig)]


async def rest_bad(rig: Rig) -> list[int]:
    bodies: list[Any] = [
        b"{not json",
        {"sender": "", "message": "hi"},
        {"sender": "x", "message": 5},
        {"sender": "x"},
        {"sender": "x", "message": "hi", "message_id": 7},
    ]
    statuses = []
    for body in bodies:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        statuses.append((await rig.client.post("/webhooks/rest/webhook", data=data)).status)
    return statuses


# ---------------------------------------------------------------------------- the website (HTTP fallback)

VISITOR = "visitor00000000contract"


async def web_say(rig: Rig, text: str, message_id: str) -> int:
    await rig.client.post("/web/api/hello", json={"visitor_id": VISITOR})
    response = await rig.client.post(
        "/web/api/send", json={"visitor_id": VISITOR, "frame": {"type": "message", "id": message_id, "text": text}}
    )
    return response.status


async def web_received(rig: Rig) -> list[str]:
    response = await rig.client.get("/web/api/poll", params={"visitor_id": VISITOR, "after": "0"})
    return [m.get("text", "") for m in (await response.json())["messages"] if m["role"] != "user"]


async def web_bad(rig: Rig) -> list[int]:
    statuses = [
        (await rig.client.post("/web/api/send", data=b"{nope")).status,
        (await rig.client.post("/web/api/send", json={"visitor_id": "short", "frame": {}})).status,
        (
            await rig.client.post(
                "/web/api/send",
                json={
                    "visitor_id": "visitor00000000neverhello",
                    "frame": {"type": "message", "id": "x1", "text": "hi"},
                },
            )
        ).status,
        (
            await rig.client.post(
                "/web/api/hello", json={"visitor_id": VISITOR + "2"}, headers={"Origin": "https://evil.example"}
            )
        ).status,
    ]
    return statuses


# ---------------------------------------------------------------------------- Messenger and Instagram


async def webhook(rig: Rig, path: str, body: dict[str, Any], secret: str) -> int:
    raw = json.dumps(body).encode()
    response = await rig.client.post(path, data=raw, headers=sign(raw, secret))
    await rig.client.app[CHANNELS][path.rsplit("/", 1)[1]].idle()  # type: ignore[attr-defined]
    return response.status


def texts(bodies: list[dict[str, Any]]) -> list[str]:
    out = []
    for body in bodies:
        message = body["message"]
        payload = message.get("attachment", {}).get("payload", {})
        out.append(
            message.get("text") or payload.get("text") or "|".join(e["title"] for e in payload.get("elements", []))
        )
    return out


async def messenger_say(rig: Rig, text: str, message_id: str) -> int:
    return await webhook(
        rig, "/webhooks/messenger", fb_envelope(text_event("psid-c", text, message_id)), rig.messenger.app_secret
    )


async def messenger_received(rig: Rig) -> list[str]:
    return texts(rig.messenger.messages("psid-c"))


async def meta_bad(rig: Rig, path: str, body: dict[str, Any], secret: str) -> list[int]:
    raw = json.dumps(body).encode()
    forged = await rig.client.post(path, data=raw, headers=sign(raw, "not-the-secret"))
    unsigned = await rig.client.post(path, data=raw, headers={"Content-Type": "application/json"})
    broken = b"{not json"
    malformed = await rig.client.post(path, data=broken, headers=sign(broken, secret))
    return [forged.status, unsigned.status, malformed.status]


async def messenger_bad(rig: Rig) -> list[int]:
    return await meta_bad(
        rig, "/webhooks/messenger", fb_envelope(text_event("psid-x", "hi", "m-x")), rig.messenger.app_secret
    )


async def instagram_say(rig: Rig, text: str, message_id: str) -> int:
    return await webhook(
        rig, "/webhooks/instagram", ig_envelope(ig_message("ig-c", message_id, text)), rig.instagram.app_secret
    )


async def instagram_received(rig: Rig) -> list[str]:
    return texts(rig.instagram.messages("ig-c"))


async def instagram_bad(rig: Rig) -> list[int]:
    return await meta_bad(
        rig, "/webhooks/instagram", ig_envelope(ig_message("ig-x", "m-x", "hi")), rig.instagram.app_secret
    )


CUSTOMERS = {
    "rest": Customer(Identity("rest", "ana"), rest_say, rest_received, rest_bad),
    "web": Customer(Identity("web", VISITOR), web_say, web_received, web_bad),
    "messenger": Customer(Identity("messenger", "psid-c"), messenger_say, messenger_received, messenger_bad),
    "instagram": Customer(Identity("instagram", "ig-c"), instagram_say, instagram_received, instagram_bad),
}
BAD_IDENTITIES = {
    "rest": Identity("rest", "x"),
    "web": Identity("web", "visitor00000000neverhello"),
    "messenger": Identity("messenger", "psid-x"),
    "instagram": Identity("instagram", "ig-x"),
}


@pytest.fixture(params=list(CUSTOMERS))
def customer(request: pytest.FixtureRequest) -> Customer:
    return CUSTOMERS[request.param]


async def test_every_channel_is_in_the_registry_and_running(rig: Rig) -> None:
    assert set(rig.client.app[CHANNELS]) == set(CUSTOMERS)


async def test_a_payload_becomes_one_turn_and_the_customer_gets_the_reply(rig: Rig, customer: Customer) -> None:
    assert await customer.say(rig, "how long does shipping take?", "c-1") == 200
    assert await customer.say(rig, "how long does shipping take?", "c-1") == 200  # redelivered: the same turn
    thread = await rig.runtime.threads.find(customer.identity)
    assert thread is not None
    history = await rig.runtime.threads.history(thread, after=0, limit=1000, kinds=("user",))
    assert history is not None and [e.event.data["text"] for e in history.events] == ["how long does shipping take?"]
    received = await customer.received(rig)
    assert any("ship" in text.lower() or "deliver" in text.lower() for text in received), received


async def test_forged_or_malformed_input_is_refused_and_stores_nothing(rig: Rig, customer: Customer) -> None:
    channel = customer.identity.channel
    statuses = await customer.bad_requests(rig)
    assert statuses and all(400 <= status < 500 for status in statuses), statuses
    assert await rig.runtime.threads.find(BAD_IDENTITIES[channel]) is None


async def test_a_long_message_outside_a_turn_reaches_the_customer_whole_within_limits(
    rig: Rig, customer: Customer
) -> None:
    await customer.say(rig, "hello", "c-2")
    thread = await rig.runtime.threads.find(customer.identity)
    assert thread is not None
    result = await rig.runtime.threads.send(thread, [Text(LONG)], by_person="Anna")
    assert result is not None and result["status"] in ("delivered", "queued"), result
    assert result["sent"] == (result["status"] == "delivered")
    received = await customer.received(rig)
    pieces = [text for text in received if text.startswith("Sentence number") or "Sentence number" in text]
    assert " ".join(pieces).split() == LONG.split()  # nothing dropped, in order
    limit = rig.client.app[CHANNELS][customer.identity.channel].limits.text_chars
    if limit is not None:
        assert len(pieces) > 1 and all(len(piece.encode()) <= max(limit, 1000) for piece in pieces)
    assert rig.messenger.violations == [] and rig.instagram.violations == []
