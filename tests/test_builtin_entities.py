"""Built-in entities in each of the demo's eleven languages: numbers in words, dates and times (relative ones
too), amounts with a currency and e-mail addresses written the way people write them, each with a normalised
value. Through the extractor with a fixed "now" (exact dates), and through the demo bot's NLU."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from bots.flow.model import Bot
from nlu_models.base import LanguageHints
from nlu_models.char_ngrams import CharNgramInterpreter
from nlu_models.days_of_month import next_day_of_month
from nlu_models.entities import EntityExtractor

SUNDAY = datetime(2026, 12, 6, 12, 0)  # "tomorrow" is 2026-12-07, "next Friday" 2026-12-11
EXTRACTOR = EntityExtractor(())


def found(text: str, language: str) -> list[tuple[str, object]]:
    return [(e.entity, e.value) for e in EXTRACTOR.extract(text, language, now=SUNDAY)]


@pytest.mark.parametrize(
    "language, text, value",
    [
        ("en", "I need two pairs", 2),
        ("en", "twenty-two", 22),
        ("de", "zwei Paar bitte", 2),
        ("de", "zweiundzwanzig", 22),
        ("fr", "vingt-deux", 22),
        ("es", "veintidós", 22),
        ("it", "ventidue", 22),
        ("pt", "vinte e dois", 22),
        ("nl", "tweeëntwintig", 22),
        ("pl", "dwadzieścia dwa", 22),
        ("pl", "poproszę dwie pary", 2),
        ("ro", "douăzeci și doi", 22),
        ("ro", "o sută cincizeci", 150),
        ("vi", "hai mươi hai", 22),
        ("vi", "một trăm linh năm", 105),
        ("zh", "二十", 20),
        ("zh", "一百二十", 120),
        # thousands and up, in the languages read from tables
        ("pl", "dwa tysiące pięćset", 2500),
        ("pl", "tysiąc", 1000),
        ("ro", "douăzeci de mii", 20000),
        ("ro", "două mii cinci sute", 2500),
        ("vi", "hai trăm năm mươi nghìn", 250000),
        ("vi", "một triệu hai trăm ngàn", 1200000),
        ("zh", "两千三百", 2300),
        ("zh", "三千五百万", 35000000),
        ("zh", "一亿五千万", 150000000),
    ],
)
def test_numbers_written_as_words(language: str, text: str, value: int) -> None:
    assert found(text, language) == [("number", value)]


@pytest.mark.parametrize(
    "language, text",
    [("en", "a dark one please"), ("fr", "un café"), ("de", "ein Paar"), ("zh", "看一下"), ("en", "size 42")],
)
def test_a_lone_article_is_no_number(language: str, text: str) -> None:
    assert ("number", 1) not in found(text, language)


def test_wan_yi_in_case_is_no_number() -> None:
    assert found("万一不合适可以退吗", "zh") == []  # 万一: "in case", not 10 001


@pytest.mark.parametrize(
    "language, text, expected",
    [
        ("en", "can it arrive tomorrow?", ("date", "2026-12-07")),
        ("en", "by next Friday please", ("date", "2026-12-11")),
        ("en", "tomorrow at 3pm", ("time", "2026-12-07T15:00")),
        ("de", "morgen um 10", ("time", "2026-12-07T10:00")),
        ("de", "morgen um 10 Uhr", ("time", "2026-12-07T10:00")),
        ("fr", "demain à 10h", ("time", "2026-12-07T10:00")),
        ("fr", "vendredi prochain", ("date", "2026-12-11")),
        ("es", "mañana a las 10", ("time", "2026-12-07T10:00")),
        ("es", "hoy", ("date", "2026-12-06")),
        ("it", "domani alle 10", ("time", "2026-12-07T10:00")),
        ("pt", "amanhã às 10", ("time", "2026-12-07T10:00")),
        ("nl", "morgen om 10 uur", ("time", "2026-12-07T10:00")),
        ("pl", "jutro o 10", ("time", "2026-12-07T10:00")),
        ("pl", "w przyszły piątek", ("date", "2026-12-11")),
        ("ro", "mâine la ora 10", ("time", "2026-12-07T10:00")),
        ("ro", "vinerea viitoare", ("date", "2026-12-11")),  # weekdays with the article
        ("ro", "joia viitoare", ("date", "2026-12-10")),
        ("ro", "lunea viitoare", ("date", "2026-12-07")),
        ("ro", "luni viitoare", ("date", "2026-12-07")),
        ("ro", "sâmbăta viitoare la ora 10", ("time", "2026-12-12T10:00")),
        ("vi", "ngày mai", ("date", "2026-12-07")),
        ("vi", "ngày mai lúc 8 giờ", ("time", "2026-12-07T08:00")),
        ("zh", "明天上午10点", ("time", "2026-12-07T10:00")),
        ("zh", "明天下午3点半", ("time", "2026-12-07T15:30")),
        ("zh", "我下周五可以收到吗", ("date", "2026-12-11")),
        ("en", "delivered 12.05.2024?", ("date", "2024-05-12")),
        ("zh", "5月12日", ("date", "2027-05-12")),  # a month and a day: not "in 12 days"
        ("zh", "我5月12号有空", ("date", "2027-05-12")),  # 号 after a month is a day, not a shoe size
        ("zh", "12月5日", ("date", "2027-12-05")),
        ("zh", "2030年5月12日", ("date", "2030-05-12")),
        ("zh", "2030-05-12", ("date", "2030-05-12")),
        ("zh", "5月12日上午10点", ("time", "2027-05-12T10:00")),
        ("zh", "下午3点吧", ("time", "2026-12-06T15:00")),  # a particle after it, no space
        ("zh", "就明天下午3点半吧", ("time", "2026-12-07T15:30")),
        ("zh", "不对，改成下午4点吧", ("time", "2026-12-06T16:00")),  # after words dateparser's search does not know
        ("es", "manana", ("date", "2026-12-07")),  # typed without its accents
        ("es", "manana a las 10", ("time", "2026-12-07T10:00")),
        ("pt", "amanha", ("date", "2026-12-07")),
        ("ro", "maine la ora 10", ("time", "2026-12-07T10:00")),
        ("vi", "ngay mai luc 8 gio", ("time", "2026-12-07T08:00")),
        ("fr", "le 3 fevrier", ("date", "2027-02-03")),
        ("en", "how much did I earn in January 2019", ("date", "2019-01-01")),  # a month: its first day, not today's
        ("de", "im März 2027", ("date", "2027-03-01")),
        ("es", "en marzo", ("date", "2027-03-01")),
        ("de", "im Mai", ("date", "2027-05-01")),  # short words, but a month's name with a word besides it
        ("en", "in jan", ("date", "2027-01-01")),
        ("en", "on tue", ("date", "2026-12-08")),
    ],
)
def test_dates_and_times_relative_ones_too(language: str, text: str, expected: tuple[str, str]) -> None:
    assert found(text, language) == [expected]


@pytest.mark.parametrize(
    "language, text, expected",
    [
        (
            "en",
            "call me back tomorrow at 10am on +49 170 1234567",
            [("time", "2026-12-07T10:00"), ("phone", "+491701234567")],
        ),
        (
            "de",
            "morgen um 10 Uhr, meine Nummer ist 0170 1234567",
            [("time", "2026-12-07T10:00"), ("phone", "01701234567")],
        ),
        ("en", "mail me at anna@example.com tomorrow", [("email", "anna@example.com"), ("date", "2026-12-07")]),
        ("en", "ST-123456 tomorrow please", [("order_number", "ST-123456"), ("date", "2026-12-07")]),
    ],
)
def test_a_day_beside_a_phone_number_an_address_or_an_order_is_still_found(
    language: str, text: str, expected: list[tuple[str, str]]
) -> None:
    """dateparser read "tomorrow at 10am on +49 170 1234567" as one day: the phone number won the overlap and the
    day and the hour were lost. Those values are never part of a date, so dates are read without them."""
    assert found(text, language) == expected


def test_a_little_in_chinese_is_no_hour() -> None:
    assert found("我一点也不喜欢", "zh") == []


def test_a_date_is_no_phone_number() -> None:
    assert found("13.05.2030", "de") == [("date", "2030-05-13")]


@pytest.mark.parametrize("day", range(7))
@pytest.mark.parametrize(
    ("language", "text"),
    [("es", "¿puede llegar mi pedido mañana?"), ("fr", "je le veux demain"), ("en", "may i have it tomorrow")],
)
def test_a_short_word_is_no_weekday_on_any_day_of_the_week(language: str, text: str, day: int) -> None:
    """Spanish "mi" (my) is dateparser's Wednesday, French "je" its Thursday: only tomorrow is meant, whatever
    today is (a rule that took short words naming a day close by failed on Mondays)."""
    now = SUNDAY + timedelta(days=day)
    tomorrow = (now + timedelta(days=1)).date().isoformat()
    assert [(e.entity, e.value) for e in EXTRACTOR.extract(text, language, now=now)] == [("date", tomorrow)]


@pytest.mark.parametrize(
    "language, text, now, expected",
    [
        # 1 to 6 alone is the afternoon, as with a day named: a time asked apart from its day ("tomorrow
        # afternoon", then "at 3") was booked for 03:00 when said in the evening
        ("en", "at 5", datetime(2026, 12, 6, 4, 0), "2026-12-06T17:00"),
        ("en", "at 5", SUNDAY, "2026-12-06T17:00"),  # at noon: this afternoon, not tomorrow morning
        ("en", "at 5:30", SUNDAY, "2026-12-06T17:30"),
        ("en", "at 5", datetime(2026, 12, 6, 18, 0), "2026-12-07T17:00"),  # in the evening: tomorrow afternoon
        ("en", "at 3", datetime(2026, 12, 6, 20, 53), "2026-12-07T15:00"),
        ("zh", "三点", datetime(2026, 12, 6, 20, 53), "2026-12-07T15:00"),
        ("de", "um halb 4", datetime(2026, 12, 6, 20, 0), "2026-12-07T15:30"),
        ("en", "at 5 in the morning", datetime(2026, 12, 6, 18, 0), "2026-12-07T05:00"),  # said: as said
        ("en", "at 03:00", datetime(2026, 12, 6, 18, 0), "2026-12-07T03:00"),  # a leading zero: as written
        # 7 to 11 alone: the morning, the next one ("a las 10:30" written at 21:00 for a call tomorrow was 22:30)
        ("en", "at 9", SUNDAY, "2026-12-07T09:00"),
        ("en", "at 9", datetime(2026, 12, 6, 22, 0), "2026-12-07T09:00"),
        ("en", "at 11", datetime(2026, 12, 6, 8, 0), "2026-12-06T11:00"),
        ("es", "a las 10:30", datetime(2026, 12, 6, 21, 0), "2026-12-07T10:30"),
        ("nl", "om half 11", datetime(2026, 12, 6, 21, 0), "2026-12-07T10:30"),
        ("de", "um 10", SUNDAY, "2026-12-07T10:00"),
        # an hour with its word for "o'clock" and no word for "at": "9 giờ sáng" was read as in 9 hours
        ("vi", "9 giờ sáng", datetime(2026, 12, 6, 21, 0), "2026-12-07T09:00"),
        ("vi", "10 giờ 30", datetime(2026, 12, 6, 21, 0), "2026-12-07T10:30"),
        ("vi", "3 giờ chiều", SUNDAY, "2026-12-06T15:00"),
        ("de", "10 uhr", SUNDAY, "2026-12-07T10:00"),
        ("de", "ruf mich morgen 10 uhr an", SUNDAY, "2026-12-07T10:00"),
        ("fr", "10h30", SUNDAY, "2026-12-07T10:30"),
        ("fr", "demain vers 15h", SUNDAY, "2026-12-07T15:00"),
        ("de", "um 10 Uhr", SUNDAY, "2026-12-07T10:00"),  # "Uhr": a 24-hour clock, as written
        ("fr", "à 10h", SUNDAY, "2026-12-07T10:00"),
        ("en", "at 5 am", SUNDAY, "2026-12-07T05:00"),  # said: as said
        # a day named: 1 to 6 is the afternoon (nobody books a call at 5 in the night), 7 to 11 the morning
        ("en", "tomorrow at 5", SUNDAY, "2026-12-07T17:00"),
        ("en", "tomorrow at 9", SUNDAY, "2026-12-07T09:00"),
        ("en", "tomorrow at 5 in the morning", SUNDAY, "2026-12-07T05:00"),
        ("de", "morgen um 4", SUNDAY, "2026-12-07T16:00"),
        ("de", "morgen um 4 Uhr", SUNDAY, "2026-12-07T04:00"),  # "Uhr": a 24-hour clock, as written
        ("es", "mañana a las 5 de la mañana", SUNDAY, "2026-12-07T05:00"),
        ("en", "at 14", SUNDAY, "2026-12-06T14:00"),
        # half and quarter past: the minutes count ("a las 10 y media" was booked for 10:00)
        ("es", "mañana a las 10 y media", SUNDAY, "2026-12-07T10:30"),
        ("es", "a las 10 y cuarto", SUNDAY, "2026-12-07T10:15"),
        ("fr", "demain à 10h et demie", SUNDAY, "2026-12-07T10:30"),
        ("it", "domani alle 10 e mezza", SUNDAY, "2026-12-07T10:30"),
        ("pt", "amanhã às 10 e meia", SUNDAY, "2026-12-07T10:30"),
        ("vi", "mai lúc 10 giờ rưỡi", SUNDAY, "2026-12-07T10:30"),
        ("en", "half past 3", SUNDAY, "2026-12-06T15:30"),
        ("en", "tomorrow at half past 3", SUNDAY, "2026-12-07T15:30"),
        ("de", "um halb 4", SUNDAY, "2026-12-06T15:30"),  # half an hour before 4
        ("nl", "morgen om half 4", SUNDAY, "2026-12-07T15:30"),
        ("en", "tomorrow at 03:00", SUNDAY, "2026-12-07T03:00"),  # a leading zero: a 24-hour clock
        ("it", "domani alle 5 del mattino", SUNDAY, "2026-12-07T05:00"),
        ("pt", "amanhã às 5 de manhã", SUNDAY, "2026-12-07T05:00"),
        ("en", "tomorrow at 5 please, early morning is best", SUNDAY, "2026-12-07T05:00"),
        ("es", "a las 10hs", SUNDAY, "2026-12-07T10:00"),
        # Chinese hours in numerals, and bare ones as above
        ("zh", "明天下午三点半", SUNDAY, "2026-12-07T15:30"),
        ("zh", "三点", SUNDAY, "2026-12-06T15:00"),
        ("zh", "明天3点", SUNDAY, "2026-12-07T15:00"),
        ("zh", "明天上午3点", SUNDAY, "2026-12-07T03:00"),
        ("zh", "上午十点", SUNDAY, "2026-12-07T10:00"),
        ("zh", "一点钟", SUNDAY, "2026-12-06T13:00"),
    ],
)
def test_a_bare_hour_is_1_to_6_pm_or_7_to_11_am(language: str, text: str, now: datetime, expected: str) -> None:
    assert [(e.entity, e.value) for e in EXTRACTOR.extract(text, language, now=now)] == [("time", expected)]


@pytest.mark.parametrize(
    "language, text",
    [
        ("en", "I want to return my shoes"),
        ("en", "may I pay by card"),  # "may" is no month here
        ("fr", "je veux retourner mes chaussures"),  # "je" is no jeudi
        ("en", "where is my order ST-123456?"),
        ("de", "egal, vergiss es"),
        ("en", "1/2 3/4"),
    ],
)
def test_ordinary_messages_have_no_date(language: str, text: str) -> None:
    assert not [name for name, _ in found(text, language) if name in ("date", "time")]


@pytest.mark.parametrize(
    "language, text, expected",
    [
        ("en", "can you call me back on the 15th?", ("date", "2026-12-15")),
        ("en", "the 6th", ("date", "2026-12-06")),  # today
        ("en", "on the 3rd at 10am", ("time", "2027-01-03T10:00")),  # passed this month: next month's, not the past
        ("en", "on the 15 please", ("date", "2026-12-15")),
        ("en", "31st", ("date", "2026-12-31")),
        ("de", "am 15.", ("date", "2026-12-15")),
        ("de", "ruft mich am 15. um 10 Uhr zurück", ("time", "2026-12-15T10:00")),  # was the day without the hour
        ("fr", "le 1er", ("date", "2027-01-01")),
        ("fr", "rappelez-moi le 15 vers 10h", ("time", "2026-12-15T10:00")),
        ("es", "el día 15 a las 10", ("time", "2026-12-15T10:00")),
        ("it", "il 15, grazie", ("date", "2026-12-15")),
        ("pt", "no dia 3 às 10", ("time", "2027-01-03T10:00")),
        ("nl", "op de 15e om 10 uur", ("time", "2026-12-15T10:00")),
        ("pl", "15-go o 10", ("time", "2026-12-15T10:00")),
        ("ro", "pe 15 la ora 10", ("time", "2026-12-15T10:00")),
        ("zh", "15号下午3点给我回电话", ("time", "2026-12-15T15:00")),
        ("zh", "15日", ("date", "2026-12-15")),  # was "in 15 days"
        ("zh", "30号下午3点", ("time", "2026-12-30T15:00")),  # 28 to 31 with a time after: a day
    ],
)
def test_a_day_of_the_month_alone_is_the_next_such_day(language: str, text: str, expected: tuple[str, str]) -> None:
    """A day said without its month is the next date with that day, today counted; dateparser read none of
    these, or a day of this month that had passed."""
    assert found(text, language) == [expected]


@pytest.mark.parametrize(
    "language, text, expected",
    [
        # an afternoon or an evening said beside an hour from 1 to 11: all of these were 08:00 or 05:00
        ("en", "tomorrow evening at 8", "2026-12-07T20:00"),
        ("de", "morgen abend um 8", "2026-12-07T20:00"),
        ("de", "um 8 Uhr abends", "2026-12-06T20:00"),
        ("es", "a las 8 de la tarde", "2026-12-06T20:00"),
        ("fr", "demain soir à 8h", "2026-12-07T20:00"),
        ("it", "domani sera alle 8", "2026-12-07T20:00"),
        ("pt", "às 8 da noite", "2026-12-06T20:00"),
        ("nl", "om 8 uur 's avonds", "2026-12-06T20:00"),
        ("pl", "jutro o 8 wieczorem", "2026-12-07T20:00"),
        ("ro", "mâine seară la ora 8", "2026-12-07T20:00"),
        ("vi", "lúc 8 giờ tối", "2026-12-06T20:00"),
        ("en", "tomorrow morning at 10", "2026-12-07T10:00"),  # a morning stays one
        # an hour in words after a word for "at": none was read
        ("en", "half past three in the afternoon", "2026-12-06T15:30"),
        ("en", "tomorrow at three", "2026-12-07T15:00"),
        ("de", "so gegen halb vier", "2026-12-06T15:30"),
        ("de", "morgen um zehn", "2026-12-07T10:00"),
        ("es", "a las cinco y media de la tarde", "2026-12-06T17:30"),
        ("it", "domani alle tre", "2026-12-07T15:00"),
        ("ro", "la ora trei", "2026-12-06T15:00"),
        ("vi", "lúc ba giờ chiều", "2026-12-06T15:00"),
    ],
)
def test_an_hour_said_with_its_part_of_the_day_or_in_words(language: str, text: str, expected: str) -> None:
    assert found(text, language) == [("time", expected)]


@pytest.mark.parametrize(
    "language, text",
    [
        ("en", "i want three pairs at once"),
        ("de", "ich habe zwei Paar bestellt, morgen kommt eins"),
        ("de", "Rückruf bitte morgen, es geht um zwei Bestellungen"),  # booked for 14:00
        ("pt", "liguem-me amanhã, é sobre as duas encomendas"),
        ("pt", "quero as duas cores"),
        ("pl", "prosiłem o dwie pary"),
        ("it", "alle due figlie"),
        ("ro", "la două săptămâni"),
        ("en", "at three days from now"),
    ],
)
def test_a_number_word_is_an_hour_only_after_a_word_for_at_and_before_what_goes_with_an_hour(
    language: str, text: str
) -> None:
    assert not [value for name, value in found(text, language) if name == "time"]


@pytest.mark.parametrize(
    "language, text, expected",
    [
        ("en", "call me back tomorrow at 10, not in the evening", "2026-12-07T10:00"),  # was 22:00
        ("de", "morgen um 9, abends kann ich nicht", "2026-12-07T09:00"),
        ("es", "mañana a las 10, por la tarde no puedo", "2026-12-07T10:00"),
        ("de", "Rückruf bitte am 15. um 7 Uhr abends", "2026-12-15T19:00"),  # "am" is no a.m.: was 07:00
        ("ro", "am nevoie de un apel mâine seară la ora 8", "2026-12-07T20:00"),
        ("vi", "chuyển sang lúc 8 giờ tối", "2026-12-06T20:00"),  # "sang" is "to" here, not "sáng"
        ("de", "am 15. um 3", "2026-12-15T15:00"),
        ("en", "tomorrow at 3 am", "2026-12-07T03:00"),
    ],
)
def test_a_part_of_the_day_counts_as_said(language: str, text: str, expected: str) -> None:
    assert found(text, language) == [("time", expected)]


@pytest.mark.parametrize(
    "now, text, expected",
    [
        (datetime(2026, 12, 31, 23, 30), "at 8pm", "2027-01-01T20:00"),  # was 2027-12-01
        (datetime(2027, 4, 30, 22, 0), "at 8 in the evening", "2027-05-01T20:00"),  # was 2027-04-01, past
        (datetime(2027, 4, 30, 10, 0), "at 8pm", "2027-04-30T20:00"),
        (datetime(2026, 12, 31, 23, 30), "December 1st at 8pm", "2027-12-01T20:00"),  # a month named: as read
    ],
)
def test_an_hour_passed_on_a_months_last_day_is_tomorrows(now: datetime, text: str, expected: str) -> None:
    assert [(e.entity, e.value) for e in EXTRACTOR.extract(text, "en", now=now)] == [("time", expected)]


def test_a_polish_day_with_its_month() -> None:
    assert found("do 20-go stycznia", "pl") == [("date", "2027-01-20")]  # was 1 January


@pytest.mark.parametrize(
    "language, text, expected",
    [
        ("en", "I'll take the 2nd pair", []),
        ("en", "call me back please, this is my 3rd attempt", []),
        ("en", "my 2nd email bounced", []),
        ("nl", "voor de 3e keer", []),
        ("de", "ich schreibe zum 3. Mal", None),
        ("de", "bis zum 30. Kilometer", None),
        ("fr", "je préfère le 2", None),  # a choice, not the 2nd
        ("it", "il 2 o il 3", None),
        ("zh", "3号线", None),  # a metro line
        ("zh", "2号款", None),  # a model
        ("fr", "je veux le 38", [("number", 38)]),
        ("fr", "le 15 euros", [("money", {"amount": 15, "currency": "EUR"})]),
        ("es", "el 15%", [("number", 15)]),
        ("ro", "in 15 minute", None),  # a duration, whatever dateparser makes of it
        ("zh", "我穿42号", [("shoe_size", 42)]),
        ("zh", "30码", [("shoe_size", 30)]),
        ("zh", "我要30号", [("shoe_size", 30)]),  # a kids' size (the Kids Sprint: 28 to 38)
        ("zh", "Kids Sprint有31号吗", [("shoe_size", 31)]),
    ],
)
def test_a_number_after_an_article_is_no_day_of_the_month(
    language: str, text: str, expected: list[tuple[str, object]] | None
) -> None:
    entities = found(text, language)
    assert not [v for name, v in entities if name == "date"]
    if expected is not None:
        assert entities == expected


def test_the_31st_in_a_month_of_30_days_is_the_next_month_with_one() -> None:
    assert next_day_of_month(31, date(2027, 4, 10)) == date(2027, 5, 31)
    assert next_day_of_month(30, date(2027, 1, 31)) == date(2027, 3, 30)  # no 30 February
    assert next_day_of_month(5, date(2026, 12, 20)) == date(2027, 1, 5)


@pytest.mark.parametrize(
    "language, text, amount, currency",
    [
        ("en", "it was $20", 20, "USD"),
        ("en", "20 dollars", 20, "USD"),
        ("de", "50 € bitte", 50, "EUR"),
        ("fr", "20 euros", 20, "EUR"),
        ("pl", "99,99 zł", 99.99, "PLN"),
        ("pl", "100 złotych", 100, "PLN"),
        ("ro", "150 lei", 150, "RON"),
        ("vi", "200.000 đồng", 200000, "VND"),
        ("zh", "50元", 50, "CNY"),
        ("zh", "50块", 50, "CNY"),
        ("en", "£12.50", 12.5, "GBP"),
        ("de", "zwanzig Euro bitte", 20, "EUR"),
        ("fr", "vingt-deux euros", 22, "EUR"),
        ("en", "twenty dollars", 20, "USD"),
        ("pl", "dwadzieścia złotych", 20, "PLN"),
        ("ro", "douăzeci lei", 20, "RON"),
        ("vi", "hai mươi đồng", 20, "VND"),
        ("zh", "二十元", 20, "CNY"),
        ("vi", "năm mươi nghìn đồng", 50000, "VND"),
        ("ro", "cincizeci de lei", 50, "RON"),  # Romanian "de" between a number and what it counts
        ("ro", "50 de lei", 50, "RON"),
        ("ro", "o mie de lei", 1000, "RON"),
        ("ro", "douăzeci de mii de lei", 20000, "RON"),
        ("pl", "dwa tysiące złotych", 2000, "PLN"),
        ("zh", "五万元", 50000, "CNY"),
        ("fr", "deux mille euros", 2000, "EUR"),
        ("de", "zweitausend Euro", 2000, "EUR"),
        ("es", "dos mil euros", 2000, "EUR"),
        ("it", "duemila euro", 2000, "EUR"),
        ("nl", "tweeduizend euro", 2000, "EUR"),
        # currency words of each language; Chinese puts no space after an amount
        ("zh", "50元的鞋", 50, "CNY"),
        ("zh", "五十块钱", 50, "CNY"),
        ("zh", "100欧元", 100, "EUR"),
        ("zh", "20美元", 20, "USD"),
        ("es", "20 dólares", 20, "USD"),
        ("it", "20 dollari", 20, "USD"),
        ("pl", "20 dolarów", 20, "USD"),
        ("pl", "100 zlotych", 100, "PLN"),
        ("ro", "20 de dolari", 20, "USD"),
        ("vi", "20 đô la", 20, "USD"),
        ("it", "20 sterline", 20, "GBP"),
        ("pt", "R$ 50", 50, "BRL"),
        ("pt", "50 reais", 50, "BRL"),
        # digits before a word for a thousand
        ("vi", "50 nghìn đồng", 50000, "VND"),
        ("ro", "20 de mii de lei", 20000, "RON"),
        ("pl", "2 tysiące złotych", 2000, "PLN"),
        ("zh", "5万元", 50000, "CNY"),
        ("fr", "50 mille deux cents euros", 50200, "EUR"),
        ("de", "50 Tausend Euro", 50000, "EUR"),
        ("es", "2 mil euros", 2000, "EUR"),
        ("it", "2 mila euro", 2000, "EUR"),
        ("nl", "2 duizend euro", 2000, "EUR"),
        ("en", "2 thousand dollars", 2000, "USD"),
    ],
)
def test_amounts_with_a_currency(language: str, text: str, amount: float, currency: str) -> None:
    assert found(text, language) == [("money", {"amount": amount, "currency": currency})]


@pytest.mark.parametrize(
    "language, text, email",
    [
        ("en", "my mail is anna(at)example.com", "anna@example.com"),
        ("en", "anna at example dot com", "anna@example.com"),
        ("en", "Anna.Lee [at] mail [dot] example [dot] org", "anna.lee@mail.example.org"),
        ("es", "anna arroba example punto com", "anna@example.com"),
        ("pt", "anna arroba example ponto pt", "anna@example.pt"),
        ("fr", "anna arobase exemple point fr", "anna@exemple.fr"),
        ("it", "anna chiocciola esempio punto it", "anna@esempio.it"),
        ("pl", "anna małpa przyklad kropka pl", "anna@przyklad.pl"),
        ("de", "anna (at) beispiel (punkt) de", "anna@beispiel.de"),
        ("nl", "anna apenstaartje voorbeeld punt nl", "anna@voorbeeld.nl"),
        ("vi", "anna a còng vidu chấm vn", "anna@vidu.vn"),
        ("ro", "anna arond exemplu punct ro", "anna@exemplu.ro"),
        ("zh", "邮箱是 anna@example.com", "anna@example.com"),
        ("zh", "我的邮箱是anna@example.com", "anna@example.com"),  # no space: the address starts at "anna"
        ("zh", "我的邮箱是anna@example.com谢谢", "anna@example.com"),
        ("zh", "邮箱是anna艾特example点com", "anna@example.com"),
        ("en", "mail: anna @ example.com", "anna@example.com"),
    ],
)
def test_email_addresses_written_the_way_people_write_them(language: str, text: str, email: str) -> None:
    assert found(text, language) == [("email", email)]


@pytest.mark.parametrize("text", ["I'm at home. Call me", "look at this", "meet me at the shop dot"])
def test_at_and_dot_in_a_sentence_are_no_address(text: str) -> None:
    assert not [name for name, _ in found(text, "en") if name == "email"]


@pytest.fixture(scope="module")
def interpreter(demo_bot: Bot) -> CharNgramInterpreter:
    return CharNgramInterpreter.for_bot(demo_bot)


@pytest.mark.parametrize(
    "text, language, days",
    [
        ("can my order arrive tomorrow?", "en", 1),
        ("kann meine Bestellung morgen ankommen?", "de", 1),
        ("¿puede llegar mi pedido mañana?", "es", 1),
        ("我的订单明天能到吗", "zh", 1),
        ("đơn hàng của tôi có thể đến vào ngày mai không?", "vi", 1),
    ],
)
def test_the_nlu_gives_relative_dates_from_today(
    interpreter: CharNgramInterpreter, text: str, language: str, days: int
) -> None:
    before = date.today()
    result = interpreter.parse_sync(text, LanguageHints(thread_language=language, channel_locale=language))
    after = date.today()  # a run across midnight may count from either day
    dates = [e.value for e in result.entities if e.entity == "date"]
    assert result.language == language
    assert dates in ([(before + timedelta(days=days)).isoformat()], [(after + timedelta(days=days)).isoformat()])


@pytest.mark.parametrize(
    "text, language, name, value",
    [
        ("je voudrais payer vingt-deux euros", "fr", "money", {"amount": 22, "currency": "EUR"}),
        ("ich hätte gern zwei Paar", "de", "number", 2),
        ("moja poczta to anna małpa przyklad kropka pl", "pl", "email", "anna@przyklad.pl"),
        ("my mail is anna(at)example.com", "en", "email", "anna@example.com"),
        ("vreau să plătesc 150 lei", "ro", "money", {"amount": 150, "currency": "RON"}),
    ],
)
def test_the_nlu_gives_normalised_values(
    interpreter: CharNgramInterpreter, text: str, language: str, name: str, value: object
) -> None:
    result = interpreter.parse_sync(text, LanguageHints(thread_language=language, channel_locale=language))
    assert (name, value) in [(e.entity, e.value) for e in result.entities], result.entities


@pytest.mark.parametrize(("language", "text"), [("fr", "dans 2h"), ("fr", "livraison en 24h")])
def test_a_duration_with_a_word_for_hours_is_no_time_of_day(language: str, text: str) -> None:
    """French "h" after an hour is o'clock ("10h30"), but after "dans" or "en" a duration."""
    assert [e.entity for e in EXTRACTOR.extract(text, language, now=SUNDAY) if e.entity == "time"] == []


@pytest.mark.parametrize(
    "language, text, expected",
    [
        ("en", "i'll take the trail runner in 43", [("shoe_size", 43)]),
        ("en", "and the city glide in 41 for my wife", [("shoe_size", 41)]),
        ("fr", "je prends les marathon pro en 44 !", [("shoe_size", 44)]),
        ("es", "me llevo las city glide en la 42", [("shoe_size", 42)]),
        ("it", "le prendo nel 42, per favore", [("shoe_size", 42)]),
        ("pt", "levo-as no 41,5", [("shoe_size", 41.5)]),
        ("pl", "poproszę w 39", [("shoe_size", 39)]),
        ("en", "can you deliver in 30 days", None),  # a duration
        ("en", "i live in 45 main street", None),  # a word follows: no size
        ("ro", "sunați-mă pe 30", None),  # the 30th, below the sizes this reads
    ],
)
def test_a_number_closing_a_sentence_after_in_is_a_shoe_size(
    language: str, text: str, expected: list[tuple[str, object]] | None
) -> None:
    """ "I'll take them in 43": a size said as customers say it, without the word "size"."""
    entities = found(text, language)
    if expected is None:
        assert not [v for name, v in entities if name == "shoe_size"]
    else:
        assert entities == expected


@pytest.mark.parametrize(
    "language, text, day_said",
    [
        ("en", "at 3pm", False),
        ("en", "call me back on christmas eve at 2pm", False),  # the day is not read: the time is alone
        ("de", "um 15 Uhr", False),
        ("fr", "à 15h", False),
        ("en", "at 11am", False),  # passed at noon: the next day's, still no day said
        ("en", "tomorrow at 3pm", True),
        ("en", "today at 3pm", True),
        ("en", "friday at 3pm", True),
        ("de", "morgen um 10 Uhr", True),
        ("en", "on the 15th at 4pm", True),
    ],
)
def test_a_time_of_day_says_whether_its_day_was_said(language: str, text: str, day_said: bool) -> None:
    """ "at 3pm" alone gets today's or tomorrow's date from dateparser: marked, so "which day?" is not answered by it
    (a call-back was booked for today unasked)."""
    (time,) = [e for e in EXTRACTOR.extract(text, language, now=SUNDAY) if e.entity == "time"]
    assert (time.additional_info is None) is day_said
    if not day_said:
        assert time.additional_info == {"day_said": False}


@pytest.mark.parametrize(
    "language, text, expected",
    [
        ("en", "15/12", "2026-12-15"),
        ("en", "12/15", "2026-12-15"),  # the American order, when only it makes a date
        ("de", "am 15.12.", "2026-12-15"),
        ("pl", "15.12", "2026-12-15"),
        ("nl", "15-12", "2026-12-15"),
        ("fr", "le 15/12", "2026-12-15"),
        ("vi", "ngày 20/12", "2026-12-20"),
        ("de", "1.5.", "2027-05-01"),
        ("fr", "15/01", "2027-01-15"),  # this year's is long past: next year's
        ("en", "05/12", "2026-12-05"),  # a few days past stays past, for the bot to refuse
        ("en", "1/2", None),  # a fraction
        ("en", "US 9.5", None),  # a size
        ("en", "10.30", None),  # a time
        ("de", "12.10", None),
        ("en", "12.50 €", None),  # a price
        ("de", "31.04", None),  # no such day
        ("en", "size 42/43", None),
    ],
)
def test_a_day_and_month_in_digits_without_a_year_is_a_date(language: str, text: str, expected: str | None) -> None:
    """ "15/12" to "which day?" was refused: dateparser takes two numbers alone for a number or a fraction."""
    dates = [e.value for e in EXTRACTOR.extract(text, language, now=datetime(2026, 12, 8, 12)) if e.entity == "date"]
    assert dates == ([expected] if expected else [])


@pytest.mark.parametrize(
    "language, text, expected",
    [
        ("en", "around 2", "14:00"),
        ("es", "sobre las 6 de la tarde", "18:00"),
        ("de", "gegen 3", "15:00"),
        ("it", "verso le 4", "16:00"),
        ("pl", "około 14", "14:00"),
        ("pt", "por volta das 3", "15:00"),
        ("ro", "pe la 5", "17:00"),
        ("en", "about 2 orders", None),  # a word follows that goes with no hour
        ("en", "i have a question about 2 pairs", None),
    ],
)
def test_an_hour_said_about_is_an_hour(language: str, text: str, expected: str | None) -> None:
    """ "around 2" to "at what time?" was "Please send a time of day"."""
    times = [e.value[-5:] for e in EXTRACTOR.extract(text, language, now=SUNDAY) if e.entity == "time"]
    assert times == ([expected] if expected else [])


@pytest.mark.parametrize(
    "language, text",
    [
        ("de", "morgen ab 13.05 Uhr"),  # a time
        ("en", "I was charged 19.10 twice"),  # a price
        ("en", "I'm reachable 24/7"),
        ("en", "10-12 working days"),
    ],
)
def test_a_pair_of_numbers_with_a_unit_or_a_time_is_no_day_and_month(language: str, text: str) -> None:
    """A review found these read as 13 May, 19 October, 24 July, 10 December."""
    assert not [e for e in EXTRACTOR.extract(text, language, now=datetime(2026, 12, 8, 12)) if e.entity == "date"]


@pytest.mark.parametrize("language, text", [("fr", "ce soir à 20h"), ("zh", "今晚8点"), ("es", "esta noche a las 8")])
def test_tonight_with_an_hour_says_its_day(language: str, text: str) -> None:
    (time,) = [e for e in EXTRACTOR.extract(text, language, now=SUNDAY) if e.entity == "time"]
    assert time.additional_info is None


@pytest.mark.parametrize("language, text", [("en", "in about 2 hours"), ("ro", "în jur de 2 ore")])
def test_about_a_number_of_hours_is_no_hour_of_the_day(language: str, text: str) -> None:
    """ "in about 2 hours" was booked for 2:00 AM."""
    times = [e.value for e in EXTRACTOR.extract(text, language, now=SUNDAY) if e.entity == "time"]
    assert "T02:00" not in " ".join(times)
