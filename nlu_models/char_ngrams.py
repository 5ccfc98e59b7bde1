"""Intent from character n-grams: the first interpreter, trained at start-up in a second.

A logistic regression over TF-IDF character 1-4-grams of the bot's own
examples in all languages predicts the intent; the language comes from
nlu_models.language (with a language model over the same grams), the
entities from nlu_models.entities. Character n-grams need no tokenizer
(Chinese has no spaces) and shrug off typos and missing accents. Measured on
held-out demo examples this beat a nearest-example matcher by 20 points
(85% vs 66% intent accuracy).
"""

from __future__ import annotations

import copy
import re

import numpy as np

from bots.types import OUT_OF_SCOPE, IntentScore, NLUResult
from nlu_models.accents import with_folded_copies
from nlu_models.base import LanguageHints, TrainingData
from nlu_models.encoder.registry import chosen
from nlu_models.entities import EntityExtractor
from nlu_models.intent import IntentModel
from nlu_models.language import LanguageIdentifier
from nlu_models.linear import CharGrams, normalise
from nlu_models.openers import AGREEMENTS, OpenerSplit, with_openers
from nlu_models.out_of_scope import calibrated_cut, in_scope, with_background

RANKING_SIZE = 5
# A short reply that opens another topic ("thanks! will it rain tomorrow?") gives way to the fallback when its
# probability on the whole message, the background class's share counted, is under this (chosen on
# bench/data/out_of_scope_dev.jsonl after openers, BENCHMARKS.md): "thanks, that was really useful" is above it.
OPENER_SURE = 0.7

_TRAINED: dict[tuple[object, ...], CharNgramInterpreter] = {}

_ALNUM = re.compile(r"[^\W_]")  # a letter or a digit: str.isalnum for one character, found in C


class CharNgramInterpreter:
    provisional = False  # True: intents from character n-grams only; a class default, so older saved models load
    encoder: str | None = None  # the sentence encoder beside the n-grams (nlu_models.encoder), if any
    out_of_scope_cut = 0.0  # under it the best intent's probability means another topic (out_of_scope.calibrated_cut)
    _opener_split: OpenerSplit | None = None  # a short reply's opener and the request after it (nlu_models.openers)

    @classmethod
    def for_bot(cls, bot: TrainingData) -> CharNgramInterpreter:
        """Train once per bot content and settings; a process serving or testing one bot trains once."""
        encoder = chosen(bot.nlu_encoder)
        phrases = tuple(sorted(bot.trigger_phrases.items()))
        key = (bot.content_hash, bot.languages, bot.default_language, bot.nlu_threshold, encoder, phrases)
        if key not in _TRAINED:
            if len(_TRAINED) >= 4:
                _TRAINED.pop(next(iter(_TRAINED)))
            _TRAINED[key] = cls(
                bot.examples,
                bot.languages,
                bot.default_language,
                bot.nlu_threshold,
                EntityExtractor(bot.entities),
                encoder=encoder,
                phrases=bot.trigger_phrases,
            )
        return _TRAINED[key]

    def __init__(
        self,
        examples: dict[str, dict[str, tuple[str, ...]]],
        languages: tuple[str, ...],
        default_language: str,
        threshold: float,
        entities: EntityExtractor | None = None,
        *,
        words: bool = True,
        encoder: str | None = None,
        phrases: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        """``words=False``: a provisional model, whose intent classifier skips the word features (spaCy's
        tokenizers and lemma tables: most of a training's time); ``with_words`` then makes the full one.
        ``encoder``: the name of a sentence encoder for the full model's intents (nlu_models.encoder).
        ``phrases``: language -> the flows' trigger phrases, the bot's own words for language ID."""
        self.languages = languages
        self.encoder = encoder
        self.default_language = default_language
        self.threshold = threshold
        self.entities = entities or EntityExtractor(())
        texts, text_intents, text_languages = _flatten(examples)
        self.provisional = not words
        self._intents(texts, text_intents, text_languages)
        self.grams = CharGrams(texts) if texts else None
        # the bot's own examples teach the language identifier its domain ("hallo" is German here)
        self.language_id = LanguageIdentifier(
            languages,
            default_language,
            grams=self.grams,
            example_languages=(text_languages if self.grams is not None else None),
            examples=texts,
            phrases=phrases,
        )
        if self.grams is not None:  # training rows: a loaded model must not need SciPy to unpickle them
            del self.grams.matrix

    def _intents(self, texts: list[str], text_intents: list[str], text_languages: list[str]) -> None:
        self._intent_model: IntentModel | None = None
        self._fixed_intent: str | None = None
        self.out_of_scope_cut = 0.0
        if len(set(text_intents)) > 1:  # first: its helper process starts before scikit-learn is imported here
            self._opener_split = OpenerSplit(texts, text_intents, text_languages, not_openers=frozenset({OUT_OF_SCOPE}))
            # the background corpus of other domains joins the bot's own out_of_scope examples (one class); not
            # in a provisional model, which serves a first start for a minute and without words cannot spare
            # the accuracy (demo held-out, English: 86.9 % with it, under the 88 % floor)
            if not self.provisional:
                texts, text_intents, text_languages = with_background(texts, text_intents, text_languages)
            # "hi, where is my order?" is about the order; "thanks! tell me a joke" about another topic
            self._intent_model = IntentModel(
                *with_openers(texts, text_intents, text_languages, not_openers=frozenset({OUT_OF_SCOPE})),
                words=not self.provisional,
                encoder=None if self.provisional else self.encoder,
            )
            if not self.provisional:  # on the examples without their copies, which would leak across folds
                self.out_of_scope_cut = calibrated_cut(
                    self._intent_model, texts, text_intents, text_languages, self.threshold
                )
        elif texts:
            self._fixed_intent = text_intents[0]

    def with_words(self, examples: dict[str, dict[str, tuple[str, ...]]]) -> CharNgramInterpreter:
        """The full model of a provisional one: the same language identifier and entities (nothing trained
        twice), with an intent classifier on words too. This model itself is left as it is: turns still
        using it are not disturbed."""
        full = copy.copy(self)
        full.provisional = False
        full._intents(*_flatten(examples))
        return full

    async def parse(self, text: str, hints: LanguageHints) -> NLUResult:
        return self.parse_sync(text, hints)

    def parse_sync(self, text: str, hints: LanguageHints) -> NLUResult:
        index, weights = self.grams.features(text) if self.grams is not None else (np.zeros(0, np.int64), np.zeros(0))
        guess = self.language_id.identify(text, hints, features=(index, weights))
        ranking: tuple[IntentScore, ...] = ()
        other_topic = False
        if self._fixed_intent is not None and index.size:
            ranking = (IntentScore(self._fixed_intent, 1.0),)
        elif (
            self._intent_model is not None
            and (index.size or self._intent_model.encodes(guess.code))
            and _ALNUM.search(text)
        ):
            ranking, other_topic, best_raw = self._scored(text, guess.code)
            ranking, other_topic = self._after_opener(text, guess.code, ranking, other_topic, best_raw)
        top = ranking[0] if ranking else None
        # another topic, or unsure: the fallback (the ranking still shows out_of_scope and its confidence)
        intent = top.name if top is not None and self._sure(top) and not other_topic else None
        return NLUResult(
            text=text,
            language=guess.code,
            language_confidence=guess.confidence,
            intent=intent,
            confidence=top.confidence if top else 0.0,
            ranking=ranking,
            entities=self.entities.extract(text, guess.code),
        )

    def _sure(self, top: IntentScore) -> bool:
        return top.name != OUT_OF_SCOPE and top.confidence >= self.threshold

    def _scored(self, text: str, language: str) -> tuple[tuple[IntentScore, ...], bool, float]:
        """The intents by probability, whether the message is about another topic, and the best intent's
        probability with the background class's share counted."""
        assert self._intent_model is not None
        scored = self._intent_model.probabilities(text, language)
        if scored is None:
            return (), False, 0.0
        classes, raw = scored
        probabilities, other_topic = in_scope(classes, raw, self._intent_model.temperature, self.out_of_scope_cut)
        order = np.argsort(probabilities)[::-1][:RANKING_SIZE]
        ranking = tuple(IntentScore(classes[i], round(float(probabilities[i]), 4)) for i in order)
        best_raw = float(raw[order[0]]) if order.size else 0.0
        return ranking, other_topic, best_raw

    def _after_opener(
        self, text: str, language: str, ranking: tuple[IntentScore, ...], other_topic: bool, best_raw: float
    ) -> tuple[tuple[IntentScore, ...], bool]:
        """A short reply ("thanks") that opens a request ("ok thanks, and when will it arrive?"): the request's
        ranking when, scored alone, it is another intent, sure, and surer than the whole message's.

        And one that opens another topic ("thanks! will it rain tomorrow?"): the rest's ranking, another topic,
        when the rest alone is the background class's and the short reply is not sure of the whole message, the
        background's share counted (``best_raw`` under ``OPENER_SURE``), unless it is a "yes" (``AGREEMENTS``).
        "Thank you, that was really useful" stays a thanks: the thanks is sure of it.
        """
        split = self._opener_split
        if split is None or not ranking or ranking[0].name not in split.split_after:
            return ranking, other_topic
        rest = split.rest(normalise(text))
        if rest is None:
            return ranking, other_topic
        alone, alone_other, _ = self._scored(rest, language)
        if (
            alone
            and alone[0].name not in split.short
            and self._sure(alone[0])
            and not alone_other
            and alone[0].confidence > ranking[0].confidence
        ):
            return alone, False
        if (
            alone_other
            and alone
            and alone[0].name == OUT_OF_SCOPE
            and best_raw < OPENER_SURE
            and ranking[0].name not in AGREEMENTS
        ):
            return alone, True
        return ranking, other_topic


def _flatten(examples: dict[str, dict[str, tuple[str, ...]]]) -> tuple[list[str], list[str], list[str]]:
    """(normalised texts, their intents, their languages), each text with accents also without them: customers
    type "e muon doi tra giay" for "em muốn đổi trả giày"."""
    texts, text_intents, text_languages = [], [], []
    for language, per_intent in examples.items():
        for intent, items in per_intent.items():
            for example in items:
                texts.append(normalise(example))
                text_intents.append(intent)
                text_languages.append(language)
    return with_folded_copies(texts, text_intents, text_languages)
