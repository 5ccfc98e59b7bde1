"""``ruamel.yaml.safe_load`` for Rasa projects' actions written before ruamel.yaml 0.18 removed it.

rasa-sdk 3.21 requires ``ruamel.yaml>=0.19.1,<0.20``, where the module-level
``safe_load``/``safe_load_all`` only raise ``AttributeError``; many Rasa 3.x
projects' actions call them at import time (to read a config YAML of their own).
Forcing an older ruamel.yaml breaks rasa-sdk's declared requirement, so instead
the two functions are given back, done the way ruamel.yaml's own message says
(``YAML(typ="safe", pure=True).load``). Only the *safe* loaders come back: the
unsafe ``load`` stays removed. rasa-sdk itself needs only ``ruamel.yaml.error``,
which this leaves alone.
"""

from __future__ import annotations

from collections.abc import Iterator
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


def removed() -> bool:
    """Whether the installed ruamel.yaml has lost ``safe_load`` (it raises instead of loading)."""
    import ruamel.yaml

    try:
        ruamel.yaml.safe_load("ok: true")
    except AttributeError:
        return True
    return False


def install() -> bool:
    """Give ``ruamel.yaml`` its safe loaders back when they were removed; says whether it did."""
    import ruamel.yaml
    import ruamel.yaml.main

    if getattr(ruamel.yaml.safe_load, "__module__", "") == __name__ or not removed():
        return False
    for module in (ruamel.yaml, ruamel.yaml.main):
        setattr(module, "safe_load", safe_load)  # noqa: B010 - the stubs say the removed functions still exist
        setattr(module, "safe_load_all", safe_load_all)  # noqa: B010
    return True
