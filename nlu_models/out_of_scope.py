"""Out-of-scope detection: a background class of everyday requests from other domains, in every language.

A classifier trained on a bot's intents alone must hand every message to one
of them, so "quanto é 14 vezes 12" was a price question at 1.00. Measured on
held-out MASSIVE domains and on the demo bot (BENCHMARKS.md), one extra class,
``out_of_scope``, trained on a small multilingual corpus of other domains
(weather, recipes, arithmetic, trivia, jokes, news, films, games, radio, podcasts:
nlu_models/data/, built by bench/build_out_of_scope_corpus.py from MASSIVE, CC
BY 4.0) sends such messages to the fallback far more often than the threshold
did (demo: 33 % -> 93 %; MASSIVE's unseen domains, in folds: 40 % -> 47 %), at
a cost in scope (demo: 1.0 point, mostly sentences sharing words with other
topics; MASSIVE: 0.1). The bot author's own
``out_of_scope`` examples (e.g. "what are your opening hours?" for a shop that
does not answer that) join the same class. Prediction is unchanged: one more
column of the same linear model. Domains the corpus lacks (flights, a voice
assistant's commands) are caught by a cut calibrated on the bot's own examples
held out (``calibrated_cut``): a message whose best intent scores lower than
nearly all of them is another topic (MASSIVE's unseen domains: 47 % -> 53 %, at
0.2 points more).
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bots.types import OUT_OF_SCOPE

if TYPE_CHECKING:
    from nlu_models.intent import IntentModel

# Chosen on the demo bot's held-out messages (tests/heldout/demo.jsonl, out_of_scope.jsonl): 0.1 sent more
# in-scope chat to the fallback, above 0.4 out-of-scope recall falls; in between both move by under half a point.
# MASSIVE's held-out domains (BENCHMARKS.md) check it on data it was not chosen on.
MARGIN = 0.3
# The share of the bot's own correctly read examples, held out, that the calibrated cut would send to the
# fallback (calibrated_cut): chosen on MASSIVE dev (BENCHMARKS.md), where 0.01 cost vi-VN a point of accuracy
CUT_QUANTILE = 0.005
CUT_EXAMPLES = 20  # fewer held-out examples than this tell too little of where the bot's own messages score
CORPUS = Path(__file__).parent / "data" / "out_of_scope.jsonl"

# MASSIVE intents the corpus is drawn from: far from orders, prices, shops and greetings
BACKGROUND_INTENTS = frozenset(
    {
        "weather_query",
        "cooking_recipe",
        "cooking_query",
        "qa_definition",
        "qa_factoid",
        "qa_maths",
        "general_joke",
        "general_quirky",
        "news_query",
        "recommendation_events",
        "recommendation_movies",
        "play_game",
        "play_podcasts",
        "play_radio",
    }
)
# Commands to a voice assistant (alarms, lights, volume, music, the time): measured as an addition to the corpus
# (bench/build_out_of_scope_corpus.py --commands N, BENCHMARKS.md) and not shipped: on MASSIVE's unseen domains
# they raised the share reaching the fallback from 43 % to 51 % (en-US dev), but cost the demo bot 0.3 to 0.7
# points of in-scope accuracy, and a shop's customers rarely send such commands.
COMMAND_INTENTS = frozenset(
    {
        "play_music",
        "play_audiobook",
        "alarm_query",
        "alarm_remove",
        "alarm_set",
        "audio_volume_down",
        "audio_volume_mute",
        "audio_volume_up",
        "datetime_convert",
        "datetime_query",
        "iot_cleaning",
        "iot_coffee",
        "iot_hue_lightchange",
        "iot_hue_lightdim",
        "iot_hue_lightoff",
        "iot_hue_lighton",
        "iot_hue_lightup",
        "iot_wemo_off",
        "iot_wemo_on",
        "music_likeness",
        "music_query",
        "music_settings",
    }
)


@cache
def _corpus() -> tuple[tuple[str, str, str], ...]:
    """(language, text, MASSIVE scenario) of every background utterance."""
    with CORPUS.open(encoding="utf-8") as file:
        items = [json.loads(line) for line in file]
    return tuple((item["lang"], item["text"], item["scenario"]) for item in items)


def background_texts(languages: Iterable[str], leave_out: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """(text, language) of the corpus in ``languages``, in their order (as training has always seen them), without
    the scenarios in ``leave_out`` (for benchmarks that hold domains out, so the figure is for domains never seen)."""
    corpus = _corpus()
    return [
        (text, language)
        for language in languages
        for lang, text, scenario in corpus
        if lang == language and scenario not in leave_out
    ]


def with_background(
    texts: list[str], intents: list[str], languages: list[str], leave_out: frozenset[str] = frozenset()
) -> tuple[list[str], list[str], list[str]]:
    """The training examples plus the background corpus of the bot's languages, labelled ``out_of_scope``.

    Only when the bot has intents of its own to tell apart from it, and only in the languages its examples are
    in (a language it has no examples in has no intents to protect, and its background would only cost time).
    A language gets no more background than it has examples of its own: a bot with a handful of German examples,
    served in German by its English ones through a sentence encoder, would otherwise find every German message
    closer to 292 German background sentences than to its intents."""
    if not set(intents) - {OUT_OF_SCOPE}:
        return texts, intents, languages
    own = Counter(language for language, intent in zip(languages, intents, strict=True) if intent != OUT_OF_SCOPE)
    taken: Counter[str] = Counter()
    extra = []
    for text, language in background_texts(dict.fromkeys(languages), leave_out):
        if taken[language] < own[language]:
            taken[language] += 1
            extra.append((text, language))
    return (
        texts + [text for text, _ in extra],
        intents + [OUT_OF_SCOPE] * len(extra),
        languages + [language for _, language in extra],
    )


def in_scope(
    classes: list[str], probabilities: np.ndarray, temperature: float, cut: float = 0.0
) -> tuple[np.ndarray, bool]:
    """(the intents' probabilities as the bot's threshold reads them, whether the message is another topic).

    Another topic: the background class beats the best intent by ``MARGIN`` of score (it is larger than any
    intent, and one-word chat such as "jawoll" or "thnx" is too short to be another topic's), or the best
    intent's probability, the background's share counted, is under ``cut`` (``calibrated_cut``). Then the
    probabilities are returned as they are. Otherwise the background's column is zeroed and the intents'
    probabilities are those given the message is in scope, so the threshold between intents works as
    calibrated and an in-scope message does not fall back because another topic took a share.
    """
    if OUT_OF_SCOPE not in classes:
        return probabilities, False
    column = classes.index(OUT_OF_SCOPE)
    background = float(probabilities[column])
    best = float(max(probabilities[:column].max(initial=0.0), probabilities[column + 1 :].max(initial=0.0)))
    # a softmax over scores / temperature: a score lowered by MARGIN is a probability times exp(-MARGIN / T)
    if background * math.exp(-MARGIN / temperature) > best or best < cut:
        return probabilities, True
    given_in_scope = probabilities / max(1e-12, 1.0 - background)
    given_in_scope[column] = 0.0
    return given_in_scope, False


def calibrated_cut(
    model: IntentModel, texts: list[str], intents: list[str], languages: list[str], threshold: float
) -> float:
    """The probability under which a message's best intent is taken for another topic: the ``CUT_QUANTILE``
    of what the bot's own examples score when held out (cross-validated), counting those the bot gets right.

    Messages of domains the background corpus lacks score lower on every intent than the bot's own kind of
    message does; calibrating on the bot's examples needs no dev set, and "one in 200 of the bot's own kind
    of message" is what it costs (MASSIVE dev, BENCHMARKS.md). 0 (no cut) with too few examples to tell."""
    if OUT_OF_SCOPE not in model.classes:
        return 0.0
    scored, probabilities = model.held_out_probabilities(texts, intents, languages)
    best_scores = []
    for row, example in zip(probabilities, scored, strict=True):
        if intents[example] == OUT_OF_SCOPE:
            continue
        given, other_topic = in_scope(model.classes, row, model.temperature)
        best = int(given.argmax())
        if not other_topic and model.classes[best] == intents[example] and given[best] >= threshold:
            best_scores.append(float(row[best]))
    if len(best_scores) < CUT_EXAMPLES:
        return 0.0
    return float(np.quantile(best_scores, CUT_QUANTILE))
