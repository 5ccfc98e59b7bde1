"""Greetings, thanks and farewells: the one-word messages that open and close chats, which spaCy's stop-word
lists do not have and a character model cannot place from four letters ("moin", "salve", "hoi").

Each word is listed for every one of our languages whose speakers write it, with and without accents
("cześć" and "czesc"), so a shared word ("hallo": German and Dutch; "salve": Italian and Portuguese;
"salut": French and Romanian) is evidence for those languages only, and the character model settles the rest.
"""

from __future__ import annotations


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


CHAT_WORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "hi hello hey hiya howdy thanks thank thx ty cheers bye goodbye morning evening afternoon yes yeah yep"
        " nope please pls"
    ),
    "de": _words(
        "hallo moin moinsen servus tach grüß gruss grüss gruezi grüezi guten morgen abend danke dankeschön"
        " dankeschoen tschüss tschuess tschüs tschau bitte ja nein genau"
    ),
    "nl": _words(
        "hallo hoi hoii hey goedemorgen goedemiddag goedenavond dag dank bedankt dankjewel dankuwel doei tot"
        " ziens alsjeblieft alstublieft ja nee"
    ),
    "fr": _words("bonjour bonsoir salut coucou merci mercii oui non ouais au revoir svp stp bisous"),
    "it": _words("ciao salve buongiorno buonasera buonanotte grazie prego arrivederci sì si no per favore"),
    "es": _words("hola buenas buenos días dias tardes noches gracias adiós adios sí si no porfa vale chao"),
    "pt": _words("olá ola oi salve bom dia boa tarde noite obrigado obrigada obg tchau sim não nao valeu"),
    "ro": _words(
        "salut bună buna ziua seara neața neata mulțumesc multumesc mersi mulțam multam pa da nu te rog noroc"
    ),
    "pl": _words(
        "cześć czesc hej siema witam dzień dzien dobry dobranoc dziękuję dziekuje dzięki dzieki tak nie proszę"
        " prosze pa"
    ),
    "vi": _words("xin chào chao bạn cảm ơn tạm biệt biet vâng vang dạ không khong ạ"),
    "zh": frozenset(),
}
