"""Build the out-of-scope background corpus the intent model trains against (nlu_models/data/).

Why: a bot's intents are all it knows, so a message from another topic (the
weather, a recipe, arithmetic, a joke) used to win whichever intent looked
least unlike it, often with high confidence. A background class of everyday
requests from other domains, in every language, gives those messages a place
to go: the fallback. The bot author writes no negative examples for this.

Source: MASSIVE 1.1's ``train`` split (CC BY 4.0, Amazon; see the notice written
beside the corpus). Only scenarios far from a shop's customer service are
used, and within them only intents that never ask about orders, prices,
shops or greetings (``general_greet``, ``qa_currency``, ``qa_stock`` and
``recommendation_locations`` are left out). The scenarios bench/nlu_massive.py
holds out to test out-of-scope detection are not used at all.

For each locale, up to ``PER_INTENT`` utterances per intent, drawn with a seed of
the locale's own (so the languages do not all say the same sentences), without
lines MASSIVE left untranslated and without repeats. Each line names its MASSIVE
scenario, so bench/massive_out_of_scope.py can leave a domain out and test on it.

    .venv/bin/python bench/build_out_of_scope_corpus.py [--data DIR] [--out FILE] [--commands N]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.massive_data import DATA, LOCALES, rows  # noqa: E402
from nlu_models.out_of_scope import BACKGROUND_INTENTS, COMMAND_INTENTS, CORPUS  # noqa: E402

PER_INTENT = 16
# the topics customers stray to most (and arithmetic, which reads like a price question) get more
MORE = {"qa_maths": 48, "weather_query": 48, "general_joke": 32}


def pick(locale: str, english: dict[str, str], data: Path, commands: int = 0) -> list[tuple[str, str]]:
    """Up to PER_INTENT translated, distinct (utterance, scenario) of each background intent of ``locale``,
    and up to ``commands`` of each command intent (an experiment: see COMMAND_INTENTS)."""
    by_intent: dict[str, list[tuple[str, str]]] = {}
    for row in rows(locale, data)["train"]:
        if row["intent"] not in BACKGROUND_INTENTS and not (commands and row["intent"] in COMMAND_INTENTS):
            continue
        if locale != "en-US" and row["utt"] == english.get(row["id"]):
            continue  # left untranslated
        by_intent.setdefault(row["intent"], []).append((row["utt"], row["scenario"]))
    chosen: list[tuple[str, str]] = []
    draw = random.Random(f"out-of-scope {locale}")
    for intent in sorted(by_intent):
        texts = sorted(set(by_intent[intent]))
        draw.shuffle(texts)
        chosen += texts[: commands if intent in COMMAND_INTENTS else MORE.get(intent, PER_INTENT)]
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the MASSIVE 1.1 folder (one .jsonl per locale)")
    parser.add_argument("--out", type=Path, default=CORPUS, help="where to write the corpus")
    parser.add_argument("--commands", type=int, default=0, help="also N utterances of each command intent (tried)")
    args = parser.parse_args()
    english = {row["id"]: row["utt"] for row in rows("en-US", args.data)["train"]}
    lines = []
    for locale in LOCALES:
        language = locale.split("-")[0]
        texts = pick(locale, english, args.data, args.commands)
        lines += [
            json.dumps({"lang": language, "text": text, "scenario": scenario}, ensure_ascii=False)
            for text, scenario in texts
        ]
        print(f"{locale}: {len(texts)} utterances")
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    shutil.copyfile(args.data / "LICENSE", args.out.parent / "MASSIVE-LICENSE")
    print(f"wrote {len(lines)} lines to {args.out}")


if __name__ == "__main__":
    main()
