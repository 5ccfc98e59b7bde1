"""Entities: built-ins every shop needs and the bot's own regex and lookup entities from YAML."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bots.flow.loader import LoadResult
from nlu_models.entities import EntityExtractor


def found(extractor: EntityExtractor, text: str, language: str = "en") -> list[tuple[str, object]]:
    return [(e.entity, e.value) for e in extractor.extract(text, language)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("where is st-123456?", [("order_number", "ST-123456")]),
        ("size 42 please", [("shoe_size", 42)]),
        ("Größe 43,5", [("shoe_size", 43.5)]),
        ("taglia 39 e 2 paia", [("shoe_size", 39), ("number", 2)]),
        ("我要42码", [("shoe_size", 42)]),
        ("我穿42号", [("shoe_size", 42)]),
        ("cỡ 40", [("shoe_size", 40)]),
        ("call me on +49 30 1234567", [("phone", "+49301234567")]),
        ("my mail is Ana.B@Example.com", [("email", "ana.b@example.com")]),
        (
            "is it €129 or 99 EUR?",
            [("money", {"amount": 129, "currency": "EUR"}), ("money", {"amount": 99, "currency": "EUR"})],
        ),
        ("I want 2 pairs", [("number", 2)]),
        (
            "ST-123456 in size 44 for 159€",
            [("order_number", "ST-123456"), ("shoe_size", 44), ("money", {"amount": 159, "currency": "EUR"})],
        ),
        ("call me at 12345678", [("phone", "12345678")]),
        ("tel 030/1234567", [("phone", "0301234567")]),
        # thousands separators as each of our languages writes them
        ("$1,299.99", [("money", {"amount": 1299.99, "currency": "USD"})]),
        ("€1,000", [("money", {"amount": 1000, "currency": "EUR"})]),
        ("1.299,99 €", [("money", {"amount": 1299.99, "currency": "EUR"})]),
        ("1 000 €", [("money", {"amount": 1000, "currency": "EUR"})]),
        ("500.000 ₫", [("money", {"amount": 500000, "currency": "VND"})]),
        ("500.000đ", [("money", {"amount": 500000, "currency": "VND"})]),
        ("3.000 lei", [("money", {"amount": 3000, "currency": "RON"})]),
        ("10,000 steps and 1.5 km", [("number", 10000), ("number", 1.5)]),
        # a date is not a phone number (nor a decimal)
        ("delivered 12.05.2024?", [("date", "2024-05-12")]),
        ("on 2024-05-12", [("date", "2024-05-12")]),
        # US and UK sizes, and the system after the number
        ("size 9", [("shoe_size", 9)]),
        ("42 EU", [("shoe_size", 42)]),
        ("9.5 US", [("shoe_size", 9.5)]),
        ("42 eur", [("money", {"amount": 42, "currency": "EUR"})]),
        ("US 9 or UK 8", [("shoe_size", 9), ("shoe_size", 8)]),
        # a number after a comma or a full stop is still a number
        ("thanks,50€ is fine", [("money", {"amount": 50, "currency": "EUR"})]),
        ("好的,100元", [("money", {"amount": 100, "currency": "CNY"})]),
        ("10€,20€", [("money", {"amount": 10, "currency": "EUR"}), ("money", {"amount": 20, "currency": "EUR"})]),
        # amounts and counts that only look like sizes
        ("I paid 50 US dollars", [("number", 50)]),
        ("15 UK pounds", [("number", 15)]),
        ("shipping to 27 EU countries", [("number", 27)]),
        ("call 2 us", [("number", 2)]),
        # a leading zero is a decimal, not a thousands group
        ("0,500 kg", [("number", 0.5)]),
        ("0.999", [("number", 0.999)]),
        # dates written with slashes are not phone numbers either; phone numbers keep their prefix
        ("ordered 2024/5/12", [("date", "2024-05-12")]),
        ("1/2 3/4", [("number", 1), ("number", 2), ("number", 3), ("number", 4)]),
        ("Tel.0171 1234567", [("phone", "01711234567")]),
    ],
)
def test_built_in_entities(text: str, expected: list[tuple[str, object]]) -> None:
    assert found(EntityExtractor(()), text) == expected


def test_yaml_entities_regex_lookup_synonyms_and_languages(make_bot: Callable[..., LoadResult]) -> None:
    result = make_bot(
        {
            "entities.yml": """
        entities:
          colour:
            lookup: [red, blue, {black: [noir, schwarz, dark]}]
          coupon:
            regex: ["\\\\bSAVE(\\\\d{2})\\\\b"]
    """,
            "entities_de.yml": """
        language: de
        entities:
          colour:
            lookup: [rot, blau]
    """,
        }
    )
    assert result.bot is not None, result.problems
    extractor = EntityExtractor(result.bot.entities)
    assert found(extractor, "a dark one with code SAVE20") == [("colour", "black"), ("coupon", "20")]
    assert found(extractor, "Rot oder Schwarz?", "de") == [("colour", "rot"), ("colour", "black")]
    assert found(extractor, "rot", "en") == []  # German values only for German messages
    assert found(extractor, "size 42 in NOIR", "fr") == [("shoe_size", 42), ("colour", "black")]


def test_a_chinese_synonym_keeps_the_other_synonyms_whole_words(make_bot: Callable[..., LoadResult]) -> None:
    """Text in scripts without spaces is found anywhere, the rest only as whole words, in the same lookup."""
    result = make_bot({"entities.yml": "entities:\n  reason: {lookup: [{defective: [torn, holes, 开胶]}]}\n"})
    assert result.bot is not None, result.problems
    extractor = EntityExtractor(result.bot.entities)
    assert found(extractor, "the upper is torn", "en") == [("reason", "defective")]
    assert found(extractor, "鞋子开胶了", "zh") == [("reason", "defective")]
    assert found(extractor, "do you sell wholesale?", "en") == []
    assert found(extractor, "el retorno es gratis?", "es") == []


def test_lookups_find_words_whose_folding_changes_the_length(make_bot: Callable[..., LoadResult]) -> None:
    # "ß" folds to "ss" and "ﬁ" to "fi": the entity's span must still be where the word is in the message
    result = make_bot(
        {
            "entities.yml": """
        entities:
          sku: {lookup: [{TR2: [trail runner]}, {FL1: [flip]}]}
          alternatives: {regex: ["code (A\\\\d+)|ref (B\\\\d+)"]}
    """
        }
    )
    assert result.bot is not None, result.problems
    extractor = EntityExtractor(result.bot.entities)
    text = "Haben Sie den Trail Runner in Größe 43?"
    entities = extractor.extract(text, "de")
    assert [(e.entity, e.value) for e in entities] == [("sku", "TR2"), ("shoe_size", 43)]
    assert text[entities[0].start : entities[0].end] == "Trail Runner"
    ligature = "Straße: the ﬂip-ﬂop? no, the ﬁrst FLIP"
    flip = [e for e in extractor.extract(ligature, "en") if e.entity == "sku"]
    assert [ligature[e.start : e.end] for e in flip] == ["ﬂip", "FLIP"]  # the ligature is the word too
    decomposed = "trail runne\u0301r"  # an accent typed as its own combining character belongs to its letter
    runner = extractor.extract("the trail runner or the " + decomposed, "en")
    assert [("the trail runner or the " + decomposed)[e.start : e.end] for e in runner] == ["trail runner", decomposed]
    # a declared regex with alternatives keeps the group that matched
    assert found(extractor, "ref B12 please") == [("alternatives", "B12")]
    assert found(extractor, "code A7") == [("alternatives", "A7")]


@pytest.mark.parametrize(
    "text", ["1" * 3999 + "a", "a" * 4000, "1 " * 2000, "1." * 2000, "€" + "1," * 1999, "123 " * 1000]
)
def test_long_runs_are_read_once(text: str) -> None:
    """Every built-in starts only where a run starts: 4000 characters of digits took 1.4 s in the money
    pattern before (bench/entities_worst_case.py prints the times). Here: what such text yields."""
    entities = EntityExtractor(()).extract(text, "en")
    assert all(text[e.start : e.end] for e in entities)
    if text.startswith("1 1"):  # 2000 digits are no phone number (at most 15): 2000 numbers
        assert {(e.entity, e.value) for e in entities} == {("number", 1)} and len(entities) == 2000


def test_a_broken_entity_names_file_and_line(make_bot: Callable[..., LoadResult]) -> None:
    result = make_bot(
        {
            "entities.yml": """
        entities:
          coupon:
            regex: ["ok", "(unclosed"]
    """
        }
    )
    messages = [str(p) for p in result.errors]
    assert any("entities.yml:3:" in m and "BOT-E012" in m and "(unclosed" in m for m in messages), messages
    result = make_bot(
        {
            "entities.yml": """
        entities:
          coupon: {regex: ["ok"]}
          empty: {}
    """
        }
    )
    messages = [str(p) for p in result.errors]
    assert any("entities.yml:3:" in m and "regex patterns or lookup values" in m for m in messages), messages


@pytest.mark.parametrize(
    "language, text, expected",
    [
        ("en", "not urgent", []),
        ("en", "it's not that urgent", []),
        ("fr", "ce n'est pas urgent", []),
        ("de", "nicht so dringend", []),
        ("es", "no es urgente", []),
        ("zh", "不紧急", []),
        ("en", "it's urgent", [("priority", "high")]),
        ("en", "no, urgent", [("priority", "high")]),  # a comma ends the negation's clause
        ("de", "nein, das ist dringend", [("priority", "high")]),
        ("en", "I can't wait, urgent please", [("priority", "high")]),
    ],
)
def test_a_negated_lookup_word_is_no_value(
    make_bot: Callable[..., LoadResult], language: str, text: str, expected: list[tuple[str, str]]
) -> None:
    result = make_bot(
        {"entities.yml": "entities:\n  priority: {lookup: [{high: [urgent, dringend, urgente, 紧急]}]}\n"}
    )
    assert result.bot is not None, result.problems
    entities = EntityExtractor(result.bot.entities).extract(text, language)
    assert [(e.entity, e.value) for e in entities if e.entity == "priority"] == expected


def test_a_latin_name_written_against_chinese_is_found(make_bot: Callable[..., LoadResult]) -> None:
    """Chinese puts no space before a Latin product name ("买kids sprint"): the name is still a whole word."""
    result = make_bot({"entities.yml": "entities:\n  sku: {lookup: [{KS1: [kids sprint]}, {CG1: [glide]}]}\n"})
    assert result.bot is not None, result.problems
    extractor = EntityExtractor(result.bot.entities)
    assert found(extractor, "我要买kids sprint 34码", "zh") == [("sku", "KS1"), ("shoe_size", 34)]
    assert found(extractor, "glide多少钱", "zh") == [("sku", "CG1")]
    assert found(extractor, "the gliders are nice", "en") == []  # Latin letters around it still part words
