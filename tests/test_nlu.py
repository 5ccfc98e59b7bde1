"""The char n-gram interpreter on the demo bot: intents and languages, stickiness, payloads."""

from __future__ import annotations

import pytest

from bots.flow.model import Bot
from nlu_models.base import LanguageHints
from nlu_models.char_ngrams import CharNgramInterpreter
from nlu_models.payload import parse_payload_result

NONE = LanguageHints()


@pytest.fixture(scope="module")
def interpreter(demo_bot: Bot) -> CharNgramInterpreter:
    return CharNgramInterpreter.for_bot(demo_bot)


@pytest.mark.parametrize(
    "text,intent,language",
    [
        ("where's my parcel", "order_status", "en"),
        ("can i send the shoes back", "return_item", "en"),
        ("wie lange dauert der versand nach österreich", "shipping_info", "de"),
        ("je cherche des chaussures de trail", "product_search", "fr"),
        ("quanto costano le scarpe da corsa", "price_question", "it"),
        ("valt deze schoen klein, welke maat raad je aan", "size_help", "nl"),
        ("chcę porozmawiać z konsultantem", "talk_to_human", "pl"),
        ("estou a falar com um robô ou com uma pessoa?", "bot_challenge", "pt"),
        ("nu mai vreau mesaje de la voi", "opt_out", "ro"),
        ("mil gracias por la ayuda", "thanks", "es"),
        ("跟我聊天的是机器人吧", "bot_challenge", "zh"),
        ("cho mình gặp nhân viên tư vấn", "talk_to_human", "vi"),
    ],
)
def test_understands_each_language(interpreter: CharNgramInterpreter, text: str, intent: str, language: str) -> None:
    result = interpreter.parse_sync(text, NONE)
    assert (result.intent, result.language) == (intent, language), result
    assert result.ranking[0].name == intent and len(result.ranking) == 5
    assert 0 < result.confidence <= 1 and result.language_confidence > 0


def test_gibberish_is_below_the_threshold(interpreter: CharNgramInterpreter) -> None:
    result = interpreter.parse_sync("qwxz vbnm", NONE)
    assert result.intent is None and result.as_parse_data()["intent"]["name"] == "nlu_fallback"


def test_one_ambiguous_word_does_not_switch_the_thread_language(interpreter: CharNgramInterpreter) -> None:
    for word in ("ok", "merci", "taxi", "super"):
        result = interpreter.parse_sync(word, LanguageHints(thread_language="de"))
        assert result.language == "de" and result.language_confidence == 0.0, (word, result)


def test_a_clear_sentence_does_switch(interpreter: CharNgramInterpreter) -> None:
    result = interpreter.parse_sync(
        "où est mon colis, je l'attends depuis une semaine", LanguageHints(thread_language="de")
    )
    assert result.language == "fr" and result.language_confidence >= 0.6


def test_weak_first_guess_falls_back_to_the_channel_locale_or_default(interpreter: CharNgramInterpreter) -> None:
    assert interpreter.parse_sync("ok", LanguageHints(channel_locale="pt-PT")).language == "pt"
    assert interpreter.parse_sync("ok", NONE).language == "en"


def test_only_the_bots_languages_are_candidates(demo_bot: Bot) -> None:
    german_only = CharNgramInterpreter(demo_bot.examples, ("en", "de"), "en", demo_bot.nlu_threshold)
    assert german_only.parse_sync("où est ma commande s'il vous plaît", NONE).language in ("en", "de")


def test_deterministic(demo_bot: Bot) -> None:
    first = CharNgramInterpreter(demo_bot.examples, demo_bot.languages, "en", 0.35)
    second = CharNgramInterpreter(demo_bot.examples, demo_bot.languages, "en", 0.35)
    for text in ("wo ist mein paket", "hola", "size?"):
        assert first.parse_sync(text, NONE) == second.parse_sync(text, NONE)


def test_payloads_are_intents_with_entities(demo_bot: Bot) -> None:
    result = parse_payload_result('/size_help{"shoe_size": 42}', demo_bot.intents, "de")
    assert result is not None and result.intent == "size_help" and result.confidence == 1.0
    assert [(e.entity, e.value) for e in result.entities] == [("shoe_size", 42)]
    assert result.language == "de" and result.language_confidence == 0.0
    assert parse_payload_result("/buy", demo_bot.intents, "en").intent is None  # a flow payload, not an intent
    assert parse_payload_result("/broken{json", demo_bot.intents, "en") is None
    assert parse_payload_result("hello", demo_bot.intents, "en") is None


def test_parse_data_shape(interpreter: CharNgramInterpreter) -> None:
    data = interpreter.parse_sync("hi", NONE).as_parse_data()
    assert set(data) == {"text", "intent", "intent_ranking", "entities", "language"}
    assert data["intent"]["name"] == "greet" and set(data["language"]) == {"code", "confidence"}


@pytest.mark.parametrize("text", ["😀😀😀", "👍", "أين طلبي؟", "こんにちは", "안녕하세요", "?!", "..."])
def test_text_without_known_characters_goes_to_the_fallback(interpreter: CharNgramInterpreter, text: str) -> None:
    result = interpreter.parse_sync(text, NONE)
    assert result.intent is None and result.language == "en" and result.language_confidence == 0.0, result


@pytest.mark.parametrize("text", ["ST-123456", "42", "?", "ok", "st 234567"])
def test_too_few_letters_never_pick_a_language(interpreter: CharNgramInterpreter, text: str) -> None:
    assert interpreter.parse_sync(text, NONE).language == "en"
    assert interpreter.parse_sync(text, LanguageHints(thread_language="de")).language == "de"
    assert interpreter.parse_sync(text, LanguageHints(channel_locale="pl_PL")).language == "pl"
