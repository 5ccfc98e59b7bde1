"""The engine, step by step, with NLU results given directly (the engine's input seam)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bots.flow.effects import SayResponse, SetSlot
from bots.flow.engine import ActionOutcome, Engine, Turn
from bots.flow.state import ThreadState
from bots.types import Button, Carousel, Identity, Inbound, Media, NLUResult, QuickReply, Text, Typing

WHO = Identity("test", "u1")


def nlu(
    text: str,
    intent: str | None = None,
    confidence: float = 0.9,
    language: str = "en",
    language_confidence: float = 0.9,
) -> NLUResult:
    return NLUResult(text, language, language_confidence, intent, confidence if intent else 0.0)


class Chat:
    """Drives an engine the way the pipeline does, keeping the state between turns."""

    def __init__(self, engine: Engine, action_results: dict[str, ActionOutcome] | None = None) -> None:
        self.engine = engine
        self.state: ThreadState = engine.new_state()
        self.events: list = []
        self.action_results = action_results or {}
        self.actions_called: list[str] = []
        self.now = 1000.0

    def finish(self, turn: Turn) -> list:
        while turn.action is not None:
            self.actions_called.append(turn.action.name)
            turn = self.engine.resume(
                turn, self.action_results.get(turn.action.name, ActionOutcome()), "test", self.now
            )
        self.state = turn.state
        self.events.extend(turn.events)
        return turn.outbound

    def say(self, text: str, intent: str | None = None, **kwargs: object) -> list:
        self.now += 1
        return self.finish(
            self.engine.handle(self.state, Inbound(WHO, "message", text=text), nlu(text, intent, **kwargs), self.now)
        )  # type: ignore[arg-type]

    def event(self, event_name: str, **data: object) -> list:
        self.now += 1
        return self.finish(
            self.engine.handle(self.state, Inbound(WHO, "event", event=event_name, data=dict(data)), None, self.now)
        )


def texts(messages: list) -> list[str]:
    return [
        m.text if isinstance(m, Text) else m.caption if isinstance(m, Media) else type(m).__name__ for m in messages
    ]


def test_say_in_thread_language_falls_back_to_default(engine_for: Callable[..., Engine]) -> None:
    chat = Chat(engine_for())
    assert texts(chat.say("hallo", "greet", language="de")) == ["Hallo!"]
    assert chat.state.language == "de"
    chat.say("hello", "greet", language="en")
    assert chat.state.language == "en"


def test_language_is_kept_when_nlu_is_unsure(engine_for: Callable[..., Engine]) -> None:
    chat = Chat(engine_for())
    chat.say("hallo", "greet", language="de")
    assert texts(chat.say("ok", "greet", language="en", language_confidence=0.0)) == ["Hallo!"]
    assert chat.state.language == "de"


def test_ask_validates_reprompts_and_fills(engine_for: Callable[..., Engine]) -> None:
    chat = Chat(engine_for())
    assert texts(chat.say("which size", "size_help")) == ["Which size?"]
    assert texts(chat.say("dunno")) == ["That is not a size.", "Which size?"]
    assert texts(chat.say("EU 42 please")) == ["Size 42 it is."]
    assert chat.state.slots["size"] == 42
    assert chat.state.stack == []
    slot_events = [e.data for e in chat.events if e.kind == "slot"]
    assert slot_events == [{"name": "size", "value": 42, "source": "answer"}]


def test_ask_gives_up_after_max_attempts_and_takes_the_way_out(engine_for: Callable[..., Engine]) -> None:
    chat = Chat(engine_for())
    chat.say("which size", "size_help")
    assert texts(chat.say("no idea")) == ["That is not a size.", "Which size?"]
    assert texts(chat.say("still no idea")) == ["Let me get a person.", "Size  it is."]
    assert chat.state.stack == []


def test_a_question_given_up_without_a_way_out_of_its_own_is_not_left_unanswered(
    engine_for: Callable[..., Engine],
) -> None:
    """No ``on_failure``: the flow ends, and the bot says the fallback rather than nothing (a Rasa form imported
    without one used to go silent after its third wrong answer)."""
    chat = Chat(engine_for())
    chat.say("email me", "contact")
    assert texts(chat.say("not sure")) == ["Your email?"]
    assert texts(chat.say("dunno")) == ["Your email?"]
    assert texts(chat.say("no idea at all")) == ["Sorry?"]
    assert chat.state.stack == []


def test_number_outside_range_is_rejected(engine_for: Callable[..., Engine]) -> None:
    chat = Chat(engine_for())
    chat.say("which size", "size_help")
    assert texts(chat.say("99")) == ["That is not a size.", "Which size?"]


def test_prefill_from_the_triggering_message_skips_the_question(engine_for: Callable[..., Engine]) -> None:
    chat = Chat(engine_for())
    assert texts(chat.say("email me at Ana@Example.com", "contact")) == ["Mail ana@example.com"]


def test_interruption_runs_other_flow_then_returns_to_the_question(engine_for: Callable[..., Engine]) -> None:
    chat = Chat(engine_for())
    chat.say("which size", "size_help")
    assert texts(chat.say("hello", "greet")) == ["Hello!", "Which size?"]
    statuses = [(e.data["flow"], e.data["status"]) for e in chat.events if e.kind == "flow"]
    assert ("size", "interrupted") in statuses and ("size", "resumed") in statuses
    assert texts(chat.say("41")) == ["Size 41 it is."]


def test_valid_answer_wins_over_an_intent(engine_for: Callable[..., Engine]) -> None:
    chat = Chat(engine_for())
    chat.say("which size", "size_help")
    assert texts(chat.say("42", "greet", confidence=0.95)) == ["Size 42 it is."]


def test_non_interruptible_flow_keeps_asking(engine_for: Callable[..., Engine]) -> None:
    engine = engine_for(
        {
            "strict.yml": """
        flows:
          strict:
            trigger: {payloads: [/strict]}
            interruptible: false
            steps:
              - ask: size
                prompt: ask_size
                invalid: bad_size
              - say: size_ok
    """
        }
    )
    chat = Chat(engine)
    chat.say("/strict")
    assert texts(chat.say("hello", "greet")) == ["That is not a size.", "Which size?"]


def test_cancel_keyword_leaves_the_flow(engine_for: Callable[..., Engine]) -> None:
    chat = Chat(engine_for())
    chat.say("which size", "size_help")
    assert texts(chat.say("Cancel!")) == ["Stopped."]
    assert chat.state.stack == []
    assert texts(chat.say("42")) == ["Sorry?"]  # no question is pending any more


def test_cancel_keyword_must_be_the_whole_message(engine_for: Callable[..., Engine]) -> None:
    chat = Chat(engine_for())
    chat.say("which size", "size_help")
    assert texts(chat.say("please cancel my order 42")) == ["Size 42 it is."]


def test_fallback_and_streak(engine_for: Callable[..., Engine]) -> None:
    engine = engine_for(
        {
            "settings.yml": """
        settings:
          fallback_flow: fallback
        """,
            "flows.yml": """
        flows:
          greet:
            trigger: {intents: [greet]}
            steps: [{say: hello}]
          fallback:
            steps:
              - if: "fallback_streak >= 2"
                then: [{say: human}]
                else: [{say: fallback}]
    """,
        }
    )
    chat = Chat(engine)
    assert texts(chat.say("blah")) == ["Sorry?"]
    assert texts(chat.say("blah")) == ["A person will answer."]
    chat.say("hi", "greet")
    assert texts(chat.say("blah")) == ["Sorry?"]


def test_low_confidence_intent_goes_to_fallback(engine_for: Callable[..., Engine]) -> None:
    chat = Chat(engine_for())
    assert texts(chat.say("hm", "greet", confidence=0.1)) == ["Sorry?"]


def test_buttons_quick_replies_media_carousel_typing(engine_for: Callable[..., Engine]) -> None:
    engine = engine_for(
        {
            "rich.yml": """
        flows:
          rich:
            trigger: {payloads: [/rich]}
            steps:
              - typing: 0.5
              - say: hello
                buttons:
                  - {title: {en: "Site"}, url: "{public_url}/p/{size}"}
                  - {title: {en: "Call"}, phone: "+4930123"}
                  - {title: {en: "Yes"}, payload: /greet}
                quick_replies:
                  - {title: {en: "Size"}, payload: /size}
              - video: "{public_url}/v.mp4"
                caption: {en: "Watch"}
                buttons: [{title: {en: "Shop"}, url: "https://shop.example/sale"}]
              - gif: "https://x.example/a.gif"
              - image: "https://x.example/a.png"
              - carousel:
                  - title: {en: "A"}
                    subtitle: {en: "first"}
                    image: "https://x.example/a.png"
                    buttons: [{title: {en: "Buy"}, payload: '/buy{"sku": "A"}'}]
                  - title: {en: "B"}
    """
        }
    )
    chat = Chat(engine)
    chat.state.slots["size"] = 42
    out = chat.say("/rich")
    assert out[0] == Typing(0.5)
    assert out[1] == Text(
        "Hello!",
        (
            Button("Site", "url", "https://shop.example/p/42"),
            Button("Call", "phone", "+4930123"),
            Button("Yes", "postback", "/greet"),
        ),
        (QuickReply("Size", "/size"),),
    )
    assert out[2] == Media(
        "video", "https://shop.example/v.mp4", "Watch", (Button("Shop", "url", "https://shop.example/sale"),)
    )
    assert out[3] == Media("gif", "https://x.example/a.gif")
    assert out[4] == Media("image", "https://x.example/a.png")
    assert isinstance(out[5], Carousel)
    assert [c.title for c in out[5].cards] == ["A", "B"]
    assert out[5].cards[0].buttons == (Button("Buy", "postback", '/buy{"sku": "A"}'),)


def test_set_goto_and_conditions(engine_for: Callable[..., Engine]) -> None:
    engine = engine_for(
        {
            "logic.yml": """
        flows:
          logic:
            trigger: {payloads: [/logic]}
            steps:
              - set: {size: 40, name: "Ana"}
              - id: loop
                if: "size < 42"
                then:
                  - set: {size: "=size + 1"}
                  - goto: loop
              - goto: finish
          finish:
            steps:
              - say: bye
              - say: size_ok
    """
        }
    )
    chat = Chat(engine)
    assert texts(chat.say("/logic")) == ["Bye Ana", "Size 42 it is."]


def test_a_loop_that_never_ends_is_refused_at_load(make_bot: Callable[..., object]) -> None:
    result = make_bot(
        {
            "loop.yml": """
        flows:
          loop:
            trigger: {payloads: [/loop]}
            steps:
              - id: again
                say: hello
              - goto: again
          ping:
            steps:
              - goto: pong
          pong:
            steps:
              - goto: ping
    """
        }
    )
    found = [str(p).split("/", 1)[1] for p in result.errors]  # type: ignore[attr-defined]
    assert found == [
        "loop.yml:7:15: error FLOW-E015: this goto loops forever: the steps it repeats contain no question, "
        "condition or action that could end the loop",
        "loop.yml:10:15: error FLOW-E015: this goto loops forever: the steps it repeats contain no question, "
        "condition or action that could end the loop",
    ]


def test_a_runaway_loop_is_stopped_with_one_apology(engine_for: Callable[..., Engine]) -> None:
    engine = engine_for(
        {
            "loop.yml": """
        flows:
          loop:
            trigger: {payloads: [/loop]}
            steps:
              - id: again
                say: hello
              - if: "size is None or size < 100"
                then: [{goto: again}]
    """
        }
    )
    chat = Chat(engine)
    assert texts(chat.say("/loop")) == ["Sorry, something went wrong on our side. Please try again in a moment."]
    assert any(e.kind == "error" and "goto loop" in e.data["error"] for e in chat.events)
    assert chat.state.stack == []


def test_one_message_answers_one_question(engine_for: Callable[..., Engine]) -> None:
    engine = engine_for(
        {
            "two.yml": """
        slots:
          phone: {type: phone}
          pairs: {type: number}
        flows:
          two:
            trigger: {payloads: [/two]}
            steps:
              - ask: phone
                prompt: {en: "Phone?"}
              - ask: pairs
                prompt: {en: "How many pairs?"}
              - say: {en: "{phone} {pairs}"}
    """
        }
    )
    chat = Chat(engine)
    assert texts(chat.say("/two")) == ["Phone?"]
    assert texts(chat.say("+49 30 1234567")) == ["How many pairs?"]
    assert texts(chat.say("2")) == ["+49301234567 2"]


def test_action_outcome_sets_slots_and_flow_continues(engine_for: Callable[..., Engine]) -> None:
    engine = engine_for(
        {
            "act.yml": """
        flows:
          act:
            trigger: {payloads: [/act]}
            steps:
              - action: find_size
              - say: size_ok
    """
        },
        actions=["find_size"],
    )
    chat = Chat(engine, {"find_size": ActionOutcome(effects=[SetSlot("size", 44), SayResponse("hello")])})
    assert texts(chat.say("/act")) == ["Hello!", "Size 44 it is."]
    assert chat.actions_called == ["find_size"]


def test_failed_action_takes_error_path_or_says_sorry(engine_for: Callable[..., Engine]) -> None:
    engine = engine_for(
        {
            "act.yml": """
        flows:
          guarded:
            trigger: {payloads: [/guarded]}
            steps:
              - action: broken
                on_error:
                  - say: human
                  - end: true
              - say: hello
          unguarded:
            trigger: {payloads: [/unguarded]}
            steps:
              - action: broken
              - say: hello
    """
        },
        actions=["broken"],
    )
    chat = Chat(engine, {"broken": ActionOutcome(ok=False, error="boom")})
    assert texts(chat.say("/guarded")) == ["A person will answer."]
    assert texts(chat.say("/unguarded")) == ["Sorry, something went wrong on our side. Please try again in a moment."]
    assert [e.data["ok"] for e in chat.events if e.kind == "action"] == [False, False]


def test_handoff_silences_the_bot_until_released(engine_for: Callable[..., Engine]) -> None:
    engine = engine_for(
        {
            "human.yml": """
        flows:
          human:
            trigger: {payloads: [/human]}
            steps:
              - handoff: human
    """
        }
    )
    chat = Chat(engine)
    assert texts(chat.say("/human")) == ["A person will answer."]
    assert chat.state.handoff is True
    assert chat.say("hello", "greet") == []
    assert [e.kind for e in chat.events].count("user") == 2  # still recorded
    turn = engine.release_handoff(chat.state, 2000.0, by="agent")
    chat.state = turn.state
    assert texts(chat.say("hello", "greet")) == ["Hello!"]


def test_opt_out_is_recorded_on_the_thread(engine_for: Callable[..., Engine]) -> None:
    engine = engine_for(
        {
            "opt.yml": """
        flows:
          opt:
            trigger: {payloads: [/stop_messages]}
            steps:
              - opt_out: true
              - say: bye
    """
        }
    )
    chat = Chat(engine)
    chat.say("/stop_messages")
    assert chat.state.opted_out is True
    assert [e.data for e in chat.events if e.kind == "opt_out"] == [{"opted_out": True, "flow": "opt"}]


def test_events_trigger_flows_with_conditions_and_refs(engine_for: Callable[..., Engine]) -> None:
    engine = engine_for(
        {
            "events.yml": """
        flows:
          start:
            trigger: {events: [conversation_start]}
            steps: [{say: hello}]
          viewed_twice:
            trigger:
              events:
                - name: product_viewed
                  when: "count('product_viewed', sku=event.sku) == 2"
            steps:
              - set: {name: "{event.name}"}
              - say: bye
          sale:
            trigger: {refs: [summer]}
            steps: [{say: human}]
    """
        }
    )
    chat = Chat(engine)
    assert texts(chat.event("conversation_start")) == ["Hello!"]
    assert chat.event("product_viewed", sku="A", name="Alpha") == []
    assert chat.event("product_viewed", sku="B", name="Beta") == []
    assert texts(chat.event("product_viewed", sku="A", name="Alpha")) == ["Bye Alpha"]
    assert chat.event("product_viewed", sku="A", name="Alpha") == []
    assert texts(chat.event("referral", ref="summer")) == ["A person will answer."]
    assert [e["name"] for e in chat.state.site_events].count("product_viewed") == 4


def test_payload_entities_fill_slots(engine_for: Callable[..., Engine]) -> None:
    chat = Chat(engine_for())
    assert texts(chat.say('/size{"size": 43}')) == ["Size 43 it is."]


def test_choice_answers_by_payload_or_title_in_any_language(engine_for: Callable[..., Engine]) -> None:
    engine = engine_for(
        {
            "choice.yml": """
        responses:
          small: {en: "Too small", de: "Zu klein"}
          big: {en: "Too big", de: "Zu groß"}
        slots:
          reason: {type: choice, values: [small, big]}
        flows:
          pick:
            trigger: {payloads: [/pick]}
            steps:
              - ask: reason
                always: true
                prompt: ask_size
                invalid: bad_size
                choices:
                  - {title: small, value: small}
                  - {title: big, value: big}
              - say: {en: "Reason {reason}"}
    """
        }
    )
    chat = Chat(engine)
    out = chat.say("/pick")
    assert out[0].quick_replies == (QuickReply("Too small", "small"), QuickReply("Too big", "big"))
    assert texts(chat.say("zu eng")) == ["That is not a size.", "Which size?"]
    assert texts(chat.say("zu GROSS")) == ["Reason big"]  # case and ß/ss folded, German title understood
    chat.say("/pick")
    assert texts(chat.say("small")) == ["Reason small"]


def test_engine_is_pure_input_state_is_not_modified(engine_for: Callable[..., Engine]) -> None:
    engine = engine_for()
    state = engine.new_state()
    before = state.to_json()
    turn = engine.handle(state, Inbound(WHO, "message", text="which size"), nlu("which size", "size_help"), 1.0)
    assert state.to_json() == before
    again = engine.handle(state, Inbound(WHO, "message", text="which size"), nlu("which size", "size_help"), 1.0)
    assert turn.outbound == again.outbound and turn.state.to_json() == again.state.to_json()
    assert [(e.kind, e.data) for e in turn.events] == [(e.kind, e.data) for e in again.events]


@pytest.mark.parametrize("text,expected", [("42", 42), ("EU 42.5", 42.5), ("size 41,5 pls", 41.5)])
def test_number_reading(engine_for: Callable[..., Engine], text: str, expected: float) -> None:
    chat = Chat(engine_for())
    chat.say("which size", "size_help")
    chat.say(text)
    assert chat.state.slots["size"] == expected


def test_receipts_are_logged_and_change_nothing(engine_for: Callable[..., Engine]) -> None:
    chat = Chat(engine_for())
    chat.say("hello", "greet")
    before = chat.state.to_json()
    assert chat.event("message_read", watermark=123) == []
    assert [e.kind for e in chat.events][-1] == "receipt"
    assert chat.state.site_events == [] and chat.state.last_inbound_at == before["last_inbound_at"]


def test_a_person_answering_makes_the_bot_step_back(engine_for: Callable[..., Engine]) -> None:
    chat = Chat(engine_for())
    chat.say("which size", "size_help")
    assert chat.event("agent_message", text="Hi, Anna from Stride here", by="page_inbox") == []
    assert chat.state.handoff is True and chat.state.stack == []
    assert chat.say("42") == []
    assert [e.data["text"] for e in chat.events if e.kind == "agent"] == ["Hi, Anna from Stride here"]


def test_handover_protocol_toggles_the_bot(engine_for: Callable[..., Engine]) -> None:
    chat = Chat(engine_for())
    chat.event("handover", action="taken", new_owner_app_id="263902037430900")
    assert chat.state.handoff is True and chat.say("hello", "greet") == []
    chat.event("handover", action="passed", previous_owner_app_id="263902037430900")
    assert chat.state.handoff is False and texts(chat.say("hello", "greet")) == ["Hello!"]


def test_observe_only_messages_are_recorded_without_an_answer(engine_for: Callable[..., Engine]) -> None:
    engine = engine_for()
    state = engine.new_state()
    inbound = Inbound(WHO, "message", text="hello", metadata={"observe_only": True})
    turn = engine.handle(state, inbound, nlu("hello", "greet"), 5.0)
    assert turn.outbound == [] and [e.kind for e in turn.events] == ["user", "language"]


def test_an_interruption_that_fills_the_slot_answers_the_question(engine_for: Callable[..., Engine]) -> None:
    engine = engine_for(
        {
            "fill.yml": """
        flows:
          quick_size:
            trigger: {payloads: [/quick_size]}
            steps:
              - set: {size: 44}
              - say: {en: "Set."}
    """
        }
    )
    chat = Chat(engine)
    chat.say("which size", "size_help")
    assert texts(chat.say("/quick_size")) == ["Set.", "Size 44 it is."]
    assert chat.state.stack == []


def test_notification_opt_in_tokens_and_stop(engine_for: Callable[..., Engine]) -> None:
    chat = Chat(engine_for())
    chat.event(
        "optin",
        type="notification_messages",
        notification_messages_token="tok-1",
        notification_messages_status="RESUME NOTIFICATIONS",
        token_expiry_timestamp=1900000000000,
    )
    assert chat.state.notification_token == {
        "notification_messages_token": "tok-1",
        "type": "notification_messages",
        "token_expiry_timestamp": 1900000000000,
    }
    chat.event("optin", type="notification_messages", notification_messages_status="STOP NOTIFICATIONS")
    assert chat.state.opted_out is True
    chat.event("handover", action="requested", requested_owner_app_id=123)
    assert chat.state.handoff is False


def test_ad_referrals_and_recent_site_events_are_context_in_conditions_texts_and_triggers(
    engine_for: Callable[..., Engine],
) -> None:
    engine = engine_for(
        {
            "context.yml": """
        flows:
          from_ad:
            trigger:
              events:
                - name: referral
                  when: "event.source == 'ADS'"
            steps:
              - say: {en: "You came from our ad '{recent.referral.ads_context_data.ad_title}'."}
          nudge:
            trigger: {keywords: [nudge]}
            steps:
              - if: "count('product_viewed', sku='TR2', within_hours=24) > 0 and count('purchase') == 0"
                then:
                  - say: {en: "Still thinking about the {recent.product_viewed.name}?"}
                elif:
                  - if: "hours_since('product_viewed') is not None"
                    then: [{say: {en: "You looked at shoes a while ago."}}]
                else:
                  - say: {en: "Nothing viewed."}
    """
        }
    )
    chat = Chat(engine)
    assert texts(chat.say("nudge")) == ["Nothing viewed."]
    ad = {"ad_title": "Trail season", "product_id": "TR2"}
    assert texts(chat.event("referral", ref="", source="ADS", ad_id="6045", ads_context_data=ad)) == [
        "You came from our ad 'Trail season'."
    ]
    assert chat.event("referral", ref="x", source="SHORTLINK") == []  # not from an ad: no flow
    chat.event("product_viewed", sku="TR2", name="Trail Runner 2")
    assert texts(chat.say("nudge")) == ["Still thinking about the Trail Runner 2?"]
    chat.now += 2 * 86400  # two days later the view is outside the 24-hour window
    assert texts(chat.say("nudge")) == ["You looked at shoes a while ago."]
