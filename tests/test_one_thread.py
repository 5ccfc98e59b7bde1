"""One thread across the website and Messenger, through the real connectors (widget protocol + signed webhooks).

The browser version of the same journey is in test_widget_browser.py; this one covers every token case and
merge in detail, where a browser adds nothing.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bots.flow.state import ThreadState
from bots.linking.tokens import LinkTokens
from bots.runtime import Runtime, open_runtime
from bots.server.app import create_app
from bots.types import Identity, ThreadEvent
from tests.conftest import demo_config
from tests.fake_graph import FakeGraph
from tests.test_messenger import PAGE, deliver, envelope, messenger_config, settle, text_event, texts_of
from tests.test_web_protocol import Tab, open_tab

LINK_SECRET = "link-secret-for-tests"
SITE = "https://shop.example/shoes"


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    fake = await FakeGraph(profiles={"fb-de": {"first_name": "Jonas", "locale": "de_DE"}}).start()
    yield fake
    await fake.close()


@pytest.fixture
async def server(tmp_path: Path, graph: FakeGraph) -> AsyncIterator[tuple[TestClient, Runtime]]:
    config = demo_config(
        tmp_path / "data",
        connectors={"messenger": messenger_config(graph)},
        linking={"secret": LINK_SECRET, "messenger_page": "StrideShoes", "site_url": SITE},
        server={"admin_token": "adm"},
    )
    async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
        yield client, runtime


def visitor(n: int) -> str:
    return f"visitor{n:013d}"


async def say(tab: Tab, frame_id: str, **frame: Any) -> list[dict[str, Any]]:
    await tab.send(id=frame_id, **frame)
    ack, messages = await tab.until_ack(frame_id)
    assert ack["type"] == "ack", ack
    return messages


def get_started(psid: str, ref: str, **referral: Any) -> dict[str, Any]:
    return {
        "sender": {"id": psid},
        "recipient": {"id": PAGE},
        "timestamp": int(time.time() * 1000),
        "postback": {
            "payload": "__GET_STARTED__",
            "title": "Get Started",
            "mid": f"m-{psid}-{ref[-8:]}",
            "referral": {"ref": ref, "source": "SHORTLINK", "type": "OPEN_THREAD", **referral},
        },
    }


def referral(psid: str, ref: str) -> dict[str, Any]:
    return {
        "sender": {"id": psid},
        "recipient": {"id": PAGE},
        "timestamp": int(time.time() * 1000),
        "referral": {"ref": ref, "source": "SHORTLINK", "type": "OPEN_THREAD"},
    }


def postback(psid: str, payload: str, mid: str) -> dict[str, Any]:
    return {
        "sender": {"id": psid},
        "recipient": {"id": PAGE},
        "timestamp": int(time.time() * 1000),
        "postback": {"payload": payload, "title": payload, "mid": mid},
    }


async def messenger_link(tab: Tab) -> str:
    await tab.send(type="link", id="L1", to="messenger")
    frame = await tab.next("link")
    url = urlsplit(frame["url"])
    assert (url.scheme, url.netloc, url.path) == ("https", "m.me", "/StrideShoes")
    return parse_qs(url.query)["ref"][0]


async def web_thread_with_open_question(client: TestClient, runtime: Runtime) -> tuple[Tab, str]:
    """A German visitor who viewed the Trail Runner 2, gave size 42 and left the order-number question open."""
    tab, ready = await open_tab(client, visitor(1), locale="de-DE")
    assert ready["continue_in_messenger"] is True
    await say(tab, "e1", type="event", name="product_viewed", data={"sku": "TR2", "name": "Trail Runner 2"})
    await say(tab, "m1", type="message", text="hallo")
    await say(tab, "m2", type="message", text='/greet{"shoe_size": 42}')
    asked = await say(tab, "m3", type="message", text="/order_status")
    assert asked[-1]["text"].startswith("Klar! Wie lautet deine Bestellnummer?")
    thread = await runtime.store.find(Identity("web", visitor(1)))
    assert thread is not None
    return tab, thread


async def test_web_to_messenger_to_web_keeps_slots_language_history_and_the_open_question(
    server, graph: FakeGraph
) -> None:  # type: ignore[no-untyped-def]
    client, runtime = server
    tab, thread = await web_thread_with_open_question(client, runtime)
    ref = await messenger_link(tab)

    # Messenger delivers the m.me ref with the Get Started tap of a brand-new person
    assert await deliver(client, envelope(get_started("fb-de", ref))) == 200
    await settle(client)
    assert await runtime.store.find(Identity("messenger", "fb-de")) == thread
    said = texts_of(graph.messages("fb-de"))
    assert said[0] == "Willkommen zurück 👋 Schaust du dir noch den Trail Runner 2 in Größe 42 an?"
    assert said[-1].startswith(
        "Zurück zu deiner Frage: Wie lautet deine Bestellnummer?"
    )  # the open question, asked again

    # the answer in Messenger completes the question asked on the website
    await deliver(client, envelope(text_event("fb-de", "ST-123456", "mid.answer")))
    await settle(client)
    assert any("ST-123456" in t or "Trail Runner 2, EU 42" in t for t in texts_of(graph.messages("fb-de"))[len(said) :])
    snapshot = await runtime.store.load(thread)
    assert snapshot is not None
    assert snapshot.state["slots"]["order_state"] == "shipped" and snapshot.state["slots"]["shoe_size"] == 42
    assert snapshot.state["language"] == "de"

    # back to the website from Messenger: a URL button with a to_web link
    before = len(graph.messages("fb-de"))
    await deliver(client, envelope(postback("fb-de", "/continue_elsewhere", "mid.switch")))
    await settle(client)
    body = graph.messages("fb-de")[before]["message"]["attachment"]["payload"]
    buttons = body["buttons"]
    assert [b["type"] for b in buttons] == ["web_url"]  # "Continue in Messenger" is left out in Messenger
    url = urlsplit(buttons[0]["url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == SITE
    token = parse_qs(url.query)["tl_link"][0]

    # a different browser (the phone's) opens it: it joins the thread with its whole history
    phone, ready = await open_tab(client, visitor(2), link=token, locale="de-DE")
    assert ready["link"] == {"status": "linked", "from": "messenger", "merged": False, "again": False}
    texts = [m.get("text") for m in ready["messages"]]
    assert "hallo" in texts and "ST-123456" in texts  # website and Messenger messages, one history
    assert texts[-1] == "Willkommen zurück 👋 Schaust du dir noch den Trail Runner 2 in Größe 42 an?"
    assert {m["channel"] for m in ready["messages"]} >= {"web", "messenger"}
    assert await runtime.store.find(Identity("web", visitor(2))) == thread

    # later visits from that browser stay linked, without any link
    await phone.ws.close()
    again, ready = await open_tab(client, visitor(2))
    assert "link" not in ready and "ST-123456" in [m.get("text") for m in ready["messages"]]
    identities = {(i.channel, i.user_id) for i in await runtime.store.identities(thread)}
    assert identities == {("web", visitor(1)), ("web", visitor(2)), ("messenger", "fb-de")}
    await again.ws.close()
    await tab.ws.close()


async def test_a_person_with_a_messenger_thread_merges_it_into_the_website_thread(server, graph: FakeGraph) -> None:  # type: ignore[no-untyped-def]
    client, runtime = server
    # the Messenger side talked first: an earlier thread with its own history and an email slot
    await deliver(client, envelope(text_event("fb-old", "hello", "mid.old1")))
    await settle(client)
    old = await runtime.store.find(Identity("messenger", "fb-old"))
    assert old is not None
    old_snapshot = await runtime.store.load(old)
    assert old_snapshot is not None
    state = ThreadState.from_json(old_snapshot.state)
    state.slots["product_name"] = "City Glide"
    await runtime.store.commit(
        old,
        state.to_json(),
        [ThreadEvent("slot", {"name": "product_name", "value": "City Glide"}, time.time())],
        expected_version=old_snapshot.version,
        now=time.time(),
        wake_at=state.wake_at,
    )

    tab, thread = await web_thread_with_open_question(client, runtime)
    ref = await messenger_link(tab)
    # an existing thread gets the ref as a messaging_referrals event, not a Get Started postback
    await deliver(client, envelope(referral("fb-old", ref)))
    await settle(client)
    # they already chat here: asked first, nothing joined yet
    question = graph.messages("fb-old")[-1]["message"]
    assert question["text"] == "You're continuing a chat from our website. Join it with this conversation?"
    assert [q["payload"] for q in question["quick_replies"]] == ["/link_accept", "/link_decline"]
    assert await runtime.store.find(Identity("messenger", "fb-old")) == old
    old_events = await runtime.store.events(old)
    web_events = await runtime.store.events(thread)
    await deliver(
        client, envelope(text_event("fb-old", "Yes, join them", "mid.accept", quick_reply={"payload": "/link_accept"}))
    )
    await settle(client)

    assert await runtime.store.find(Identity("messenger", "fb-old")) == thread
    assert await runtime.store.merged_into(old) == thread and await runtime.store.load(old) is None
    merged = await runtime.store.events(thread)
    kinds = [e.event.kind for e in merged]
    merge_at = kinds.index("merge")
    # nothing lost: every event of both logs, interleaved by time, then the merge record
    assert merge_at == len(old_events) + len(web_events)
    moved = [e.event for e in merged[:merge_at]]
    assert sorted((e.timestamp, e.kind) for e in moved) == sorted(
        (e.event.timestamp, e.event.kind) for e in old_events + web_events
    )
    assert [e.timestamp for e in moved] == sorted(e.timestamp for e in moved)
    record = merged[merge_at].event.data
    assert record["into"] == thread and record["merged"] == old and record["reason"] == "link_to_messenger"
    assert record["events_moved"] == len(old_events)
    snapshot = await runtime.store.load(thread)
    assert snapshot is not None
    slots = snapshot.state["slots"]
    assert slots["shoe_size"] == 42  # only the website had it
    # both sides set product_name? only the Messenger side did: kept
    assert slots["product_name"] == "City Glide"
    assert snapshot.state["language"] == "de"  # the website thread was used last
    said = texts_of(graph.messages("fb-old"))
    assert "Willkommen zurück" in said[-2] and said[-1].startswith(
        "Zurück zu deiner Frage: Wie lautet deine Bestellnummer?"
    )

    # the open widget tab is told to reload: it gets the merged history under the same identity
    reset = await tab.next("reset")
    assert reset == {"type": "reset"}
    await tab.send(type="hello", visitor_id=visitor(1), locale="de-DE")
    ready = await tab.next("ready")
    assert [m.get("text") for m in ready["messages"]].count("hello") == 1
    await tab.ws.close()


async def test_bad_links_never_link_anything_and_get_a_clear_message(server, graph: FakeGraph) -> None:  # type: ignore[no-untyped-def]
    client, runtime = server
    tab, thread = await web_thread_with_open_question(client, runtime)
    good = await messenger_link(tab)
    forged = LinkTokens("someone-elses-secret", 1800).issue(thread, "to_messenger")
    expired = LinkTokens(LINK_SECRET, 1800, clock=lambda: time.time() - 3600).issue(thread, "to_messenger")
    web_only = LinkTokens(LINK_SECRET, 1800).issue(thread, "to_web")  # the wrong direction
    tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    cases = {
        "fb-forged": (forged, "link_invalid"),
        "fb-expired": (expired, "link_stale"),
        "fb-mismatched": (web_only, "link_invalid"),
        "fb-tampered": (tampered, "link_invalid"),
        "fb-malformed": ("tl1=not-a-token", "link_invalid"),
    }
    # the genuine link works once ...
    await deliver(client, envelope(get_started("fb-first", good)))
    await settle(client)
    assert await runtime.store.find(Identity("messenger", "fb-first")) == thread
    # ... and a second person using it is refused (replayed)
    cases["fb-replay"] = (good, "link_stale")
    texts = {
        "link_stale": "That link has expired or was already used, so we start afresh here.",
        "link_invalid": "That link isn't valid, so we start afresh here.",
    }
    for psid, (ref, _text) in cases.items():
        await deliver(client, envelope(get_started(psid, ref)))
    await settle(client)
    for psid, (_ref, text) in cases.items():
        assert await runtime.store.find(Identity("messenger", psid)) != thread, psid
        said = texts_of(graph.messages(psid))
        assert said[0] == texts[text], (psid, said)
    events = [e.event for e in await runtime.store.events(await runtime.store.find(Identity("messenger", "fb-replay")))]
    refused = [e for e in events if e.kind == "site_event" and e.data["name"] == "link_refused"]
    assert refused and refused[0].data["data"]["reason"] == "replayed"
    assert all(ref not in str(e.data) for e in events for ref, _ in cases.values() if ref.startswith("tl1="))

    # the website side: same refusals, nothing linked, a clear message in the widget
    to_web = LinkTokens(LINK_SECRET, 1800).issue(thread, "to_web")
    web_cases = {
        "forged": LinkTokens("x", 1800).issue(thread, "to_web"),
        "expired": LinkTokens(LINK_SECRET, 1800, clock=lambda: time.time() - 3600).issue(thread, "to_web"),
        "mismatched": LinkTokens(LINK_SECRET, 1800).issue(thread, "to_messenger"),
        "malformed": "definitely not a link",
    }
    first, ready = await open_tab(client, visitor(20), link=to_web)
    assert ready["link"]["status"] == "linked"
    web_cases["replayed"] = to_web
    for n, (reason, token) in enumerate(web_cases.items(), start=30):
        other, ready = await open_tab(client, visitor(n), link=token)
        assert ready["link"]["status"] == "refused" and ready["link"]["reason"] == reason, (reason, ready["link"])
        assert ready["link"]["message"]
        assert await runtime.store.find(Identity("web", visitor(n))) != thread
        assert all("Bestellnummer" not in (m.get("text") or "") for m in ready["messages"])  # none of the history
        await other.ws.close()
    await first.ws.close()
    await tab.ws.close()


async def test_signing_in_on_a_second_device_brings_its_anonymous_chat_into_the_customers_thread(
    tmp_path: Path,
) -> None:
    from connectors.web.identity import sign_customer

    secret = "identity-secret"
    config = demo_config(tmp_path / "data", connectors={"web": {"identity_secret": secret}})
    async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
        customer = {"id": "cust-7", "signature": sign_customer(secret, "cust-7")}
        laptop, _ = await open_tab(client, visitor(50), customer=customer)
        await say(laptop, "a1", type="message", text="hello from the laptop")
        thread = await runtime.store.find(Identity("customer", "cust-7"))
        phone, _ = await open_tab(client, visitor(51))
        await say(phone, "b1", type="message", text="hi from the phone, not signed in yet")
        anonymous = await runtime.store.find(Identity("web", visitor(51)))
        assert anonymous is not None and anonymous != thread

        await phone.send(type="hello", visitor_id=visitor(51), customer=customer)
        ready = await phone.next("ready")
        texts = [m["text"] for m in ready["messages"] if m["role"] == "user"]
        assert texts == ["hello from the laptop", "hi from the phone, not signed in yet"]
        assert await runtime.store.merged_into(anonymous) == thread
        merge = [e.event for e in await runtime.store.events(thread) if e.event.kind == "merge"]
        assert merge[0].data["reason"] == "signed_identity" and merge[0].data["merged"] == anonymous
        assert (await laptop.next("reset"))["type"] == "reset"  # the laptop reloads the merged thread
        # signing out on the phone shows a fresh chat, none of the customer's
        fresh = await runtime.store.find(Identity("web", visitor(51)))
        assert fresh not in (thread, anonymous)
        await phone.send(type="hello", visitor_id=visitor(51))
        assert (await phone.next("ready"))["messages"] == []
        await laptop.ws.close()
        await phone.ws.close()


async def test_a_send_to_messenger_optin_links_and_asking_for_the_website_gets_a_fresh_link(
    server, graph: FakeGraph
) -> None:  # type: ignore[no-untyped-def]
    client, runtime = server
    tab, thread = await web_thread_with_open_question(client, runtime)
    ref = await messenger_link(tab)
    # the Send to Messenger plugin's opt-in carries the ref as data-ref
    optin = {
        "sender": {"id": "fb-optin"},
        "recipient": {"id": PAGE},
        "timestamp": int(time.time() * 1000),
        "optin": {"ref": ref},
    }
    await deliver(client, envelope(optin))
    await settle(client)
    assert await runtime.store.find(Identity("messenger", "fb-optin")) == thread
    assert texts_of(graph.messages("fb-optin"))[0].startswith("Willkommen zurück 👋")

    # asking in words for the website: a URL button with a new to_web link each time
    links = []
    for n, text in enumerate(("kann ich auf der webseite weitermachen?", "webseite bitte")):
        await deliver(client, envelope(text_event("fb-optin", text, f"mid.web.{n}")))
        await settle(client)
        answer = [m["message"] for m in graph.messages("fb-optin")[-2:]]
        # the open question goes on, until its budget of re-asks (the welcome back was one) is spent
        expected = "Zurück zu deiner Frage: Wie lautet" if n == 0 else "Lassen wir die Frage erst einmal."
        assert answer[1]["text"].startswith(expected)
        button = answer[0]["attachment"]["payload"]["buttons"][0]
        assert button["type"] == "web_url" and button["title"] == "Auf Website öffnen"
        links.append(parse_qs(urlsplit(button["url"]).query)["tl_link"][0])
    assert links[0] != links[1]
    for token in links:  # both genuine, each for this thread
        assert runtime.linker.tokens.read(token, "to_web").thread_id == thread
    await tab.ws.close()


async def test_a_link_someone_else_sent_never_joins_a_conversation_without_its_persons_yes(
    server, graph: FakeGraph
) -> None:  # type: ignore[no-untyped-def]
    client, runtime = server
    # the "attacker" makes a link from their own chat ...
    attacker, _ = await open_tab(client, visitor(60))
    await say(attacker, "a1", type="message", text="hi")
    attacker_thread = await runtime.store.find(Identity("web", visitor(60)))
    ref = await messenger_link(attacker)
    # ... and the victim, who already chats with the Page, opens it
    victim = await messenger_thread_of(client, runtime, "fb-victim", "my address is 1 Secret Lane")
    await deliver(client, envelope(referral("fb-victim", ref)))
    await settle(client)
    assert await runtime.store.find(Identity("messenger", "fb-victim")) == victim  # nothing joined
    asked = len(graph.messages("fb-victim"))
    assert texts_of(graph.messages("fb-victim"))[-1].startswith("You're continuing a chat from our website.")
    await deliver(
        client, envelope(text_event("fb-victim", "No, keep apart", "mid.no", quick_reply={"payload": "/link_decline"}))
    )
    await settle(client)
    assert texts_of(graph.messages("fb-victim"))[asked] == "All right: this conversation stays as it was."
    assert await runtime.store.find(Identity("messenger", "fb-victim")) == victim
    await attacker.send(type="hello", visitor_id=visitor(60))
    shown = [m.get("text") for m in (await attacker.next("ready"))["messages"]]
    assert "my address is 1 Secret Lane" not in shown
    assert Identity("messenger", "fb-victim") not in await runtime.store.identities(attacker_thread)
    # a late "yes" finds nothing to accept
    before = len(graph.messages("fb-victim"))
    await deliver(
        client, envelope(text_event("fb-victim", "Yes, join them", "mid.yes", quick_reply={"payload": "/link_accept"}))
    )
    await settle(client)
    assert texts_of(graph.messages("fb-victim"))[before] == (
        "That link has expired or was already used, so we start afresh here."
    )
    assert await runtime.store.find(Identity("messenger", "fb-victim")) == victim

    # the website side: a browser with a chat of its own is asked, and joins only with confirm
    token = LinkTokens(LINK_SECRET, 1800).issue(attacker_thread, "to_web")
    own, _ = await open_tab(client, visitor(61))
    await say(own, "o1", type="message", text="my own private question")
    own_thread = await runtime.store.find(Identity("web", visitor(61)))
    await own.send(type="hello", visitor_id=visitor(61), link=token)
    ready = await own.next("ready")
    assert ready["link"]["status"] == "confirm" and "Continue your Messenger chat here?" in ready["link"]["message"]
    assert await runtime.store.find(Identity("web", visitor(61))) == own_thread
    await own.send(type="hello", visitor_id=visitor(61), link=token, confirm=True)
    ready = await own.next("ready")
    assert ready["link"]["status"] == "linked" and ready["link"]["merged"] is True
    assert await runtime.store.find(Identity("web", visitor(61))) == attacker_thread
    await own.ws.close()
    await attacker.ws.close()


async def messenger_thread_of(client: TestClient, runtime: Runtime, psid: str, text: str) -> str:
    await deliver(client, envelope(text_event(psid, text, f"mid.{psid}.first")))
    await settle(client)
    thread = await runtime.store.find(Identity("messenger", psid))
    assert thread is not None
    return thread


async def test_tabs_that_missed_a_merge_reload_instead_of_mixing_sequence_numbers(server, graph: FakeGraph) -> None:  # type: ignore[no-untyped-def]
    client, runtime = server
    await messenger_thread_of(client, runtime, "fb-merge", "hello from messenger")
    tab, ready = await open_tab(client, visitor(70))
    await say(tab, "w1", type="message", text="web question")
    thread = await runtime.store.find(Identity("web", visitor(70)))
    epoch = ready["epoch"]
    seen = (await runtime.store.load(thread)).version  # type: ignore[union-attr]  # what the tab has seen
    ref = await messenger_link(tab)
    await tab.ws.close()  # offline during the merge: no reset frame reaches it
    await deliver(client, envelope(referral("fb-merge", ref)))
    await deliver(client, envelope(text_event("fb-merge", "Yes", "mid.m.yes", quick_reply={"payload": "/link_accept"})))
    await settle(client)
    assert await runtime.store.find(Identity("messenger", "fb-merge")) == thread
    # the HTTP fallback's poll says reset; a WebSocket hello with the old epoch gets the whole history
    poll = await client.get("/web/api/poll", params={"visitor_id": visitor(70), "after": str(seen), "epoch": epoch})
    assert (await poll.json()) == {"messages": [], "reset": True}
    again, ready = await open_tab(client, visitor(70), after=seen, epoch=epoch)
    assert ready["reset"] is True and ready["epoch"] != epoch
    texts = [m.get("text") for m in ready["messages"]]
    assert texts.count("hello from messenger") == 1 and texts.count("web question") == 1
    # with the new epoch, polling goes on normally
    poll = await client.get("/web/api/poll", params={"visitor_id": visitor(70), "after": "0", "epoch": ready["epoch"]})
    assert "reset" not in await poll.json()
    await again.ws.close()
