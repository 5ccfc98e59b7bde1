"""The Rasa-compatible REST channel and the admin API, over real HTTP on loopback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bots.runtime import open_runtime
from bots.server.app import create_app
from tests.conftest import demo_config

RASA_KEYS = {"recipient_id", "text", "buttons", "image", "attachment", "custom"}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient]:
    config = demo_config(tmp_path / "data", server={"admin_token": "s3cret", "public_url": "https://shop.example"})
    async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
        yield client


@pytest.fixture
async def token_client(tmp_path: Path) -> AsyncIterator[TestClient]:
    config = demo_config(tmp_path / "data", connectors={"rest": {"token": "rest-token"}})
    async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
        yield client


async def send(client: TestClient, sender: str, message: str, **extra: Any) -> list[dict[str, Any]]:
    response = await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": message, **extra})
    assert response.status == 200, await response.text()
    body = await response.json()
    for item in body:
        assert set(item) <= RASA_KEYS and item["recipient_id"] == sender
    return body


async def test_health(client: TestClient) -> None:
    response = await client.get("/health")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "ok" and body["bot"] == "Stride" and len(body["languages"]) == 11
    assert (await (await client.get("/webhooks/rest")).json()) == {"status": "ok"}


async def test_greeting_buttons_and_button_press(client: TestClient) -> None:
    [greeting] = await send(client, "ana", "hi there")
    assert greeting["text"] == "Hi there! How can I help you today?"
    titles = [b["title"] for b in greeting["buttons"]]
    assert titles == ["Track my order", "Find shoes", "Size help", "Returns"]
    track = greeting["buttons"][0]["payload"]
    [question] = await send(client, "ana", track)  # pressing the button = sending its payload
    assert question["text"].startswith("Sure! What's your order number?")
    [answer] = await send(client, "ana", "it's st-345678")
    assert answer["text"].startswith(
        "Your order ST-345678 (Marathon Pro, EU 44) is being packed and will ship soon. Expected delivery: "
    )  # a date 4 days from today, as tests/test_demo_shop.py checks in several languages


async def test_order_number_is_validated_and_reprompted(client: TestClient) -> None:
    await send(client, "bo", "/order_status")
    invalid, prompt = await send(client, "bo", "12345")
    assert invalid["text"].startswith("Hmm, that doesn't look like an order number")
    assert prompt["text"].startswith("What's your order number?")  # asked again: the reprompt, no "Sure!"
    [not_found, *_] = await send(client, "bo", "ST-999999")
    assert not_found["text"].startswith("I couldn't find order ST-999999")
    assert [b["title"] for b in not_found["buttons"]] == ["Try another number", "Talk to a person"]


async def test_carousel_and_buy_flow(client: TestClient) -> None:
    intro, *cards = await send(client, "cy", "show me your running shoes")
    assert intro == {"recipient_id": "cy", "text": "Here are our bestsellers:"}
    # Rasa's REST channel sends a response's elements one item each: "<title> : <subtitle>" with the buttons
    assert [c["text"].split(" : ")[0] for c in cards] == ["Trail Runner 2", "City Glide", "Marathon Pro", "Kids Sprint"]
    assert all(set(c) == {"recipient_id", "text", "buttons"} for c in cards)
    view, buy = cards[0]["buttons"]
    assert view == {"title": "View", "url": "https://shop.example/products/TR2", "type": "web_url"}
    [ask] = await send(client, "cy", buy["payload"])
    assert ask["text"] == "Great choice: the Trail Runner 2 (€129). Which size (EU)?"
    assert [b["payload"] for b in ask["buttons"]] == ["40", "41", "42", "43", "44", "45"]
    [added] = await send(client, "cy", "42")
    assert added["text"] == "I've put the Trail Runner 2 in size 42 in your cart."
    assert added["buttons"][0]["url"] == "https://shop.example/cart?sku=TR2&size=42"


async def test_media_with_cta_buttons(client: TestClient) -> None:
    [question] = await send(client, "di", "/size_help")
    [advice, caption, chart] = await send(client, "di", "43")
    assert "take 43" in advice["text"]
    assert caption == {  # Rasa sends a response's text with its buttons first, then its image
        "recipient_id": "di",
        "text": "Stride size chart: EU, UK, US and foot length in cm",
        "buttons": [{"title": "Find shoes", "payload": "/product_search"}],
    }
    assert chart == {"recipient_id": "di", "image": "https://shop.example/media/size-chart.png"}


@pytest.mark.parametrize(
    "text,language,expected",
    [
        ("hallo, wo bleibt mein Paket?", "de", "Bestellnummer"),
        ("où en est ma commande svp ?", "fr", "commande"),
        ("hola, ¿dónde está mi pedido?", "es", "pedido"),
        ("ciao, dov'è il mio ordine?", "it", "ordine"),
        ("hoi, waar blijft mijn bestelling?", "nl", "bestelnummer"),
        ("olá, onde está a minha encomenda?", "pt", "encomenda"),
        ("cześć, gdzie jest moja paczka?", "pl", "zamówienia"),
        ("bună, unde este comanda mea?", "ro", "comenzii"),
        ("我的订单到哪了", "zh", "订单号"),
        ("đơn hàng của mình đến đâu rồi", "vi", "đơn hàng"),
    ],
)
async def test_order_question_in_every_language(client: TestClient, text: str, language: str, expected: str) -> None:
    [reply] = await send(client, f"lang-{language}", text)
    assert expected.lower() in reply["text"].lower(), reply
    assert "ST-123456" in reply["text"]


async def test_site_event_extension_and_conversation_start(client: TestClient) -> None:
    response = await client.post(
        "/webhooks/rest/webhook", json={"sender": "ev", "event": {"name": "conversation_start"}}
    )
    [welcome] = await response.json()
    assert welcome["text"].startswith("Hi! I'm Stride's shopping assistant")
    response = await client.post(
        "/webhooks/rest/webhook", json={"sender": "ev", "event": {"name": "product_viewed", "data": {"sku": "CG1"}}}
    )
    assert await response.json() == []  # viewed once: nothing to say
    response = await client.post(
        "/webhooks/rest/webhook", json={"sender": "ev", "event": {"name": "product_viewed", "data": {"sku": "CG1"}}}
    )
    caption, gif = await response.json()
    assert caption["text"].startswith("Still thinking about the City Glide?")
    assert gif["image"].endswith("/media/stride-wave.gif")


async def test_stream_mode_writes_one_json_object_per_line(client: TestClient) -> None:
    response = await client.post(
        "/webhooks/rest/webhook?stream=true", json={"sender": "st", "message": "/product_search"}
    )
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/event-stream")
    lines = [json.loads(line) for line in (await response.text()).splitlines() if line]
    assert len(lines) == 5 and [line["text"].split(" : ")[0] for line in lines[1:]] == [
        "Trail Runner 2",
        "City Glide",
        "Marathon Pro",
        "Kids Sprint",
    ]


@pytest.mark.parametrize(
    "body,status,error",
    [
        (b"{not json", 400, "the body is not valid JSON"),
        (b"[1, 2]", 400, "the body must be a JSON object"),
        (b'{"message": "hi"}', 400, "'sender' must be a non-empty string"),
        (b'{"sender": "x", "message": 5}', 400, "'message' must be a string (or send an 'event')"),
        (b'{"sender": "x", "message": "   "}', 400, "'message' is empty"),
        (b'{"sender": "x", "message": "hi", "metadata": "nope"}', 400, "'metadata' must be a JSON object"),
        (b'{"sender": "x", "event": {"data": {}}}', 400, "'event' must be an object with a non-empty 'name'"),
        (json.dumps({"sender": "x", "message": "a" * 5000}).encode(), 400, "'message' is longer than 4000 characters"),
        (json.dumps({"sender": "x", "message": "a" * 70000}).encode(), 413, "body larger than 65536 bytes"),
    ],
)
async def test_bad_requests_get_clear_errors_and_change_nothing(
    client: TestClient, body: bytes, status: int, error: str
) -> None:
    response = await client.post("/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"})
    assert response.status == status
    assert (await response.json()) == {"error": error}
    runtime = client.app[__import__("bots.server.app", fromlist=["RUNTIME"]).RUNTIME]
    assert await runtime.store.thread_ids() == []


async def test_rest_token(token_client: TestClient) -> None:
    response = await token_client.post("/webhooks/rest/webhook", json={"sender": "t", "message": "hi"})
    assert response.status == 401
    response = await token_client.post("/webhooks/rest/webhook?token=rest-token", json={"sender": "t", "message": "hi"})
    assert response.status == 200
    response = await token_client.post(
        "/webhooks/rest/webhook", json={"sender": "t", "message": "hi"}, headers={"Authorization": "Bearer rest-token"}
    )
    assert response.status == 200


async def test_handoff_admin_api_and_release(client: TestClient) -> None:
    handoff, notice = await send(client, "hu", "I want to talk to a real person")
    assert handoff["text"].startswith("I'm passing you to a person")
    assert notice["text"].startswith("Nobody from our team is online right now")  # no agent is connected
    # told nobody is there: the first message is acknowledged once, then the bot stays quiet
    assert [m["text"] for m in await send(client, "hu", "hello?")] == [
        "Got it: your message is with our team. Leave your e-mail address too if you'd like the answer by e-mail."
    ]
    assert await send(client, "hu", "anyone?") == []
    headers = {"Authorization": "Bearer s3cret"}
    assert (await client.get("/api/threads?channel=rest&user_id=hu")).status == 401
    found = await client.get("/api/threads?channel=rest&user_id=hu", headers=headers)
    thread = (await found.json())["thread_id"]
    assert (await client.get("/api/threads?channel=rest&user_id=nobody", headers=headers)).status == 404
    assert (await client.get(f"/api/threads/{thread}")).status == 401
    history = await (await client.get(f"/api/threads/{thread}", headers=headers)).json()
    assert history["identities"] == [{"channel": "rest", "user_id": "hu"}]
    assert history["state"]["handoff"] is True
    assert [e["data"]["text"] for e in history["events"] if e["kind"] == "user"] == [
        "I want to talk to a real person",
        "hello?",
        "anyone?",
    ]
    released = await client.post(f"/api/threads/{thread}/handoff/release", headers=headers)
    assert released.status == 200
    again = await client.post(f"/api/threads/{thread}/handoff/release", headers=headers)
    assert again.status == 409
    [greeting] = await send(client, "hu", "hi")
    assert greeting["text"] == "Hi there! How can I help you today?"


async def test_opt_out_is_confirmed_and_recorded(client: TestClient) -> None:
    [question] = await send(client, "oo", "please stop sending me messages")
    assert question["text"].startswith("Shall we stop sending you messages?")
    assert [b["title"] for b in question["buttons"]] == ["Yes, stop them", "No, keep them"]
    [reply] = await send(client, "oo", question["buttons"][0]["payload"])
    assert reply["text"].startswith("Done: we won't send you any more messages")
    runtime = client.app[__import__("bots.server.app", fromlist=["RUNTIME"]).RUNTIME]
    [thread] = await runtime.store.thread_ids()
    snapshot = await runtime.store.load(thread)
    assert snapshot is not None and snapshot.state["opted_out"] is True


async def test_every_media_file_the_demo_bot_uses_is_served(client: TestClient, demo_bot) -> None:  # type: ignore[no-untyped-def]
    from bots.flow.model import CarouselOp, MediaOp

    paths = set()
    for flow in demo_bot.flows.values():
        for op in flow.ops:
            if isinstance(op, MediaOp):
                paths.add(op.url.source)
            elif isinstance(op, CarouselOp):
                paths.update(card.image.source for card in op.cards if card.image)
    assert len(paths) == 7
    for source in paths:
        path = source.replace("{public_url}", "")
        response = await client.get(path)
        assert response.status == 200, path
        assert response.content_type in ("image/png", "image/gif", "video/mp4"), (path, response.content_type)
        assert len(await response.read()) > 1000


async def test_locale_hint_sets_a_new_threads_language(client: TestClient) -> None:
    [reply] = await send(client, "pt-visitor", "ok", metadata={"locale": "pt-PT"})
    assert reply["text"] == "Ótimo! O que gostavas de fazer?", reply
    [reply] = await send(client, "no-hint", "ok")
    assert reply["text"] == "Great! What would you like to do?"


async def test_unknown_paths_get_json_errors(client: TestClient) -> None:
    response = await client.get("/no/such/page")
    assert response.status == 404 and (await response.json()) == {"error": "Not Found"}
    response = await client.get("/webhooks/rest/webhook")
    assert response.status == 405 and (await response.json()) == {"error": "Method Not Allowed"}


async def test_locale_hint_on_a_first_event(client: TestClient) -> None:
    response = await client.post(
        "/webhooks/rest/webhook",
        json={"sender": "fr-visitor", "event": {"name": "conversation_start"}, "metadata": {"locale": "fr-FR"}},
    )
    [welcome] = await response.json()
    assert welcome["text"].startswith("Bonjour"), welcome


async def test_one_poisoned_message_does_not_hurt_concurrent_ones(client: TestClient) -> None:
    import asyncio

    async def post(sender: str, raw: bytes) -> int:
        response = await client.post("/webhooks/rest/webhook", data=raw, headers={"Content-Type": "application/json"})
        return response.status

    good = [post(f"good{i}", json.dumps({"sender": f"good{i}", "message": "hello"}).encode()) for i in range(30)]
    evil = post("evil", b'{"sender": "evil", "message": "hi \\ud800"}')
    statuses = await asyncio.gather(*good, evil)
    assert statuses == [200] * 30 + [400]
    runtime = client.app[__import__("bots.server.app", fromlist=["RUNTIME"]).RUNTIME]
    threads = await runtime.store.thread_ids()
    assert len(threads) == 30
    for thread in threads:
        assert [e.event.kind for e in await runtime.store.events(thread)][0] == "user"


async def test_deeply_nested_json_is_a_bad_request(client: TestClient) -> None:
    response = await client.post(
        "/webhooks/rest/webhook", data=b"[" * 60000, headers={"Content-Type": "application/json"}
    )
    assert response.status == 400


async def test_unknown_product_and_kids_sizes(client: TestClient) -> None:
    [unknown] = await send(client, "sh", '/buy{"sku": "NOPE"}')
    assert unknown["text"] == "Sorry, I couldn't find that product."
    await send(client, "sh", '/buy{"sku": "TR2"}')
    assert "size 43" in (await send(client, "sh", "43"))[0]["text"]
    [ask] = await send(client, "sh", '/buy{"sku": "KS1"}')  # 43 is not a kids' size: asked again
    assert ask["text"] == "Great choice: the Kids Sprint (€59). Which size (EU)?"
    assert (await send(client, "sh", "33"))[0]["text"] == "I've put the Kids Sprint in size 33 in your cart."


async def test_opting_out_or_saying_no_drops_the_pending_question(client: TestClient) -> None:
    await send(client, "oq", "/order_status")
    replies = await send(client, "oq", "stop sending me messages")
    assert [r["text"][:30] for r in replies] == ["Shall we stop sending you mess"]
    replies = await send(client, "oq", "yes")
    assert [r["text"][:30] for r in replies] == ["Done: we won't send you any mo"]  # not asked again
    assert (await send(client, "oq", "hello there"))[0]["text"] == "Hi there! How can I help you today?"
    await send(client, "oq", "/size_help")
    assert [r["text"] for r in await send(client, "oq", "no")] == [
        "No problem. Just write whenever you need something."
    ]


async def test_model_parse_answers_in_rasas_shape_with_the_language(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from aiohttp.test_utils import TestClient, TestServer

    from bots.runtime import open_runtime
    from bots.server.app import create_app
    from tests.conftest import demo_config

    async with (
        open_runtime(demo_config(tmp_path / "data")) as runtime,
        TestClient(TestServer(create_app(runtime))) as client,
    ):
        response = await client.post("/model/parse", json={"text": "wo ist meine bestellung ST-123456?"})
        assert response.status == 200
        data = await response.json()
        assert data["text"] == "wo ist meine bestellung ST-123456?"
        assert data["intent"]["name"] == "order_status" and 0 < data["intent"]["confidence"] <= 1
        assert [r["name"] for r in data["intent_ranking"]][0] == "order_status"
        assert len(data["intent_ranking"]) >= 3
        assert data["language"]["code"] == "de"
        assert {"entity": "order_number", "value": "ST-123456", "start": 24, "end": 33, "extractor": "regex"} in data[
            "entities"
        ]
        # a one-word message: the sender's thread language decides
        await client.post("/webhooks/rest/webhook", json={"sender": "ana", "message": "bonjour, où est mon colis?"})
        parsed = await (await client.post("/model/parse", json={"text": "ok", "sender": "ana"})).json()
        assert parsed["language"]["code"] == "fr"
        parsed = await (await client.post("/model/parse", json={"text": "ok", "lang_hint": "pl-PL"})).json()
        assert parsed["language"]["code"] == "pl"
        gibberish = await (await client.post("/model/parse", json={"text": "qwxz vbnm"})).json()
        assert gibberish["intent"]["name"] == "nlu_fallback"
        assert (await client.post("/model/parse", json={"txt": "x"})).status == 400
        # a button's payload means what it says, as in a conversation
        payload = await (
            await client.post("/model/parse", json={"text": '/order_status{"order_number": "ST-654321"}'})
        ).json()
        assert payload["intent"] == {"name": "order_status", "confidence": 1.0}
        assert payload["entities"][0]["value"] == "ST-654321"
        # a sender or hint that no store can hold (a lone surrogate) is refused, not a server error
        for body in (
            '{"text": "hi", "sender": "\\ud800"}',
            '{"text": "hi", "lang_hint": "\\udfff"}',
            '{"text": "hi", "sender": "' + "x" * 300 + '"}',
        ):
            refused = await client.post("/model/parse", data=body, headers={"Content-Type": "application/json"})
            assert refused.status == 400 and "sender" in (await refused.json())["error"], body


async def test_entities_fill_slots_in_the_demo(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from aiohttp.test_utils import TestClient, TestServer

    from bots.runtime import open_runtime
    from bots.server.app import create_app
    from tests.conftest import demo_config

    async with (
        open_runtime(demo_config(tmp_path / "data", server={"admin_token": "adm"})) as runtime,
        TestClient(TestServer(create_app(runtime))) as client,
    ):
        await client.post(
            "/webhooks/rest/webhook", json={"sender": "eva", "message": "do you have the trail runner in size 43?"}
        )
        thread = await runtime.store.find(__import__("bots.types", fromlist=["Identity"]).Identity("rest", "eva"))
        snapshot = await runtime.store.load(thread)
        assert snapshot is not None
        assert snapshot.state["slots"]["sku"] == "TR2" and snapshot.state["slots"]["shoe_size"] == 43


async def test_a_retried_message_id_is_processed_once_and_answered_again(client: TestClient) -> None:
    first = await send(client, "retry", "hi there", message_id="m-1")
    again = await send(client, "retry", "hi there", message_id="m-1")  # the client never saw the first answer
    assert first and again == first
    response = await client.get(
        "/api/threads", params={"channel": "rest", "user_id": "retry"}, headers={"Authorization": "Bearer s3cret"}
    )
    thread = (await response.json())["thread_id"]
    response = await client.get(f"/api/threads/{thread}", headers={"Authorization": "Bearer s3cret"})
    events = (await response.json())["events"]
    assert [e["kind"] for e in events].count("user") == 1
    other = await send(client, "retry", "hi there", message_id="m-2")  # a new id is a new message
    assert other == first
