"""The Instagram channel: Meta's documented payloads in, Send API requests out to a loopback fake of the Graph API.

The channel runs on the seam with a recording ThreadAccess (tests/fake_thread_access.py); the end-to-end
tests through the real server and store live with the server's tests.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from pydantic import ValidationError

from bots.config import load_config
from bots.types import (
    Button,
    Card,
    Carousel,
    Custom,
    Identity,
    Inbound,
    Media,
    Outbound,
    QuickReply,
    Text,
    Typing,
)
from connectors.base import ChannelContext, InboxItem, LinkRedeemed, ThreadView
from connectors.instagram import SPEC, InstagramChannel
from connectors.instagram.config import InstagramConfig
from connectors.instagram.connector import graph_settings
from connectors.instagram.inbound import identity_of, steps
from connectors.instagram.parse import parse_body
from connectors.instagram.render import render_all
from connectors.meta.graph import GraphClient
from connectors.meta.policy import decide
from tests.fake_instagram_graph import FakeInstagramGraph
from tests.fake_thread_access import FakeThreads

SECRET = "ig-app-secret"
ACCOUNT = "17841400008460056"  # the Instagram professional account (entry.id)
NOW_MS = int(time.time() * 1000)


# ---------------------------------------------------------------------------- payloads as Meta documents them


def envelope(
    *items: dict[str, Any], account: str = ACCOUNT, standby: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": account, "time": 1569262486134, "messaging": list(items)}
    if standby is not None:
        entry["standby"] = standby
    return {"object": "instagram", "entry": [entry]}


def item(igsid: str, account: str = ACCOUNT, **event: Any) -> dict[str, Any]:
    return {"sender": {"id": igsid}, "recipient": {"id": account}, "timestamp": NOW_MS, **event}


def message(igsid: str, mid: str, text: str | None = None, **fields: Any) -> dict[str, Any]:
    return item(igsid, message={"mid": mid, **({"text": text} if text is not None else {}), **fields})


def echo(igsid: str, mid: str, text: str, **fields: Any) -> dict[str, Any]:
    return {
        "sender": {"id": ACCOUNT},
        "recipient": {"id": igsid},
        "timestamp": NOW_MS,
        "message": {"mid": mid, "text": text, "is_echo": True, **fields},
    }


def inbounds(body: dict[str, Any]) -> list[Inbound]:
    events, notes, malformed = parse_body(body)
    assert not malformed
    result = []
    for event in events:
        identity = identity_of(event)
        assert identity is not None
        result += [step.inbound for step in steps(event, identity)]
    return result


# ---------------------------------------------------------------------------- parsing


def test_text_quick_reply_and_postback_become_messages() -> None:
    body = envelope(
        message("1234", "m_text", "Hello, I need help with my order"),
        message("1234", "m_qr", "Yes", quick_reply={"payload": "/affirm"}),
        item("1234", postback={"mid": "m_pb", "title": "Track My Order", "payload": "/order_status"}),
    )
    events, notes, _ = parse_body(body)
    assert [e.kind for e in events] == ["text", "quick_reply", "postback"] and notes == []
    assert [e.key for e in events] == ["mid:m_text", "mid:m_qr", "mid:m_pb"]
    assert events[0].igsid == "1234" and events[0].account_id == ACCOUNT and events[0].timestamp == NOW_MS / 1000
    said = inbounds(body)
    assert [(i.kind, i.text) for i in said] == [
        ("message", "Hello, I need help with my order"),
        ("message", "/affirm"),
        ("message", "/order_status"),
    ]
    assert said[1].metadata["display"] == "Yes" and said[2].metadata["display"] == "Track My Order"
    assert said[0].identity == Identity("instagram", "1234") and said[0].message_id == "ig:mid:m_text"


def test_attachments_story_mentions_and_story_replies() -> None:
    image = message("55", "m_img", attachments=[{"type": "image", "payload": {"url": "https://cdn.example/i.jpg"}}])
    reel = message(
        "55",
        "m_reel",
        attachments=[{"type": "ig_reel", "payload": {"url": "https://cdn.example/r", "reel_video_id": "1785"}}],
    )
    mention = message(
        "55", "m_story", attachments=[{"type": "story_mention", "payload": {"url": "https://cdn.example/story.jpg"}}]
    )
    reply = message(
        "55",
        "m_reply",
        "Love this!",
        reply_to={"story": {"url": "https://cdn.example/s.jpg", "id": "17858893269000001"}},
    )
    said = inbounds(envelope(image, reel, mention, reply))
    assert [(i.kind, i.event or i.text) for i in said] == [
        ("message", ""),
        ("message", ""),
        ("event", "story_mention"),
        ("event", "story_reply"),
        ("message", "Love this!"),
    ]
    assert said[0].metadata["attachments"][0]["type"] == "image"
    assert said[1].metadata["attachments"][0]["payload"]["reel_video_id"] == "1785"
    assert said[2].data == {"url": "https://cdn.example/story.jpg", "mid": "m_story"}
    assert said[3].data == {
        "story": {"url": "https://cdn.example/s.jpg", "id": "17858893269000001"},
        "text": "Love this!",
    }
    assert said[3].message_id == "ig:mid:m_reply:story" and said[4].message_id == "ig:mid:m_reply"
    events, _, _ = parse_body(envelope(reply))
    assert [s.unless_answered for s in steps(events[0], Identity("instagram", "55"))] == [False, True]


def test_reactions_referrals_reads_deletions_and_unsupported_messages_are_events() -> None:
    react = item("7", reaction={"mid": "m_1", "action": "react", "reaction": "love", "emoji": "\u2764\ufe0f"})
    unreact = item("7", reaction={"mid": "m_1", "action": "unreact"})
    referral = item("7", referral={"ref": "summer_sale", "source": "SHORTLINKS", "type": "OPEN_THREAD"})
    read = item("7", read={"mid": "m_1"})
    deleted = message("7", "m_text", is_deleted=True)
    unsupported = message("7", "m_odd", is_unsupported=True, attachments=[])
    body = envelope(message("7", "m_text", "hi"), react, unreact, referral, read, deleted, unsupported)
    events, _, _ = parse_body(body)
    assert [e.kind for e in events] == ["text", "reaction", "reaction", "referral", "read", "deleted", "unsupported"]
    keys = [e.key for e in events]
    assert len(set(keys)) == len(keys)  # an unsend is not a redelivery of the message it removes
    assert keys[5] == "deleted:m_text"
    said = inbounds(body)[1:]
    assert [i.event for i in said[:5]] == ["reaction", "reaction", "referral", "message_read", "message_deleted"]
    assert said[0].data == {"mid": "m_1", "action": "react", "reaction": "love", "emoji": "\u2764\ufe0f"}
    assert said[2].data["ref"] == "summer_sale" and said[4].data == {"mid": "m_text"}
    assert said[5].kind == "message" and said[5].text == "" and said[5].metadata["unsupported"] is True


def test_an_ice_breaker_from_an_igme_link_brings_its_referral_first() -> None:
    tapped = item(
        "8",
        postback={
            "mid": "m_ib",
            "title": "Where is my order?",
            "payload": "/order_status",
            "referral": {"ref": "tl1=abc", "source": "SHORTLINKS", "type": "OPEN_THREAD"},
        },
    )
    ad = message("8", "m_ad", "Hi", referral={"ref": "promo", "ad_id": "2384", "source": "ADS", "type": "OPEN_THREAD"})
    said = inbounds(envelope(tapped, ad))
    assert [(i.event, i.text) for i in said] == [("referral", ""), ("", "/order_status"), ("referral", ""), ("", "Hi")]
    assert said[0].data["ref"] == "tl1=abc" and said[0].message_id == "ig:mid:m_ib:referral"
    assert said[2].data["ad_id"] == "2384"


def test_echoes_standby_batches_and_odd_items() -> None:
    body = envelope(
        echo("9", "m_echo", "Thanks!"),
        message("9", "m_a", "one"),
        {
            "sender": {"id": 982337261802700},
            "recipient": {"id": int(ACCOUNT)},
            "timestamp": "1569262485",
            "message": {"mid": "m_numeric", "text": "two"},
        },
        {"recipient": {"id": ACCOUNT}, "timestamp": NOW_MS, "app_roles": {"123": ["primary_receiver"]}},
        item("9", game_play={}),
        "not an item",  # type: ignore[arg-type]
        standby=[message("10", "m_sb", "watched")],
    )
    body["entry"].append({"id": ACCOUNT, "time": 1, "changes": [{"field": "comments", "value": {"id": "c1"}}]})
    body["entry"].append(
        {
            "id": "42",
            "messaging": [
                message(
                    "11",
                    "m_other",
                    "x",
                )
            ],
        }
    )
    events, notes, malformed = parse_body(body)
    assert not malformed
    assert [(e.kind, e.igsid, e.standby) for e in events] == [
        ("echo", "9", False),
        ("text", "9", False),
        ("text", "982337261802700", False),
        ("handover", None, False),
        ("unknown", "9", False),
        ("text", "10", True),
        ("text", "11", False),
    ]
    assert events[0].key == "echo:m_echo" and events[2].timestamp == 1569262485.0
    assert events[6].account_id == "42"
    assert any("not an object" in n for n in notes) and any("'changes'" in n for n in notes)
    assert steps(events[4], Identity("instagram", "9")) == []  # unknown kinds: noted by the caller and skipped
    [watched] = steps(events[5], Identity("instagram", "10"))
    assert watched.inbound.metadata["observe_only"] is True


def test_malformed_bodies_are_told_from_other_objects() -> None:
    assert parse_body([1, 2])[2] is True
    assert parse_body({"object": "instagram"})[2] is True
    events, notes, malformed = parse_body({"object": "page", "entry": []})
    assert events == [] and not malformed and "is not 'instagram'" in notes[0]


# ---------------------------------------------------------------------------- rendering within the limits


def checked(bodies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The bodies as sent, each passing the fake's Instagram checks."""
    fake = FakeInstagramGraph()
    for body in bodies:
        request = {"recipient": {"id": "1"}, **({"messaging_type": "RESPONSE"} if "message" in body else {}), **body}
        assert fake._check_message(request) == [], body
    return [b["message"] for b in bodies if "message" in b]


def test_long_text_is_split_at_sentences_within_1000_bytes() -> None:
    sentence = "Our trail shoes are made for long days on rough ground. "
    text = sentence * 40  # 2240 characters
    rendered = render_all([Text(text)])
    sent = checked(rendered.bodies)
    assert len(sent) == 3 and all(m["text"].endswith(".") for m in sent)
    assert " ".join(m["text"] for m in sent) == text.strip()
    umlauts = "Größe passt für Füße. " * 60  # 1320 characters, more UTF-8 bytes
    parts = checked(render_all([Text(umlauts)]).bodies)
    assert all(len(m["text"].encode()) <= 1000 for m in parts) and len(parts) == 2
    assert "".join(m["text"] for m in parts).replace(" ", "") == umlauts.replace(" ", "")


def test_quick_replies_buttons_and_cards_beyond_the_limits_are_never_dropped() -> None:
    replies = tuple(QuickReply(f"Size {n}", f'/size{{"eu": {n}}}') for n in range(30, 45))  # 15
    sent = checked(render_all([Text("Which size?", quick_replies=replies)]).bodies)
    assert [q["title"] for q in sent[-1]["quick_replies"]] == [f"Size {n}" for n in range(30, 43)]
    overflow = sent[0]["attachment"]["payload"]["buttons"]
    assert [b["title"] for b in overflow] == ["Size 43", "Size 44"]

    buttons = tuple(Button(f"Option {n}", "postback", f"/opt{n}") for n in range(5))
    rendered = render_all([Text("Pick one", buttons)])
    sent = checked(rendered.bodies)
    assert [len(m["attachment"]["payload"]["buttons"]) for m in sent] == [3, 2]
    assert any("5 buttons" in a for a in rendered.adjustments)

    view = Button("View", "url", "https://x.example/")
    cards = tuple(Card(f"Shoe {n}", "€99", f"https://shop.example/{n}.png", (view,)) for n in range(23))
    rendered = render_all([Carousel(cards, (QuickReply("More", "/more"),))])
    sent = checked(rendered.bodies)
    assert [len(m["attachment"]["payload"]["elements"]) for m in sent] == [10, 10, 3]
    assert "image_aspect_ratio" not in sent[0]["attachment"]["payload"]
    assert sent[-1]["quick_replies"] == [{"content_type": "text", "title": "More", "payload": "/more"}]


def test_phone_buttons_become_text_and_media_keeps_its_call_to_action() -> None:
    call = Button("Call us", "phone", "+49 30 123456")
    rendered = render_all([Text("We are here to help.", (call, Button("Help", "postback", "/help")))])
    [sent] = checked(rendered.bodies)
    assert sent["attachment"]["payload"]["text"] == "We are here to help.\n\nCall us: +49 30 123456"
    assert [b["type"] for b in sent["attachment"]["payload"]["buttons"]] == ["postback"]
    assert "phone button" in rendered.adjustments[0]
    cards = Carousel((Card("Store Berlin", "Open 9-18", "", (call,)),), (QuickReply("Menu", "/menu"),))
    carousel, numbers = checked(render_all([cards]).bodies)
    assert numbers == {
        "text": "Store Berlin – Call us: +49 30 123456",
        "quick_replies": [{"content_type": "text", "title": "Menu", "payload": "/menu"}],
    }
    assert "buttons" not in carousel["attachment"]["payload"]["elements"][0]
    [card] = checked(
        render_all(
            [
                Media(
                    "image",
                    "https://shop.example/chart.png",
                    "Size chart",
                    (Button("Find shoes", "postback", "/product_search"),),
                )
            ]
        ).bodies
    )
    assert card["attachment"]["payload"]["elements"] == [
        {
            "title": "Size chart",
            "image_url": "https://shop.example/chart.png",
            "buttons": [{"type": "postback", "title": "Find shoes", "payload": "/product_search"}],
        }
    ]
    video = checked(render_all([Media("video", "https://shop.example/v.mp4")]).bodies)
    assert video == [{"attachment": {"type": "video", "payload": {"url": "https://shop.example/v.mp4"}}}]
    custom = render_all([Custom({"instagram": {"text": "raw"}}), Custom({"messenger": {"text": "x"}}), Typing()])
    assert custom.bodies == [{"message": {"text": "raw"}}, {"sender_action": "typing_on"}]
    assert "no Instagram form" in custom.adjustments[0]


# ---------------------------------------------------------------------------- the messaging policy


def test_policy_24_hours_then_human_agent_for_7_days_then_refused() -> None:
    day = 24 * 3600.0
    last = 1_000_000.0
    instagram = partial(decide, bot_tags=frozenset(), platform="Instagram", business="Instagram account")
    assert instagram(last, last + day - 1).messaging_type == "RESPONSE"
    agent = instagram(last, last + 6.9 * day, by_person=True)
    assert (agent.allowed, agent.messaging_type, agent.tag) == (True, "MESSAGE_TAG", "HUMAN_AGENT")
    assert instagram(last, last + 7.1 * day, by_person=True).reason.startswith("outside_human_agent_window")
    assert instagram(last, last + 2 * day).reason.startswith("outside_window")
    assert instagram(last, last + 2 * day, tag="HUMAN_AGENT").reason.startswith("human_agent_needs_a_person")
    tagged = instagram(last, last + 2 * day, tag="POST_PURCHASE_UPDATE")
    assert not tagged.allowed and "Instagram has no message tag POST_PURCHASE_UPDATE" in tagged.reason
    assert decide(last, last + 2 * day, tag="POST_PURCHASE_UPDATE").allowed  # Messenger has it
    assert decide(None, last).reason.startswith("no_interaction")


# ---------------------------------------------------------------------------- config and registry entry


def test_config_is_strict_and_the_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not InstagramConfig().enabled
    with pytest.raises(ValidationError):
        InstagramConfig.model_validate({"acces_token": "typo"})
    with pytest.raises(ValidationError):
        InstagramConfig.model_validate({"username": "not a username!"})
    config_file = tmp_path / "config.yaml"
    config_file.write_text(
        "connectors:\n  instagram:\n    access_token: file-token\n    app_secret: s\n"
        "    graph_api_url: https://graph.instagram.com/v21.0/\n"
    )
    monkeypatch.setenv("INSTAGRAM_ACCESS_TOKEN", "env-token")
    monkeypatch.setenv("INSTAGRAM_USERNAME", "stride.shoes")
    config = load_config(config_file).connectors.instagram
    assert (config.access_token, config.username, config.enabled) == ("env-token", "stride.shoes", True)
    assert config.graph_api_url == "https://graph.instagram.com/v21.0"
    assert SPEC.name == "instagram" and SPEC.config_model is InstagramConfig
    assert set(SPEC.env.values()) == {
        f"INSTAGRAM_{k}" for k in ("USER_ID", "VERIFY_TOKEN", "APP_SECRET", "ACCESS_TOKEN", "GRAPH_API_URL", "USERNAME")
    }
    assert SPEC.enabled(config) and not SPEC.enabled(InstagramConfig())


# ---------------------------------------------------------------------------- the Graph client


@pytest.fixture
async def graph() -> AsyncIterator[FakeInstagramGraph]:
    fake = FakeInstagramGraph()
    await fake.start()
    yield fake
    await fake.close()


def ig_config(graph: FakeInstagramGraph, **extra: Any) -> InstagramConfig:
    return InstagramConfig(
        **{
            "ig_user_id": ACCOUNT,
            "verify_token": "verify-me",
            "app_secret": graph.app_secret,
            "access_token": graph.access_token,
            "graph_api_url": graph.url,
            "app_id": "",
            "username": "stride.shoes",
            "retry_base_seconds": 0.01,
            "retry_max_seconds": 0.02,
            **extra,
        }
    )


async def test_graph_client_sends_retries_and_classifies(graph: FakeInstagramGraph) -> None:
    async with GraphClient(graph_settings(ig_config(graph))) as client:
        sent = await client.send({"id": "u1"}, {"message": {"text": "Hi"}})
        assert sent.ok and sent.message_id == "m_fake1" and sent.attempts == 1
        request = graph.requests[-1]
        assert request.body == {"recipient": {"id": "u1"}, "messaging_type": "RESPONSE", "message": {"text": "Hi"}}
        assert (
            request.query["appsecret_proof"]
            == hmac.new(graph.app_secret.encode(), graph.access_token.encode(), hashlib.sha256).hexdigest()
        )
        graph.fail_next("u1", 1200, 613)
        retried = await client.send({"id": "u1"}, {"message": {"text": "again"}})
        assert retried.ok and retried.attempts == 3
        for code, reason in ((2534022, "outside_window"), (551, "person_unavailable"), (190, "bad_access_token")):
            graph.fail_next("u1", code)
            failed = await client.send({"id": "u1"}, {"message": {"text": "x"}})
            assert (failed.ok, failed.reason, failed.attempts) == (False, reason, 1)
        too_long = await client.send({"id": "u1"}, {"message": {"text": "ä" * 600}})
        assert too_long.reason == "graph_error_100" and "1200 bytes" in graph.violations[-1]
    async with GraphClient(graph_settings(ig_config(graph, access_token="stale"))) as client:
        assert (await client.send({"id": "u1"}, {"message": {"text": "x"}})).reason == "bad_access_token"
    closed = ig_config(graph, graph_api_url="http://127.0.0.1:9/v21.0", send_retries=1)
    async with GraphClient(graph_settings(closed)) as client:
        unreachable = await client.send({"id": "u1"}, {"message": {"text": "x"}})
        assert (unreachable.reason, unreachable.attempts) == ("connection_error", 2)


# ---------------------------------------------------------------------------- the channel on the seam


@dataclass
class Rig:
    client: TestClient
    channel: InstagramChannel
    threads: FakeThreads
    graph: FakeInstagramGraph

    async def post(self, body: dict[str, Any] | bytes, secret: str = SECRET) -> int:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
        response = await self.client.post(
            "/webhooks/instagram", data=raw, headers={"X-Hub-Signature-256": f"sha256={digest}"}
        )
        await self.channel.idle()
        return response.status

    def messages(self, igsid: str) -> list[dict[str, Any]]:
        return [b["message"] for b in self.graph.messages(igsid)]


def build_channel(threads: FakeThreads, graph: FakeInstagramGraph, tmp_path: Path, **extra: Any) -> InstagramChannel:
    config = ig_config(graph, app_secret=SECRET, **extra)
    channel = SPEC.channel(ChannelContext(threads, config, "https://shop.example", 4000, tmp_path))
    assert isinstance(channel, InstagramChannel)
    return channel


@asynccontextmanager
async def serve(channel: InstagramChannel) -> AsyncIterator[TestClient]:
    """The channel's routes on a loopback server, started and stopped as the server does."""
    app = web.Application()
    app.add_routes(channel.routes())
    app.on_startup.append(lambda _app: channel.start())
    app.on_cleanup.append(lambda _app: channel.stop())
    async with TestClient(TestServer(app)) as client:
        yield client


@pytest.fixture
async def rig(graph: FakeInstagramGraph, tmp_path: Path) -> AsyncIterator[Rig]:
    graph.app_secret = SECRET
    threads = FakeThreads()
    channel = build_channel(threads, graph, tmp_path)
    async with serve(channel) as client:
        yield Rig(client, channel, threads, graph)


async def test_verification_handshake(rig: Rig) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"}
    response = await rig.client.get("/webhooks/instagram", params=query)
    assert response.status == 200 and await response.text() == "1158201444"
    wrong = await rig.client.get("/webhooks/instagram", params={**query, "hub.verify_token": "nope"})
    assert wrong.status == 403


async def test_forged_and_malformed_posts_store_nothing(rig: Rig) -> None:
    raw = json.dumps(envelope(message("u1", "m1", "hi"))).encode()
    assert (await rig.client.post("/webhooks/instagram", data=raw)).status == 403  # unsigned
    assert await rig.post(raw, secret="forged") == 403
    tampered = raw.replace(b'"hi"', b'"yo"')
    digest = hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    response = await rig.client.post(
        "/webhooks/instagram", data=tampered, headers={"X-Hub-Signature-256": f"sha256={digest}"}
    )
    assert response.status == 403
    assert await rig.post(b'{"object": "instagram", "entry": [') == 400  # signed, not JSON
    assert await rig.post(b'["a list"]') == 400
    assert await rig.post({"object": "instagram", "entry": "none"}) == 400
    assert await rig.post(b"x" * (1024 * 1024 + 1)) == 413
    assert await rig.post({"object": "page", "entry": []}) == 200  # another product's webhook: acknowledged
    assert rig.threads.inbox("instagram").rows == {} and rig.threads.turns == [] and rig.graph.requests == []


async def test_a_message_is_stored_then_answered_with_the_exact_requests(rig: Rig) -> None:
    assert await rig.post(envelope(message("u1", "m1", "hi"))) == 200
    [stored] = rig.threads.inbox("instagram").rows.values()
    assert stored.key == "mid:m1" and stored.person == Identity("instagram", "u1")
    assert rig.threads.inbox("instagram").finished == {1}
    [turn] = rig.threads.turns
    assert (turn.kind, turn.text, turn.identity) == ("message", "hi", Identity("instagram", "u1"))
    *actions, reply = rig.graph.sends("u1")
    assert sorted(a["sender_action"] for a in actions) == ["mark_seen", "typing_on"]  # both before the reply
    assert reply == {"recipient": {"id": "u1"}, "messaging_type": "RESPONSE", "message": {"text": "you said hi"}}
    [delivered] = rig.threads.delivered
    assert (delivered.kind, delivered.data) == (
        "delivered",
        {"channel": "instagram", "messages": 1, "mids": [f"m_fake{rig.graph.message_seq}"]},
    )
    assert await rig.post(envelope(message("u1", "m1", "hi"))) == 200  # Meta redelivers
    assert len(rig.threads.turns) == 1 and rig.graph.violations == []


async def test_items_keep_their_order_per_person_and_other_accounts_are_ignored(rig: Rig) -> None:
    body = envelope(
        message("a", "a1", "one"), message("b", "b1", "uno"), message("a", "a2", "two"), message("a", "a3", "three")
    )
    body["entry"].append(
        {"id": "999", "time": 1, "messaging": [item("c", account="999", message={"mid": "c1", "text": "not ours"})]}
    )
    assert await rig.post(body) == 200
    assert [t.text for t in rig.threads.turns if t.identity.user_id == "a"] == ["one", "two", "three"]
    assert [m["text"] for m in rig.messages("a")] == ["you said one", "you said two", "you said three"]
    assert {t.identity.user_id for t in rig.threads.turns} == {"a", "b"}


async def test_a_restart_processes_what_the_inbox_still_holds(rig: Rig, tmp_path: Path) -> None:
    inbox = rig.threads.inbox("instagram")
    payload = json.dumps({"item": message("r1", "m_r", "still there"), "account": ACCOUNT, "standby": False})
    await inbox.enqueue([InboxItem("mid:m_r", payload, Identity("instagram", "r1"))], now=0)
    restarted = build_channel(rig.threads, rig.graph, tmp_path)
    await restarted.start()
    await restarted.stop()
    assert [t.text for t in rig.threads.turns] == ["still there"]
    assert rig.messages("r1")[-1] == {"text": "you said still there"} and inbox.finished == {1}


async def test_echoes_of_our_messages_are_dropped_and_inbox_replies_recorded(rig: Rig, tmp_path: Path) -> None:
    await rig.post(envelope(message("u2", "m1", "hi")))
    [ours] = rig.threads.delivered[0].data["mids"]
    await rig.post(envelope(echo("u2", ours, "you said hi")))
    assert len(rig.threads.turns) == 1
    await rig.post(envelope(echo("u2", "m_person", "Anna here, let me check")))
    agent = rig.threads.turns[-1]
    assert (agent.event, agent.data["text"], agent.data["by"]) == (
        "agent_message",
        "Anna here, let me check",
        "instagram_inbox",
    )
    # another worker, or after a restart: our message ids are known from the thread's delivered events
    other = FakeThreads(turns=rig.threads.turns, stored=rig.threads.stored)
    worker = build_channel(other, rig.graph, tmp_path)
    async with serve(worker) as client:
        elsewhere = Rig(client, worker, other, rig.graph)
        await elsewhere.post(envelope(echo("u2", ours, "you said hi")))
        assert len(rig.threads.turns) == 2
        await elsewhere.post(envelope(echo("u2", "m_person2", "Anna again")))
        assert rig.threads.turns[-1].data["text"] == "Anna again"


async def test_story_replies_reactions_and_mentions_reach_flows(rig: Rig) -> None:
    def bot(inbound: Inbound) -> list[Outbound]:
        return [Text("Glad you like the story!")] if inbound.event == "story_reply" else []

    rig.threads.bot = bot
    reply = message("s1", "m_sr", "Love this!", reply_to={"story": {"url": "https://cdn.example/s.jpg", "id": "1"}})
    await rig.post(envelope(reply))
    assert [(t.event, t.text) for t in rig.threads.turns] == [("story_reply", "")]  # the flow answered: done
    rig.threads.bot = lambda inbound: []
    await rig.post(
        envelope(
            message("s1", "m_sr2", "And this?", reply_to={"story": {"url": "u", "id": "2"}}),
            message("s1", "m_sm", attachments=[{"type": "story_mention", "payload": {"url": "u"}}]),
            item("s1", reaction={"mid": "m_fake1", "action": "react", "reaction": "love", "emoji": "\u2764\ufe0f"}),
        )
    )
    assert [(t.event, t.text) for t in rig.threads.turns[1:]] == [
        ("story_reply", ""),
        ("", "And this?"),
        ("story_mention", ""),
        ("reaction", ""),
    ]  # unanswered: the text too
    actions = [s.get("sender_action") for s in rig.graph.sends("s1")]
    assert actions.count("typing_on") == 2  # story replies are messages; mentions and reactions are not


async def test_an_igme_link_token_joins_the_website_thread(rig: Rig) -> None:
    rig.threads.links["tl1=good"] = LinkRedeemed("linked", thread_id="web-thread")
    rig.threads.links["tl1=used"] = LinkRedeemed("refused", reason="replayed", detail="used already")
    rig.threads.links["tl1=ask"] = LinkRedeemed("confirm", thread_id="web-thread")

    def link(igsid: str, ref: str, mid: str) -> dict[str, Any]:
        return item(
            igsid,
            postback={
                "mid": mid,
                "title": "Track my order",
                "payload": "/order_status",
                "referral": {"ref": ref, "source": "SHORTLINKS", "type": "OPEN_THREAD"},
            },
        )

    await rig.post(envelope(link("n1", "tl1=good", "p1")))
    linked, question = rig.threads.turns
    assert (linked.event, linked.data) == (
        "thread_linked",
        {"from": "web", "merged": False, "again": False, "source": "SHORTLINKS", "type": "OPEN_THREAD"},
    )
    assert question.text == "/order_status" and rig.threads.redeemed[0][2:] == ("instagram", False)
    await rig.post(
        envelope(
            item("n2", referral={"ref": "tl1=used", "source": "SHORTLINKS", "type": "OPEN_THREAD"}),
            item("n3", referral={"ref": "summer_sale", "source": "SHORTLINKS", "type": "OPEN_THREAD"}),
        )
    )
    by_person = {t.identity.user_id: t for t in rig.threads.turns[2:]}
    assert (by_person["n2"].event, by_person["n2"].data["reason"]) == ("link_refused", "replayed")
    assert (by_person["n3"].event, by_person["n3"].data["ref"]) == ("referral", "summer_sale")  # a campaign's ref
    await rig.post(envelope(item("n4", referral={"ref": "tl1=ask", "source": "SHORTLINKS", "type": "OPEN_THREAD"})))
    assert rig.threads.turns[-1].event == "link_confirm" and rig.threads.held[Identity("instagram", "n4")] == (
        "tl1=ask",
        "instagram",
    )
    await rig.post(envelope(message("n4", "m_yes", "Yes", quick_reply={"payload": "/link_accept"})))
    assert (rig.threads.turns[-1].event, rig.threads.turns[-1].data["merged"]) == ("thread_linked", True)
    assert rig.threads.redeemed[-1] == ("tl1=ask", Identity("instagram", "n4"), "instagram", True)


async def test_a_handed_off_chat_gets_no_typing_and_continue_buttons_become_links(rig: Rig) -> None:
    rig.threads.handed_off.add(Identity("instagram", "h1"))
    rig.threads.bot = lambda inbound: [
        Text(
            "Carry on where you like:",
            (
                Button("On the website", "continue", "web"),
                Button("Here", "continue", "instagram"),
                Button("Call us", "phone", "+49 30 123456"),
            ),
        )
    ]
    await rig.post(envelope(message("h1", "m_h", "hello")))
    [sent] = rig.graph.sends("h1")  # no mark_seen, no typing_on
    payload = sent["message"]["attachment"]["payload"]
    assert payload["buttons"] == [
        {"type": "web_url", "url": "https://shop.example/?tl_link=tl1=web", "title": "On the website"}
    ]
    assert payload["text"].endswith("Call us: +49 30 123456") and rig.graph.violations == []


def thread_view(igsids: tuple[str, ...], last_seen: float | None, **state: Any) -> ThreadView:
    seen = {"last_inbound_by_channel": {"instagram": last_seen}} if last_seen is not None else {}
    return ThreadView("t1", {**seen, **state}, tuple(Identity("instagram", i) for i in igsids))


async def test_reach_and_send_outside_a_turn(rig: Rig) -> None:
    now = time.time()
    channel = rig.channel
    assert channel.reach(thread_view((), None), now=now).reason.startswith("no_instagram_identity")
    fresh = channel.reach(thread_view(("o1",), now - 3600), now=now)
    assert (fresh.status, fresh.detail) == ("now", {"messaging_type": "RESPONSE", "tag": None})
    late = thread_view(("o1",), now - 3 * 86400, message_tag="POST_PURCHASE_UPDATE")
    assert channel.reach(late, now=now).status == "refused"
    agent = channel.reach(late, now=now, by_person=True)
    assert (agent.status, agent.detail["tag"]) == ("now", "HUMAN_AGENT")
    assert channel.reach(thread_view(("o1",), now - 8 * 86400), now=now, by_person=True).status == "refused"

    sent = await channel.send(late, [Text("Anna here: your parcel left today.")], agent)
    assert sent.ok and sent.events[0].kind == "delivered"
    assert rig.graph.sends("o1")[-1] == {
        "recipient": {"id": "o1"},
        "messaging_type": "MESSAGE_TAG",
        "tag": "HUMAN_AGENT",
        "message": {"text": "Anna here: your parcel left today."},
    }
    rig.graph.fail_next("o1", 2534022)
    failed = await channel.send(late, [Text("one"), Text("two")], agent)
    assert (failed.ok, failed.reason) == (False, "outside_window")
    assert failed.events[0].kind == "delivery_failed" and failed.events[0].data["unsent"] == 2
    refused = await channel.send(late, [Text("x")], channel.reach(late, now=now))
    assert not refused.ok and refused.reason.startswith("outside_window") and refused.events == ()
    assert channel.continue_url("tl1=abc") == "https://ig.me/m/stride.shoes?ref=tl1=abc"
    assert channel.limits.text_chars == 1000 and channel.limits.quick_replies == 13
