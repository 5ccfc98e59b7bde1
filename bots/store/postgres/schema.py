"""The PostgreSQL store's schema: numbered migrations, applied in order by whichever worker starts first."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg
import asyncpg.pool

from bots.store.legacy_inbox import CHANNEL, messenger_person
from bots.store.records import SchemaTooNew

# pg_advisory_xact_lock(int, int) lives in a key space apart from the thread locks' bigint ids
MIGRATION_LOCK = (0x546C6E65, 1)
# SQL (any number of statements), or a step that needs Python
# A connection of our own or one the pool lends (a proxy with the same methods)
Db = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy
Migration = str | Callable[[Db], Awaitable[None]]


async def _inbox_persons(db: Db) -> None:
    """Gives every stored item its person. One-time: the items stored before named their person only inside
    Messenger's JSON, which this step reads (bots/store/legacy_inbox.py); nothing else ever does."""
    await db.execute("""
        ALTER TABLE inbox ADD COLUMN person_channel TEXT COLLATE "C", ADD COLUMN person_id TEXT COLLATE "C";
        CREATE INDEX inbox_person ON inbox (person_channel, person_id) WHERE person_id IS NOT NULL;
        DROP FUNCTION threadline_jsonb(TEXT);
    """)
    found = [
        (item_id, messenger_person(payload))
        for item_id, payload in await db.fetch("SELECT id, payload FROM inbox WHERE channel = $1", CHANNEL)
    ]
    people = [(item_id, person) for item_id, person in found if person is not None]
    await db.execute(
        "UPDATE inbox SET person_channel = p.channel, person_id = p.user_id FROM "
        "unnest($1::bigint[], $2::text[], $3::text[]) AS p(id, channel, user_id) WHERE inbox.id = p.id",
        [item_id for item_id, _ in people],
        [person.channel for _, person in people],
        [person.user_id for _, person in people],
    )


MIGRATIONS: list[Migration] = [
    # 1: what SQLite's migrations 1-7 built. The (thread_id, kind, seq) index finds "the last N of these kinds"
    #    and "the next inbound" without scanning a long log; threadline_jsonb lets a delete look into inbox
    #    payloads that may not be JSON (PostgreSQL 15 has no IS JSON / pg_input_is_valid)
    """
    CREATE TABLE threads (
        thread_id  TEXT COLLATE "C" PRIMARY KEY,
        version    BIGINT NOT NULL,
        state      TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL,
        wake_at    DOUBLE PRECISION
    );
    CREATE INDEX threads_wake_at ON threads (wake_at) WHERE wake_at IS NOT NULL;
    CREATE TABLE events (
        thread_id  TEXT COLLATE "C" NOT NULL,
        seq        BIGINT NOT NULL,
        ts         DOUBLE PRECISION NOT NULL,
        kind       TEXT COLLATE "C" NOT NULL,
        channel    TEXT NOT NULL,
        message_id TEXT COLLATE "C",
        data       TEXT NOT NULL,
        PRIMARY KEY (thread_id, seq)
    );
    CREATE UNIQUE INDEX events_inbound_id ON events (thread_id, message_id) WHERE message_id IS NOT NULL;
    CREATE INDEX events_kind ON events (thread_id, kind, seq);
    CREATE TABLE identities (
        channel    TEXT COLLATE "C" NOT NULL,
        user_id    TEXT COLLATE "C" NOT NULL,
        thread_id  TEXT COLLATE "C" NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (channel, user_id)
    );
    CREATE INDEX identities_thread ON identities (thread_id, created_at);
    CREATE TABLE inbox (
        id          BIGSERIAL PRIMARY KEY,
        channel     TEXT COLLATE "C" NOT NULL,
        dedupe_key  TEXT COLLATE "C" NOT NULL,
        payload     TEXT NOT NULL,
        received_at DOUBLE PRECISION NOT NULL,
        done_at     DOUBLE PRECISION,
        UNIQUE (channel, dedupe_key)
    );
    CREATE INDEX inbox_pending ON inbox (channel, id) WHERE done_at IS NULL;
    CREATE INDEX inbox_done ON inbox (done_at) WHERE done_at IS NOT NULL;
    CREATE TABLE used_link_tokens (
        nonce      TEXT COLLATE "C" PRIMARY KEY,
        used_at    DOUBLE PRECISION NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL,
        used_by    TEXT
    );
    CREATE INDEX used_link_tokens_expiry ON used_link_tokens (expires_at);
    CREATE TABLE thread_merges (
        source_id  TEXT COLLATE "C" PRIMARY KEY,
        into_id    TEXT COLLATE "C" NOT NULL,
        merged_at  DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX thread_merges_into ON thread_merges (into_id);
    CREATE FUNCTION threadline_jsonb(payload TEXT) RETURNS JSONB
        LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
    BEGIN
        RETURN payload::jsonb;
    EXCEPTION WHEN others THEN
        RETURN NULL;
    END $$;
    """,
    # 2: a turn's commit in one round trip (it was five: begin, check, snapshot, events, commit); the rules
    #    are those of PostgresThreadStore.commit, which calls it
    """
    CREATE FUNCTION threadline_commit(p_thread TEXT, p_expected BIGINT, p_state TEXT, p_wake DOUBLE PRECISION,
                                      p_now DOUBLE PRECISION, p_ts DOUBLE PRECISION[], p_kinds TEXT[],
                                      p_channels TEXT[], p_ids TEXT[], p_data TEXT[]) RETURNS BIGINT
        LANGUAGE plpgsql AS $$
    DECLARE
        stored BIGINT;
        added INTEGER := COALESCE(array_length(p_kinds, 1), 0);
    BEGIN
        SELECT version INTO stored FROM threads WHERE thread_id = p_thread FOR UPDATE;
        IF COALESCE(stored, 0) <> p_expected THEN
            RAISE EXCEPTION 'threadline conflict: thread % is at version %, expected %',
                p_thread, COALESCE(stored, 0), p_expected;
        END IF;
        IF stored IS NULL THEN  -- an INSERT, not an upsert: of two racing first commits the second fails
            INSERT INTO threads (thread_id, version, state, created_at, updated_at, wake_at)
            VALUES (p_thread, p_expected + added, p_state, p_now, p_now, p_wake);
        ELSE
            UPDATE threads SET version = p_expected + added, state = p_state, updated_at = p_now, wake_at = p_wake
            WHERE thread_id = p_thread;
        END IF;
        IF added > 0 THEN
            INSERT INTO events (thread_id, seq, ts, kind, channel, message_id, data)
            SELECT p_thread, p_expected + i, p_ts[i], p_kinds[i], p_channels[i], p_ids[i], p_data[i]
            FROM generate_subscripts(p_kinds, 1) AS i;
        END IF;
        RETURN p_expected + added;
    END $$;
    """,
    # 3: webhook inbox items name the person they concern, so forgetting a thread deletes its people's items
    #    without the store reading any channel's payloads (threadline_jsonb served that reading only)
    _inbox_persons,
    # 4: how many replies of each turn of an inbox item went out, so processing it again after a crash does
    #    not send them twice; deleted with the item
    """
    CREATE TABLE inbox_sent (
        item_id BIGINT NOT NULL REFERENCES inbox (id) ON DELETE CASCADE,
        turn    TEXT COLLATE "C" NOT NULL,
        sent    INTEGER NOT NULL,
        PRIMARY KEY (item_id, turn)
    );
    """,
    # 5: small JSON records by kind and key: agent accounts and the agent inbox's conversations
    """
    CREATE TABLE records (
        kind  TEXT COLLATE "C" NOT NULL,
        key   TEXT COLLATE "C" NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (kind, key)
    );
    """,
    # 6: a first commit (no row yet) to a thread merged away is refused, so a new customer's turn that lost a race
    #    with a merge cannot bring the old id back as a thread of its own; checked only when there is no row, in
    #    the same round trip. The rest is schema 2's threadline_commit unchanged
    """
    CREATE OR REPLACE FUNCTION threadline_commit(p_thread TEXT, p_expected BIGINT, p_state TEXT,
                                                 p_wake DOUBLE PRECISION, p_now DOUBLE PRECISION,
                                                 p_ts DOUBLE PRECISION[], p_kinds TEXT[], p_channels TEXT[],
                                                 p_ids TEXT[], p_data TEXT[]) RETURNS BIGINT
        LANGUAGE plpgsql AS $$
    DECLARE
        stored BIGINT;
        added INTEGER := COALESCE(array_length(p_kinds, 1), 0);
    BEGIN
        SELECT version INTO stored FROM threads WHERE thread_id = p_thread FOR UPDATE;
        IF COALESCE(stored, 0) <> p_expected THEN
            RAISE EXCEPTION 'threadline conflict: thread % is at version %, expected %',
                p_thread, COALESCE(stored, 0), p_expected;
        END IF;
        IF stored IS NULL THEN  -- an INSERT, not an upsert: of two racing first commits the second fails
            IF EXISTS (SELECT 1 FROM thread_merges WHERE source_id = p_thread) THEN
                RAISE EXCEPTION 'threadline conflict: thread % was merged into another thread', p_thread;
            END IF;
            INSERT INTO threads (thread_id, version, state, created_at, updated_at, wake_at)
            VALUES (p_thread, p_expected + added, p_state, p_now, p_now, p_wake);
        ELSE
            UPDATE threads SET version = p_expected + added, state = p_state, updated_at = p_now, wake_at = p_wake
            WHERE thread_id = p_thread;
        END IF;
        IF added > 0 THEN
            INSERT INTO events (thread_id, seq, ts, kind, channel, message_id, data)
            SELECT p_thread, p_expected + i, p_ts[i], p_kinds[i], p_channels[i], p_ids[i], p_data[i]
            FROM generate_subscripts(p_kinds, 1) AS i;
        END IF;
        RETURN p_expected + added;
    END $$;
    """,
]


async def migrate(db: Db) -> int:
    """Bring the database's schema up to date; returns the version it is at."""
    async with db.transaction():
        # several workers starting at once: one migrates, the others wait here and then find nothing to do
        await db.execute("SELECT pg_advisory_xact_lock($1, $2)", *MIGRATION_LOCK)
        await db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
            "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        current = int(await db.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))
        if current > len(MIGRATIONS):
            raise SchemaTooNew(current, len(MIGRATIONS))
        for version in range(current + 1, len(MIGRATIONS) + 1):
            step = MIGRATIONS[version - 1]
            await (db.execute(step) if isinstance(step, str) else step(db))
            await db.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
    return len(MIGRATIONS)
