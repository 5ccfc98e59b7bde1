"""Pick the store implementation a store URL names.

``sqlite:///file.db`` is the embedded default (one process); ``postgresql://``
and ``redis://`` are shared by several workers. The server libraries are
imported only when their store is used.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from bots.errors import UserError
from bots.store.base import ThreadStore
from bots.store.sqlite import SQLiteThreadStore

SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")
SHARED_SCHEMES = ("postgresql", "postgres", "redis", "rediss")


def parse_store_url(url: str) -> tuple[str, dict[str, str]]:
    """(path, options) of ``sqlite:///relative.db`` or ``sqlite:////absolute.db?synchronous=normal``;
    (url, {}) of a PostgreSQL or Redis URL, whose options the store checks itself.

    Raises ValueError saying what is wrong, so config.yaml can point at the key.
    """
    parts = urlsplit(url)
    if parts.scheme in SHARED_SCHEMES:
        if not parts.hostname and "host=" not in parts.query:
            raise ValueError(f"write {parts.scheme}://host[:port]/... (no server named)")
        return url, {}
    if parts.scheme != "sqlite":
        raise ValueError(f"unsupported store {parts.scheme or url!r} "
                         "(supported: sqlite:///file.db, postgresql://host/db, redis://host/0)")
    if parts.netloc or not parts.path.strip("/"):
        raise ValueError("write sqlite:///file.db (relative to the data dir) or sqlite:////absolute/path.db")
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    synchronous = options.get("synchronous", "full").upper()
    if synchronous not in SYNCHRONOUS:
        raise ValueError("synchronous must be off, normal, full or extra")
    unknown = set(options) - {"synchronous"}
    if unknown:
        raise ValueError(f"unknown option {sorted(unknown)[0]!r} (known: synchronous)")
    return parts.path, {"synchronous": synchronous}


def is_shared(url: str) -> bool:
    """Whether several processes may use this store at once."""
    return urlsplit(url).scheme in SHARED_SCHEMES


def open_store(url: str, data_dir: Path) -> ThreadStore:
    try:
        path, options = parse_store_url(url)
    except ValueError as exc:
        raise UserError(f"store {url!r}: {exc}") from None
    scheme = urlsplit(url).scheme
    if scheme in ("postgresql", "postgres"):
        from bots.store.postgres import PostgresThreadStore

        return PostgresThreadStore(url)
    if scheme in ("redis", "rediss"):
        from bots.store.redis import RedisThreadStore

        return RedisThreadStore(url)
    return SQLiteThreadStore(sqlite_file(path, data_dir), synchronous=options["synchronous"])


def sqlite_file(path: str, data_dir: Path) -> Path:
    """Where the path of ``sqlite:///relative.db`` or ``sqlite:////absolute.db`` is."""
    relative = path.removeprefix("/")
    return Path(relative) if Path(relative).is_absolute() else data_dir / relative
