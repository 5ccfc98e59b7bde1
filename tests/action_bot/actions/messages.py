"""Actions that speak through the dispatcher, and one that shows what the tracker holds."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import BotUttered, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.interfaces import ActionExecutionRejection

from .gate import hold

Events = list[dict[str, Any]]


class UtterAll(Action):
    def name(self) -> str:
        return "utter_all"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        dispatcher.utter_message(text="Plain text")
        dispatcher.utter_message(
            text="Pick one",
            buttons=[
                {"title": "Yes", "payload": "/affirm"},
                {"title": "Site", "url": "https://shop.example/", "type": "web_url"},
            ],
        )
        dispatcher.utter_message(image="https://shop.example/shoe.png")
        dispatcher.utter_message(attachment={"type": "video", "payload": {"src": "https://shop.example/run.mp4"}})
        dispatcher.utter_message(
            elements=[
                {
                    "title": "Trail Runner 2",
                    "subtitle": "€129",
                    "image_url": "https://shop.example/tr2.png",
                    "buttons": [
                        {"title": "View", "url": "https://shop.example/tr2", "type": "web_url"},
                        {"title": "Buy", "payload": "/buy", "type": "postback"},
                    ],
                },
                {"title": "City Glide", "subtitle": "€99", "buttons": []},
            ]
        )
        dispatcher.utter_message(
            text="Sizes?", quick_replies=[{"content_type": "text", "title": "42", "payload": '/size{"size": 42}'}]
        )
        dispatcher.utter_message(json_message={"kind": "rating", "scale": 5})
        dispatcher.utter_message(response="greeting_for", who="Ana")
        return []


class UtterRasaKinds(Action):
    """One response of every kind Rasa's REST channel renders, as a Rasa project's actions send them."""

    def name(self) -> str:
        return "utter_rasa_kinds"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        dispatcher.utter_message(text="Hello!\n\nHow can I help?")
        dispatcher.utter_message(
            text="Our size chart",
            image="https://shop.example/chart.png",
            buttons=[{"title": "Shoes", "payload": "/product_search"}],
        )
        dispatcher.utter_message(
            attachment={"type": "file", "payload": {"src": "https://shop.example/returns.pdf", "title": "Returns"}}
        )
        dispatcher.utter_message(attachment="https://shop.example/terms.pdf")
        dispatcher.utter_message(buttons=[{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}])
        dispatcher.utter_message(json_message=[{"type": "rating"}, {"scale": 5}])  # type: ignore[arg-type]
        dispatcher.utter_message(
            elements=[
                {
                    "title": "Trail Runner 2",
                    "subtitle": "€129",
                    "image_url": "https://shop.example/tr2.png",
                    "buttons": [{"title": "Buy", "payload": "/buy", "type": "postback"}],
                },
                {"title": "City Glide"},
            ]
        )
        dispatcher.utter_message(
            text="Sizes?", quick_replies=[{"content_type": "text", "title": "42", "payload": "/size"}]
        )
        dispatcher.utter_message(text="Pay here", custom={"payment": "link"}, image="https://shop.example/card.png")
        return []


class BotUtteredEvent(Action):
    def name(self) -> str:
        return "bot_uttered"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        return [BotUttered("From an event", data={"buttons": [{"title": "Again", "payload": "/bot_uttered"}]})]


class EchoTracker(Action):
    """Sends back what rasa-sdk's Tracker and the domain show, so tests can compare them with the thread."""

    def name(self) -> str:
        return "echo_tracker"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        dispatcher.utter_message(
            json_message={
                "sender_id": tracker.sender_id,
                "slots": tracker.current_slot_values(),
                "latest_message": tracker.latest_message,
                "intent": tracker.get_intent_of_latest_message(),
                "input_channel": tracker.get_latest_input_channel(),
                "paused": tracker.is_paused(),
                "active_loop": tracker.active_loop_name,
                "event_types": [e.get("event") for e in tracker.events],
                "site_events": [e.get("name") for e in tracker.events if e.get("event") == "site_event"],
                "bot_texts": [e.get("text") for e in tracker.events if e.get("event") == "bot"],
                "domain": {
                    "intents": domain.get("intents"),
                    "slots": sorted(domain.get("slots", {})),
                    "responses": sorted(domain.get("responses", {})),
                    "actions": domain.get("actions"),
                    "forms": domain.get("forms"),
                    "hello": domain.get("responses", {}).get("hello"),
                },
            }
        )
        return []


class Slow(Action):
    def name(self) -> str:
        return "slow"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        await asyncio.Event().wait()  # never returns: only the caller's timeout ends the turn
        return [SlotSet("color", "never")]


class SlowSync(Action):
    """A plain ``def run`` that blocks: it must not hold up other conversations."""

    def name(self) -> str:
        return "slow_sync"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        hold(tracker)
        return [SlotSet("color", "slow")]


class Crash(Action):
    def name(self) -> str:
        return "crash"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        raise ValueError("the order system is down")


class Reject(Action):
    def name(self) -> str:
        return "reject"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        raise ActionExecutionRejection("reject", "not now")


class Count(Action):
    """Increments a per-thread counter after a random pause: turns of one thread must not overlap."""

    def name(self) -> str:
        return "count"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        current = int(tracker.get_slot("counter") or 0)
        await asyncio.sleep(random.uniform(0, 0.02))
        dispatcher.utter_message(text=f"{tracker.latest_message.get('text')} -> {current + 1}")
        return [SlotSet("counter", current + 1)]


class UtterOffer(Action):
    """A response of the domain by name, with a button of the action's own after the response's."""

    def name(self) -> str:
        return "utter_offer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        dispatcher.utter_message(response="utter_offer", buttons=[{"title": "More", "payload": "/more"}])
        return []


class UtterOfferOwnWords(Action):
    """A response of the domain by name with the action's own text and image, which replace the response's."""

    def name(self) -> str:
        return "utter_offer_own_words"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        dispatcher.utter_message(response="utter_offer", text="Other shoes?", image="https://shop.example/other.png")
        return []
