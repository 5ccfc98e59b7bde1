"""The triggers' cheap test of whether a message may hold a phrase never says no where a phrase is found.

It spares most messages a search per keyword and cancel phrase; were it wrong, a keyword or a "never mind"
would silently stop working, so it is checked against the patterns themselves on generated texts.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bots.flow.triggers import MayHold

ALPHABET = st.sampled_from(list("abcé t-'#!?.,") + ["👋", "不", "退", "了", "ß", "đ"])
PHRASE = st.text(ALPHABET, min_size=1, max_size=8).map(str.strip).filter(bool)


def pattern(phrase: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(phrase)}(?!\w)")


@settings(max_examples=400, deadline=None)
@given(st.lists(PHRASE, min_size=1, max_size=5), st.text(ALPHABET, max_size=30))
def test_a_text_holding_a_phrase_may_hold_one(phrases: list[str], text: str) -> None:
    found = any(
        (phrase in text) if re.search(r"[\u3000-\u9fff]", phrase) else bool(pattern(phrase).search(text))
        for phrase in phrases
    )
    if found:
        assert MayHold(phrases)(text)


def test_a_text_without_any_phrase_is_told_so() -> None:
    may_hold = MayHold(["never mind", "forget it", "算了"])
    assert not may_hold("where is my order 42")
    assert not may_hold("nevermind the socks")  # whole words only: "nevermind" is not "never mind"'s "never"
    assert may_hold("oh never mind")
    assert may_hold("好吧算了")
    assert MayHold(["👋"])("anything")  # a phrase without a word character is always tried
