"""The entity extractor's cheap tests of whether a message may hold a number word, an hour or a built-in entity
(a digit, an @) never change what it finds.

Most messages have neither, so text2num's search and the hour rewrites are skipped for them; were a test
wrong, "zweiundzwanzig" or "um 10 Uhr" would silently stop being read. Each is checked against the search it
spares, run on every message (the test made to say yes), on generated texts. (Also checked once on every
MASSIVE utterance in the languages concerned, as typed, in capitals and with an hour added: no difference.)
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nlu_models.date_rewrites as date_rewrites
import nlu_models.entities as entities
import nlu_models.number_words as number_words
from nlu_models.date_rewrites import with_hours_written_out
from nlu_models.entities import EntityExtractor
from nlu_models.number_words import find_number_words

NUMBER_LANGUAGES = ("en", "de", "fr", "es", "it", "pt", "nl")
WORDS = st.sampled_from(
    [
        *(["one", "two", "twenty", "second", "hundred", "a", "and", "thousand", "million", "half", "dozen", "zero"]),
        *(["ein", "eins", "zwei", "zweiundzwanzig", "hundert", "tausend", "und", "drei", "Millionen"]),
        *(["un", "deux", "vingt", "vingt-deux", "cent", "mille", "et", "quatre-vingts"]),
        *(
            [
                "uno",
                "dos",
                "veintidós",
                "cien",
                "mil",
                "y",
                "un",
                "due",
                "ventidue",
                "um",
                "dois",
                "vinte",
                "duizend",
                "twee",
            ]
        ),
        *(
            [
                "shoes",
                "order",
                "size",
                "42",
                "5",
                "10:30",
                "at",
                "um",
                "uhr",
                "à",
                "10h",
                "la",
                "ora",
                "lúc",
                "giờ",
                "ST-123456",
                ",",
                ".",
                "-",
                "!",
                "?",
            ]
        ),
        *(["下午", "3", "点", "半", "下周", "五", "5", "月", "12", "日", "号", "吧", "明天", "上午", "10", "點"]),
    ]
)
TEXTS = st.lists(WORDS, max_size=12).map(" ".join)
ALWAYS = re.compile("")


@settings(max_examples=300, deadline=None)
@given(TEXTS, st.sampled_from(NUMBER_LANGUAGES))
def test_skipping_messages_without_a_number_word_finds_the_same_numbers(text: str, language: str) -> None:
    found = find_number_words(text, language)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(number_words, "_a_number_alone", lambda _language, _word: True)
        assert found == find_number_words(text, language)


@settings(max_examples=300, deadline=None)
@given(TEXTS, st.sampled_from((*NUMBER_LANGUAGES, "ro", "vi", "zh", "pl")))
def test_skipping_rewrites_that_cannot_match_rewrites_the_same(text: str, language: str) -> None:
    rewritten = with_hours_written_out(text, language)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(date_rewrites, "_DIGIT", ALWAYS)
        patch.setattr(date_rewrites, "_CHINESE", ALWAYS)
        assert rewritten == with_hours_written_out(text, language)


BUILT_IN_TEXTS = st.lists(
    st.one_of(WORDS, st.sampled_from(["anna@example.com", "a@b", "+49 170 1234567", "€50", "50 €", "EU 42", "１２"])),
    max_size=10,
).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(BUILT_IN_TEXTS, st.text(max_size=40)))
def test_skipping_built_ins_a_message_cannot_hold_finds_the_same_entities(text: str) -> None:
    extractor = EntityExtractor(())
    found = extractor.extract(text, "en")
    with pytest.MonkeyPatch.context() as patch:  # the same rules without their cheap test
        unchecked = tuple(entities._Rule(r.name, r.pattern, r.value, r.rank) for r in entities.BUILT_INS)
        patch.setattr(entities, "BUILT_INS", unchecked)
        assert found == extractor.extract(text, "en")


def test_the_cheap_tests_still_let_numbers_and_hours_through() -> None:
    assert [n.value for n in find_number_words("ich möchte zweiundzwanzig paar", "de")] == [22]
    assert [n.value for n in find_number_words("5 million", "en")] == [5_000_000]
    assert find_number_words("where is my order", "en") == []
    assert with_hours_written_out("morgen um 10 Uhr", "de")[0] == "morgen um 10:00"
    assert with_hours_written_out("明天下午3点吧", "zh")[0].split() == ["明天", "15:00"]
    found = EntityExtractor(()).extract("size 42, mail anna@example.com", "en")
    assert {e.entity for e in found} >= {"shoe_size", "email"}
