"""Shared fixtures: tiny bots written to temp folders, the demo bot, and a real runtime on SQLite."""

from __future__ import annotations

import socket
import textwrap
from pathlib import Path
from typing import AsyncIterator, Callable

import pytest

from bots.config import SUPPORTED_LANGUAGES, Config
from bots.flow.engine import Engine
from bots.flow.loader import LoadResult, load_bot
from bots.flow.model import Bot
from bots.runtime import Runtime, open_runtime

REPO = Path(__file__).resolve().parent.parent
DEMO_BOT = REPO / "flows"

# A small English/German bot that the engine tests build on.
BASE_FILES = {
    "texts.yml": """
        responses:
          hello: {en: "Hello!", de: "Hallo!"}
          bye: {en: "Bye {name}"}
          ask_size: {en: "Which size?", de: "Welche Größe?"}
          bad_size: {en: "That is not a size."}
          size_ok: {en: "Size {size} it is."}
          ask_email: {en: "Your email?"}
          got_email: {en: "Mail {email}"}
          cancelled: {en: "Stopped."}
          fallback: {en: "Sorry?"}
          human: {en: "A person will answer."}
          gave_up: {en: "Let me get a person."}
    """,
    "nlu.yml": """
        language: en
        nlu:
          greet: [hi, hello, hey there, good morning, hiya]
          goodbye: [bye, see you, goodbye, ciao, later]
          size_help: [which size, size chart, what size should i take, do they run small, sizing]
          contact: [my email, contact me, email me, send me an email, mail]
    """,
    "nlu_de.yml": """
        language: de
        nlu:
          greet: [hallo, guten morgen, servus, moin, hallo zusammen]
    """,
    "slots.yml": """
        slots:
          size: {type: number, min: 30, max: 50}
          email: {type: email}
          name: {type: text}
    """,
    "settings.yml": """
        settings:
          fallback_flow: fallback
          nlu_threshold: 0.3
          cancel:
            response: cancelled
            keywords: {en: [cancel], de: [abbrechen]}
    """,
    "flows.yml": """
        flows:
          greet:
            trigger: {intents: [greet]}
            steps:
              - say: hello
          size:
            trigger: {intents: [size_help], payloads: [/size]}
            steps:
              - ask: size
                prompt: ask_size
                invalid: bad_size
                max_attempts: 2
                on_failure:
                  - say: gave_up
              - say: size_ok
          contact:
            trigger: {intents: [contact]}
            steps:
              - ask: email
                prompt: ask_email
              - say: got_email
          fallback:
            steps:
              - say: fallback
    """,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_bot(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture
def make_bot(tmp_path: Path) -> Callable[..., LoadResult]:
    """Write files (merged over BASE_FILES unless base=False) and load them as a bot."""
    counter = iter(range(1000))

    def make(files: dict[str, str] | None = None, *, base: bool = True, actions: list[str] | None = None,
             languages: tuple[str, ...] = ("en", "de")) -> LoadResult:
        merged = {**(BASE_FILES if base else {}), **(files or {})}
        root = write_bot(tmp_path / f"bot{next(counter)}", merged)
        return load_bot(root, languages=languages, default_language="en", actions=actions)

    return make


@pytest.fixture
def engine_for(make_bot: Callable[..., LoadResult]) -> Callable[..., Engine]:
    def build(files: dict[str, str] | None = None, **kwargs: object) -> Engine:
        result = make_bot(files, **kwargs)
        assert result.bot is not None, "\n".join(map(str, result.problems))
        return Engine(result.bot, public_url="https://shop.example")

    return build


@pytest.fixture(scope="session")
def demo_bot() -> Bot:
    result = load_bot(DEMO_BOT, languages=SUPPORTED_LANGUAGES, default_language="en", actions=["lookup_order",
                                                                                            "lookup_product",
                                                                                            "recall_viewed_product"])
    assert result.bot is not None, "\n".join(map(str, result.problems))
    return result.bot


def demo_config(data_dir: Path, **overrides: object) -> Config:
    return Config.model_validate({"bot": DEMO_BOT, "data_dir": data_dir, **overrides})


@pytest.fixture
async def demo_runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with open_runtime(demo_config(tmp_path / "data")) as runtime:
        yield runtime
