"""Language identification for short chat messages: restricted, deterministic, prior-aware and sticky."""

from __future__ import annotations

import pytest

from nlu_models.base import LanguageHints
from nlu_models.language import LanguageIdentifier

ALL = ("en", "zh", "nl", "fr", "de", "it", "pl", "pt", "ro", "es", "vi")


@pytest.fixture(scope="module")
def lid() -> LanguageIdentifier:
    return LanguageIdentifier(ALL, "en")


@pytest.mark.parametrize("text, language", [
    ("where is my parcel, it should have arrived yesterday", "en"),
    ("我的订单在哪里", "zh"),
    ("waar blijft mijn bestelling, ik wacht al een week", "nl"),
    ("je voudrais retourner mes chaussures, elles sont trop petites", "fr"),
    ("wo ist mein paket, es sollte gestern ankommen", "de"),
    ("vorrei restituire le scarpe perché sono troppo piccole", "it"),
    ("gdzie jest moja paczka, miała być wczoraj", "pl"),
    ("onde está a minha encomenda, já devia ter chegado", "pt"),
    ("unde este coletul meu, trebuia să ajungă ieri", "ro"),
    ("dónde está mi pedido, debería haber llegado ayer", "es"),
    ("đơn hàng của tôi đâu rồi", "vi"),
    ("wo ist mein paket", "de"),  # short, no accents
    ("quiero devolver las zapatillas", "es"),
    ("quero devolver os tenis", "pt"),
])
def test_messages_in_every_language(lid: LanguageIdentifier, text: str, language: str) -> None:
    guess = lid.identify(text, LanguageHints())
    assert guess.code == language and guess.confidence >= 0.4, guess


def test_the_same_text_always_gets_the_same_answer(lid: LanguageIdentifier) -> None:
    answers = {lid.identify("ok merci beaucoup", LanguageHints()) for _ in range(20)}
    assert len(answers) == 1


def test_only_the_bots_languages_are_candidates() -> None:
    lid = LanguageIdentifier(("en", "de"), "en")
    for text in ("je voudrais retourner mes chaussures", "dónde está mi pedido", "gdzie jest moja paczka"):
        assert lid.identify(text, LanguageHints()).code in ("en", "de")


def test_one_ambiguous_word_never_moves_a_thread(lid: LanguageIdentifier) -> None:
    for word, thread in (("ok", "de"), ("taxi", "pl"), ("merci", "de"), ("super", "en"), ("pizza", "nl"),
                         ("hola", "en"), ("ciao", "fr")):
        guess = lid.identify(word, LanguageHints(thread_language=thread))
        assert guess.code == thread, (word, guess)


def test_clear_evidence_moves_a_thread(lid: LanguageIdentifier) -> None:
    guess = lid.identify("en fait je préfère parler français, merci", LanguageHints(thread_language="de"))
    assert guess.code == "fr" and guess.confidence >= 0.6


def test_the_channel_locale_decides_what_the_text_cannot(lid: LanguageIdentifier) -> None:
    assert lid.identify("ST-123456", LanguageHints(channel_locale="pt_BR")).code == "pt"
    assert lid.identify("42", LanguageHints()).code == "en"  # the bot's default
    # a short message that could be Spanish or Portuguese goes with the browser's language
    assert lid.identify("obrigado", LanguageHints(channel_locale="pt-PT")).code == "pt"


def test_a_repeated_or_chat_word_is_no_evidence(lid: LanguageIdentifier) -> None:
    # spaCy lists "ok" as a Polish stop word and "haha" as an Italian one; every customer types them
    for text, thread in (("ok ok", "en"), ("ok ok", "fr"), ("ok okay", "de"), ("taxi taxi", "de"),
                         ("haha haha", "es"), ("ok lol", "nl")):
        assert lid.identify(text, LanguageHints(thread_language=thread)).code == thread, text
    assert lid.identify("ok ok", LanguageHints(channel_locale="fr-FR")).code == "fr"


def test_one_word_does_not_overrule_the_browsers_language(lid: LanguageIdentifier) -> None:
    for word in ("haha", "lol", "asdf", "adidas", "nike", "okay"):
        guess = lid.identify(word, LanguageHints(channel_locale="en-US"))
        assert guess.code == "en", (word, guess)
    assert lid.identify("okay", LanguageHints(channel_locale="de-DE")).code == "de"
    # a word only one language writes that way still speaks for it
    assert lid.identify("cześć", LanguageHints(channel_locale="en-US")).code == "pl"


def test_one_chinese_sign_in_another_language_is_not_chinese(lid: LanguageIdentifier) -> None:
    english = "do you have the trail runner in 42码?"
    assert lid.identify(english, LanguageHints(thread_language="en")).code == "en"
    assert lid.identify(english, LanguageHints()).code == "en"
    assert lid.identify("Trail Runner 有42码吗", LanguageHints(thread_language="en")).code == "zh"
    assert lid.identify("你好", LanguageHints(thread_language="en")).code == "zh"
    # Japanese writes Han characters too, with kana: not Chinese, and not one of ours
    assert lid.identify("注文はどこですか", LanguageHints(thread_language="de")).code == "de"
    assert lid.identify("注文はどこですか", LanguageHints(thread_language="de")).confidence == 0.0


def test_a_han_character_counts_about_as_much_as_a_word(lid: LanguageIdentifier) -> None:
    assert lid.identify("marathon pro啥价", LanguageHints()).code == "zh"  # a product name, asked in Chinese
    assert lid.identify("size 42码 or 43码 please", LanguageHints(thread_language="en")).code == "en"


def test_a_word_the_bot_knows_in_another_language_does_overrule_the_browser() -> None:
    examples = ["wo ist meine bestellung", "where is my order", "merci beaucoup", "thanks a lot"]
    lid = LanguageIdentifier(ALL, "en", examples=examples, example_languages=["de", "en", "fr", "en"])
    english_browser = LanguageHints(channel_locale="en-US")
    assert lid.identify("bestellung", english_browser).code == "de"  # a German customer on an English browser
    assert lid.identify("merci", english_browser).code == "fr"
    assert lid.identify("order", english_browser).code == "en"
    for unknown in ("haha", "nike", "asdf"):  # words the examples never use: the browser's language stands
        assert lid.identify(unknown, english_browser).code == "en", unknown
