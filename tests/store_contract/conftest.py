"""The thread store contract: every backend (SQLite, PostgreSQL, Redis) behaves the same.

One module per interface of bots/store/base.py. Each test runs three times,
against a fresh embedded SQLite file, a fresh database on a real PostgreSQL
server and an emptied database on a real Redis server (tests/servers.py
starts both on loopback; ``store_url`` is in tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.store.base import ThreadStore
from bots.store.factory import open_store


@pytest.fixture
async def store(store_url: str, tmp_path: Path) -> AsyncIterator[ThreadStore]:
    store = open_store(store_url, tmp_path)
    await store.open()
    yield store
    await store.close()
