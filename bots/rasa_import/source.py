"""A Rasa project as read from its folder: the domain (one file or a folder), data/**, config.yml, endpoints.yml.

Every value keeps its file and line (``bots.located_yaml``), so the report can point at the Rasa source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bots.errors import UserError
from bots.located_yaml import LocatedDict, Mark, YamlError, load_file, mark_of


@dataclass
class RasaProject:
    """The parts of a Rasa project the importer converts; ``domain`` merges every domain file."""

    root: Path
    domain: dict[str, Any] = field(default_factory=dict)
    data: list[tuple[str, Any]] = field(default_factory=list)  # (file shown in the report, its YAML)
    config: Any = None
    endpoints: Any = None

    def mark(self, container: Any, key: Any, file: str = "domain.yml") -> Mark:
        """Where a value stands, or its container when the value was not read from YAML."""
        return mark_of(container, key, getattr(container, "mark", Mark(file, 1, 1)))


def _read(root: Path, path: Path) -> Any:
    try:
        return load_file(path, path.relative_to(root).as_posix(), yaml_1_2=True)  # Rasa reads YAML 1.2
    except YamlError as exc:
        raise UserError(str(exc)) from None


def _yml(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())


def load_project(root: Path) -> RasaProject:
    """Read the project at ``root``; a folder that is no Rasa project is a clear error, not a traceback."""
    if not root.is_dir():
        raise UserError(f"{root}: not a folder")
    project = RasaProject(root)
    domain_path = next((root / n for n in ("domain.yml", "domain.yaml", "domain") if (root / n).exists()), None)
    if domain_path is None:
        raise UserError(f"{root}: no domain.yml or domain/ folder: is this a Rasa project?")
    for path in _yml(domain_path) if domain_path.is_dir() else [domain_path]:
        _merge(project.domain, _read(root, path))
    data = root / "data"
    for path in _yml(data) if data.is_dir() else []:
        project.data.append((path.relative_to(root).as_posix(), _read(root, path)))
    for name in ("config.yml", "config.yaml"):
        if (root / name).is_file():
            project.config = _read(root, root / name)
            break
    if (root / "endpoints.yml").is_file():
        project.endpoints = _read(root, root / "endpoints.yml")
    return project


def _merge(domain: dict[str, Any], part: Any) -> None:
    """Rasa merges a domain folder's files section by section: lists are joined, mappings are united."""
    if not isinstance(part, dict):
        return
    for key, value in part.items():
        old = domain.get(key)
        if isinstance(old, list) and isinstance(value, list):
            old.extend(value)
            if hasattr(old, "item_marks") and hasattr(value, "item_marks"):
                old.item_marks.extend(value.item_marks)
        elif isinstance(old, LocatedDict) and isinstance(value, LocatedDict):
            old.update(value)
            old.value_marks.update(value.value_marks)
            old.key_marks.update(value.key_marks)
        else:
            domain[key] = value
