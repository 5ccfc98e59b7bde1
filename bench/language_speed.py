"""What language identification costs per message, as the demo bot runs it (its own examples included).

Times ``LanguageIdentifier.identify`` alone, one message at a time (the character features the intent model
computes anyway are computed first, outside the timing), over the demo's held-out customer messages
(tests/heldout/demo.jsonl) and, when MASSIVE is beside the checkout, the first ``--massive`` test
utterances of each locale; without any hint, and with the thread's language. Prints the CPU time this thread
spent per message (p50, p99, mean, in microseconds: other programs on the cores inflate it less than wall
time), the wall time's p50, the accuracy, and the machine's load average.

    .venv/bin/python bench/language_speed.py [--massive 300] [--rounds 3] [--data ../shared/data/massive]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bots.config import SUPPORTED_LANGUAGES  # noqa: E402
from bots.flow.loader import load_bot_or_raise  # noqa: E402
from nlu_models.base import LanguageHints  # noqa: E402
from nlu_models.char_ngrams import CharNgramInterpreter  # noqa: E402


def messages(per_locale: int, massive: Path) -> list[tuple[str, str]]:
    """(text, language): the demo's held-out messages, then MASSIVE test utterances."""
    with (ROOT / "tests" / "heldout" / "demo.jsonl").open(encoding="utf-8") as file:
        out = [(row["text"], row["lang"]) for row in map(json.loads, file)]
    for language in SUPPORTED_LANGUAGES:
        matches = sorted(massive.glob(f"{language}-*.jsonl"))
        if not matches or not per_locale:
            continue
        with matches[0].open(encoding="utf-8") as file:
            rows = [row for row in map(json.loads, file) if row["partition"] == "test"]
        out += [(row["utt"], language) for row in rows[:per_locale]]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--massive", type=int, default=300, help="MASSIVE test utterances per locale (0: none)")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the messages; the fastest counts")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "massive", help="MASSIVE 1.1")
    args = parser.parse_args()
    bot = load_bot_or_raise(ROOT / "flows", languages=SUPPORTED_LANGUAGES, default_language="en")
    interpreter = CharNgramInterpreter(bot.examples, bot.languages, "en", bot.nlu_threshold, words=False)
    identifier, grams = interpreter.language_id, interpreter.grams
    assert grams is not None
    texts = messages(args.massive, args.data)
    features = [grams.features(text) for text, _ in texts]
    print(f"{len(texts)} messages; load average before: {os.getloadavg()[0]:.2f}")
    print(f"{'hints':<10} {'CPU p50 us':>10} {'p99 us':>8} {'mean us':>8} {'wall p50 us':>11} {'correct':>8}")
    for name, hint in (("none", lambda _: LanguageHints()), ("thread's", lambda code: LanguageHints(code))):
        best: list[float] = []
        walls: list[float] = []
        correct = 0
        for _ in range(args.rounds):
            times, wall, correct = [], [], 0
            for (text, language), feature in zip(texts, features, strict=True):
                hints = hint(language)
                began, cpu = time.perf_counter(), time.thread_time()
                guess = identifier.identify(text, hints, features=feature)
                times.append((time.thread_time() - cpu) * 1e6)
                wall.append((time.perf_counter() - began) * 1e6)
                correct += guess.code == language
            if not best or statistics.median(times) < statistics.median(best):
                best, walls = times, wall
        best.sort()
        print(
            f"{name:<10} {best[len(best) // 2]:>10.1f} {best[int(len(best) * 0.99)]:>8.1f} "
            f"{statistics.mean(best):>8.1f} {statistics.median(walls):>11.1f} {correct / len(texts):>8.1%}"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
