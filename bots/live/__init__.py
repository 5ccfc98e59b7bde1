"""Live delivery to open chat windows, in one process or across every worker of a shared store."""

from __future__ import annotations

from importlib import import_module

from bots.live.bus import LiveBus
from bots.store.factory import backend_of

__all__ = ["LiveBus", "open_live_bus"]


def open_live_bus(store_url: str) -> LiveBus | None:
    """The bus that goes with a store: none for the embedded SQLite (one process), the same server otherwise.

    The store's backend names its bus (:mod:`bots.store.factory`); the bus lives here, so the store never imports it.
    """
    backend = backend_of(store_url)
    if backend is None or backend.live_bus is None:
        return None
    module, _, name = backend.live_bus.partition(":")
    return getattr(import_module(module), name)(store_url)  # type: ignore[no-any-return]
