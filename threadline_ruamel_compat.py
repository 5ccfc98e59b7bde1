"""``ruamel.yaml.safe_load`` for Rasa projects' actions written before ruamel.yaml 0.18 removed it.

rasa-sdk 3.21 requires ``ruamel.yaml>=0.19.1,<0.20``, where the module-level
``safe_load``/``safe_load_all`` only raise ``AttributeError``; many Rasa 3.x
projects' actions call them at import time (to read a config YAML of their own).
Forcing an older ruamel.yaml breaks rasa-sdk's declared requirement, so instead
the two functions are given back, done the way ruamel.yaml's own message says
(``YAML(typ="safe", pure=True).load``). Only the *safe* loaders come back: the
unsafe ``load`` stays removed. rasa-sdk itself needs only ``ruamel.yaml.error``,
which this leaves alone.

Installed lazily (nothing is imported until ruamel.yaml is): in process
before a project's actions are imported, and, through
``threadline-ruamel-compat.pth`` that installing Threadline puts in
site-packages (``setup.py``), in every interpreter of that environment, so
plain ``python -m rasa_sdk`` loads such actions too. It is a module of its own
at the top level: the ``.pth`` imports it at every start, and importing a
package there would shadow any other package of that name.
``THREADLINE_RUAMEL_COMPAT=0`` turns both off.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any


def _safe_yaml() -> Any:
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True)


def safe_load(stream: Any, version: Any = None) -> Any:
    """The first YAML document of ``stream`` (a string or an open file), with basic tags only."""
    yaml = _safe_yaml()
    if version is not None:
        yaml.version = version
    return yaml.load(stream)


def safe_load_all(stream: Any, version: Any = None) -> Iterator[Any]:
    """Every YAML document of ``stream``, with basic tags only."""
    yaml = _safe_yaml()
    if version is not None:
        yaml.version = version
    return iter(list(yaml.load_all(stream)))


def _ruamel_yaml() -> ModuleType:
    """The module itself, also while it is still being imported (when ``ruamel.yaml`` is not yet an attribute)."""
    return importlib.import_module("ruamel.yaml")


def removed() -> bool:
    """Whether the installed ruamel.yaml has lost ``safe_load`` (it raises instead of loading)."""
    try:
        _ruamel_yaml().safe_load("ok: true")
    except AttributeError:
        return True
    return False


def install() -> bool:
    """Give ``ruamel.yaml`` its safe loaders back when they were removed; says whether it did."""
    yaml = _ruamel_yaml()
    if getattr(getattr(yaml, "safe_load", None), "__module__", "") == __name__ or not removed():
        return False
    for module in (yaml, importlib.import_module("ruamel.yaml.main")):
        setattr(module, "safe_load", safe_load)  # noqa: B010 - the stubs say the removed functions still exist
        setattr(module, "safe_load_all", safe_load_all)  # noqa: B010
    return True


class _AfterRuamelImport:
    """A one-shot import hook: lets ruamel.yaml import as usual, then runs :func:`install` on it.

    Installing eagerly at interpreter start would import ruamel.yaml in every
    process of the environment; this costs nothing until something imports it.
    """

    def find_spec(self, name: str, path: Any, target: ModuleType | None = None) -> ModuleSpec | None:
        if name != "ruamel.yaml":
            return None
        sys.meta_path.remove(self)
        spec: ModuleSpec | None = None
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            spec = find_spec(name, path, target) if find_spec is not None else None
            if spec is not None:
                break
        if spec is None:
            return None
        loader: Any = spec.loader
        exec_module = getattr(loader, "exec_module", None)
        if exec_module is None:
            return spec

        def exec_then_install(module: ModuleType) -> None:
            exec_module(module)
            install()

        loader.exec_module = exec_then_install
        return spec


def install_on_import() -> None:
    """Run :func:`install` as soon as ruamel.yaml is imported (at once if it already is); the ``.pth`` calls this."""
    if os.environ.get("THREADLINE_RUAMEL_COMPAT", "1") == "0":
        return
    if "ruamel.yaml" in sys.modules:
        install()
    elif not any(isinstance(finder, _AfterRuamelImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _AfterRuamelImport())
