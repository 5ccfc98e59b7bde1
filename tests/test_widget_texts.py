"""The widget's own words: a complete catalogue in the eleven languages, the bot's overrides checked in
config.yaml with the line and the nearest key, and served with the bot's languages only."""

from __future__ import annotations

import re
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bots.config import SUPPORTED_LANGUAGES, load_config
from bots.errors import ProblemsError
from bots.runtime import open_runtime
from bots.server.app import create_app
from connectors.web.texts import CATALOGUE
from tests.conftest import DEMO_BOT, demo_config


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def test_every_language_has_every_text_with_its_placeholders() -> None:
    assert list(CATALOGUE) == list(SUPPORTED_LANGUAGES)
    english = CATALOGUE["en"]
    for code, texts in CATALOGUE.items():
        assert list(texts) == list(english), f"{code} has other keys than en"
        for key, text in texts.items():
            assert text.strip(), f"{code}.{key} is empty"
            assert placeholders(text) == placeholders(english[key]), f"{code}.{key} has other placeholders"
            assert len(text) <= 2 * len(english[key]) + 20, f"{code}.{key} is much longer than the English"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient]:
    texts = {"de": {"placeholder": "Frag Stride etwas…"}}
    config = demo_config(
        tmp_path / "data",
        languages=["de", "en"],
        connectors={"web": {"widget_texts": texts}},
    )
    async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
        yield client


async def test_served_with_the_bots_languages_its_default_and_its_own_words(client: TestClient) -> None:
    response = await client.get("/widget-texts.json")
    assert response.status == 200 and response.headers["Access-Control-Allow-Origin"] == "*"
    body = await response.json()
    assert body["default"] == "en" and list(body["texts"]) == ["de", "en"]  # no French: the bot does not speak it
    assert body["texts"]["de"]["placeholder"] == "Frag Stride etwas…"  # the bot's word
    assert body["texts"]["de"]["close"] == CATALOGUE["de"]["close"]  # the catalogue's
    assert body["texts"]["en"] == CATALOGUE["en"]
    again = await client.get("/widget-texts.json", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status == 304


def write_config(tmp_path: Path, widget_texts: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(
        f"bot: {DEMO_BOT}\nconnectors:\n  web:\n    widget_texts:\n" + textwrap.indent(widget_texts, "      "),
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("widget_texts", "line", "says"),
    [
        (
            "de:\n  placeholder: ok\n  placeholdr: Frag uns\n",
            7,
            "unknown text 'placeholdr'; did you mean 'placeholder'?",
        ),
        ("en: {send: Go}\nvn: {send: Gửi}\n", 6, "unknown language 'vn'; known languages: en, zh, nl"),
        (
            "fr:\n  unread: 'Non lus'\n",
            6,
            "fr.unread: keep {count} (the widget fills it in) and add no other placeholder",
        ),
        ("es:\n  send: 'Enviar {now}'\n", 6, "es.send: the widget fills in no placeholder in this text"),
    ],
)
def test_a_wrong_override_is_refused_with_its_line(tmp_path: Path, widget_texts: str, line: int, says: str) -> None:
    path = write_config(tmp_path, widget_texts)
    with pytest.raises(ProblemsError) as raised:
        load_config(path)
    [problem] = raised.value.problems
    assert (problem.mark.file, problem.mark.line) == (str(path), line)
    assert says in problem.message, problem.message


def test_a_good_override_loads(tmp_path: Path) -> None:
    config: Any = load_config(write_config(tmp_path, "vi:\n  placeholder: Hỏi Stride…\n"))
    assert config.connectors.web.widget_texts == {"vi": {"placeholder": "Hỏi Stride…"}}
