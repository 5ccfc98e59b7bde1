"""ruamel.yaml's removed safe loaders, given back to Rasa 3.x projects' actions in every interpreter of the environment.

Each check runs a fresh interpreter of this environment, as ``python -m rasa_sdk`` is one: what matters is what
the installed ``threadline-ruamel-compat.pth`` does at start-up, which the test process itself cannot show.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import threadline_ruamel_compat as ruamel_compat

PTH = Path(sysconfig.get_path("purelib"), "threadline-ruamel-compat.pth")


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True, timeout=60, check=False
    )


def test_the_shim_gives_back_only_the_safe_loaders() -> None:
    import ruamel.yaml

    ruamel_compat.install()
    assert ruamel.yaml.safe_load("a: [1, two]") == {"a": [1, "two"]}
    assert list(ruamel.yaml.safe_load_all("a: 1\n---\nb: 2\n")) == [{"a": 1}, {"b": 2}]
    with pytest.raises(Exception, match="could not determine a constructor"):
        ruamel.yaml.safe_load("!!python/object/apply:os.system ['true']")
    with pytest.raises(AttributeError, match="has been removed"):
        ruamel.yaml.load("a: 1")  # the unsafe loader stays removed


def test_installing_threadline_puts_the_hook_in_site_packages() -> None:
    assert PTH.read_text() == (Path(__file__).parents[1] / PTH.name).read_text()


def test_a_fresh_interpreter_loads_old_actions_code_and_imports_ruamel_only_when_asked() -> None:
    result = _python(
        "import sys; print('ruamel.yaml' in sys.modules)\n"
        "import ruamel.yaml; print(ruamel.yaml.safe_load('a: [1, two]'))\n"
        "import ruamel.yaml.main; print(ruamel.yaml.main.safe_load('b: 2'))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["False", "{'a': [1, 'two']}", "{'b': 2}"]


def test_the_hook_also_works_when_a_submodule_is_imported_first() -> None:
    result = _python(
        "from ruamel.yaml.error import YAMLError\nimport ruamel.yaml\nprint(ruamel.yaml.safe_load('c: 3'))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "{'c': 3}"


def test_the_switch_turns_it_off_as_under_rasa() -> None:
    result = _python("import ruamel.yaml\nruamel.yaml.safe_load('a: 1')", THREADLINE_RUAMEL_COMPAT="0")
    assert result.returncode != 0
    assert "AttributeError" in result.stderr
    assert "safe_load" in result.stderr


def test_the_hook_imports_no_package_so_a_projects_own_bots_package_stays_its_own(tmp_path: Path) -> None:
    (tmp_path / "bots").mkdir()
    (tmp_path / "bots" / "__init__.py").write_text("")
    (tmp_path / "bots" / "mine.py").write_text("WHOSE = 'mine'\n")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import bots.mine, sys; print(bots.mine.WHOSE, 'threadline_ruamel_compat' in sys.modules)",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["mine", "True"]  # the hook is installed, and imported only its own module
