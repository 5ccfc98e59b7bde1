"""What a message starts: a flow's payload, pattern, keyword or intent; and whether it cancels instead."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from bots.flow.answers import QUESTION_MARK, fold
from bots.flow.model import AskOp, Bot
from bots.payload import parse_payload
from bots.types import OUT_OF_SCOPE, NLUResult, Payload
from nlu_models.entity_words import CLAUSE_END, UNSPACED, negated

REQUEST_SURE = 0.9  # how sure the NLU must be of a request for a cancel phrase to be it
_PUNCTUATION = re.compile(r"[^\w\s]+")  # commas, stops, exclamation and question marks of every script
_WORD = re.compile(r"\w+")


_STEM = 5  # a word and a longer one starting with it are one word ("devolver", "devolverlas"; "return", "returns")


def _words_of(folded: str) -> list[str]:
    """Words of a folded text; in scripts without spaces, each character is one."""
    return [piece for word in folded.split() for piece in (list(word) if UNSPACED.search(word) else [word])]


def _of_topic(word: str, topic: frozenset[str]) -> bool:
    if word in topic:
        return True
    return len(word) > _STEM and any(len(t) >= _STEM and word.startswith(t) for t in topic)


def _folded_phrase(phrase: str) -> str:
    """A phrase or message as phrases are matched: folded, punctuation as spaces."""
    return fold(_PUNCTUATION.sub(" ", phrase))


def question_words(question: str, shortest: int = 1) -> frozenset[str]:
    """The words of a question's text as messages are read here (folded, each character in scripts without
    spaces), of ``shortest`` letters or more: a customer answering it may echo them ("my order number is ...")."""
    return frozenset(word for word in _words_of(_folded_phrase(question)) if len(word) >= shortest)


def without_words(text: str, words: frozenset[str]) -> str:
    """``text`` folded, less ``words``: what a message says besides a question's words."""
    return " ".join(word for word in _words_of(_folded_phrase(text)) if word not in words)


def _folded_phrases(keywords: dict[str, tuple[str, ...]]) -> list[str]:
    return [folded for words in keywords.values() for w in words if (folded := _folded_phrase(w))]


def _compile_phrases(keywords: dict[str, tuple[str, ...]]) -> dict[str, list[re.Pattern[str] | str]]:
    """Phrases per language, folded, longest first so "stop this" goes before "stop"."""
    compiled: dict[str, list[re.Pattern[str] | str]] = {}
    for language, words in keywords.items():
        for word in sorted({_folded_phrase(w) for w in words}, key=len, reverse=True):
            if word:
                compiled.setdefault(language, []).append(
                    word if UNSPACED.search(word) else re.compile(rf"(?<!\w){re.escape(word)}(?!\w)")
                )
    return compiled


class MayHold:
    """Whether a folded text may hold any of some folded phrases, told cheaply: most messages hold none.

    A phrase is matched as whole words, so the first run of word characters in it is a whole word of any
    text it is found in; in scripts without spaces a phrase is any substring, so it is looked for as one.
    """

    def __init__(self, phrases: list[str]) -> None:
        self.first_words: set[str] = set()
        self.substrings: list[str] = []
        self.always = False  # a phrase without a word character ("👋"): only trying it tells
        for phrase in phrases:
            first = _WORD.search(phrase)
            if UNSPACED.search(phrase):
                self.substrings.append(phrase)
            elif first is None:
                self.always = True
            else:
                self.first_words.add(first.group())

    def __call__(self, folded: str) -> bool:
        return (
            self.always
            or not self.first_words.isdisjoint(_WORD.findall(folded))
            or any(phrase in folded for phrase in self.substrings)
        )


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
        self._by_language = self._keywords_by_language()
        self._regex = [(flow.name, flow.trigger.regex) for flow in bot.flows.values() if flow.trigger.regex]
        self._asks = {flow.name: {op.slot for op in flow.ops if isinstance(op, AskOp)} for flow in bot.flows.values()}
        self._flow_of_intent: dict[str, str] = {}  # the first flow, in the bot's order, an intent starts
        for flow in bot.flows.values():
            for intent in flow.trigger.intents:
                self._flow_of_intent.setdefault(intent, flow.name)
        self._cancel_phrases = _compile_phrases(bot.cancel.keywords)
        self._unsure_phrases = _compile_phrases(bot.dont_know.keywords)
        self._any_cancel = MayHold(_folded_phrases(bot.cancel.keywords))
        self._any_unsure = MayHold(_folded_phrases(bot.dont_know.keywords))
        self._topics: dict[tuple[str, str], frozenset[str]] = {}
        self._cancel_filler = {
            language: {word for w in words for word in _folded_phrase(w).split()}
            for language, words in bot.cancel.filler.items()
        }
        # the phrase ends at a mark and more follows: "deixa eu perguntar", "uită-te" go on
        self._cancel_openers = self._openings(bot.cancel.keywords, r"\s*[,.!;:…]\W*\w")
        # the phrase with what it lets go named before the mark ("nah forget the gift card, wheres my order")
        self._cancel_openers_naming = self._openings(
            bot.cancel.keywords, r"(?P<named>(?:\s+[\w'-]+){1,4})\s*[,.!;:…]\W*\w"
        )
        self._corrections = self._openings(bot.corrections)

    def _openings(self, phrases: dict[str, tuple[str, ...]], after: str = "") -> dict[str, re.Pattern[str]]:
        """Per language, a message opening with one of ``phrases`` (after up to two filler words), then ``after``."""
        return {
            language: re.compile(
                rf"^\W*{self._interjections(language)}"
                rf"(?:{'|'.join(_phrase(w) for w in sorted(words, key=len, reverse=True))}){after}"
            )
            for language, words in phrases.items()
            if words
        }

    def opens_with_cancel(self, text: str, language: str) -> bool:
        """Whether a message opens with a cancel phrase ended by a mark and goes on ("laat maar, wat kosten de city
        glide", "forget it, where is my order?"): what was open is let go, and the rest is the request."""
        return self.after_cancel(text, language) is not None

    def after_cancel(self, text: str, language: str, open_flow: str | None = None) -> str | None:
        """What follows such a cancel phrase, folded ("never mind, it's ST-123456" -> "it's st-123456"); with
        ``open_flow``, also after the phrase and words naming that flow ("forget the gift card, ...")."""
        folded = fold(text)
        for pattern in (self._cancel_openers.get(language), self._cancel_openers.get("*")):
            if pattern is not None and (found := pattern.match(folded)):
                return folded[found.end() - 1 :]  # the pattern ends on the rest's first letter
        if open_flow is None:
            return None
        topic = self._flow_words(open_flow, language)
        for pattern in (self._cancel_openers_naming.get(language), self._cancel_openers_naming.get("*")):
            found = pattern.match(folded) if pattern is not None else None
            if found and not self.beyond_filler(found.group("named"), language, topic):
                return folded[found.end() - 1 :]
        return None

    def only_filler(self, text: str, language: str) -> bool:
        """Whether ``text`` is nothing but filler words (``settings.cancel.filler``), marks and stray letters
        ("it's" -> "it", "s"): what is left of "it's ST-345678" once the value is taken out."""
        return not self.beyond_filler(text, language)

    def beyond_filler(self, text: str, language: str, also: frozenset[str] = frozenset()) -> list[str]:
        """The words of ``text`` that are not filler (nor ``also``, nor stray letters)."""
        words = self._cancel_filler.get(language, set()) | self._cancel_filler.get("*", set()) | also
        return [
            word
            for word in _words_of(_folded_phrase(text))
            if word not in words and not (len(word) == 1 and not UNSPACED.match(word))
        ]

    def _interjections(self, language: str) -> str:
        """Up to two filler words before a correction's opening words ("oh wait, ...", "ok sorry, ...")."""
        words = self._cancel_filler.get(language, set()) | self._cancel_filler.get("*", set())
        if not words:
            return ""
        alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
        return rf"(?:(?:{alternatives})(?!\w)\W*){{0,2}}"

    def _compile_keywords(self) -> list[tuple[str, str, re.Pattern[str] | str]]:
        compiled: list[tuple[str, str, re.Pattern[str] | str]] = []
        for flow in self.bot.flows.values():
            for language, words in flow.trigger.keywords.items():
                for folded in {spelling for word in words for spelling in _spellings(word)}:
                    if UNSPACED.search(folded):
                        compiled.append((flow.name, language, folded))
                    else:
                        compiled.append((flow.name, language, re.compile(rf"(?<!\w){re.escape(folded)}(?!\w)")))
        return compiled

    def _keywords_by_language(self) -> dict[str, MayHold]:
        """Per language, whether a message in it may hold any keyword (its own or "*"'s)."""
        by_language: dict[str, list[str]] = {}
        for flow in self.bot.flows.values():
            for language, words in flow.trigger.keywords.items():
                by_language.setdefault(language, []).extend(spelling for word in words for spelling in _spellings(word))
        shared = by_language.get("*", [])
        return {language: MayHold([*words, *shared]) for language, words in {"*": [], **by_language}.items()}

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
        for flow_name, patterns in self._regex:
            for pattern in patterns:
                if pattern.search(text):
                    return self._intent_over_value(flow_name, nlu) or TriggerMatch(flow_name, "regex")
        folded = fold(text)
        if not self._by_language.get(language, self._by_language["*"])(folded):
            return self._by_intent(nlu)
        for flow_name, keyword_language, keyword in self._keywords:
            if keyword_language not in ("*", language):
                continue
            at = (
                folded.find(keyword)
                if isinstance(keyword, str)
                else (m.start() if (m := keyword.search(folded)) else -1)
            )
            if at >= 0 and not _refused(folded, at, language):
                return TriggerMatch(flow_name, "keyword")
        return self._by_intent(nlu)

    def _intent_over_value(self, regex_flow: str, nlu: NLUResult | None) -> TriggerMatch | None:
        """A sure intent whose flow asks for what the regex flow asks (the value the pattern found): "cancel
        ST-345678" and "quero devolver ST-234567" are the cancel and the return of that order, not a question
        about it, while "hi, ST-123456" (a greeting asks for nothing) and a question ("ST-345678 cancelled?")
        stay the regex's."""
        match = self._by_intent(nlu)
        if match is None or match.flow == regex_flow or not (self._asks[match.flow] & self._asks[regex_flow]):
            return None
        if nlu is not None and QUESTION_MARK.search(nlu.text):
            return None  # "ST-345678 cancelled?", "is ST-234567 returned?": a question about the order
        return match

    def _by_intent(self, nlu: NLUResult | None) -> TriggerMatch | None:
        if nlu is not None and nlu.intent is not None and nlu.confidence >= self.bot.nlu_threshold:
            flow_name = self._flow_of_intent.get(nlu.intent)
            if flow_name is not None:
                return TriggerMatch(flow_name, "intent")
        return None

    def is_cancel(self, text: str, nlu: NLUResult | None, language: str, open_flow: str | None = None) -> bool:
        """A cancel intent, or a message of cancel phrases and filler only ("egal, vergiss es", "nah, don't bother").

        A phrase inside a longer request ("please cancel my order 42") is not a
        cancel: the request is what the customer wants. Filler ("ok", "nah",
        "please") may stand around the phrases, never alone; so may the words
        of what is open, the customer's own request ("forget about the return",
        "ya no quiero devolverlas", "算了不退了"), unless they start another flow.
        The thread's language's phrases are tried first, then every other
        language's with its own filler: customers mix ("ok egal").
        """
        cancel = self.bot.cancel
        if nlu is not None and nlu.intent in cancel.intents and nlu.confidence >= self.bot.nlu_threshold:
            return True
        whole = _folded_phrase(text)
        if not whole or not self._any_cancel(whole):
            return False
        topic = self._flow_words(open_flow, language) if open_flow else frozenset()
        if self._any_unsure(whole) and self._only_phrases(whole, self._unsure_phrases, language, topic):
            return False  # "i forget the number": not knowing the answer, not letting the question go
        if topic:
            match = self.find(text, None, None, language)
            if match is not None and match.flow != open_flow:
                topic = frozenset()  # "cancel my order" names another request
            elif self._names_request(whole, nlu, language, open_flow):
                return False
        return self._only_phrases(whole, self._cancel_phrases, language, topic)

    def _names_request(self, whole: str, nlu: NLUResult | None, language: str, open_flow: str | None) -> bool:
        """Whether a cancel phrase names another flow the NLU is sure of, in that flow's own words: "cancel my
        order actually" while an order's number is asked for its status is the order's cancel (it got "Okay,
        I've stopped that", and nothing was cancelled); "cancel the return" during a return stays a cancel."""
        if nlu is None or nlu.confidence < REQUEST_SURE:
            return False
        request = self._by_intent(nlu)
        if request is None or request.flow == open_flow:
            return False
        words = self._flow_words(request.flow, language)
        phrases = self._cancel_phrases
        return self._only_phrases(whole, phrases, language, words) and not self._only_phrases(
            whole, phrases, language, frozenset()
        )

    def is_unsure(self, text: str, language: str, asked: Callable[[], str] | None = None) -> bool:
        """A message that only says the customer does not know ("weiß ich nicht", "no idea", "不知道"), with
        filler around it, in any of the bot's languages; with ``asked`` (the question's text), the question's own
        words may stand around it too ("não sei o número" to "Qual é o número da tua encomenda?")."""
        whole = _folded_phrase(text)
        if not whole or not self._any_unsure(whole):
            return False
        topic = question_words(asked()) if asked is not None else frozenset()
        return self._only_phrases(whole, self._unsure_phrases, language, topic)

    def _only_phrases(
        self, whole: str, compiled: dict[str, list[re.Pattern[str] | str]], language: str, topic: frozenset[str]
    ) -> bool:
        """Whether the folded ``whole`` is phrases of one language, with filler (and ``topic`` words) around."""
        others = [lang for lang in compiled if lang not in (language, "*")]
        for phrase_language in (language, *others):
            rest = whole
            for phrase in compiled.get(phrase_language, []) + compiled.get("*", []):
                rest = phrase.sub(" ", rest) if isinstance(phrase, re.Pattern) else rest.replace(phrase, " ")
            if rest.strip() == whole:
                continue  # no phrase of this language
            filler = set().union(*(self._cancel_filler.get(lang, set()) for lang in (language, phrase_language, "*")))
            if all(word in filler or _of_topic(word, topic) for word in _words_of(rest)):
                return True
        return False

    def _flow_words(self, flow_name: str, language: str) -> frozenset[str]:
        """The words a customer uses to ask for ``flow_name`` in ``language``: its keywords and its intents'
        examples, folded (for scripts without spaces, each character)."""
        cached = self._topics.get((flow_name, language))
        if cached is not None:
            return cached
        flow = self.bot.flows.get(flow_name)
        texts: list[str] = []
        if flow is not None:
            texts += [*flow.trigger.keywords.get(language, ()), *flow.trigger.keywords.get("*", ())]
            examples = self.bot.examples.get(language, {})
            texts += [example for intent in flow.trigger.intents for example in examples.get(intent, ())]
        words = frozenset(word for text in texts for word in _words_of(_folded_phrase(text)))
        self._topics[(flow_name, language)] = words
        return words

    def after_correction(self, text: str, language: str) -> str | None:
        """What follows a correction's opening words ("no, 43" -> ", 43"); None when the message is no correction."""
        folded = fold(text)
        for pattern in (self._corrections.get(language), self._corrections.get("*")):
            found = pattern.match(folded) if pattern is not None else None
            if found:
                return folded[found.end() :]
        return None


_NEGATION_AFTER = re.compile(r"^\W*(?:\w+\W+)?(?:nicht|niet|kein\w*|geen)(?!\w)")  # "bel me niet", "ruf mich nicht an"


def _refused(folded: str, at: int, language: str) -> bool:
    """A flow's keyword said in the negative: "please don't call me at work", "non mi chiamate più", "bel me niet"
    (German and Dutch put the negation after the verb) start no call-back."""
    if negated(folded[:at], language):
        return True
    after = CLAUSE_END.split(folded[at:], maxsplit=1)[0].partition(" ")[2]  # the clause after the keyword's word
    return language in ("de", "nl") and _NEGATION_AFTER.search(after) is not None


def _phrase(words: str) -> str:
    """A pattern of ``words`` as whole words; one ending in Chinese needs no space after it ("改成80")."""
    folded = fold(words)
    return re.escape(folded) + ("" if UNSPACED.match(folded[-1:]) else r"(?!\w)")


def is_off_topic(bot: Bot, nlu: NLUResult | None) -> bool:
    """Whether the NLU found the message to be about another topic: its background class ranked first and sure."""
    if nlu is None or nlu.intent is not None or not nlu.ranking:
        return False
    top = nlu.ranking[0]
    return top.name == OUT_OF_SCOPE and top.confidence >= bot.nlu_threshold


def _out_of_scope_flow(bot: Bot) -> str | None:
    """The flow started on ``out_of_scope`` (a Rasa project's ``utter_out_of_scope``), if the bot has one."""
    return next((flow.name for flow in bot.flows.values() if OUT_OF_SCOPE in flow.trigger.intents), None)


def off_topic_flow(bot: Bot, nlu: NLUResult | None) -> str | None:
    """The flow that answers a message about another topic: the bot's flow on ``out_of_scope``, else the fallback
    flow; None when the message is not off-topic."""
    if not is_off_topic(bot, nlu):
        return None
    return _out_of_scope_flow(bot) or bot.fallback_flow


def named_out_of_scope(bot: Bot, nlu: NLUResult | None) -> NLUResult | None:
    """A message the NLU found to be about another topic is the ``out_of_scope`` intent when a flow starts on
    that intent (a Rasa project's ``utter_out_of_scope``), rather than no intent (the fallback flow)."""
    if nlu is None or not is_off_topic(bot, nlu) or _out_of_scope_flow(bot) is None:
        return nlu
    return replace(nlu, intent=OUT_OF_SCOPE, confidence=nlu.ranking[0].confidence)


_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})


def _spellings(keyword: str) -> tuple[str, ...]:
    """A keyword as typed without its accents, and with an umlaut written out: "rückruf" is also "ruckruf" and
    "rueckruf" (a keyboard without umlauts; "rueckruf bitte" was handed to a person)."""
    folded = fold(keyword)
    written_out = fold(keyword.lower().translate(_UMLAUTS))
    return (folded,) if written_out == folded else (folded, written_out)
