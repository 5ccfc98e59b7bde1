"""What an import could not convert, each with the Rasa file and line and why, so nothing is dropped silently."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from bots.located_yaml import Mark


@dataclass(frozen=True)
class Unmapped:
    """One piece of the Rasa project the bot folder does not carry (or carries only in part)."""

    mark: Mark
    what: str
    why: str
    kind: str  # "responses", "nlu", "slots", "forms", "dialogue", "config"


@dataclass
class Report:
    """Collects the import's gaps; written as IMPORT_REPORT.md and summed up on stdout."""

    items: list[Unmapped] = field(default_factory=list)
    converted: Counter[str] = field(default_factory=Counter)

    def skip(self, mark: Mark, kind: str, what: str, why: str) -> None:
        self.items.append(Unmapped(mark, what, why, kind))

    def count(self, what: str, n: int = 1) -> None:
        self.converted[what] += n

    def markdown(self, project: str) -> str:
        lines = [
            f"# Import report: {project}",
            "",
            "Converted: " + ", ".join(f"{n} {what}" for what, n in sorted(self.converted.items())) + ".",
            "",
        ]
        if not self.items:
            return "\n".join([*lines, "Everything was converted.", ""])
        lines += [
            f"## Not converted ({len(self.items)})",
            "",
            "Each entry names the Rasa file and line, what it is and why it has no counterpart in the bot folder;",
            "docs/migrating-from-rasa.md says what to do with each kind.",
            "",
        ]
        for kind in sorted({item.kind for item in self.items}):
            lines += [f"### {kind}", ""]
            for item in sorted((i for i in self.items if i.kind == kind), key=_order):
                lines.append(f"- `{item.mark.file}:{item.mark.line}` {item.what}: {item.why}")
            lines.append("")
        return "\n".join(lines)

    def summary(self) -> str:
        done = ", ".join(f"{n} {what}" for what, n in sorted(self.converted.items()))
        if not self.items:
            return f"converted {done}; nothing left out"
        kinds = Counter(item.kind for item in self.items)
        left = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
        return f"converted {done}; {len(self.items)} not converted ({left}), listed in IMPORT_REPORT.md"


def _order(item: Unmapped) -> tuple[str, int, int]:
    return (item.mark.file, item.mark.line, item.mark.column)
