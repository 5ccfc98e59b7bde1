"""The SQLite store's schema: numbered migrations, applied in order, the version kept in ``PRAGMA user_version``."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from bots.store.legacy_inbox import CHANNEL, messenger_person
from bots.store.records import SchemaTooNew

# SQL statements separated by ";" (none inside a statement), or a step that needs Python
Migration = str | Callable[[sqlite3.Connection], None]


def _inbox_persons(db: sqlite3.Connection) -> None:
    """Gives every stored item its person. One-time: the items stored before named their person only inside
    Messenger's JSON, which this step reads (bots/store/legacy_inbox.py); nothing else ever does."""
    db.execute("ALTER TABLE inbox ADD COLUMN person_channel TEXT")
    db.execute("ALTER TABLE inbox ADD COLUMN person_id TEXT")
    found = (
        (messenger_person(payload), item_id)
        for item_id, payload in db.execute("SELECT id, payload FROM inbox WHERE channel = ?", (CHANNEL,)).fetchall()
    )
    db.executemany(
        "UPDATE inbox SET person_channel = ?, person_id = ? WHERE id = ?",
        [(person.channel, person.user_id, item_id) for person, item_id in found if person is not None],
    )
    db.execute("CREATE INDEX inbox_person ON inbox (person_channel, person_id) WHERE person_id IS NOT NULL")


MIGRATIONS: list[Migration] = [
    # 1: threads, their event logs and the identities that lead to them
    """
    CREATE TABLE threads (
        thread_id  TEXT PRIMARY KEY,
        version    INTEGER NOT NULL,
        state      TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE events (
        thread_id  TEXT NOT NULL,
        seq        INTEGER NOT NULL,
        ts         REAL NOT NULL,
        kind       TEXT NOT NULL,
        channel    TEXT NOT NULL,
        message_id TEXT,
        data       TEXT NOT NULL,
        PRIMARY KEY (thread_id, seq)
    ) WITHOUT ROWID;
    CREATE UNIQUE INDEX events_message_id ON events (thread_id, message_id)
        WHERE message_id IS NOT NULL AND kind = 'user';
    CREATE TABLE identities (
        channel    TEXT NOT NULL,
        user_id    TEXT NOT NULL,
        thread_id  TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (channel, user_id)
    ) WITHOUT ROWID;
    CREATE INDEX identities_thread ON identities (thread_id);
    """,
    # 2: site events carry client ids too (a widget resends them after a reconnect): one unique index for
    #    every inbound event's id
    """
    DROP INDEX events_message_id;
    CREATE UNIQUE INDEX events_inbound_id ON events (thread_id, message_id) WHERE message_id IS NOT NULL;
    """,
    # 3: a durable inbox for webhooks: events are stored before the webhook is acknowledged, processed later,
    #    and a redelivered event (same key) is stored once
    """
    CREATE TABLE inbox (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        channel     TEXT NOT NULL,
        dedupe_key  TEXT NOT NULL,
        payload     TEXT NOT NULL,
        received_at REAL NOT NULL,
        done_at     REAL,
        UNIQUE (channel, dedupe_key)
    );
    CREATE INDEX inbox_pending ON inbox (channel, id) WHERE done_at IS NULL;
    """,
    # 4: when a thread next needs attention by itself (a reminder is due): copied from the state on commit
    """
    ALTER TABLE threads ADD COLUMN wake_at REAL;
    CREATE INDEX threads_wake_at ON threads (wake_at) WHERE wake_at IS NOT NULL;
    """,
    # 5: link tokens already used (single use), kept until they would have expired anyway
    """
    CREATE TABLE used_link_tokens (
        nonce      TEXT PRIMARY KEY,
        used_at    REAL NOT NULL,
        expires_at REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX used_link_tokens_expiry ON used_link_tokens (expires_at);
    """,
    # 6: threads merged into another one (two threads of one customer linked): where a merged id now lives
    """
    CREATE TABLE thread_merges (
        source_id  TEXT PRIMARY KEY,
        into_id    TEXT NOT NULL,
        merged_at  REAL NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX thread_merges_into ON thread_merges (into_id);
    """,
    # 7: who used a link token, so the same person following it again (a retry after a crash) is not a replay
    """
    ALTER TABLE used_link_tokens ADD COLUMN used_by TEXT;
    """,
    # 8: webhook inbox items name the person they concern, so forgetting a thread deletes its people's items
    #    without the store reading any channel's payloads
    _inbox_persons,
    # 9: how many replies of each turn of an inbox item went out, so processing it again after a crash does
    #    not send them twice; deleted with the item
    """
    CREATE TABLE inbox_sent (
        item_id INTEGER NOT NULL,
        turn    TEXT NOT NULL,
        sent    INTEGER NOT NULL,
        PRIMARY KEY (item_id, turn)
    ) WITHOUT ROWID;
    """,
    # 10: small JSON records by kind and key: agent accounts and the agent inbox's conversations
    """
    CREATE TABLE records (
        kind  TEXT NOT NULL,
        key   TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (kind, key)
    ) WITHOUT ROWID;
    """,
]


def migrate(db: sqlite3.Connection) -> int:
    """Bring the file's schema up to date, one transaction per migration; returns the version it is at."""
    current = db.execute("PRAGMA user_version").fetchone()[0]
    if current > len(MIGRATIONS):
        raise SchemaTooNew(current, len(MIGRATIONS))
    for version in range(current, len(MIGRATIONS)):
        step = MIGRATIONS[version]
        db.execute("BEGIN IMMEDIATE")
        try:
            if callable(step):
                step(db)
            else:
                for statement in step.split(";"):
                    if statement.strip():
                        db.execute(statement)
            db.execute(f"PRAGMA user_version = {version + 1}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return len(MIGRATIONS)
