"""Files that appear whole or not at all: written aside, flushed to disk, then moved into place.

Used for what a crash must never leave half-written: the link secret, a saved NLU model, a customer's data
export. The file is readable by its owner only (``mkstemp``'s mode), which all three want.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, data: bytes, *, replace: bool = True) -> bool:
    """Put ``data`` at ``path``; with ``replace=False`` an existing file is kept (returns False then)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if replace:
            os.replace(temporary, path)
            return True
        try:
            os.link(temporary, path)  # fails when the file exists: another process made it first
            return True
        except FileExistsError:
            return False
    finally:
        Path(temporary).unlink(missing_ok=True)
