"""The REST channel answers exactly what Rasa 3.x's REST channel would, for every kind of response.

Each expected list is what Rasa's ``CollectingOutputChannel`` collects for the
same responses (rasa/core/channels/channel.py): the text with its buttons, the
custom payload, the image, the attachment, the elements, in that order; text
without buttons split on blank lines; values as the action gave them. Actions
run in process and on a real ``python -m rasa_sdk`` server (the ``chat`` fixture).
"""

# ruff: noqa: F811 - the action tests' fixtures (chat, action_server) are imported, then named as arguments
from __future__ import annotations

from tests.test_actions import Chat, action_server, chat  # noqa: F401 (fixtures)

RASA_KINDS = [
    {"text": "Hello!"},
    {"text": "How can I help?"},
    {"text": "Our size chart", "buttons": [{"title": "Shoes", "payload": "/product_search"}]},
    {"image": "https://shop.example/chart.png"},
    {"attachment": {"type": "file", "payload": {"src": "https://shop.example/returns.pdf", "title": "Returns"}}},
    {"attachment": "https://shop.example/terms.pdf"},
    {"buttons": [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]},
    {"custom": [{"type": "rating"}, {"scale": 5}]},
    {"text": "Trail Runner 2 : €129", "buttons": [{"title": "Buy", "payload": "/buy", "type": "postback"}]},
    {"text": "City Glide : ", "buttons": []},
    {"text": "Sizes?", "buttons": [{"content_type": "text", "title": "42", "payload": "/size"}]},
    {"text": "Pay here"},
    {"custom": {"payment": "link"}},
    {"image": "https://shop.example/card.png"},
]


async def test_every_kind_of_response_reads_as_rasa_sends_it(chat: Chat) -> None:
    assert await chat.say("rk", "/utter_rasa_kinds") == [{"recipient_id": "rk", **item} for item in RASA_KINDS]


async def test_the_requests_input_channel_is_the_one_actions_see(chat: Chat) -> None:
    """Rasa records ``input_channel`` (default "rest") on the user's message; the thread stays a REST one."""
    response = await chat.client.post(
        "/webhooks/rest/webhook",
        json={"sender": "ic", "message": "show me the tracker", "input_channel": "website", "metadata": {"page": "/"}},
    )
    [reply] = await response.json()
    assert reply["custom"]["input_channel"] == "website"
    assert reply["custom"]["latest_message"]["metadata"] == {"page": "/"}  # not mixed into the metadata
    [reply] = await chat.say("ic", "show me the tracker")
    assert reply["custom"]["input_channel"] == "rest"
    assert await chat.thread("ic")


async def test_an_input_channel_that_is_not_a_name_is_a_clear_400(chat: Chat) -> None:
    for bad in (5, "x" * 65, ["web"]):
        response = await chat.client.post(
            "/webhooks/rest/webhook", json={"sender": "ic2", "message": "hi", "input_channel": bad}
        )
        assert response.status == 400
        assert await response.json() == {"error": "'input_channel' must be a string of at most 64 characters"}


OFFER = [
    {
        "text": "Trail shoes?",
        "buttons": [
            {"title": "Yes", "payload": "/affirm"},
            {"title": "Shop", "url": "https://shop.example/trail", "type": "web_url"},
        ],
    },
    {"custom": {"rating": 5}},
    {"image": "https://shop.example/trail.png"},
]


async def test_a_response_with_its_own_buttons_image_and_payload_reads_as_rasa_sends_it(chat: Chat) -> None:
    """Said by a flow: the words with the response's buttons, its custom payload, its image; on REST, the REST
    variant. Said by an action: the same, with the action's own button after the response's."""
    said = await chat.say("of", "/say_offer")
    assert said == [{"recipient_id": "of", **item} for item in [*OFFER, {"text": "Hello, REST."}]]
    by_action = [{**OFFER[0], "buttons": [*OFFER[0]["buttons"], {"title": "More", "payload": "/more"}]}, *OFFER[1:]]
    assert await chat.say("of", "/utter_offer") == [{"recipient_id": "of", **item} for item in by_action]


async def test_an_actions_own_text_and_image_replace_the_responses(chat: Chat) -> None:
    """Rasa fills the response, then lays the action's non-empty text, image and custom payload over it."""
    expected = [
        {"text": "Other shoes?", "buttons": OFFER[0]["buttons"]},
        OFFER[1],
        {"image": "https://shop.example/other.png"},
    ]
    assert await chat.say("ow", "/utter_offer_own_words") == [{"recipient_id": "ow", **item} for item in expected]
