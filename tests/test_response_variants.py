"""Responses with more than words (Rasa's response shape): their own buttons, an image, a custom payload, a
variant per channel or under a condition; said by a step, a question or an action, and checked when loading."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bots.convtest.expect import check
from bots.convtest.observe import Observed
from bots.convtest.spec import Expect
from bots.flow.effects import SayResponse
from bots.flow.engine import ActionOutcome, Engine
from bots.flow.loader import LoadResult
from bots.types import Button, Custom, Identity, Inbound, Media, QuickReply, Text
from tests.test_engine import Chat, nlu

RICH = {
    "rich_texts.yml": """
        language: en
        responses:
          promo:
            text: "Our new trail shoe."
            buttons:
              - {title: "Show me", payload: /size_help}
              - {title: "Shop", url: "https://shop.example/trail"}
          picture:
            - text: "Here it is, {name}."
              image: "https://shop.example/img/{size}.png"
          everything:
            text: "All at once."
            custom: {card: "trail", who: "{name}"}
            image: "https://shop.example/img/all.png"
          picture_only:
            image: "https://shop.example/img/only.png"
          per_channel:
            - "Hello from anywhere."
            - text: "Hello, Messenger."
              channel: messenger
          per_size:
            - "No size yet."
            - text: "Size 42: the classic."
              if: "size == 42"
            - text: "A big size."
              if: "size is not None and size > 44"
          ask_colour:
            text: "Which colour?"
            buttons: [{title: "Red", payload: /inform}, {title: "Blue", payload: /inform}]
    """,
    "rich_flows.yml": """
        flows:
          promo:
            trigger: {keywords: {en: [promo]}}
            steps:
              - say: promo
          promo_own_buttons:
            trigger: {keywords: {en: [own buttons]}}
            steps:
              - say: promo
                buttons: [{title: {en: Later}, payload: /goodbye}]
          picture:
            trigger: {keywords: {en: [picture]}}
            steps:
              - set: {size: 42, name: Ana}
              - say: picture
          everything:
            trigger: {keywords: {en: [everything]}}
            steps:
              - set: {name: Ana}
              - say: everything
                quick_replies: [{title: hello, payload: /greet}]
          picture_only:
            trigger: {keywords: {en: [bare image]}}
            steps:
              - say: picture_only
          per_channel:
            trigger: {keywords: {en: [channel test]}}
            steps:
              - say: per_channel
          per_size:
            trigger: {keywords: {en: [size test]}}
            steps:
              - say: per_size
          size_42:
            trigger: {keywords: {en: [set 42]}}
            steps:
              - set: {size: 42}
              - say: per_size
          size_46:
            trigger: {keywords: {en: [set 46]}}
            steps:
              - set: {size: 46}
              - say: per_size
          colour:
            trigger: {keywords: {en: [colour]}}
            steps:
              - ask: name
                prompt: ask_colour
              - say: {en: "Noted."}
          by_action:
            trigger: {keywords: {en: [by action]}}
            steps:
              - action: say_promo
    """,
}


def _chat(engine_for: Callable[..., Engine], channel: str = "test", files: dict[str, str] | None = None) -> Chat:
    chat = Chat(engine_for(files or RICH, actions=["say_promo"]))
    who = Identity(channel, "u1")

    def say(text: str, intent: str | None = None) -> list:
        chat.now += 1
        inbound = Inbound(who, "message", text=text)
        return chat.finish(chat.engine.handle(chat.state, inbound, nlu(text, intent), chat.now))

    chat.say = say  # type: ignore[method-assign]
    return chat


def test_a_response_says_its_own_buttons_and_a_steps_buttons_replace_them(engine_for: Callable[..., Engine]) -> None:
    chat = _chat(engine_for)
    assert chat.say("promo") == [
        Text(
            "Our new trail shoe.",
            (Button("Show me", "postback", "/size_help"), Button("Shop", "url", "https://shop.example/trail")),
        )
    ]
    assert chat.say("own buttons") == [Text("Our new trail shoe.", (Button("Later", "postback", "/goodbye"),))]


def test_an_image_carries_the_words_and_everything_comes_in_rasas_order(engine_for: Callable[..., Engine]) -> None:
    chat = _chat(engine_for)
    assert chat.say("picture") == [Media("image", "https://shop.example/img/42.png", "Here it is, Ana.")]
    assert chat.say("everything") == [
        Text("All at once."),
        Custom({"card": "trail", "who": "Ana"}),
        Media("image", "https://shop.example/img/all.png", "", (), (QuickReply("Hello!", "/greet"),)),
    ]
    assert chat.say("bare image") == [Media("image", "https://shop.example/img/only.png", "")]


def test_a_channels_own_variant_wins_there_and_only_there(engine_for: Callable[..., Engine]) -> None:
    assert _chat(engine_for, "messenger").say("channel test") == [Text("Hello, Messenger.")]
    assert _chat(engine_for, "web").say("channel test") == [Text("Hello from anywhere.")]


def test_a_conditional_variant_wins_while_its_condition_holds(engine_for: Callable[..., Engine]) -> None:
    chat = _chat(engine_for)
    assert chat.say("size test") == [Text("No size yet.")]
    assert chat.say("set 42") == [Text("Size 42: the classic.")]
    assert chat.say("set 46") == [Text("A big size.")]


def test_a_question_shows_its_prompts_buttons(engine_for: Callable[..., Engine]) -> None:
    chat = _chat(engine_for)
    assert chat.say("colour") == [
        Text("Which colour?", (Button("Red", "postback", "/inform"), Button("Blue", "postback", "/inform")))
    ]


def test_an_action_saying_the_response_gets_its_buttons_then_its_own(engine_for: Callable[..., Engine]) -> None:
    chat = _chat(engine_for)
    extra = Button("More", "postback", "/goodbye")
    chat.action_results["say_promo"] = ActionOutcome(effects=[SayResponse("utter_promo", {}, (extra,))])
    said = chat.say("by action")
    assert said == [
        Text(
            "Our new trail shoe.",
            (
                Button("Show me", "postback", "/size_help"),
                Button("Shop", "url", "https://shop.example/trail"),
                extra,
            ),
        )
    ]


@pytest.mark.parametrize(
    ("response", "code", "message"),
    [
        ("{text: Hi, if: 'size =='}", "BOT-E006", "invalid condition 'size =='"),
        ("{text: Hi, if: 'colour == 1'}", "BOT-E009", "its condition reads unknown name 'colour'"),
        ("{text: Hi, if: 'count(\"viewed\") > 1'}", "BOT-E006", "calls count"),
        ("{text: Hi, channel: messnger}", "BOT-E010", "did you mean 'messenger'"),
        ("{text: Hi, buttons: [{title: Go}]}", "BOT-E010", "exactly one of payload or url"),
        ("{channel: web}", "BOT-E010", "needs a text, buttons, an image or a custom payload"),
    ],
)
def test_a_broken_variant_names_file_line_and_what_is_wrong(
    make_bot: Callable[..., LoadResult], response: str, code: str, message: str
) -> None:
    result = make_bot({"extra.yml": f"language: en\nresponses:\n  broken: {response}\n"}, channels=("web", "messenger"))
    found = [p for p in result.problems if p.code == code and message in p.message]
    assert found, [str(p) for p in result.problems]
    assert found[0].mark.file.endswith("extra.yml") and found[0].mark.line == 3


def test_a_response_only_for_some_channels_is_a_warning(make_bot: Callable[..., LoadResult]) -> None:
    result = make_bot({"extra.yml": "language: en\nresponses:\n  only_web: {text: Hi, channel: web}\n"})
    assert result.bot is not None
    assert any(p.code == "BOT-W006" and "only_web" in p.message for p in result.problems)


def test_conversation_tests_see_a_response_without_words_by_its_image_or_payload(
    engine_for: Callable[..., Engine],
) -> None:
    bot = engine_for(RICH, actions=["say_promo"]).bot
    picture = [Media("image", "https://shop.example/img/only.png", "")]
    assert check(Expect(response="picture_only"), Observed(replies=picture), bot) == []
    assert check(Expect(not_response="picture_only"), Observed(replies=picture), bot) == [
        "the bot should not say its response 'picture_only'"
    ]
    other = [Media("image", "https://shop.example/img/other.png", "")]
    assert check(Expect(response="picture_only"), Observed(replies=other), bot) == [
        "the bot should say its response 'picture_only' (in en)"
    ]
    assert (
        check(
            Expect(response="picture"), Observed(replies=[Media("image", "https://x/1.png", "Here it is, Ana.")]), bot
        )
        == []
    )


def test_a_channels_own_variant_comes_before_a_condition_for_any_channel(
    engine_for: Callable[..., Engine],
) -> None:
    """Rasa 3.x's order: this channel's with a condition that holds, this channel's, any channel's with a
    condition that holds, any channel's. (The docs' example: on Messenger, "Tap Get Started" wins over a
    condition for any channel.)"""
    files = {
        **RICH,
        "order.yml": """
            language: en
            responses:
              welcome:
                - "Hello!"
                - {text: "Hello! Tap Get Started.", channel: messenger}
                - {text: "Welcome back, {name}.", if: "name is not None"}
            flows:
              welcome:
                trigger: {keywords: {en: [welcome test]}}
                steps:
                  - say: welcome
              named:
                trigger: {keywords: {en: [i am ana]}}
                steps:
                  - set: {name: Ana}
                  - say: welcome
        """,
    }
    on_messenger = _chat(engine_for, "messenger", files)
    assert on_messenger.say("welcome test") == [Text("Hello! Tap Get Started.")]
    assert on_messenger.say("i am ana") == [Text("Hello! Tap Get Started.")]  # the channel's own comes first
    on_web = _chat(engine_for, "web", files)
    assert on_web.say("welcome test") == [Text("Hello!")]
    assert on_web.say("i am ana") == [Text("Welcome back, Ana.")]
