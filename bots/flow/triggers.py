"""What a message starts: a flow's payload, pattern, keyword or intent; and whether it cancels instead."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bots.flow.answers import fold
from bots.flow.model import Bot
from bots.payload import parse_payload
from bots.types import NLUResult, Payload

_IDEOGRAPHS = re.compile(r"[\u3000-\u9fff\uac00-\ud7af]")  # scripts without spaces: a keyword is any substring
_PUNCTUATION = re.compile(r"[^\w\s]+")  # commas, stops, exclamation and question marks of every script


@dataclass(frozen=True)
class TriggerMatch:
    flow: str
    kind: str  # payload, regex, keyword, intent, event


def message_payload(text: str, nlu: NLUResult | None) -> Payload | None:
    """The payload a message is: the one the turn's NLU result already read, else read from the text.

    The pipeline's NLU result carries it; one built by hand (tests, other callers) may not.
    """
    if nlu is not None and nlu.payload is not None:
        return nlu.payload
    return parse_payload(text)


class Triggers:
    """A bot's flow triggers, with its keywords compiled once."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._keywords = self._compile_keywords()
        self._cancel_phrases = self._compile_cancel()
        self._cancel_filler = {
            language: {word for w in words for word in fold(_PUNCTUATION.sub(" ", w)).split()}
            for language, words in bot.cancel.filler.items()
        }
        self._corrections = {
            language: re.compile(
                rf"^\W*(?:{'|'.join(re.escape(fold(w)) for w in sorted(words, key=len, reverse=True))})(?!\w)"
            )
            for language, words in bot.corrections.items()
            if words
        }

    def _compile_keywords(self) -> list[tuple[str, str, re.Pattern[str] | str]]:
        compiled: list[tuple[str, str, re.Pattern[str] | str]] = []
        for flow in self.bot.flows.values():
            for language, words in flow.trigger.keywords.items():
                for word in words:
                    folded = fold(word)
                    if _IDEOGRAPHS.search(folded):
                        compiled.append((flow.name, language, folded))
                    else:
                        compiled.append((flow.name, language, re.compile(rf"(?<!\w){re.escape(folded)}(?!\w)")))
        return compiled

    def find(self, text: str, payload: Payload | None, nlu: NLUResult | None, language: str) -> TriggerMatch | None:
        """The flow a message starts. A payload is matched as a payload only (a flow's, else an intent's)."""
        flows = self.bot.flows.values()
        if payload is not None:
            for flow in flows:
                if payload.name in flow.trigger.payloads or payload.text in flow.trigger.payloads:
                    return TriggerMatch(flow.name, "payload")
            intent = payload.name[1:]
            for flow in flows:
                if intent in flow.trigger.intents:
                    return TriggerMatch(flow.name, "payload")
            return None
        for flow in flows:
            if any(pattern.search(text) for pattern in flow.trigger.regex):
                return TriggerMatch(flow.name, "regex")
        folded = fold(text)
        for flow_name, keyword_language, keyword in self._keywords:
            if keyword_language not in ("*", language):
                continue
            if (keyword in folded) if isinstance(keyword, str) else keyword.search(folded):
                return TriggerMatch(flow_name, "keyword")
        if nlu is not None and nlu.intent is not None and nlu.confidence >= self.bot.nlu_threshold:
            for flow in flows:
                if nlu.intent in flow.trigger.intents:
                    return TriggerMatch(flow.name, "intent")
        return None

    def is_cancel(self, text: str, nlu: NLUResult | None, language: str) -> bool:
        """A cancel intent, or a message of cancel phrases and filler only ("egal, vergiss es", "nah, don't bother").

        A phrase inside a longer request ("please cancel my order 42") is not a
        cancel: the request is what the customer wants. Filler ("ok", "nah",
        "please") may stand around the phrases, never alone.
        """
        cancel = self.bot.cancel
        if nlu is not None and nlu.intent in cancel.intents and nlu.confidence >= self.bot.nlu_threshold:
            return True
        phrases = self._cancel_phrases.get(language, []) + self._cancel_phrases.get("*", [])
        rest = fold(_PUNCTUATION.sub(" ", text))
        if not rest or not phrases:
            return False
        for phrase in phrases:
            rest = phrase.sub(" ", rest) if isinstance(phrase, re.Pattern) else rest.replace(phrase, " ")
        if rest.strip() == fold(_PUNCTUATION.sub(" ", text)):
            return False  # no cancel phrase at all
        filler = self._cancel_filler.get(language, set()) | self._cancel_filler.get("*", set())
        return all(word in filler for word in rest.split())

    def _compile_cancel(self) -> dict[str, list[re.Pattern[str] | str]]:
        """Cancel phrases per language, longest first so "stop this" goes before "stop"."""
        compiled: dict[str, list[re.Pattern[str] | str]] = {}
        for language, words in self.bot.cancel.keywords.items():
            for word in sorted({fold(_PUNCTUATION.sub(" ", w)) for w in words}, key=len, reverse=True):
                if word:
                    compiled.setdefault(language, []).append(
                        word if _IDEOGRAPHS.search(word) else re.compile(rf"(?<!\w){re.escape(word)}(?!\w)")
                    )
        return compiled

    def after_correction(self, text: str, language: str) -> str | None:
        """What follows a correction's opening words ("no, 43" -> ", 43"); None when the message is no correction."""
        folded = fold(text)
        for pattern in (self._corrections.get(language), self._corrections.get("*")):
            found = pattern.match(folded) if pattern is not None else None
            if found:
                return folded[found.end() :]
        return None
