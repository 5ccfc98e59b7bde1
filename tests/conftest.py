"""Shared fixtures: tiny bots written to temp folders, the demo bot, and a real runtime on SQLite."""

from __future__ import annotations

import asyncio
import itertools
import os
import textwrap
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from bots.config import SUPPORTED_LANGUAGES, Config
from bots.flow.engine import Engine
from bots.flow.loader import LoadResult, load_bot
from bots.flow.model import Bot
from bots.runtime import Runtime, open_runtime
from tests.servers import Server, start_postgres, start_redis

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

    def make(
        files: dict[str, str] | None = None,
        *,
        base: bool = True,
        actions: list[str] | None = None,
        languages: tuple[str, ...] = ("en", "de"),
        channels: tuple[str, ...] | None = None,
    ) -> LoadResult:
        merged = {**(BASE_FILES if base else {}), **(files or {})}
        root = write_bot(tmp_path / f"bot{next(counter)}", merged)
        return load_bot(root, languages=languages, default_language="en", actions=actions, channels=channels)

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
    result = load_bot(
        DEMO_BOT,
        languages=SUPPORTED_LANGUAGES,
        default_language="en",
        actions=[
            "lookup_order",
            "lookup_product",
            "recall_viewed_product",
            "format_callback_date",
            "check_callback_date",
            "validate_support_form",
        ],
    )
    assert result.bot is not None, "\n".join(map(str, result.problems))
    return result.bot


def demo_config(data_dir: Path, **overrides: object) -> Config:
    return Config.model_validate({"bot": DEMO_BOT, "data_dir": data_dir, **overrides})


@pytest.fixture
async def demo_runtime(tmp_path: Path) -> AsyncIterator[Runtime]:
    async with open_runtime(demo_config(tmp_path / "data")) as runtime:
        yield runtime


# ---------------------------------------------------------------------- real PostgreSQL and Redis servers


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Server]:
    try:
        server = start_postgres()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[Server]:
    try:
        server = start_redis()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    yield server
    server.stop()


_databases = itertools.count(1)


@pytest.fixture
def postgres_url(postgres_server: Server) -> str:
    """A new, empty database on the session's server."""
    import asyncpg

    name = f"tl_test_{next(_databases)}"

    async def create() -> None:
        connection = await asyncpg.connect(postgres_server.url)
        try:
            await connection.execute(f"CREATE DATABASE {name}")
        finally:
            await connection.close()

    asyncio.run(create())
    return postgres_server.url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def redis_url(redis_server: Server) -> str:
    """An emptied logical database on the session's server (databases are reused round-robin)."""
    import redis

    index = next(_databases) % 63 + 1
    url = redis_server.url.rsplit("/", 1)[0] + f"/{index}"
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
    return url


@pytest.fixture(params=["sqlite", "postgres", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store URL for each backend: the contract tests run against all three."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'threads.db'}"  # an absolute path: four slashes
    return str(request.getfixturevalue(f"{request.param}_url"))


# ---------------------------------------------------------------------- property-based fuzzing (hypothesis)

# CI runs the fuzz tests (tests/fuzz/) with a fixed set of examples, the same every run and well under a minute.
# THREADLINE_FUZZ_SCALE=N runs N times as many, new ones each run, keeping failures in .hypothesis/ to replay.
FUZZ_SCALE = max(1, int(os.environ.get("THREADLINE_FUZZ_SCALE", "1")))
settings.register_profile(
    "ci",
    deadline=None,  # a busy 2-core machine must not fail an example for being slow
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "explore",
    settings.get_profile("ci"),
    derandomize=False,
    database=DirectoryBasedExampleDatabase(".hypothesis/examples"),
)
settings.load_profile("explore" if FUZZ_SCALE > 1 else "ci")


def fuzz_examples(count: int) -> int:
    """How many examples a fuzz test tries: ``count`` in CI, more when THREADLINE_FUZZ_SCALE asks for it."""
    return count * FUZZ_SCALE
