"""config.yaml: defaults, environment variables, and errors that name the key and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bots.config import load_config
from bots.errors import ProblemsError, UserError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def problems(path: Path) -> str:
    """What loading the file reports, one problem a line."""
    with pytest.raises(ProblemsError) as caught:
        load_config(path)
    return str(caught.value)


def test_defaults_and_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("THREADLINE_DATA_DIR", raising=False)
    config = load_config(write(tmp_path, "bot: mybot\n"))
    assert config.bot == (tmp_path / "mybot").resolve()
    assert config.languages == ("en", "zh", "nl", "fr", "de", "it", "pl", "pt", "ro", "es", "vi")
    assert config.store == "sqlite:///threadline.db"
    assert config.data_dir == Path("data")
    assert (config.server.host, config.server.port) == ("127.0.0.1", 8080)
    assert config.public_url == "http://127.0.0.1:8080"


def test_environment_variables_and_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THREADLINE_DATA_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("MY_PORT", "9090")
    monkeypatch.setenv("MY_SECRET", "t0ken")
    config = load_config(
        write(
            tmp_path,
            "server:\n  port: ${MY_PORT}\n  admin_token: ${MY_SECRET}\n"
            "  public_url: ${PUBLIC:-https://shop.example/}\n",
        )
    )
    assert config.server.port == 9090 and config.server.admin_token == "t0ken"
    assert config.public_url == "https://shop.example"
    assert config.data_dir == tmp_path / "elsewhere"


def test_every_problem_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "languages: [en, klingon]\ndefault_language: de\nstor: x\nserver:\n  port: 99999\n")
    text = problems(path)
    assert f"{path}:1:1: error CFG-E003: languages: unsupported language 'klingon'" in text
    assert f"{path}:3:1: error CFG-E003: unknown key 'stor' in the file" in text
    assert f"{path}:5:3: error CFG-E003: server.port: Input should be less than or equal to 65535" in text


def test_default_language_must_be_listed(tmp_path: Path) -> None:
    with pytest.raises(ProblemsError, match="default_language: .de. is not in languages"):
        load_config(write(tmp_path, "languages: [en, fr]\ndefault_language: de\n"))


def test_data_dir_comes_from_the_environment_only(tmp_path: Path) -> None:
    with pytest.raises(ProblemsError, match="set the THREADLINE_DATA_DIR environment variable instead"):
        load_config(write(tmp_path, "data_dir: /x\n"))


def test_not_a_mapping_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ProblemsError, match="must be a mapping"):
        load_config(write(tmp_path, "- a\n- b\n"))
    with pytest.raises(UserError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")


def test_store_url_and_default_language_problems_point_at_their_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "languages: [en]\nstore: sqlite:///x.db?synchronous=fast\ndefault_language: fr\n")
    with pytest.raises(ProblemsError) as caught:
        load_config(path)
    text = str(caught.value)
    assert f"{path}:2:1: error CFG-E003: store: synchronous must be off, normal, full or extra" in text
    assert f"{path}:3:1: error CFG-E003: default_language: 'fr' is not in languages" in text
    with pytest.raises(ProblemsError, match="duplicate key 'store'"):
        load_config(write(tmp_path, "store: sqlite:///a.db\nstore: sqlite:///b.db\n"))


def test_request_timeouts_default_and_must_be_positive(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "server:\n  body_timeout_seconds: 5\n"))
    assert (config.server.idle_timeout_seconds, config.server.body_timeout_seconds) == (75.0, 5.0)
    path = write(tmp_path, "server:\n  idle_timeout_seconds: 0\n  body_timeout_seconds: soon\n")
    text = problems(path)
    assert f"{path}:2:3: error CFG-E003: server.idle_timeout_seconds: Input should be greater than 0" in text
    assert f"{path}:3:3: error CFG-E003: server.body_timeout_seconds: Input should be a valid number" in text
