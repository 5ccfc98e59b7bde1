"""``threadline import rasa PATH [--out DIR]``: the conversion, and its summary on stdout."""

from __future__ import annotations

from pathlib import Path

from bots.rasa_import.convert import import_rasa


def import_rasa_command(path: Path, out: Path | None) -> int:
    target = out or path.resolve().parent / f"{path.resolve().name}-threadline"
    report = import_rasa(path, target)
    print(f"{path}: {report.summary()}")
    for item in report.items:
        print(f"  {item.mark.file}:{item.mark.line}: {item.what}: {item.why}")
    print(f"wrote {target}: check it with `cd {target / 'bot'} && threadline validate --config ../config.yaml`")
    return 0
