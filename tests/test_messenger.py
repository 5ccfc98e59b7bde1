"""The Messenger connector end to end: signed webhooks into the real server, Send API calls to a loopback fake."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bots.runtime import Runtime, open_runtime
from bots.server.admin import CHANNELS
from bots.server.app import create_app
from connectors.messenger.parse import parse_body
from tests.conftest import demo_config
from tests.fake_graph import FakeGraph
from tests.observe import observe_body_reads

SECRET = "app-secret"
PAGE = "111899832631525"


def messenger_config(graph: FakeGraph, **extra: Any) -> dict[str, Any]:
    return {
        "page_id": PAGE,
        "verify_token": "verify-me",
        "app_secret": SECRET,
        "page_access_token": "page-token",
        "graph_api_url": graph.url,
        "app_id": "999",
        "retry_base_seconds": 0.01,
        "retry_max_seconds": 0.05,
        **extra,
    }


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    fake = await FakeGraph(
        profiles={
            "de-user": {"first_name": "Jonas", "locale": "de_DE"},
            "es-user": {"first_name": "Lucía", "locale": "es_LA"},
        }
    ).start()
    yield fake
    await fake.close()


@pytest.fixture
async def server(tmp_path: Path, graph: FakeGraph) -> AsyncIterator[tuple[TestClient, Runtime]]:
    config = demo_config(
        tmp_path / "data",
        connectors={"messenger": messenger_config(graph)},
        server={"admin_token": "adm", "public_url": "https://shop.example"},
    )
    async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
        yield client, runtime


def sign(raw: bytes, secret: str = SECRET, algorithm: str = "sha256") -> dict[str, str]:
    digest = hmac.new(secret.encode(), raw, getattr(hashlib, algorithm)).hexdigest()
    header = "X-Hub-Signature-256" if algorithm == "sha256" else "X-Hub-Signature"
    return {header: f"{algorithm}={digest}", "Content-Type": "application/json"}


def envelope(*items: dict[str, Any], page: str = PAGE, standby: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": page, "time": 1480279487271, "messaging": list(items)}
    if standby is not None:
        entry["standby"] = standby
    return {"object": "page", "entry": [entry]}


def text_event(psid: str, text: str, mid: str, **message: Any) -> dict[str, Any]:
    return {
        "sender": {"id": psid},
        "recipient": {"id": PAGE},
        "timestamp": int(time.time() * 1000),
        "message": {"mid": mid, "text": text, **message},
    }


async def deliver(client: TestClient, body: dict[str, Any] | bytes, **sign_options: str) -> int:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = await client.post("/webhooks/messenger", data=raw, headers=sign(raw, **sign_options))
    return response.status


async def settle(client: TestClient) -> None:
    await client.app[CHANNELS]["messenger"].idle()


def texts_of(bodies: list[dict[str, Any]]) -> list[str]:
    out = []
    for body in bodies:
        message = body["message"]
        if "text" in message:
            out.append(message["text"])
        elif message["attachment"]["type"] == "template":
            payload = message["attachment"]["payload"]
            out.append(payload.get("text") or "|".join(e["title"] for e in payload.get("elements", [])))
        else:
            out.append(f"[{message['attachment']['type']}]")
    return out


# ---------------------------------------------------------------------------- handshake and signatures


async def test_verification_handshake(server) -> None:  # type: ignore[no-untyped-def]
    client, _ = server
    for challenge in ("1158201444", "a-long-opaque-challenge-" * 10):
        response = await client.get(
            "/webhooks/messenger",
            params={"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": challenge},
        )
        assert response.status == 200 and await response.text() == challenge
        assert response.content_type == "text/plain"
    for params in (
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.verify_token": "verify-me", "hub.challenge": "1"},
    ):
        assert (await client.get("/webhooks/messenger", params=params)).status == 403


def test_documented_signature_vectors() -> None:
    from connectors.messenger.connector import MessengerChannel

    class Stub(MessengerChannel):
        def __init__(self, secret: str) -> None:
            self.config = type("C", (), {"app_secret": secret})()

    raw = (
        b'{"object":"page","entry":[{"id":1751036168465324,"time":1460923697656,"messaging":[{"sender":{"id":'
        b'982337261802700},"recipient":{"id":1751036168465324},"timestamp":1460923697635,"message":{"mid":"mid.'
        b'1460923697625:5c96e8279b55505308","seq":614,"text":"Test \\u00e4\\u00eb\\u00ef"}}]}]}'
    )
    stub = Stub("e6af24be1d683c8c911949f897eea1f6")
    assert stub.signature_ok(raw, {"X-Hub-Signature": "sha1=f1a4569dcf02a9829a15696d949b386b7d6d0272"})
    assert stub.signature_ok(
        raw, {"X-Hub-Signature-256": "sha256=7f202c12ba7dbbd1cb23d8a1b4af648fe22ea04456c0a926fcf8cb4e6da31ab4"}
    )
    reserialised = json.dumps(json.loads(raw), ensure_ascii=False, separators=(",", ":")).encode()
    good_for_reserialised = (
        "sha1=" + hmac.new(b"e6af24be1d683c8c911949f897eea1f6", reserialised, hashlib.sha1).hexdigest()
    )
    assert not stub.signature_ok(raw, {"X-Hub-Signature": good_for_reserialised})  # raw bytes are what count
    m4j = (
        b'{"object":"page","entry":[{"id":"1717527131834678","time":1475942721780,"messaging":[{"sender":{"id":'
        b'"1256217357730577"},"recipient":{"id":"1717527131834678"},"timestamp":1475942721741,"message":{"mid":'
        b'"mid.1475942721728:3b9e3646712f9bed52","seq":123,"text":"34wrr3wr"}}]}]}'
    )
    stub = Stub("60efff025951cddde78c8d03de52cc90")
    assert stub.signature_ok(m4j, {"X-Hub-Signature": "sha1=3daa41999293ff66c3eb313e04bcf77861bb0276"})
    assert stub.signature_ok(
        m4j, {"X-Hub-Signature-256": "sha256=2c28be6e4b8c62b732b3487f445dbec6624868db6844b347567ebc86d7da3ad4"}
    )
    assert not stub.signature_ok(
        m4j.replace(b"34wrr3wr", b"34wrr3wX"), {"X-Hub-Signature": "sha1=3daa41999293ff66c3eb313e04bcf77861bb0276"}
    )


async def test_forged_unsigned_and_malformed_requests_change_nothing(server, graph: FakeGraph) -> None:  # type: ignore[no-untyped-def]
    client, runtime = server
    raw = json.dumps(envelope(text_event("u1", "hi", "m1"))).encode()
    assert (await client.post("/webhooks/messenger", data=raw)).status == 403  # unsigned
    assert (await client.post("/webhooks/messenger", data=raw, headers=sign(raw, secret="forged"))).status == 403
    tampered = raw.replace(b'"hi"', b'"yo"')
    assert (await client.post("/webhooks/messenger", data=tampered, headers=sign(raw))).status == 403
    assert await deliver(client, b'{"object": "page", "entry": [') == 400  # signed but not JSON
    await settle(client)
    assert await runtime.store.thread_ids() == [] and graph.requests == []
    assert await runtime.store.pending_inbound("messenger") == []


# ---------------------------------------------------------------------------- conversations and requests


async def test_a_text_message_gets_the_exact_send_api_requests(server, graph: FakeGraph) -> None:  # type: ignore[no-untyped-def]
    client, runtime = server
    assert await deliver(client, envelope(text_event("1433960459967306", "Hi", "mid.1480279487147:4388d3b344"))) == 200
    await settle(client)
    sends = graph.sends("1433960459967306")
    assert sends[0] == {"recipient": {"id": "1433960459967306"}, "sender_action": "mark_seen"}
    assert sends[1] == {"recipient": {"id": "1433960459967306"}, "sender_action": "typing_on"}
    assert sends[2] == {
        "recipient": {"id": "1433960459967306"},
        "messaging_type": "RESPONSE",
        "message": {
            "text": "Hi there! How can I help you today?",
            "metadata": "threadline",
            "quick_replies": [
                {"content_type": "text", "title": "Track my order", "payload": "/order_status"},
                {"content_type": "text", "title": "Find shoes", "payload": "/product_search"},
                {"content_type": "text", "title": "Size help", "payload": "/size_help"},
                {"content_type": "text", "title": "Returns", "payload": "/return_item"},
            ],
        },
    }
    assert len(sends) == 3 and graph.violations == []
    token_query = graph.requests[-1].query
    assert token_query["access_token"] == "page-token"
    assert token_query["appsecret_proof"] == hmac.new(SECRET.encode(), b"page-token", hashlib.sha256).hexdigest()
    [thread] = await runtime.store.thread_ids()
    assert await runtime.store.identities(thread) == [
        __import__("bots.types", fromlist=["Identity"]).Identity("messenger", "1433960459967306")
    ]


async def test_quick_reply_payload_carousel_and_media_with_ctas(server, graph: FakeGraph) -> None:  # type: ignore[no-untyped-def]
    client, _ = server
    quick = text_event("u2", "Find shoes", "m-q1", quick_reply={"payload": "/product_search"})
    await deliver(client, envelope(quick))
    await settle(client)
    intro, carousel = graph.messages("u2")
    assert intro["message"]["text"] == "Here are our bestsellers:"
    payload = carousel["message"]["attachment"]["payload"]
    assert payload["template_type"] == "generic" and [e["title"] for e in payload["elements"]] == [
        "Trail Runner 2",
        "City Glide",
        "Marathon Pro",
        "Kids Sprint",
    ]
    assert payload["elements"][0]["image_url"] == "https://shop.example/media/trail-runner-2.png"
    assert payload["elements"][0]["buttons"] == [
        {"type": "web_url", "url": "https://shop.example/products/TR2", "title": "View"},
        {"type": "postback", "title": "Buy", "payload": '/buy{"sku": "TR2"}'},
    ]
    postback = {
        "sender": {"id": "u2"},
        "recipient": {"id": PAGE},
        "timestamp": 1522222894827,
        "postback": {"mid": "m-pb1", "title": "Buy", "payload": '/buy{"sku": "TR2"}'},
    }
    await deliver(client, envelope(postback))
    await settle(client)
    ask = graph.messages("u2")[-1]["message"]
    assert ask["text"] == "Great choice: the Trail Runner 2 (€129). Which size (EU)?"
    assert [q["payload"] for q in ask["quick_replies"]] == ["40", "41", "42", "43", "44", "45"]
    await deliver(client, envelope(text_event("u2", "size help", "m-sz")))
    await settle(client)
    await deliver(client, envelope(text_event("u2", "44", "m-44")))
    await settle(client)
    said = texts_of(graph.messages("u2"))
    assert said[-1] == "I've put the Trail Runner 2 in size 44 in your cart."  # size help answered the question
    [chart] = [m for m in graph.messages("u2") if "size-chart" in json.dumps(m)]
    element = chart["message"]["attachment"]["payload"]["elements"][0]  # the image with its CTA in one bubble
    assert element == {
        "title": "Stride size chart: EU, UK, US and foot length in cm",
        "image_url": "https://shop.example/media/size-chart.png",
        "buttons": [{"type": "postback", "title": "Find shoes", "payload": "/product_search"}],
    }
    assert graph.violations == []


async def test_get_started_with_an_mme_referral_runs_the_campaign_flow(server, graph: FakeGraph) -> None:  # type: ignore[no-untyped-def]
    client, runtime = server
    get_started = {
        "recipient": {"id": PAGE},
        "timestamp": 1522222894827,
        "sender": {"id": "u3"},
        "postback": {
            "payload": "__GET_STARTED__",
            "title": "Get Started",
            "referral": {"source": "SHORTLINK", "type": "OPEN_THREAD", "ref": "summer_sale"},
        },
    }
    await deliver(client, envelope(get_started))
    await settle(client)
    welcome, video, caption = graph.messages("u3")
    assert welcome["message"]["text"].startswith("Welcome! Our summer sale is on")
    assert video["message"]["attachment"] == {
        "type": "video",
        "payload": {"url": "https://shop.example/media/trail-runner-2.mp4", "is_reusable": True},
    }
    buttons = caption["message"]["attachment"]["payload"]["buttons"]
    assert [b["title"] for b in buttons] == ["Shop the sale", "Find shoes"]
    [thread] = await runtime.store.thread_ids()
    snapshot = await runtime.store.load(thread)
    assert snapshot is not None
    assert snapshot.state["site_events"][0]["data"]["ref"] == "summer_sale"


async def test_profile_locale_seeds_the_language(server, graph: FakeGraph) -> None:  # type: ignore[no-untyped-def]
    client, _ = server
    await deliver(client, envelope(text_event("de-user", "ok", "m-de1")))
    await deliver(client, envelope(text_event("es-user", "hi", "m-es1")))
    await deliver(client, envelope(text_event("nobody", "ok", "m-no1")))
    await settle(client)
    assert texts_of(graph.messages("de-user")) == ["Super! Was möchtest du machen?"]
    assert texts_of(graph.messages("es-user"))[0] == "¡Hola! ¿En qué puedo ayudarte hoy?"  # es_LA -> es
    assert texts_of(graph.messages("nobody")) == ["Great! What would you like to do?"]  # profile not available
    await deliver(client, envelope(text_event("de-user", "ok again", "m-de2")))
    await settle(client)
    assert [r.path for r in graph.requests].count("/v21.0/de-user") == 1  # cached


async def test_a_redelivered_event_gets_one_reply(server, graph: FakeGraph) -> None:  # type: ignore[no-untyped-def]
    client, runtime = server
    event = text_event("u4", "are you a bot?", "m_qr6GPB-same")
    await deliver(client, envelope(event))
    await settle(client)
    await deliver(client, envelope(event))
    await deliver(client, {"object": "page", "entry": [envelope(event)["entry"][0], envelope(event)["entry"][0]]})
    await settle(client)
    assert texts_of(graph.messages("u4")) == [
        "Yes, I'm a bot: Stride's automated assistant. I can connect you with a person from our team at any time."
    ]
    [thread] = await runtime.store.thread_ids()
    assert [e.event.kind for e in await runtime.store.events(thread)].count("user") == 1


async def test_batches_standby_and_odd_payloads_are_all_read(server, graph: FakeGraph) -> None:  # type: ignore[no-untyped-def]
    client, runtime = server
    two_entries = {
        "object": "page",
        "entry": [
            {"id": PAGE, "time": 1486464322257, "messaging": [text_event("b1", "hello", "mid.b1:1")]},
            {
                "id": PAGE,
                "time": 1486464322258,
                "messaging": [text_event("b2", "thanks", "mid.b2:1"), text_event("b1", "bye", "mid.b1:2")],
            },
            {"id": "189538289069256", "time": 1486464322257, "messaging": [text_event("x9", "hello", "mid.x9:1")]},
        ],
    }
    assert await deliver(client, two_entries) == 200
    standby = envelope(text_event("b3", "hello", "mid.b3:1"), standby=[text_event("b4", "hello", "mid.b4:1")])
    assert await deliver(client, standby) == 200
    test_button = {
        "entry": [{"changes": [{"field": "messages", "value": {"page_id": PAGE}}], "id": "0", "time": 1514862760}],
        "object": "page",
    }
    assert await deliver(client, test_button) == 200
    assert await deliver(client, {"object": "instagram", "entry": []}) == 200
    numeric = (
        b'{"object":"page","entry":[{"id":111899832631525,"time":1460923697656,"messaging":[{"sender":{"id":'
        b'982337261802700},"recipient":{"id":111899832631525},"timestamp":"1460923697635","message":{"mid":'
        b'"mid.1460923697625:5c96e8279b55505308","seq":614,"text":"Test \\u00e4\\u00eb\\u00ef","extra":{"u":1}}}]}]}'
    )
    assert await deliver(client, numeric) == 200
    checkbox = {
        "object": "page",
        "entry": [
            {
                "id": PAGE,
                "time": 1480279487271,
                "messaging": [
                    {
                        "recipient": {"id": PAGE},
                        "timestamp": 1480279487147,
                        "optin": {"ref": "optin", "user_ref": "ref-1234"},
                    }
                ],
            }
        ],
    }
    assert await deliver(client, checkbox) == 200
    receipts = {
        "object": "page",
        "entry": [
            {
                "id": PAGE,
                "time": 1480279487271,
                "messaging": [
                    {
                        "sender": {"id": "b1"},
                        "recipient": {"id": PAGE},
                        "delivery": {
                            "mids": ["mid.1458668856218:ed81099e15d3f4f233"],
                            "watermark": 1458668856253,
                            "seq": 37,
                        },
                    },
                    {
                        "sender": {"id": "b1"},
                        "recipient": {"id": PAGE},
                        "timestamp": 1458668856463,
                        "read": {"watermark": 1458668856253},
                    },
                    {
                        "sender": {"id": "b1"},
                        "recipient": {"id": PAGE},
                        "timestamp": 1458668856463,
                        "reaction": {"reaction": "love", "emoji": "\u2764\ufe0f", "action": "react", "mid": "mid.b1:1"},
                    },
                    {
                        "sender": {"id": "b1"},
                        "recipient": {"id": PAGE},
                        "timestamp": 1458668856463,
                        "game_play": {"x": 1},
                    },
                    "not an object",
                ],
            }
        ],
    }
    assert await deliver(client, receipts) == 200
    await settle(client)
    assert texts_of(graph.messages("b1"))[0] == "Hi there! How can I help you today?"
    assert texts_of(graph.messages("b1"))[1] == "Bye! Happy running 👋"  # the second entry's item was read too
    assert texts_of(graph.messages("b2")) == ["You're welcome! Anything else I can do for you?"]
    assert graph.sends("x9") == []  # an entry for another page: not ours to answer
    assert graph.messages("b3") and graph.sends("b4") == []  # standby: watched, never answered
    assert graph.messages("982337261802700")  # numeric ids, string timestamp, unknown field
    b1_thread = await runtime.store.find(__import__("bots.types", fromlist=["Identity"]).Identity("messenger", "b1"))
    kinds = [e.event.kind for e in await runtime.store.events(b1_thread)]
    assert kinds.count("receipt") == 2 and kinds.count("site_event") == 1  # delivery, read; the reaction
    b4_thread = await runtime.store.find(__import__("bots.types", fromlist=["Identity"]).Identity("messenger", "b4"))
    assert [e.event.data.get("text") for e in await runtime.store.events(b4_thread) if e.event.kind == "user"] == [
        "hello"
    ]
    ref_thread = await runtime.store.find(
        __import__("bots.types", fromlist=["Identity"]).Identity("messenger_ref", "ref-1234")
    )
    assert ref_thread is not None
    assert graph.violations == []


async def test_echoes_a_person_answering_and_handover(server, graph: FakeGraph) -> None:  # type: ignore[no-untyped-def]
    client, runtime = server
    await deliver(client, envelope(text_event("u5", "where is my order", "m-u5-1")))
    await settle(client)
    ours = {
        "sender": {"id": PAGE},
        "recipient": {"id": "u5"},
        "timestamp": 1,
        "message": {"is_echo": True, "app_id": 999, "metadata": "threadline", "mid": "m-echo-1", "text": "Sure! ..."},
    }
    human = {
        "sender": {"id": PAGE},
        "recipient": {"id": "u5"},
        "timestamp": 2,
        "message": {
            "is_echo": True,
            "app_id": 263902037430900,
            "mid": "m-echo-2",
            "text": "Hi, Anna here. Let me check.",
        },
    }
    await deliver(client, envelope(ours, human))
    await settle(client)
    before = len(graph.messages("u5"))
    await deliver(client, envelope(text_event("u5", "ST-123456", "m-u5-2")))
    await settle(client)
    assert len(graph.messages("u5")) == before  # a person is on it: the bot stays quiet
    thread = await runtime.store.find(__import__("bots.types", fromlist=["Identity"]).Identity("messenger", "u5"))
    events = [e.event for e in await runtime.store.events(thread)]
    assert [e.data["text"] for e in events if e.kind == "agent"] == ["Hi, Anna here. Let me check."]
    passed = {
        "recipient": {"id": PAGE},
        "timestamp": 3,
        "sender": {"id": "u5"},
        "pass_thread_control": {"new_owner_app_id": 999, "previous_owner_app_id": 263902037430900},
    }
    await deliver(client, envelope(passed))
    await deliver(client, envelope(text_event("u5", "hello", "m-u5-3")))
    await settle(client)
    assert texts_of(graph.messages("u5"))[-1] == "Hi there! How can I help you today?"


async def test_per_person_order_in_a_big_batch(server, graph: FakeGraph) -> None:  # type: ignore[no-untyped-def]
    client, _ = server
    items = []
    for n in range(10):
        for person in ("o1", "o2", "o3"):
            items.append(text_event(person, "/size_help" if n % 2 == 0 else str(38 + n), f"m-{person}-{n}"))
    await deliver(client, envelope(*items))
    await settle(client)
    for person in ("o1", "o2", "o3"):
        said = texts_of(graph.messages(person))
        answers = [t for t in said if t.startswith("Our shoes fit true to size")]
        assert [a.split("take ")[1][:2] for a in answers] == [str(38 + n) for n in range(1, 10, 2)]


# ---------------------------------------------------------------------------- errors, retries, policy


async def test_give_up_reasons_are_recorded_and_others_unaffected(tmp_path: Path, graph: FakeGraph) -> None:
    config = demo_config(
        tmp_path / "data", connectors={"messenger": messenger_config(graph, typing_indicators=False, mark_seen=False)}
    )
    async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
        cases = (
            ("g5", 551, "person_unavailable"),
            ("g6", 2018278, "outside_window"),
            ("g7", 2018001, "no_matching_user"),
            ("g8", 190, "bad_access_token"),
        )
        for person, code, _reason in cases:
            graph.fail_next(person, code)
        await deliver(
            client,
            envelope(*(text_event(p, "hi", f"m-{p}") for p, _c, _r in cases), text_event("fine", "hi", "m-fine")),
        )
        await client.app[CHANNELS]["messenger"].idle()
        from bots.types import Identity

        for person, _code, reason in cases:
            thread = await runtime.store.find(Identity("messenger", person))
            failed = [e.event.data for e in await runtime.store.events(thread) if e.event.kind == "delivery_failed"]
            assert [(f["reason"], f["attempts"]) for f in failed] == [(reason, 1)], person  # no retry
        assert texts_of(graph.messages("fine")) == ["Hi there! How can I help you today?"]
        graph.fail_next("slow", 613, 613, 2, 1200)  # temporary: retried with backoff until it goes through
        await deliver(client, envelope(text_event("slow", "hi", "m-slow")))
        await client.app[CHANNELS]["messenger"].idle()
        assert len([r for r in graph.requests if r.body and r.body["recipient"].get("id") == "slow"]) == 5
        assert texts_of(graph.messages("slow"))[-1] == "Hi there! How can I help you today?"


async def test_messaging_policy_outside_the_24_hour_window(server, graph: FakeGraph) -> None:  # type: ignore[no-untyped-def]
    client, runtime = server
    await deliver(client, envelope(text_event("p1", "hi", "m-p1")))
    await settle(client)
    from bots.types import Identity

    thread = await runtime.store.find(Identity("messenger", "p1"))
    connector = client.app[CHANNELS]["messenger"]
    headers = {"Authorization": "Bearer adm"}
    sent_before = len(graph.messages("p1"))

    async def send(body: dict[str, Any], hours_later: float) -> tuple[int, dict[str, Any]]:
        connector.clock = runtime.threads.clock = lambda: time.time() + hours_later * 3600
        response = await client.post(f"/api/threads/{thread}/messages", json=body, headers=headers)
        return response.status, await response.json()

    assert await send({"text": "Your parcel is late"}, 2) == (
        200,
        {"sent": True, "status": "delivered", "channel": "messenger", "messaging_type": "RESPONSE", "tag": None},
    )
    status, refused = await send({"text": "We miss you! 20% off"}, 25)
    assert status == 409 and refused["reason"].startswith("outside_window")
    status, tagged = await send({"text": "Your order shipped", "tag": "POST_PURCHASE_UPDATE"}, 25)
    assert (status, tagged["messaging_type"], tagged["tag"]) == (200, "MESSAGE_TAG", "POST_PURCHASE_UPDATE")
    status, human = await send({"text": "Hi, Anna here", "by": "Anna"}, 6 * 24)
    assert (status, human["tag"]) == (200, "HUMAN_AGENT")
    status, late = await send({"text": "Hi again", "by": "Anna"}, 8 * 24)
    assert status == 409 and late["reason"].startswith("outside_human_agent_window")
    status, misuse = await send({"text": "Automated", "tag": "HUMAN_AGENT"}, 25)
    assert status == 409 and misuse["reason"].startswith("human_agent_needs_a_person")
    sent = graph.messages("p1")[sent_before:]
    assert [(b["messaging_type"], b.get("tag"), b["message"]["text"]) for b in sent] == [
        ("RESPONSE", None, "Your parcel is late"),
        ("MESSAGE_TAG", "POST_PURCHASE_UPDATE", "Your order shipped"),
        ("MESSAGE_TAG", "HUMAN_AGENT", "Hi, Anna here"),
    ]
    events = [e.event for e in await runtime.store.events(thread)]
    assert [e.data["reason"].split(":")[0] for e in events if e.kind == "send_refused"] == [
        "outside_window",
        "outside_human_agent_window",
        "human_agent_needs_a_person",
    ]
    assert [e.data["by"] for e in events if e.kind == "agent"] == ["Anna"]


# ---------------------------------------------------------------------------- durability


async def test_events_stored_before_a_crash_are_processed_after_restart(tmp_path: Path, graph: FakeGraph) -> None:
    config = demo_config(tmp_path / "data", connectors={"messenger": messenger_config(graph)})
    async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
        connector = client.app[CHANNELS]["messenger"]
        connector._dispatch = lambda row_id, event: None  # the process "dies" right after acknowledging
        assert await deliver(client, envelope(text_event("c1", "hi", "m-c1"), text_event("c1", "bye", "m-c2"))) == 200
        assert graph.messages("c1") == []
    async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
        await client.app[CHANNELS]["messenger"].idle()
        assert texts_of(graph.messages("c1")) == ["Hi there! How can I help you today?", "Bye! Happy running 👋"]
        assert await runtime.store.pending_inbound("messenger") == []


def test_parser_reads_every_documented_shape() -> None:
    body = {
        "object": "page",
        "entry": [
            {
                "id": 1,
                "time": 1,
                "messaging": [
                    {
                        "sender": {"user_ref": "plugin-ref"},
                        "recipient": {"id": "1"},
                        "timestamp": 1,
                        "referral": {
                            "ref": "r",
                            "source": "CUSTOMER_CHAT_PLUGIN",
                            "type": "OPEN_THREAD",
                            "referer_uri": "x",
                        },
                    },
                    {
                        "sender": {"id": "1"},
                        "recipient": {"id": "1"},
                        "timestamp": 1,
                        "message": {
                            "mid": "m1",
                            "attachments": [{"type": "fallback", "payload": None, "title": "t", "URL": "u"}],
                        },
                    },
                    {
                        "sender": {"id": "1"},
                        "recipient": {"id": "1"},
                        "timestamp": 1,
                        "policy-enforcement": {"action": "block"},
                    },
                    {"sender": {"id": "1"}, "recipient": {"id": "1"}, "timestamp": 1, "brand_new_kind": {}},
                ],
            }
        ],
    }
    events, notes = parse_body(body)
    assert [e.kind for e in events] == ["referral", "attachments", "policy", "unknown"]
    assert events[0].user_ref == "plugin-ref" and events[0].psid is None
    assert events[1].page_id == "1" and notes == []


async def test_a_flow_asking_for_more_than_messenger_shows_is_sent_whole_within_limits(
    tmp_path: Path, graph: FakeGraph
) -> None:
    from tests.conftest import BASE_FILES, write_bot

    long_text = " ".join(f"Sentence number {n} is here." for n in range(120))  # ~3300 characters
    bot = write_bot(
        tmp_path / "wide",
        {
            **BASE_FILES,
            "wide.yml": f"""
        responses:
          long: {{en: "{long_text}"}}
        flows:
          wide:
            trigger: {{payloads: [/wide]}}
            steps:
              - say: long
                buttons:
{chr(10).join(f'                  - {{title: {{en: "Button number {n} long title"}}, payload: /b{n}}}' for n in range(5))}
                quick_replies:
{chr(10).join(f'                  - {{title: {{en: "Reply {n}"}}, payload: /q{n}}}' for n in range(15))}
              - carousel:
{chr(10).join(f'                  - {{title: {{en: "Card {n}"}}, subtitle: {{en: "Sub {n}"}}}}' for n in range(12))}
    """,  # noqa: E501
        },
    )
    config = demo_config(
        tmp_path / "data",
        bot=bot,
        languages=["en", "de"],
        connectors={"messenger": messenger_config(graph, typing_indicators=False, mark_seen=False)},
    )
    async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
        quick = text_event("w1", "wide", "m-w1", quick_reply={"payload": "/wide"})
        await deliver(client, envelope(quick))
        await client.app[CHANNELS]["messenger"].idle()
    assert graph.violations == []
    sent = graph.messages("w1")
    text = " ".join(
        m["message"]["text"] if "text" in m["message"] else m["message"]["attachment"]["payload"]["text"]
        for m in sent
        if "text" in m["message"] or m["message"]["attachment"]["payload"].get("text", "…") != "…"
    )
    buttons = [
        b["payload"]
        for m in sent
        if "attachment" in m["message"]
        for b in m["message"]["attachment"]["payload"].get("buttons", [])
    ]
    replies = [q["payload"] for m in sent for q in m["message"].get("quick_replies", [])]
    cards = [
        e["title"]
        for m in sent
        if "attachment" in m["message"]
        for e in m["message"]["attachment"]["payload"].get("elements", [])
    ]
    assert text.replace("  ", " ").startswith("Sentence number 0 is here.") and "Sentence number 119 is here." in text
    assert buttons == [f"/b{n}" for n in range(5)] + ["/q13", "/q14"]  # nothing dropped
    assert replies == [f"/q{n}" for n in range(13)]
    assert cards == [f"Card {n}" for n in range(12)]


def test_messenger_settings_from_the_environment_win(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bots.config import load_config

    path = tmp_path / "config.yaml"
    path.write_text("connectors:\n  messenger:\n    page_id: '1'\n    app_secret: from-file\n")
    assert load_config(path).connectors.messenger.enabled is False
    for name, value in {
        "MESSENGER_APP_SECRET": "from-env",
        "MESSENGER_PAGE_ACCESS_TOKEN": "token",
        "MESSENGER_VERIFY_TOKEN": "v",
        "MESSENGER_PAGE_ID": "42",
        "MESSENGER_GRAPH_API_URL": "http://127.0.0.1:9/v21.0",
    }.items():
        monkeypatch.setenv(name, value)
    messenger = load_config(path).connectors.messenger
    assert (messenger.app_secret, messenger.page_access_token, messenger.page_id, messenger.graph_api_url) == (
        "from-env",
        "token",
        "42",
        "http://127.0.0.1:9/v21.0",
    )
    assert messenger.enabled is True


async def test_replies_saved_but_not_sent_before_a_crash_go_out_after_restart(tmp_path: Path, graph: FakeGraph) -> None:
    config = demo_config(
        tmp_path / "data",
        connectors={"messenger": messenger_config(graph, typing_indicators=False, mark_seen=False, send_retries=0)},
    )
    async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
        connector = client.app[CHANNELS]["messenger"]
        original = connector.send_replies

        async def dies_while_sending(*args: Any, **kwargs: Any) -> Any:
            raise asyncio.CancelledError  # the process stops after the turn was saved, before Facebook got it

        connector.send_replies = dies_while_sending
        await deliver(client, envelope(text_event("k1", "are you a bot?", "m-k1")))
        with contextlib.suppress(asyncio.CancelledError):
            await connector.idle()
        connector.send_replies = original
        assert graph.messages("k1") == []
    async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
        await client.app[CHANNELS]["messenger"].idle()  # the inbox still holds the event: it is replayed
        assert texts_of(graph.messages("k1")) == [
            "Yes, I'm a bot: Stride's automated assistant. I can connect you with a person from our team at any time."
        ]
        await deliver(client, envelope(text_event("k1", "are you a bot?", "m-k1")))  # Facebook redelivers later
        await client.app[CHANNELS]["messenger"].idle()
        assert len(graph.messages("k1")) == 1  # confirmed sent: not again
        from bots.types import Identity

        thread = await runtime.store.find(Identity("messenger", "k1"))
        kinds = [e.event.kind for e in await runtime.store.events(thread)]
        assert kinds.count("user") == 1 and kinds.count("delivered") == 1


RETURNS_REPLIES = [
    "You can return unworn shoes within 30 days of delivery, free of charge.",
    "Which order would you like to return? Please send the order number (like ST-123456).",
]


async def test_a_crash_between_two_replies_sends_only_the_second_after_restart(
    tmp_path: Path, graph: FakeGraph
) -> None:
    config = demo_config(
        tmp_path / "data",
        connectors={"messenger": messenger_config(graph, typing_indicators=False, mark_seen=False, send_retries=0)},
    )
    async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
        connector = client.app[CHANNELS]["messenger"]
        mark_sent = connector.inbox.mark_sent

        async def dies_once_marked(key: str, turn: str, count: int) -> None:
            await mark_sent(key, turn, count)
            raise asyncio.CancelledError  # the process stops right after recording the first reply as sent

        connector.inbox.mark_sent = dies_once_marked
        await deliver(client, envelope(text_event("r1", "returns", "m-r1")))
        with contextlib.suppress(asyncio.CancelledError):
            await connector.idle()
        assert texts_of(graph.messages("r1")) == RETURNS_REPLIES[:1]
    async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
        await client.app[CHANNELS]["messenger"].idle()  # the inbox still holds the event: it is processed again
        assert texts_of(graph.messages("r1")) == RETURNS_REPLIES  # each once, in order
        assert await runtime.store.pending_inbound("messenger") == []
        from bots.types import Identity

        thread = await runtime.store.find(Identity("messenger", "r1"))
        events = [e.event for e in await runtime.store.events(thread)]
        assert [e.kind for e in events].count("user") == 1 and [e.kind for e in events].count("bot") == 2
        [delivered] = [e for e in events if e.kind == "delivered"]
        assert delivered.data["sent_before"] == 1 and len(delivered.data["mids"]) == 1


async def test_standby_events_tags_windows_and_referrals(server, graph: FakeGraph) -> None:  # type: ignore[no-untyped-def]
    client, runtime = server
    from bots.types import Identity

    standby_referral = {
        "sender": {"id": "sb1"},
        "recipient": {"id": PAGE},
        "timestamp": int(time.time() * 1000),
        "referral": {"ref": "summer_sale", "source": "SHORTLINK", "type": "OPEN_THREAD"},
    }
    await deliver(client, envelope(standby=[standby_referral]))
    ad = {
        "sender": {"id": "ad1"},
        "recipient": {"id": PAGE},
        "timestamp": int(time.time() * 1000),
        "postback": {
            "payload": "__GET_STARTED__",
            "title": "Get Started",
            "referral": {"source": "ADS", "type": "OPEN_THREAD", "ad_id": "6045246247433"},
        },
    }
    await deliver(client, envelope(ad))
    await settle(client)
    assert graph.sends("sb1") == []  # another app's conversation: never answered
    assert texts_of(graph.messages("ad1"))[0].startswith("Hi! I'm Stride's shopping assistant")  # unknown ref: greeted
    # a message Facebook delivers 30 hours late does not reopen the window
    late = text_event("late1", "hi", "m-late1")
    late["timestamp"] = int((time.time() - 30 * 3600) * 1000)
    await deliver(client, envelope(late))
    await settle(client)
    thread = await runtime.store.find(Identity("messenger", "late1"))
    response = await client.post(
        f"/api/threads/{thread}/messages", json={"text": "promo"}, headers={"Authorization": "Bearer adm"}
    )
    assert response.status == 409 and (await response.json())["reason"].startswith("outside_window")
    # a checkbox user known only by user_ref can be written to inside the window
    optin = {"recipient": {"id": PAGE}, "timestamp": int(time.time() * 1000), "optin": {"ref": "o", "user_ref": "cb-1"}}
    await deliver(client, envelope(optin))
    await settle(client)
    thread = await runtime.store.find(Identity("messenger_ref", "cb-1"))
    response = await client.post(
        f"/api/threads/{thread}/messages",
        json={"text": "Thanks for subscribing"},
        headers={"Authorization": "Bearer adm"},
    )
    assert response.status == 200
    assert graph.messages("cb-1")[-1]["recipient"] == {"user_ref": "cb-1"}


async def test_no_seen_or_typing_while_a_person_has_the_chat(server, graph: FakeGraph) -> None:  # type: ignore[no-untyped-def]
    client, _ = server
    await deliver(client, envelope(text_event("h1", "I want to talk to a human", "m-h1")))
    await settle(client)
    before = len(graph.sends("h1"))
    await deliver(client, envelope(text_event("h1", "hello?", "m-h2")))
    await settle(client)
    # told nobody is there, the first message is acknowledged once: that text alone, no seen or typing
    acknowledged = graph.sends("h1")[before:]
    assert [s.get("message", {}).get("text", "")[:7] for s in acknowledged] == ["Got it:"]
    assert not any("sender_action" in s for s in acknowledged)
    before = len(graph.sends("h1"))
    await deliver(client, envelope(text_event("h1", "anyone?", "m-h3")))
    await settle(client)
    assert graph.sends("h1")[before:] == []


async def test_a_body_arriving_in_pieces_is_read_whole(
    server, graph: FakeGraph, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    client, _ = server
    reads = observe_body_reads(monkeypatch)
    raw = json.dumps(envelope(*(text_event(f"p{i}", "hi", f"m-piece-{i}") for i in range(30)))).encode()
    reader, writer = await asyncio.open_connection(client.host, client.port)
    head = (
        f"POST /webhooks/messenger HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(raw)}\r\nX-Hub-Signature-256: {sign(raw)['X-Hub-Signature-256']}\r\n\r\n"
    ).encode()
    writer.write(head + raw[:100])
    await writer.drain()
    await asyncio.wait_for(reads.begun.wait(), 60)  # it reads while only the first piece has been sent
    writer.write(raw[100:])
    await writer.drain()
    status = (await reader.readline()).decode()
    writer.close()
    assert " 200 " in status
    await settle(client)
    assert all(graph.messages(f"p{i}") for i in range(30))


def test_long_text_keeps_its_line_breaks_and_chinese_gets_no_spaces() -> None:
    from connectors.messenger.render import split_text

    text = "First line.\nSecond line!\n\n" + "A sentence here. " * 200
    chunks = split_text(text, 2000)
    assert all(len(c) <= 2000 for c in chunks) and chunks[0].startswith("First line.\nSecond line!\n\n")
    assert "".join(chunks).replace(" ", "") == text.strip().replace(" ", "")
    chinese = "你好，这是一个句子。" * 300
    parts = split_text(chinese, 2000)
    assert "".join(parts) == chinese and all(len(p) <= 2000 for p in parts)
