"""The Page's Messenger profile built from the bot, checked against Meta's limits, and compared with the Page's.

Pure functions: ``threadline messenger setup`` reads the Page's profile, builds the wanted one here, shows
:func:`changes` and posts only the fields that differ. Every language of the bot becomes the Messenger
locales that speak it (``de`` -> ``de_DE``); the default language is the ``default`` locale, the one
Messenger shows everyone else. A language without a text of its own gets no locale (it would repeat the
default).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from connectors.messenger.profile_config import ProfileConfig, TextSpec

FIELDS = ("get_started", "greeting", "persistent_menu", "ice_breakers", "whitelisted_domains")
LOCALES: dict[str, tuple[str, ...]] = {  # Messenger's locales for each language Threadline speaks
    "en": ("en_US", "en_GB"),
    "zh": ("zh_CN",),  # the bot's Chinese is Simplified
    "nl": ("nl_NL", "nl_BE"),
    "fr": ("fr_FR", "fr_CA"),
    "de": ("de_DE",),
    "it": ("it_IT",),
    "pl": ("pl_PL",),
    "pt": ("pt_BR", "pt_PT"),
    "ro": ("ro_RO",),
    "es": ("es_ES", "es_LA"),
    "vi": ("vi_VN",),
}
MAX_GREETING, MAX_MENU_TITLE, MAX_QUESTION, MAX_DOMAINS = 160, 30, 80, 50

Where = tuple[str | int, ...]  # a key path below connectors.messenger.profile (or "get_started_payload")


@dataclass(frozen=True)
class BotTexts:
    """What the profile needs of the bot: its languages and its texts (``lookup(key, language)``, no fallback)."""

    languages: tuple[str, ...]
    default_language: str
    lookup: Callable[[str, str], str | None]


@dataclass(frozen=True)
class Problem:
    where: Where
    message: str


@dataclass
class Built:
    profile: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _Builder:
    def __init__(self, texts: BotTexts, built: Built) -> None:
        self.texts, self.built = texts, built

    def text(self, spec: TextSpec, language: str, where: Where) -> str | None:
        """The text in ``language`` (None: none of its own); a default-language text that is missing is a problem."""
        own = spec.get(language) if isinstance(spec, dict) else self.texts.lookup(spec, language)
        if own is None and language == self.texts.default_language:
            what = f"no text for {language!r}" if isinstance(spec, dict) else f"the bot has no text {spec!r}"
            self.built.problems.append(Problem(where, what))
        return own

    def per_locale(self, make: Callable[[str], tuple[dict[str, Any] | None, bool]]) -> list[dict[str, Any]]:
        """``make(language)`` -> (entry, has texts of its own): the default entry, then one per other locale."""
        default = self.texts.default_language
        entry, _ = make(default)
        if entry is None:
            return []
        entries = [{"locale": "default", **entry}]
        for language in self.texts.languages:
            if language == default:
                continue
            own_entry, own = make(language)
            if own_entry is not None and own:
                entries += [{"locale": locale, **own_entry} for locale in LOCALES.get(language, ())]
        return entries

    def limit(self, text: str | None, most: int, language: str, where: Where) -> None:
        if text is not None and len(text) > most:
            what = str(where[0]).replace("_", " ") + (f" {where[-1]}" if len(where) > 1 else "")
            self.built.problems.append(
                Problem(where, f"the {language} {what} has {len(text)} characters; Messenger takes at most {most}")
            )

    def label(self, spec: TextSpec, language: str, where: Where, most: int) -> tuple[str, bool]:
        """A menu title or question in ``language`` (else the default language's), and whether it was its own."""
        own = self.text(spec, language, where)
        text = own or self.text(spec, self.texts.default_language, where) or ""
        self.limit(text, most, language, where)
        return text, own is not None


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"https://{parts.netloc}" if parts.scheme == "https" and parts.netloc else None


def build_profile(
    get_started_payload: str,
    config: ProfileConfig,
    texts: BotTexts,
    sites: list[tuple[str, str]],
    *,
    greeting_named: bool,
) -> Built:
    """The wanted profile. ``sites``: (the setting, its URL) to whitelist; ``greeting_named``: the config names it."""
    built = Built()
    b = _Builder(texts, built)
    built.profile["get_started"] = {"payload": get_started_payload}

    spec = config.greeting
    if greeting_named or isinstance(spec, dict) or texts.lookup(spec, texts.default_language) is not None:

        def greeting(language: str) -> tuple[dict[str, Any] | None, bool]:
            text = b.text(spec, language, ("greeting",))
            b.limit(text, MAX_GREETING, language, ("greeting",))
            return ({"text": text} if text is not None else None), text is not None

        built.profile["greeting"] = b.per_locale(greeting)
    else:
        built.notes.append(f"no greeting: the bot has no text {spec!r} (or set connectors.messenger.profile.greeting)")

    if config.persistent_menu:

        def menu(language: str) -> tuple[dict[str, Any] | None, bool]:
            items, own = [], False
            for index, item in enumerate(config.persistent_menu):
                title, has = b.label(item.title, language, ("persistent_menu", index, "title"), MAX_MENU_TITLE)
                own = own or has
                if item.url is not None:
                    items.append({"type": "web_url", "title": title, "url": item.url})
                else:
                    items.append({"type": "postback", "title": title, "payload": item.payload or ""})
            return {"composer_input_disabled": config.composer_input_disabled, "call_to_actions": items}, own

        built.profile["persistent_menu"] = b.per_locale(menu)

    if config.ice_breakers:

        def ice_breakers(language: str) -> tuple[dict[str, Any] | None, bool]:
            labels = [
                b.label(item.question, language, ("ice_breakers", index, "question"), MAX_QUESTION)
                for index, item in enumerate(config.ice_breakers)
            ]
            questions = [
                {"question": question, "payload": item.payload}
                for (question, _), item in zip(labels, config.ice_breakers, strict=True)
            ]
            return {"call_to_actions": questions}, any(has for _, has in labels)

        built.profile["ice_breakers"] = b.per_locale(ice_breakers)

    domains: list[str] = []
    for source, url in [*sites, *(("whitelisted_domains", d) for d in config.whitelisted_domains)]:
        origin = _origin(url)
        if origin is None:
            built.notes.append(f"{url} ({source}) is not an https address: Messenger does not whitelist it")
        elif origin not in domains:
            domains.append(origin)
    if len(domains) > MAX_DOMAINS:
        built.problems.append(
            Problem(("whitelisted_domains",), f"{len(domains)} domains; Messenger takes {MAX_DOMAINS}")
        )
    if domains:
        built.profile["whitelisted_domains"] = domains
    built.problems = list(dict.fromkeys(built.problems))  # a missing default text is said once, not per language
    return built


# ---------------------------------------------------------------------------- comparing with the Page's


def _by_locale(value: Any) -> dict[str, Any]:
    """A per-locale field as locale -> entry; the old ice-breaker format (a bare list of questions) is "default"."""
    if not isinstance(value, list):
        return {}
    if value and all(isinstance(v, dict) and "question" in v for v in value):
        return {"default": {"call_to_actions": value}}
    return {str(v.get("locale")): {k: x for k, x in v.items() if k != "locale"} for v in value if isinstance(v, dict)}


def _summary(name: str, entry: dict[str, Any]) -> str:
    if name == "greeting":
        return json.dumps(entry.get("text"), ensure_ascii=False)
    items = entry.get("call_to_actions") or []
    shown = [
        f"{i.get('question') or i.get('title')} ({i.get('payload') or i.get('url')})"
        for i in items
        if isinstance(i, dict)
    ]
    suffix = ", typing off" if entry.get("composer_input_disabled") else ""
    return " | ".join(shown) + suffix


def _domain(value: Any) -> str:
    return str(value).rstrip("/")


def merged_domains(current: Any, wanted: list[str]) -> list[str]:
    """The Page keeps the domains it already has (another plugin may need them); the bot's are added."""
    kept = [str(d) for d in current] if isinstance(current, list) else []
    have = {_domain(d) for d in kept}
    return kept + [d for d in wanted if _domain(d) not in have]


def changes(current: dict[str, Any], wanted: dict[str, Any]) -> dict[str, list[str]]:
    """For each wanted field that differs from the Page's: lines saying what changes (``+`` new, ``-`` gone)."""
    result: dict[str, list[str]] = {}
    for name in FIELDS:
        if name not in wanted:
            continue
        old, new = current.get(name), wanted[name]
        lines: list[str] = []
        if name == "get_started":
            before = old.get("payload") if isinstance(old, dict) else None
            if before != new["payload"]:
                lines.append(f"payload {json.dumps(before)} -> {json.dumps(new['payload'])}")
        elif name == "whitelisted_domains":
            have = {_domain(d) for d in old} if isinstance(old, list) else set()
            lines += [f"+ {d}" for d in new if _domain(d) not in have]
        else:
            before_map, after_map = _by_locale(old), _by_locale(new)
            for locale, entry in after_map.items():
                if locale not in before_map:
                    lines.append(f"+ {locale}: {_summary(name, entry)}")
                elif before_map[locale] != entry:
                    lines.append(f"~ {locale}: {_summary(name, before_map[locale])} -> {_summary(name, entry)}")
            lines += [f"- {locale}: {_summary(name, e)}" for locale, e in before_map.items() if locale not in after_map]
        if lines:
            result[name] = lines
    return result
