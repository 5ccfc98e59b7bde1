"""Training copies with an opener (nlu_models/openers.py): which intents lend openers, and to what."""

from __future__ import annotations

from nlu_models.openers import OpenerSplit, short_reply_intents, with_openers, words

EXAMPLES = [
    ("hi", "greet", "en"),
    ("hello there", "greet", "en"),
    ("hi, I'd love some help today please", "greet", "en"),  # long, but greet is short in the median
    ("thanks", "thanks", "en"),
    ("hallo", "greet", "de"),
    ("谢谢", "thanks", "zh"),
    *((f"where is my order number {n} right now", "order_status", "en") for n in range(60)),
    *((f"wo ist meine bestellung {n} gerade", "order_status", "de") for n in range(60)),
    *((f"我的订单{n}在哪里", "order_status", "zh") for n in range(60)),
    *((f"what is the weather like in city {n}", "out_of_scope", "en") for n in range(60)),
    ("track it", "order_status", "en"),  # too short to get an opener
]


def test_short_replies_are_the_intents_whose_examples_are_one_or_two_words() -> None:
    texts, intents, _ = zip(*EXAMPLES, strict=True)
    assert short_reply_intents(list(texts), list(intents)) == {"greet", "thanks"}
    assert [words(t) for t in ("谢谢", "我的订单在哪里", "dankeschön", "hello there 👋")] == [1, 3.5, 1, 3]


def test_longer_examples_of_other_intents_get_an_opener_of_their_own_language() -> None:
    texts, intents, languages = (list(column) for column in zip(*EXAMPLES, strict=True))
    out = with_openers(texts, intents, languages, not_openers=frozenset({"out_of_scope"}))
    assert out == with_openers(texts, intents, languages, not_openers=frozenset({"out_of_scope"}))  # reproducible
    copies = list(zip(*out, strict=True))[len(texts) :]
    openers = {"en": ("hi", "hello there", "thanks"), "de": ("hallo",), "zh": ("谢谢",)}
    by_intent = {intent for _, intent, _ in copies}
    assert by_intent == {"order_status", "out_of_scope"}  # another topic after "thanks!" is another topic
    assert {language for _, _, language in copies} == {"en", "de", "zh"}
    separators = (", ", "! ", ". ", "，", "！", "。", "")
    for text, intent, language in copies:  # an opener of its language, a separator, then one of its examples
        assert any(
            text == f"{opener}{separator}{body}"
            for opener in openers[language]
            for separator in separators
            for body, body_intent, body_language in EXAMPLES
            if (body_intent, body_language) == (intent, language)
        ), text
        assert (" " in text) == (language != "zh"), text  # Chinese copies use Chinese marks, and no space
    assert 6 <= len(copies) <= 24  # about one in twenty of the 240 long examples
    assert not any(text.endswith("track it") for text, _, _ in copies)


def test_the_request_after_an_opener_is_read_from_the_bots_own_short_replies() -> None:
    """What the intent model scores alone when it took a message for a short reply (nlu_models.openers)."""
    texts, intents, languages = (list(column) for column in zip(*EXAMPLES, strict=True))
    split = OpenerSplit(texts, intents, languages, not_openers=frozenset({"out_of_scope"}))
    assert split.short == {"greet", "thanks"} and split.split_after == {"greet", "thanks"}
    assert split.rest("thanks! where is my order now?") == "where is my order now?"
    assert split.rest("hello there, where is it") == "where is it"  # the longest opener, not "hello" alone
    assert split.rest("hi! thanks. where is my order now") == "where is my order now"  # two openers in a row
    assert split.rest("hallo, wo ist meine bestellung") == "wo ist meine bestellung"
    assert split.rest("谢谢！我的订单在哪里") == "我的订单在哪里"
    assert split.rest("thanks, all good") is None  # too short to be a request of its own (as in the copies)
    assert split.rest("thanksgiving dinner plans tonight") is None  # an opener is a whole word
    assert split.rest("where is my order, thanks") is None  # only at the start
    assert split.rest("hi") is None


def test_a_no_that_opens_a_message_is_never_left_behind() -> None:
    """What follows "no" says what is refused ("no thanks, I don't need a size chart"): not a request."""
    examples = [*EXAMPLES, ("no", "deny", "en"), ("nope", "deny", "en")]
    texts, intents, languages = (list(column) for column in zip(*examples, strict=True))
    split = OpenerSplit(texts, intents, languages, not_openers=frozenset({"out_of_scope"}))
    assert "deny" in split.short and "deny" not in split.split_after
