"""Check a turn against a step's expectations; each failure is a sentence that says what was wanted."""

from __future__ import annotations

import re
from typing import Any

from bots.convtest.observe import Observed, offered, titled
from bots.convtest.spec import Expect, as_list
from bots.flow.model import Bot
from bots.types import Carousel, Custom, Media, Outbound, Text

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{[^{}]*\}")


def reply_texts(replies: list[Outbound]) -> list[str]:
    """The words of each reply: a text, a caption, or a carousel's card titles and subtitles."""
    texts: list[str] = []
    for message in replies:
        if isinstance(message, Text):
            texts.append(message.text)
        elif isinstance(message, Media) and message.caption:
            texts.append(message.caption)
        elif isinstance(message, Carousel):
            texts += [f"{card.title} {card.subtitle}".strip() for card in message.cards]
    return texts


def check(expect: Expect, seen: Observed, bot: Bot) -> list[str]:
    """Every expectation the turn did not meet (empty: the step passed)."""
    texts = reply_texts(seen.replies)
    failures = [f"the reply should contain {t!r}" for t in as_list(expect.text) if not any(t in x for x in texts)]
    failures += [f"no reply should contain {t!r}" for t in as_list(expect.not_text) if any(t in x for x in texts)]
    failures += [
        f"a reply should match /{p}/" for p in as_list(expect.matches) if not any(re.search(p, x) for x in texts)
    ]
    if expect.exact is not None and texts != expect.exact:
        failures.append(f"the replies should be exactly {expect.exact!r}")
    language = seen.language or bot.default_language
    texts = _with_resumed_prompts(texts, bot, language)
    for key in as_list(expect.response):
        if not _response_said(bot, key, language, texts, seen.replies):
            failures.append(f"the bot should say its response {key!r} (in {language})")
    failures += [
        f"the bot should not say its response {key!r}"
        for key in as_list(expect.not_response)
        if _response_said(bot, key, language, texts, seen.replies)
    ]
    if expect.no_reply is not None and expect.no_reply != (not seen.replies):
        failures.append("there should be no reply" if expect.no_reply else "there should be a reply")
    if expect.language is not None and seen.language != expect.language:
        failures.append(f"the language should be {expect.language!r}, not {seen.language!r}")
    titles = [choice.title for choice in offered(seen.replies)]
    failures += [
        f"a button {b!r} should be offered"
        for b in expect.buttons or []
        if not any(titled(title, b, bot, seen.language) for title in titles)
    ]
    if expect.media is not None and not _media(expect.media, seen.replies):
        wanted = "media" if expect.media is True else expect.media
        failures.append(f"a reply should {'be' if expect.media else 'not be'} {wanted}")
    for name, value in (expect.slots or {}).items():
        actual = seen.slots.get(name)
        if not _same(value, actual):
            failures.append(f"slot {name} should be {'unset' if value is None else repr(value)}, not {actual!r}")
    if expect.intent is not None and seen.intent != expect.intent:
        failures.append(f"the intent should be {expect.intent!r}, not {seen.intent!r}")
    for name, value in (expect.entities or {}).items():
        if not any(found == name and (_same(value, got) or str(value) == span) for found, got, span in seen.entities):
            read = ", ".join(f"{n}={v!r}" for n, v, _ in seen.entities) or "none"
            failures.append(f"the NLU should find the entity {name}={value!r} (found: {read})")
    if expect.flow is not None and expect.flow not in seen.flows:
        failures.append(f"flow {expect.flow!r} should run (ran: {', '.join(seen.flows) or 'none'})")
    failures += [f"action {a!r} should run" for a in expect.actions or [] if a not in seen.actions]
    if expect.handoff is not None and seen.handoff != expect.handoff:
        failures.append("a person should have the conversation" if expect.handoff else "the bot should still answer")
    return failures


def _with_resumed_prompts(texts: list[str], bot: Bot, language: str) -> list[str]:
    """A question asked again is one text, "<resume line> <prompt>": its two parts are each a response said.

    Without this, ``response:`` would miss a re-asked prompt and ``not_response:`` could never fail on one.
    """
    resume = bot.digressions.resume
    if resume is None:
        return texts
    leads = resume_lines(bot, resume.key, dict(resume.inline), language)
    pieces = list(texts)
    for text in texts:
        for lead in leads:
            found = lead.match(text)
            if found and found.end() < len(text):
                pieces += [text[: found.end()].rstrip(), text[found.end() :].lstrip()]
                break
    return pieces


def resume_lines(bot: Bot, key: str | None, inline: dict[str, str], language: str) -> list[re.Pattern[str]]:
    """Patterns for the resume line's variants in ``language``, each matching it at the start of a text."""
    variants = _variants(bot, key, language) if key else ()
    if not variants and inline:
        variants = (inline.get(language) or inline.get(bot.default_language) or "",)
    return [re.compile(_pattern(v)) for v in variants if v]


def _variants(bot: Bot, key: str, language: str) -> tuple[str, ...]:
    per_language = bot.responses.get(key, {})
    return per_language.get(language) or per_language.get(bot.default_language) or ()


def _response_said(bot: Bot, key: str, language: str, texts: list[str], replies: list[Outbound]) -> bool:
    """One of the response's variants was said: by its words, or, for a variant without words, by its image
    or its custom payload."""
    used = language if bot.responses.get(key, {}).get(language) else bot.default_language
    extras = bot.response_variants.get(key, {}).get(used, ())
    for index, variant in enumerate(_variants(bot, key, language)):
        if variant:
            if _said(variant, texts):
                return True
        elif index < len(extras):
            image, custom = extras[index].image, extras[index].custom
            if image is not None and any(
                isinstance(m, Media) and re.fullmatch(_pattern(image.source), m.url) for m in replies
            ):
                return True
            if custom is not None and any(isinstance(m, Custom) for m in replies):
                return True
    return False


def _said(variant: str, texts: list[str]) -> bool:
    """A reply is this variant with its placeholders filled in any way."""
    pattern = re.compile(_pattern(variant), re.DOTALL)
    return any(pattern.fullmatch(text) for text in texts)


def _pattern(variant: str) -> str:
    """A response variant as a regular expression: its placeholders match anything."""
    parts = []
    for piece in re.split(f"({_PLACEHOLDER.pattern})", variant):
        if piece in ("{{", "}}"):
            parts.append(re.escape(piece[0]))
        elif _PLACEHOLDER.fullmatch(piece):
            parts.append(".*?")
        else:
            parts.append(re.escape(piece))
    return "".join(parts)


def _media(wanted: bool | str, replies: list[Outbound]) -> bool:
    kinds = {m.media for m in replies if isinstance(m, Media)} | {
        "carousel" for m in replies if isinstance(m, Carousel)
    }
    if wanted is True:
        return bool(kinds)
    if wanted is False:
        return not kinds
    return wanted in kinds


def _same(expected: Any, actual: Any) -> bool:
    """YAML's 42 and a slot's 42.0, or "42" typed for a number slot, are the same value to a reader."""
    if expected is None or actual is None:
        return expected is actual
    if isinstance(expected, int | float) and isinstance(actual, int | float) and not isinstance(actual, bool):
        return float(expected) == float(actual)
    return bool(expected == actual) or str(expected) == str(actual)
