"""The demo bot's NLU on real-looking customer messages it never saw, in all 11 languages.

tests/heldout/demo.jsonl holds 924 messages (6 per intent and language) as
customers type them: informal, short, with typos, missing accents, slang and
emoji. None is a training example. The floors sit a little under what the
model measures (see BENCHMARKS.md), so a change that makes the demo bot
understand its customers worse fails here, in whichever language it happens.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bots.flow.model import Bot
from nlu_models.base import LanguageHints
from nlu_models.char_ngrams import CharNgramInterpreter
from nlu_models.evaluate import Report, read_examples, report

HELDOUT = Path(__file__).parent / "heldout" / "demo.jsonl"


@pytest.fixture(scope="module")
def interpreter(demo_bot: Bot) -> CharNgramInterpreter:
    return CharNgramInterpreter.for_bot(demo_bot)


def evaluate(interpreter: CharNgramInterpreter, with_thread_language: bool) -> Report:
    examples = read_examples(HELDOUT)
    results = [interpreter.parse_sync(e.text, LanguageHints(thread_language=e.language if with_thread_language
                                                            else None)) for e in examples]
    return report(examples, [r.intent or "nlu_fallback" for r in results],
                  [r.language or "" for r in results])


def test_the_heldout_messages_are_not_training_examples(demo_bot: Bot) -> None:
    examples = read_examples(HELDOUT)
    assert len(examples) == 924
    trained = {(language, text.lower()) for language, per in demo_bot.examples.items()
               for texts in per.values() for text in texts}
    assert not [e.text for e in examples if (e.language, e.text.lower()) in trained]
    assert {e.intent for e in examples} <= set(demo_bot.intents)


def test_the_demo_understands_customers_it_never_saw(interpreter: CharNgramInterpreter) -> None:
    result = evaluate(interpreter, with_thread_language=False)
    assert result.accuracy >= 0.93 and result.macro_f1 >= 0.93, result.confusions
    for language, figures in result.per_language.items():
        assert figures["accuracy"] >= 0.88, (language, figures)
    assert result.language_id_accuracy is not None and result.language_id_accuracy >= 0.90


def test_the_threads_language_makes_language_id_reliable(interpreter: CharNgramInterpreter) -> None:
    result = evaluate(interpreter, with_thread_language=True)
    assert result.language_id_accuracy is not None and result.language_id_accuracy >= 0.99
    assert result.accuracy >= 0.93
