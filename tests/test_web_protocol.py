"""The widget's server side over a real WebSocket and its HTTP fallback (no browser needed)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bots.runtime import Runtime, open_runtime
from bots.server.app import create_app
from bots.types import Identity
from connectors.web.identity import sign_customer
from tests.conftest import demo_config

SECRET = "identity-secret"


@pytest.fixture
async def runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    config = demo_config(
        tmp_path / "data",
        connectors={
            "web": {
                "identity_secret": SECRET,
                "rate_limit": {"messages": 5, "per_seconds": 60},
                "allowed_origins": ["https://shop.example"],
            }
        },
    )
    async with open_runtime(config) as runtime:
        yield runtime


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[TestClient]:
    async with TestClient(TestServer(create_app(runtime))) as client:
        yield client


class Tab:
    """One widget connection, as a browser tab would hold it."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def send(self, **frame: Any) -> None:
        await self.ws.send_str(json.dumps(frame))

    async def next(self, kind: str | None = None) -> dict[str, Any]:
        while True:
            frame = json.loads((await asyncio.wait_for(self.ws.receive(), 60)).data)  # a ceiling, not a wait
            if kind is None or frame["type"] == kind:
                return frame

    async def until_ack(self, frame_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The ack of ``frame_id`` and the messages pushed before it."""
        messages: list[dict[str, Any]] = []
        while True:
            frame = await self.next()
            if frame["type"] == "messages":
                messages += frame["messages"]
            elif frame["type"] in ("ack", "error") and frame.get("id") == frame_id:
                return frame, messages


async def open_tab(client: TestClient, visitor: str, **hello: Any) -> tuple[Tab, dict[str, Any]]:
    ws = await client.ws_connect("/web/ws", headers={"Origin": str(client.make_url("")).rstrip("/")})
    tab = Tab(ws)
    await tab.send(type="hello", visitor_id=visitor, **hello)
    return tab, await tab.next()


VISITOR = "visitor0000000000001"


async def test_hello_message_ack_and_seqs(client: TestClient) -> None:
    tab, ready = await open_tab(client, VISITOR, locale="de-DE")
    assert ready == {
        "type": "ready",
        "visitor_id": VISITOR,
        "messages": [],
        "started": False,
        "language": None,
        "continue_in_messenger": False,
        "epoch": ready["epoch"],
        "reset": False,
    }
    assert len(ready["epoch"]) == 12
    await tab.send(type="event", id="e1", name="conversation_start")
    ack, messages = await tab.until_ack("e1")
    assert ack == {"type": "ack", "id": "e1", "duplicate": False}
    assert [m["role"] for m in messages] == ["bot"]
    assert messages[0]["text"].startswith("Hi! Ich bin der Shopping-Assistent von Stride")  # the browser's language
    await tab.send(type="message", id="m1", text="/size_help", display="Size help")
    ack, messages = await tab.until_ack("m1")
    user, bot = messages
    assert user["role"] == "user" and user["text"] == "Size help" and user["client_id"] == "m1"
    assert bot["role"] == "bot" and [q["payload"] for q in bot["quick_replies"]][:2] == ["38", "39"]
    assert user["seq"] < bot["seq"] and messages[0]["seq"] > 0


async def test_a_resent_message_counts_once(client: TestClient, runtime: Runtime) -> None:
    tab, _ = await open_tab(client, VISITOR)
    await tab.send(type="message", id="same", text="hello")
    first, messages = await tab.until_ack("same")
    await tab.send(type="message", id="same", text="hello")
    again, repeated = await tab.until_ack("same")
    assert first["duplicate"] is False and again["duplicate"] is True
    # the same items again (same seqs, which tabs de-duplicate by): a tab that lost its connection gets them
    assert len(messages) == 2 and repeated == messages
    [thread] = await runtime.store.thread_ids()
    assert [e.event.kind for e in await runtime.store.events(thread)].count("user") == 1


async def test_every_tab_of_the_visitor_gets_every_message(client: TestClient) -> None:
    tab_a, _ = await open_tab(client, VISITOR)
    tab_b, _ = await open_tab(client, VISITOR)
    await tab_a.send(type="message", id="a1", text="where is my order?")
    _ack, in_a = await tab_a.until_ack("a1")
    pushed = await tab_b.next("messages")
    assert pushed["messages"] == in_a
    tab_c, ready = await open_tab(client, VISITOR, after=in_a[0]["seq"])  # reconnecting tab: only what it missed
    assert ready["messages"] == in_a[1:] and ready["started"] is True


async def test_history_on_hello(client: TestClient) -> None:
    tab, _ = await open_tab(client, VISITOR)
    await tab.send(type="message", id="h1", text="/product_search")
    _ack, messages = await tab.until_ack("h1")
    _tab, ready = await open_tab(client, VISITOR)
    assert ready["messages"] == messages
    assert ready["messages"][-1]["type"] == "carousel" and len(ready["messages"][-1]["cards"]) == 4


async def test_signed_customer_shares_a_thread_across_devices(client: TestClient) -> None:
    customer = {"id": "cust-42", "signature": sign_customer(SECRET, "cust-42")}
    phone, _ = await open_tab(client, "phone000000000000001", customer=customer)
    await phone.send(type="message", id="p1", text="where is my order")
    await phone.until_ack("p1")
    laptop, ready = await open_tab(client, "laptop00000000000001", customer=customer)
    assert [m["text"] for m in ready["messages"]][:1] == ["where is my order"]
    await laptop.send(type="message", id="l1", text="ST-123456")  # answers the question asked on the phone
    _ack, messages = await laptop.until_ack("l1")
    assert "ST-123456 (Trail Runner 2, EU 42) has shipped" in messages[1]["text"]


@pytest.mark.parametrize(
    "customer,reason",
    [
        ({"id": "cust-42", "signature": "0" * 64}, "the customer id's signature is missing or wrong"),
        ({"id": "cust-42"}, "the customer id's signature is missing or wrong"),
        ("cust-42", "customer must be an object with an 'id' and a 'signature'"),
    ],
)
async def test_unsigned_or_wrongly_signed_customer_is_refused(
    client: TestClient, runtime: Runtime, customer: Any, reason: str
) -> None:
    tab, error = await open_tab(client, VISITOR, customer=customer)
    assert error == {"type": "error", "code": "identity_refused", "message": reason}
    closing = await asyncio.wait_for(tab.ws.receive(), 60)
    assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 4003
    assert await runtime.store.thread_ids() == []


async def test_rate_limit_has_a_clear_message(client: TestClient) -> None:
    tab, _ = await open_tab(client, VISITOR)
    results = []
    for n in range(7):
        await tab.send(type="message", id=f"r{n}", text=f"hello {n}")
        results.append((await tab.until_ack(f"r{n}"))[0])
    assert [r["type"] for r in results] == ["ack"] * 5 + ["error"] * 2
    assert results[5]["code"] == "rate_limited" and results[5]["message"].startswith(
        "You're sending messages too fast."
    )
    assert results[5]["retry_after"] >= 1


async def test_bad_frames_get_clear_errors(client: TestClient) -> None:
    tab, _ = await open_tab(client, VISITOR)
    await tab.ws.send_str("not json")
    assert (await tab.next())["message"] == "frames must be JSON objects"
    await tab.send(type="message", text="no id")
    assert (await tab.next())["message"].startswith("every message and event needs an 'id'")
    await tab.send(type="message", id="x1", text="a" * 5000)
    error = await tab.next()
    assert error == {
        "type": "error",
        "code": "too_long",
        "id": "x1",
        "message": "Your message is too long: at most 4000 characters.",
    }
    await tab.send(type="event", id="x2", name="bad name!")
    assert (await tab.next())["code"] == "bad_frame"
    await tab.send(type="shout", id="x3")
    assert (await tab.next())["message"] == "unknown frame type 'shout'"
    fresh, _ = await open_tab(client, "tooshort")
    assert _ == {
        "type": "error",
        "code": "identity_refused",
        "message": "visitor_id must be 16 to 64 letters, digits, - or _",
    }


async def test_disallowed_origin_is_refused(client: TestClient) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/web/ws", headers={"Origin": "https://evil.example"})
    assert refused.value.status == 403
    response = await client.post(
        "/web/api/hello", json={"visitor_id": VISITOR}, headers={"Origin": "https://evil.example"}
    )
    assert response.status == 403 and (await response.json())["code"] == "origin_refused"
    allowed = await client.ws_connect("/web/ws", headers={"Origin": "https://shop.example"})
    await allowed.close()


async def test_http_fallback(client: TestClient) -> None:
    origin = {"Origin": "https://shop.example"}
    preflight = await client.options("/web/api/send", headers={**origin, "Access-Control-Request-Method": "POST"})
    assert preflight.status == 204 and preflight.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    hello = await client.post("/web/api/hello", json={"visitor_id": VISITOR, "locale": "fr-FR"}, headers=origin)
    assert hello.status == 200 and (await hello.json())["type"] == "ready"
    sent = await client.post(
        "/web/api/send",
        json={
            "visitor_id": VISITOR,
            "locale": "fr-FR",
            "frame": {"type": "message", "id": "f1", "text": "où est ma commande ?"},
        },
        headers=origin,
    )
    body = await sent.json()
    assert sent.status == 200 and body["type"] == "ack" and body["id"] == "f1"
    assert [m["role"] for m in body["messages"]] == ["user", "bot"] and "commande" in body["messages"][1]["text"]
    polled = await (await client.get(f"/web/api/poll?visitor_id={VISITOR}&after=0")).json()
    assert polled["messages"] == body["messages"]
    polled = await (await client.get(f"/web/api/poll?visitor_id={VISITOR}&after={body['messages'][-1]['seq']}")).json()
    assert polled["messages"] == []
    limited = None
    for n in range(6):
        limited = await client.post(
            "/web/api/send", json={"visitor_id": VISITOR, "frame": {"type": "message", "id": f"f{n + 2}", "text": "hi"}}
        )
    assert limited is not None and limited.status == 429


async def test_widget_files_are_served(client: TestClient) -> None:
    script = await client.get("/widget.js")
    assert script.status == 200 and script.headers["Content-Type"].startswith("application/javascript")
    assert "Threadline" in await script.text()
    style = await client.get("/widget.css")
    assert style.status == 200 and style.headers["Content-Type"].startswith("text/css")
    page = await client.get("/")
    assert page.status == 200 and '<script src="/widget.js"' in await page.text()
    assert (await client.get("/products/CG1")).status == 200
    assert (await client.get("/products/NOPE")).status == 404


async def test_signing_out_on_a_shared_computer_shows_nothing_of_the_customer(client: TestClient) -> None:
    customer = {"id": "cust-7", "signature": sign_customer(SECRET, "cust-7")}
    anonymous, _ = await open_tab(client, VISITOR)
    await anonymous.send(type="message", id="a1", text="hello")  # chatting before signing in
    await anonymous.until_ack("a1")
    signed_in, ready = await open_tab(client, VISITOR, customer=customer)
    assert [m["text"] for m in ready["messages"]][:1] == ["hello"]  # the anonymous chat came along
    await signed_in.send(type="message", id="s1", text="where is my order ST-123456")
    await signed_in.until_ack("s1")
    signed_out, ready = await open_tab(client, VISITOR)  # same browser, no customer any more
    assert ready["messages"] == [] and ready["started"] is False
    other_device, ready = await open_tab(client, "otherdevice000000001", customer=customer)
    assert "where is my order ST-123456" in [m["text"] for m in ready["messages"]]


async def test_page_views_do_not_use_up_the_message_allowance(client: TestClient) -> None:
    tab, _ = await open_tab(client, VISITOR)
    for n in range(10):  # twice the message allowance of this test config (5 a minute)
        await tab.send(type="event", id=f"v{n}", name="product_viewed", data={"sku": "TR2"})
        assert (await tab.until_ack(f"v{n}"))[0]["type"] == "ack"
    await tab.send(type="message", id="q1", text="hello")
    assert (await tab.until_ack("q1"))[0]["type"] == "ack"


async def test_a_person_answers_a_website_visitor_live(client: TestClient, runtime: Runtime) -> None:
    tab, _ = await open_tab(client, VISITOR)
    await tab.send(type="message", id="h1", text="I want to talk to a human")
    await tab.until_ack("h1")
    [thread] = await runtime.store.thread_ids()
    result = await runtime.threads.send(
        thread, [__import__("bots.types", fromlist=["Text"]).Text("Hi, Anna here!")], by_person="Anna"
    )
    assert result == {"sent": True, "status": "delivered", "channel": "web", "live_tabs": 1}
    pushed = await tab.next("messages")
    assert pushed["messages"][0]["text"] == "Hi, Anna here!" and pushed["messages"][0]["by"] == "Anna"
    _again, ready = await open_tab(client, VISITOR)
    assert ready["messages"][-1]["text"] == "Hi, Anna here!"  # in the history too


async def test_http_errors_name_the_refused_frame(client: TestClient) -> None:
    await client.post("/web/api/hello", json={"visitor_id": VISITOR})
    response = await client.post(
        "/web/api/send", json={"visitor_id": VISITOR, "frame": {"type": "message", "id": "big1", "text": "a" * 5000}}
    )
    assert response.status == 413 and (await response.json())["id"] == "big1"


async def test_another_channels_turn_shows_in_an_open_tab_and_a_new_customers_asks_nobody_for_tabs(
    client: TestClient, runtime: Runtime
) -> None:
    """A turn on another channel reaches the thread's open windows; a new customer's first turn on another
    channel cannot have one, so it does not ask the bus how many there are (a round trip on a server store)."""
    web = runtime.threads.channels["web"]
    asked: list[str] = []
    online = web.hub.online

    async def counting(thread_id: str) -> int:
        asked.append(thread_id)
        return await online(thread_id)

    web.hub.online = counting  # type: ignore[method-assign]
    tab, _ = await open_tab(client, VISITOR)
    await tab.send(type="message", id="h1", text="hello")
    await tab.until_ack("h1")
    [thread] = await runtime.store.thread_ids()
    await runtime.store.link(Identity("rest", "same-person"), thread, now=0.0)  # the same customer, on REST
    asked.clear()

    said = await client.post("/webhooks/rest/webhook", json={"sender": "same-person", "message": "where is my order"})
    assert said.status == 200
    pushed = await tab.next("messages")
    assert pushed["messages"][0]["text"] == "where is my order" and pushed["messages"][0]["channel"] == "rest"
    assert asked == [thread]

    asked.clear()
    said = await client.post("/webhooks/rest/webhook", json={"sender": "someone-new", "message": "hello"})
    assert said.status == 200 and await said.json()
    new = await runtime.store.find(Identity("rest", "someone-new"))
    assert new is not None and new != thread
    assert asked == []  # made by the turn: no window can show it yet
    said = await client.post("/webhooks/rest/webhook", json={"sender": "someone-new", "message": "thanks"})
    assert said.status == 200
    assert asked == [new]  # from its second turn on, someone may have opened it (a link the bot sent)
