"""``threadline test [PATHS]``: run conversation tests; exit 0 all passed, 1 a test failed, 2 bad input."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

from bots.config import load_config
from bots.convtest.report import json_report, text_report
from bots.convtest.runner import run_tests

DEFAULT_FOLDER = "conversations"  # next to config.yaml: outside the bot folder, whose *.yml the loader reads


class _NoSkippedValidation(logging.Filter):
    """rasa-sdk warns of every form slot without a ``validate_<slot>`` method, on every turn: normal for a form
    (Rasa says the same), and between the report's lines it reads like a failure."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Skipping validation for")


def conversation_test(config_path: Path, paths: list[Path], *, as_json: bool, verbose: bool) -> int:
    config = load_config(config_path)
    logging.getLogger().setLevel(logging.WARNING)  # the report is the output; the runtime's start is noise here
    logging.getLogger("rasa_sdk.forms").addFilter(_NoSkippedValidation())
    chosen = paths or [config_path.parent / DEFAULT_FOLDER]
    results = asyncio.run(run_tests(config, chosen))
    if as_json:
        print(json.dumps(json_report(results), ensure_ascii=False, indent=2, default=str))
    else:
        print(text_report(results, verbose=verbose))
    return 0 if all(r.ok for r in results) else 1
