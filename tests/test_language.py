"""Language identification for short chat messages: restricted, deterministic, prior-aware and sticky."""

from __future__ import annotations

import pickle

import pytest

from bots.flow.model import Bot
from nlu_models.base import LanguageHints
from nlu_models.char_ngrams import CharNgramInterpreter
from nlu_models.language import FIRST_CONFIDENCE, LanguageGuess, LanguageIdentifier

ALL = ("en", "zh", "nl", "fr", "de", "it", "pl", "pt", "ro", "es", "vi")


@pytest.fixture(scope="module")
def lid() -> LanguageIdentifier:
    return LanguageIdentifier(ALL, "en")


@pytest.mark.parametrize(
    "text, language",
    [
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
    ],
)
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
    for word, thread in (
        ("ok", "de"),
        ("taxi", "pl"),
        ("merci", "de"),
        ("super", "en"),
        ("pizza", "nl"),
        ("hola", "en"),
        ("ciao", "fr"),
    ):
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
    for text, thread in (
        ("ok ok", "en"),
        ("ok ok", "fr"),
        ("ok okay", "de"),
        ("taxi taxi", "de"),
        ("haha haha", "es"),
        ("ok lol", "nl"),
    ):
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


def test_chinese_with_latin_product_names_is_chinese(lid: LanguageIdentifier) -> None:
    assert lid.identify("marathon pro啥价", LanguageHints()).code == "zh"
    assert lid.identify("nike air max 90 有吗", LanguageHints(thread_language="en")).code == "zh"
    assert lid.identify("vans old skool 有吗", LanguageHints(channel_locale="zh-CN")).code == "zh"
    assert lid.identify("迈克尔・乔丹的鞋有吗", LanguageHints()).code == "zh"  # ・ in a name is not Japanese kana


def test_a_repeated_word_is_one_word_and_chat_words_alone_pick_nothing(lid: LanguageIdentifier) -> None:
    assert lid.identify("gracias gracias", LanguageHints(thread_language="en")).code == "en"
    guess = lid.identify("ok ok haha", LanguageHints())
    assert guess.code == "en" and guess.confidence == 0.0  # the bot's default, and no claim to know


def test_a_word_both_languages_use_is_no_evidence_against_the_browser() -> None:
    lid = LanguageIdentifier(ALL, "en", examples=["hallo freunde", "hallo friends"], example_languages=["de", "en"])
    assert lid.identify("hallo", LanguageHints(channel_locale="en-US")).code == "en"
    assert lid.identify("freunde", LanguageHints(channel_locale="en-US")).code == "de"


def test_a_first_word_alone_without_a_browser_language_follows_the_bots_own_examples() -> None:
    """No hint at all (the REST channel, a thread's first message): "stop", which the bot's texts use in five
    languages, is no language's (spaCy lists it as a French stop word), so the default; "cancel", which only the
    English examples use, is English, whatever its letters suggest; "ciao", a greeting, stays Italian."""
    texts = {
        "en": ["stop messages", "cancel my order", "ciao for now"],
        "fr": ["stop les notifications"],
        "it": ["stop alle notifiche", "ciao a tutti"],
        "nl": ["stop met berichten"],
        "pl": ["stop wiadomości", "ciao wszystkim"],
        "es": ["ciao amigos"],
        "de": ["ciao zusammen"],
        "ro": ["ciao tuturor"],
    }
    examples = [(text, language) for language, found in texts.items() for text in found]
    lid = LanguageIdentifier(
        ALL, "en", examples=[t for t, _ in examples], example_languages=[language for _, language in examples]
    )
    bare = LanguageIdentifier(ALL, "en")
    assert bare.identify("stop", LanguageHints()).code == "fr"  # what spaCy's lists alone say
    assert lid.identify("stop", LanguageHints()) == LanguageGuess("en", 0.0)
    assert lid.identify("cancel", LanguageHints()) == LanguageGuess("en", 0.0)
    assert lid.identify("ciao", LanguageHints()).code == "it"
    assert lid.identify("stop", LanguageHints(channel_locale="it-IT")).code == "it"  # a browser's language decides


def test_a_long_word_the_bots_own_language_model_places_overrules_the_browser(demo_bot: Bot) -> None:
    """A general character model alone is not sure enough of one foreign word against the browser, so only
    the bot's own language model, trained on its examples, is sure enough about one long word."""
    interpreter = CharNgramInterpreter.for_bot(demo_bot)
    english_browser = LanguageHints(channel_locale="en-US")
    for word, language in (
        ("rückerstattung", "de"),
        ("paiement", "fr"),
        ("factură", "ro"),
        ("adidas", "en"),
        ("asdf", "en"),
        ("haha", "en"),
    ):
        assert interpreter.parse_sync(word, english_browser).language == language, word
    bare = LanguageIdentifier(ALL, "en")
    assert bare.identify("rückerstattung", english_browser).code == "en"


GREETINGS = [
    ("moin 👋", {"de"}),
    ("buonasera 👋", {"it"}),
    ("salve!", {"it", "pt"}),  # Italian and Portuguese, never Romanian
    ("hallo", {"de", "nl"}),
    ("cześć", {"pl"}),
    ("czesc", {"pl"}),
    ("xin chào", {"vi"}),
    ("xin chao", {"vi"}),
    ("olá", {"pt"}),
    ("hola", {"es"}),
    ("bonjour", {"fr"}),
    ("你好", {"zh"}),
    ("hoi", {"nl"}),  # also Vietnamese "hỏi" without its accent
    ("bună", {"ro"}),
    ("buna ziua", {"ro"}),
    ("grazie", {"it"}),
    ("obrigado", {"pt"}),
    ("dziekuje", {"pl"}),
    ("multumesc", {"ro"}),
    ("hello", {"en"}),
]


@pytest.mark.parametrize("text, languages", GREETINGS)
def test_a_greeting_or_thanks_alone_names_its_language(lid: LanguageIdentifier, text: str, languages: set[str]) -> None:
    guess = lid.identify(text, LanguageHints())
    assert guess.code in languages and guess.confidence > 0, guess


@pytest.mark.parametrize("text, languages", [g for g in GREETINGS if "en" not in g[1]])
def test_a_first_greeting_overrules_the_browsers_language(
    lid: LanguageIdentifier, text: str, languages: set[str]
) -> None:
    """A customer whose browser is English and who opens with "moin" writes German."""
    assert lid.identify(text, LanguageHints(channel_locale="en-US")).code in languages


def test_a_greeting_does_not_move_a_thread(lid: LanguageIdentifier) -> None:
    for text in ("moin 👋", "hola", "salve!", "merci"):
        assert lid.identify(text, LanguageHints(thread_language="en")).code == "en", text


@pytest.mark.parametrize(
    "text, language",
    [
        ("e muon doi tra giay bi chat qua", "vi"),
        ("don hang cua minh den dau roi", "vi"),
        ("shop oi con size 42 khong", "vi"),
        ("chce zwrocic buty bo sa za male", "pl"),
        ("gdzie jest moja paczka", "pl"),
        ("vreau sa returnez pantofii", "ro"),
        ("nu am primit coletul inca", "ro"),
        ("onde esta a minha encomenda", "pt"),
        ("nao recebi a encomenda", "pt"),
        ("je voudrais etre rembourse", "fr"),
        ("ou est ma commande", "fr"),
        ("ich mochte die schuhe zuruckgeben", "de"),
        ("welche grosse soll ich nehmen", "de"),
        ("donde esta mi pedido", "es"),
        ("quiero devolver las zapatillas, me quedan pequenas", "es"),
    ],
)
def test_text_without_accents(lid: LanguageIdentifier, text: str, language: str) -> None:
    guess = lid.identify(text, LanguageHints())
    assert guess.code == language and guess.confidence >= 0.6, guess


@pytest.mark.parametrize(
    "text, language",
    [
        ("do you have the nike air max 90 in 42?", "en"),
        ("avete le adidas ultraboost nel 42?", "it"),
        ("avez-vous les adidas ultraboost en 42", "fr"),
        ("czy macie adidas superstar w rozmiarze 42", "pl"),
        ("tem o adidas ultraboost no 42", "pt"),
        ("co giay nike air max 90 size 42 khong", "vi"),
        ("hebben jullie de asics gel kayano in maat 44", "nl"),
    ],
)
def test_product_names_in_another_language_do_not_decide(lid: LanguageIdentifier, text: str, language: str) -> None:
    assert lid.identify(text, LanguageHints()).code == language
    assert lid.identify(text, LanguageHints(thread_language=language)).code == language


def test_a_saved_identifier_leaves_the_shipped_table_out_and_answers_the_same(lid: LanguageIdentifier) -> None:
    lid.identify("e muon doi tra giay bi chat qua", LanguageHints())  # fills its word cache
    saved = pickle.dumps(lid)
    assert len(saved) < 200_000  # the table (0.9 MB compressed) is read from the package
    loaded = pickle.loads(saved)
    for text, _ in GREETINGS:
        assert loaded.identify(text, LanguageHints()) == lid.identify(text, LanguageHints())


ADDRESSES = [
    "oma(at)example.de",
    "anna.kowalski@example.com",
    "john dot smith at example dot com",
    "https://www.example.com/orders/ST-123456",
]


@pytest.mark.parametrize("text", ADDRESSES)
def test_an_address_is_no_evidence_of_a_language(demo_bot: Bot, text: str) -> None:
    """An e-mail or web address answering a question keeps the thread's language: "oma(at)example.de" in a
    German thread was answered in Romanian. Its names and domains are in no language."""
    interpreter = CharNgramInterpreter.for_bot(demo_bot)
    for language in ("de", "fr", "en"):
        assert interpreter.parse_sync(text, LanguageHints(thread_language=language)).language == language, language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("carta regalo 40 euro", "it"),
        ("carte cadeau", "fr"),
        ("carte cadeau de 20 euros", "fr"),
        ("tarjeta regalo de 30 euros", "es"),
    ],
)
def test_a_trigger_phrase_inside_a_first_message_names_its_language(demo_bot: Bot, text: str, language: str) -> None:
    """A flow's trigger phrase of two words or more in a message speaks for its language: "carta regalo 40 euro"
    was answered in Portuguese and "carte cadeau" in Romanian ("carte" is a Romanian word too; the character
    model reads "cadeau" as Romanian as well, so the phrase must outweigh two words' letters)."""
    interpreter = CharNgramInterpreter.for_bot(demo_bot)
    assert interpreter.parse_sync(text, LanguageHints()).language == language


def test_a_first_message_that_is_a_keyword_of_one_language_sets_the_thread(demo_bot: Bot) -> None:
    """ "cadeaubon" (a Dutch keyword of the gift card) as a first message was answered in English: its letters
    read French and Romanian, and a guess of one word set no thread language."""
    interpreter = CharNgramInterpreter.for_bot(demo_bot)
    guess = interpreter.language_id.identify("cadeaubon", LanguageHints())
    assert guess.code == "nl"
    assert guess.confidence >= FIRST_CONFIDENCE
    assert interpreter.language_id.identify("cadeaubon", LanguageHints(thread_language="de")).code == "de"


@pytest.mark.parametrize(
    ("text", "locale", "language"),
    [
        ("good bye", "en-US", "en"),  # an example of another language's: not a keyword, and a locale to go by
        ("agent", "fr-FR", "fr"),
        ("hello !", "en-GB", "en"),
        ("byebye", "en-US", "en"),
        ("una gift card", "es-ES", "es"),  # another language's keyword inside, against the browser's language
    ],
)
def test_a_first_message_keeps_the_browsers_language_against_a_keyword_or_example(
    demo_bot: Bot, text: str, locale: str, language: str
) -> None:
    interpreter = CharNgramInterpreter.for_bot(demo_bot)
    assert interpreter.language_id.identify(text, LanguageHints(channel_locale=locale)).code == language
