"""Entities: built-ins every shop needs and the bot's own regex and lookup entities from YAML."""

from __future__ import annotations

from typing import Callable

import pytest

from bots.flow.loader import LoadResult
from nlu_models.entities import EntityExtractor


def found(extractor: EntityExtractor, text: str, language: str = "en") -> list[tuple[str, object]]:
    return [(e.entity, e.value) for e in extractor.extract(text, language)]


@pytest.mark.parametrize("text, expected", [
    ("where is st-123456?", [("order_number", "ST-123456")]),
    ("size 42 please", [("shoe_size", 42)]),
    ("Größe 43,5", [("shoe_size", 43.5)]),
    ("taglia 39 e 2 paia", [("shoe_size", 39), ("number", 2)]),
    ("我要42码", [("shoe_size", 42)]),
    ("cỡ 40", [("shoe_size", 40)]),
    ("call me on +49 30 1234567", [("phone", "+49301234567")]),
    ("my mail is Ana.B@Example.com", [("email", "ana.b@example.com")]),
    ("is it €129 or 99 EUR?", [("money", {"amount": 129, "currency": "EUR"}),
                               ("money", {"amount": 99, "currency": "EUR"})]),
    ("I want 2 pairs", [("number", 2)]),
    ("ST-123456 in size 44 for 159€", [("order_number", "ST-123456"), ("shoe_size", 44),
                                         ("money", {"amount": 159, "currency": "EUR"})]),
    ("call me at 12345678", [("phone", "12345678")]),
])
def test_built_in_entities(text: str, expected: list[tuple[str, object]]) -> None:
    assert found(EntityExtractor(()), text) == expected


def test_yaml_entities_regex_lookup_synonyms_and_languages(make_bot: Callable[..., LoadResult]) -> None:
    result = make_bot({"entities.yml": """
        entities:
          colour:
            lookup: [red, blue, {black: [noir, schwarz, dark]}]
          coupon:
            regex: ["\\\\bSAVE(\\\\d{2})\\\\b"]
    """, "entities_de.yml": """
        language: de
        entities:
          colour:
            lookup: [rot, blau]
    """})
    assert result.bot is not None, result.problems
    extractor = EntityExtractor(result.bot.entities)
    assert found(extractor, "a dark one with code SAVE20") == [("colour", "black"), ("coupon", "20")]
    assert found(extractor, "Rot oder Schwarz?", "de") == [("colour", "rot"), ("colour", "black")]
    assert found(extractor, "rot", "en") == []  # German values only for German messages
    assert found(extractor, "size 42 in NOIR", "fr") == [("shoe_size", 42), ("colour", "black")]


def test_a_broken_entity_names_file_and_line(make_bot: Callable[..., LoadResult]) -> None:
    result = make_bot({"entities.yml": """
        entities:
          coupon:
            regex: ["ok", "(unclosed"]
    """})
    messages = [str(p) for p in result.errors]
    assert any("entities.yml:3:" in m and "BOT-E012" in m and "(unclosed" in m for m in messages), messages
    result = make_bot({"entities.yml": """
        entities:
          coupon: {regex: ["ok"]}
          empty: {}
    """})
    messages = [str(p) for p in result.errors]
    assert any("entities.yml:3:" in m and "regex patterns or lookup values" in m for m in messages), messages
