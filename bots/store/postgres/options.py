"""A PostgreSQL URL's options of ours, and how a pooled connection is handed back.

Removed before the URL goes to asyncpg (any other option is asyncpg's and libpq's); what each one does:
docs/deploy.md and docs/stores.md.
"""

from __future__ import annotations

import asyncpg

from bots.store.urls import split_options

OPTIONS: dict[str, float] = {"pool_max": 10, "lock_lease": 30.0, "lock_pool_max": 50, "lock_waiters": 8}
MINIMUM: dict[str, float] = {"pool_max": 1, "lock_lease": 0.1, "lock_pool_max": 1, "lock_waiters": 1}


def typed_options(url: str) -> tuple[str, dict[str, float]]:
    """(the URL for asyncpg, our options as numbers, defaults filled in); ValueError says what is wrong."""
    dsn, given = split_options(url)
    options = dict(OPTIONS)
    for key, value in given.items():
        if key not in OPTIONS:
            continue  # another store's option (prefix): nothing for PostgreSQL
        try:
            number = float(value) if key == "lock_lease" else int(value)
        except ValueError:
            raise ValueError(f"{key} must be a number, not {value!r}") from None
        if number < MINIMUM[key]:
            raise ValueError(f"{key} must be at least {MINIMUM[key]}, not {value}")
        options[key] = number
    return dsn, options


async def keep_session(connection: asyncpg.Connection) -> None:
    """What a pooled connection needs before its next use: only an unfinished transaction ended.

    asyncpg's default reset is a round trip of four statements (RESET ALL, unlock all advisory locks, CLOSE
    ALL, UNLISTEN *) after every use: half the round trips of a turn. Store connections change no session
    setting, hold no session lock, cursor or LISTEN (locks and the live bus have connections of their own).
    """
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")
