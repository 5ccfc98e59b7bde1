"""A question's choices read from what the customer types: the whole message, or a sentence around one choice.

The conversations (conversations/orders.yml) show it in the demo; here the reading itself: where the choice
is (so the rest of the message can still be weighed as an aside), whole words, accents and case, scripts
without spaces, and the cases that are no answer.
"""

from __future__ import annotations

import pytest

from bots.flow.answers import NO, Answer, coerce, fold, read_answer
from bots.flow.model import SlotDef

REASON = SlotDef("return_reason", "choice", values=("too_small", "too_big", "defective"))
TITLES = {
    fold(title): value
    for title, value in [
        ("Too small", "too_small"),
        ("Zu klein", "too_small"),
        ("太小了", "too_small"),
        ("Too big", "too_big"),
        ("Zu groß", "too_big"),
        ("Quá rộng", "too_big"),
        ("Defective", "defective"),
    ]
}


def read(text: str, *, typed: bool = True, language: str | None = None) -> Answer:
    return read_answer(text, REASON, titles=TITLES, typed=typed, language=language)


def test_a_choice_named_in_a_sentence_is_the_answer_with_where_it_stands() -> None:
    assert read("Zu klein") == Answer(True, "too_small")
    assert read("they're too small") == Answer(True, "too_small", (8, 17))
    assert read("die sind mir ZU GROSS, leider") == Answer(True, "too_big", (13, 21))  # folded: ß is ss
    assert read("giày quá rộng") == Answer(True, "too_big", (5, 13))
    assert read("giay qua rong") == Answer(True, "too_big", (5, 13))  # typed without accents
    assert read("鞋子太小了") == Answer(True, "too_small", (2, 5))
    assert read("it's   too   small") == Answer(True, "too_small", (7, 18))


def test_no_choice_two_choices_or_a_part_of_a_word_is_no_answer() -> None:
    assert read("they hurt my toes") == NO
    assert read("too small or too big, I can't tell") == NO  # which one is not guessed
    assert read("defectiveness") == NO  # whole words only
    assert read("too smallish") == NO


def test_a_value_given_as_such_is_one_of_the_choices_exactly() -> None:
    assert coerce("too_big", REASON) == Answer(True, "too_big")
    assert coerce("way too_big", REASON) == NO  # an entity's or a payload's value is not searched
    assert read('/inform{"return_reason": "super too_big"}', typed=False) == NO


def test_a_choice_after_a_negation_in_its_clause_is_not_named() -> None:
    assert read("not too small", language="en") == NO
    assert read("sie sind nicht zu klein", language="de") == NO
    assert read("no, too small", language="en") == Answer(True, "too_small", (4, 13))  # a correction: a new clause
    assert read("not too big, too small", language="en") == Answer(True, "too_small", (13, 22))
    assert read("not too small but too big", language="en") == Answer(True, "too_big", (18, 25))


def test_a_short_choice_answers_only_as_the_whole_message() -> None:
    answer = SlotDef("answer", "choice", values=("yes", "no"))
    titles = {"no": "no", "yes": "yes", "ok": "yes"}
    assert read_answer("No", answer, titles=titles) == Answer(True, "no")
    assert read_answer("no idea, what do you mean?", answer, titles=titles) == NO  # too common a word


def test_a_number_written_against_chinese_words_is_read_and_one_inside_a_latin_word_is_not() -> None:
    size = SlotDef("shoe_size", "number", min=30, max=50)
    assert read_answer("我穿43码，尺码怎么选", size) == Answer(True, 43, (2, 4))
    assert read_answer("我要42号", size).value == 42
    assert read_answer("i wear a 43, thanks", size).value == 43
    assert read_answer("abc43", size) == NO and read_answer("x.43", size) == NO


@pytest.mark.parametrize(
    "text, expected",
    [
        ("in the morning", "10:00"),
        ("at noon", "12:00"),
        ("mittags", "12:00"),
        ("por la tarde", "15:00"),
        ("上午", "10:00"),
        ("buổi tối", "19:00"),
        ("di mattina", "10:00"),
        ("not in the evening", None),
        ("morning or afternoon", None),  # two parts: no one hour
    ],
)
def test_a_part_of_the_day_alone_answers_a_time_question(text: str, expected: str | None) -> None:
    """ "in the morning" to "at what time should we call?" was refused, and the phone number then taken for a time."""
    answer = read_answer(text, SlotDef("hour", "time"))
    assert (answer.value if answer.ok else None) == expected


@pytest.mark.parametrize(
    "text",
    ["any time except the morning", "n'importe quand, ce sera parfait", "toi ranh ca ngay"],
)
def test_words_that_only_look_like_a_part_of_the_day_answer_no_time(text: str) -> None:
    """A review found "except the morning" booked at 10:00, French "sera" and unaccented Vietnamese "toi" at 19:00."""
    assert not read_answer(text, SlotDef("hour", "time")).ok


def test_a_longer_part_of_the_day_holding_a_shorter_one_is_the_longer() -> None:
    assert read_answer("plutôt l'après-midi", SlotDef("hour", "time")).value == "15:00"  # not noon ("midi")
