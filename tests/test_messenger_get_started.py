"""The Page's Get Started tap through the signed webhook, whatever payload the Page's button carries."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bots.types import Identity
from tests import test_one_thread
from tests.fake_graph import FakeGraph
from tests.fake_messenger_profile import FakeMessengerProfile
from tests.test_messenger import deliver, envelope, settle, text_event, texts_of
from tests.test_one_thread import get_started, messenger_link, postback, visitor, web_thread_with_open_question
from tests.test_web_protocol import open_tab

server = test_one_thread.server  # the demo bot with Messenger and links, on this file's Graph
WELCOME = "Hi! I'm Stride's shopping assistant 👟"
FALLBACK = "Sorry, I didn't get that."


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    """test_one_thread's server (its link settings) uses this Graph: its Page's payload was set by hand."""
    page = FakeMessengerProfile(fields={"get_started": {"payload": "WELCOME_FROM_PAGE"}})
    fake = await FakeGraph(profiles={"fb-de": {"locale": "de_DE"}}, page=page).start()
    yield fake
    await fake.close()


async def test_get_started_with_a_custom_payload_and_a_link_continues_the_web_thread(server, graph: FakeGraph) -> None:  # type: ignore[no-untyped-def]
    client, runtime = server
    tab, thread = await web_thread_with_open_question(client, runtime)
    ref = await messenger_link(tab)
    tap = get_started("fb-de", ref)
    tap["postback"]["payload"] = "GET_STARTED_PAYLOAD"  # neither the configured payload nor the Page's
    assert await deliver(client, envelope(tap)) == 200
    await settle(client)

    assert await runtime.store.find(Identity("messenger", "fb-de")) == thread
    said = texts_of(graph.messages("fb-de"))
    assert said[0] == "Willkommen zurück 👋 Schaust du dir noch den Trail Runner 2 in Größe 42 an?"
    assert said[-1].startswith("Zurück zu deiner Frage: Wie lautet deine Bestellnummer?")  # asked again
    assert not any("nicht nach einer Bestellnummer" in text for text in said)
    await tab.ws.close()
    again, ready = await open_tab(client, visitor(1), locale="de-DE")
    typed = [m["text"] for m in ready["messages"] if m["role"] == "user"]
    assert typed == ["hallo", '/greet{"shoe_size": 42}', "/order_status"]  # no "Get Started" from Messenger
    await again.ws.close()


async def test_the_pages_own_payload_is_a_conversation_start_for_a_person_who_chats_already(
    server, graph: FakeGraph
) -> None:  # type: ignore[no-untyped-def]
    client, _ = server
    await deliver(client, envelope(text_event("fb-1", "hi", "mid.hi")))
    await settle(client)
    await deliver(client, envelope(postback("fb-1", "WELCOME_FROM_PAGE", "mid.tap")))  # read from the profile
    await settle(client)
    assert texts_of(graph.messages("fb-1"))[-1].startswith(WELCOME)
    await deliver(client, envelope(postback("fb-1", "SOME_OLD_BUTTON", "mid.old")))  # a person who chats here
    await settle(client)
    assert texts_of(graph.messages("fb-1"))[-1].startswith(FALLBACK)  # an old button: a message as before


async def test_a_new_persons_first_postback_is_get_started_unless_it_starts_a_flow(server, graph: FakeGraph) -> None:  # type: ignore[no-untyped-def]
    client, runtime = server
    await deliver(client, envelope(postback("fb-new", "START", "mid.start")))
    await deliver(client, envelope(postback("fb-ice", "/order_status", "mid.ice")))  # an ice breaker
    summer = get_started("fb-ad", "summer_sale")
    summer["postback"]["payload"] = "/get_started"  # a slash payload naming no intent
    await deliver(client, envelope(summer))
    await settle(client)
    assert texts_of(graph.messages("fb-new"))[0].startswith(WELCOME)
    assert texts_of(graph.messages("fb-ice"))[0].startswith("Sure! What's your order number?")
    said = texts_of(graph.messages("fb-ad"))
    assert said[0].startswith("Welcome! Our summer sale is on") and not any(t.startswith(FALLBACK) for t in said)
    thread = await runtime.store.find(Identity("messenger", "fb-new"))
    assert thread is not None
    typed = [e.event for e in await runtime.store.events(thread) if e.event.kind == "user"]
    assert typed == []  # the tap is an event, never something the customer typed
