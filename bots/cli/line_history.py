"""Line editing and history for ``threadline shell``, through the standard library's readline.

Importing readline is what turns on arrow keys and editing for ``input()``; the history is read from a file
in the data folder when the shell starts and written back when it ends, so the lines of earlier sessions are
one up-arrow away. Where Python has no readline (Windows), the shell works as before, without history.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

HISTORY_FILE = ".threadline_shell_history"
HISTORY_LENGTH = 1000


def _readline() -> ModuleType | None:
    try:
        import readline
    except ImportError:  # pragma: no cover - Python built without readline
        return None
    return readline


@contextlib.contextmanager
def line_history(data_dir: Path) -> Iterator[None]:
    """Give ``input()`` editing and the history kept in ``data_dir`` for as long as the block runs."""
    readline = _readline()
    if readline is None:  # pragma: no cover - Python built without readline
        yield
        return
    path = data_dir / HISTORY_FILE
    readline.clear_history()
    readline.set_history_length(HISTORY_LENGTH)
    with contextlib.suppress(FileNotFoundError):
        readline.read_history_file(path)
    try:
        yield
    finally:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(path)
        except OSError as exc:  # a read-only data folder loses the history, not the conversation
            print(f"(the line history could not be saved in {path}: {exc.strerror})")
