"""The one place that picks a backend by URL scheme: its thread store (which brings its thread lock) and names
the live bus that goes with it (:func:`bots.live.open_live_bus` opens it).

``sqlite:///file.db`` is the embedded default (one process, no bus);
``postgresql://`` and ``redis://`` are shared by several workers. A backend's
modules (and its server library) are imported only when its URL is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bots.errors import UserError
from bots.store.base import ThreadStore

SYNCHRONOUS = ("OFF", "NORMAL", "FULL", "EXTRA")


@dataclass(frozen=True)
class Backend:
    store: str  # "module:class" of its ThreadStore
    live_bus: str | None  # "module:class" of its LiveBus; None: one process, nothing to tell other workers

    @property
    def shared(self) -> bool:
        """Whether several processes may use the store at once (they then need the bus)."""
        return self.live_bus is not None


SQLITE = Backend("bots.store.sqlite:SQLiteThreadStore", None)
POSTGRES = Backend("bots.store.postgres:PostgresThreadStore", "bots.live.postgres_bus:PostgresLiveBus")
REDIS = Backend("bots.store.redis:RedisThreadStore", "bots.live.redis_bus:RedisLiveBus")
BACKENDS: dict[str, Backend] = {
    "sqlite": SQLITE,
    "postgresql": POSTGRES,
    "postgres": POSTGRES,
    "redis": REDIS,
    "rediss": REDIS,
}


def _load(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(import_module(module), name)


def parse_store_url(url: str) -> tuple[str, dict[str, str]]:
    """(path, options) of ``sqlite:///relative.db`` or ``sqlite:////absolute.db?synchronous=normal``;
    (url, {}) of a PostgreSQL or Redis URL, whose options the store checks itself.

    Raises ValueError saying what is wrong, so config.yaml can point at the key.
    """
    parts = urlsplit(url)
    backend = BACKENDS.get(parts.scheme)
    if backend is None:
        raise ValueError(
            f"unsupported store {parts.scheme or url!r} "
            "(supported: sqlite:///file.db, postgresql://host/db, redis://host/0)"
        )
    if backend.shared:
        if not parts.hostname and "host=" not in parts.query:
            raise ValueError(f"write {parts.scheme}://host[:port]/... (no server named)")
        return url, {}
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


def backend_of(url: str) -> Backend | None:
    return BACKENDS.get(urlsplit(url).scheme)


def is_shared(url: str) -> bool:
    """Whether several processes may use this store at once."""
    backend = backend_of(url)
    return backend is not None and backend.shared


def open_store(url: str, data_dir: Path) -> ThreadStore:
    try:
        path, options = parse_store_url(url)
    except ValueError as exc:
        raise UserError(f"store {url!r}: {exc}") from None
    backend = backend_of(url)
    assert backend is not None  # parse_store_url refused any other
    store_class = _load(backend.store)
    if backend.shared:
        return store_class(url)  # type: ignore[no-any-return]
    return store_class(sqlite_file(path, data_dir), synchronous=options["synchronous"])  # type: ignore[no-any-return]


def sqlite_file(path: str, data_dir: Path) -> Path:
    """Where the path of ``sqlite:///relative.db`` or ``sqlite:////absolute.db`` is."""
    relative = path.removeprefix("/")
    return Path(relative) if Path(relative).is_absolute() else data_dir / relative
