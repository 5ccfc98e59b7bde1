"""Which words the bot says: a text in the thread's language, one of its variants (with dates, times and amounts
of typed slots written the language's way), and the built-in apology."""

from __future__ import annotations

import zlib
from typing import Any

from bots.flow.expressions import Template
from bots.flow.model import Bot, ResponseVariant, TextRef
from bots.flow.response_variants import eligible
from bots.flow.slot_values import shown
from bots.flow.state import ThreadState

_ACTION_FAILED = {
    "en": "Sorry, something went wrong on our side. Please try again in a moment.",
    "zh": "抱歉，我们这边出了点问题，请稍后再试。",
    "nl": "Sorry, er ging iets mis aan onze kant. Probeer het zo nog eens.",
    "fr": "Désolé, un problème est survenu de notre côté. Merci de réessayer dans un instant.",
    "de": "Entschuldigung, bei uns ist etwas schiefgelaufen. Bitte versuch es gleich noch einmal.",
    "it": "Scusa, qualcosa è andato storto da parte nostra. Riprova tra poco.",
    "pl": "Przepraszamy, coś poszło nie tak po naszej stronie. Spróbuj ponownie za chwilę.",
    "pt": "Desculpa, algo correu mal do nosso lado. Tenta novamente daqui a pouco.",
    "ro": "Ne pare rău, ceva nu a mers bine la noi. Te rugăm să încerci din nou în câteva momente.",
    "es": "Lo siento, algo ha fallado por nuestra parte. Inténtalo de nuevo en un momento.",
    "vi": "Xin lỗi, bên mình đang gặp sự cố. Bạn vui lòng thử lại sau ít phút nhé.",
}


def render_text(bot: Bot, ref: TextRef, state: ThreadState, values: dict[str, Any]) -> str:
    """A response by key or an inline text, in the thread's language (else the bot's default), filled in."""
    return render_response(bot, ref, state, values)[0]


def render_response(
    bot: Bot, ref: TextRef, state: ThreadState, values: dict[str, Any]
) -> tuple[str, ResponseVariant | None]:
    """A response's words, filled in, and what its chosen variant shows besides (None for words alone).

    Of the variants that may be said here (this channel's, those whose condition holds: ``response_variants``),
    the turn number picks one: varied, yet the same on a replay.
    """
    language = state.language or bot.default_language
    extras: ResponseVariant | None = None
    if ref.key is not None:
        per_language = bot.responses.get(ref.key, {})
        used = language if per_language.get(language) else bot.default_language
        variants = per_language.get(used) or (ref.key,)
        rich = bot.response_variants.get(ref.key, {}).get(used)
        candidates = eligible(rich, values) if rich else list(range(len(variants)))
        if not candidates:  # no variant for this channel or condition (BOT-W006): nothing is said
            return "", ResponseVariant()
        index = candidates[zlib.crc32(f"{ref.key}:{state.turn}".encode()) % len(candidates)]
        chosen, extras = variants[index], rich[index] if rich else None
    else:
        inline = dict(ref.inline)
        chosen = inline.get(language) or inline.get(bot.default_language) or next(iter(inline.values()))
    typed = bot.written_slots

    def in_language(name: str, value: Any) -> str | None:  # a date, time or amount slot as the language writes it
        return shown(typed[name], value, bot.locales.get(language, language)) if name in typed else None

    return Template(chosen).render(values, in_language if typed else None), extras


def action_failed(language: str) -> str:
    """The apology for a failed action when the bot has no text of its own for it."""
    return _ACTION_FAILED.get(language, _ACTION_FAILED["en"])


def text_per_language(bot: Bot, ref: TextRef) -> dict[str, str]:
    """A text in each of the bot's languages, for words shown before any thread exists (the widget's greeting)."""
    return {language: render_text(bot, ref, ThreadState(language=language), {}) for language in bot.languages}
