"""Pick the store implementation a store URL names."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from bots.errors import UserError
from bots.store.base import ThreadStore
from bots.store.sqlite import SQLiteThreadStore


def open_store(url: str, data_dir: Path) -> ThreadStore:
    """``sqlite:///relative/to/data_dir.db`` or ``sqlite:////absolute/path.db``.

    Options go in the query string, e.g. ``?synchronous=normal``.
    """
    parts = urlsplit(url)
    if parts.scheme != "sqlite":
        raise UserError(f"store {url!r}: unsupported store (supported: sqlite)")
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    synchronous = options.pop("synchronous", "full").upper()
    if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise UserError(f"store {url!r}: synchronous must be off, normal, full or extra")
    if options:
        raise UserError(f"store {url!r}: unknown option {next(iter(options))!r}")
    if parts.netloc or not parts.path.strip("/"):
        raise UserError(f"store {url!r}: write sqlite:///file.db (relative to the data dir) or sqlite:////abs/file.db")
    relative = parts.path.removeprefix("/")
    path = Path(relative) if Path(relative).is_absolute() else data_dir / relative
    return SQLiteThreadStore(path, synchronous=synchronous)
