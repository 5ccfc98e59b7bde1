"""A customer asks to be forgotten: everything about their thread is exported, then deleted, and nothing else is."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bots.runtime import open_runtime
from bots.server.admin import CHANNELS
from bots.server.app import create_app
from bots.store.local_lock import LocalThreadLock
from bots.store.sqlite import SQLiteThreadStore
from bots.threads.privacy import current_thread_id, export_thread, find_thread, forget_thread
from bots.types import Identity, InboxItem, ThreadEvent
from connectors.messenger.connector import identity_of
from connectors.messenger.parse import parse_item
from tests.conftest import DEMO_BOT, REPO, demo_config
from tests.readiness import CEILING_SECONDS, wait_healthy_async
from tests.servers import free_port
from tests.trained_models import provide_demo_model

PSID, NUMERIC_PSID, REF, OTHER_PSID = "psid-ana", "1000200030004", "ref-ana", "psid-bo"
WEB_ANA, WEB_BO = Identity("web", "visitor-ana"), Identity("web", "visitor-bo")
TOKEN = "forget-token"


def inbox_item(key: str, item: dict[str, Any]) -> InboxItem:
    """Stored as the Messenger connector stores it: with the person the item concerns."""
    return InboxItem(
        key, json.dumps({"item": item, "page_id": "1", "standby": False}), identity_of(parse_item(item, "1", False))
    )


# Ana's items name her as sender, as the recipient of an echo, by opt-in user_ref and by a numeric PSID;
# Bo's item must survive her deletion.
ANA_INBOX = [
    inbox_item("mid:a1", {"sender": {"id": PSID}, "recipient": {"id": "1"}, "message": {"mid": "a1", "text": "hi"}}),
    inbox_item(
        "echo:a2",
        {
            "sender": {"id": "1"},
            "recipient": {"id": PSID},
            "message": {"mid": "a2", "is_echo": True, "text": "hello Ana"},
        },
    ),
    inbox_item("optin:a3", {"recipient": {"id": "1"}, "optin": {"type": "one_time_notif_req", "user_ref": REF}}),
    inbox_item(
        "mid:a4",
        {"sender": {"id": int(NUMERIC_PSID)}, "recipient": {"id": "1"}, "message": {"mid": "a4", "text": "other page"}},
    ),
]
BO_INBOX = [
    inbox_item(
        "mid:b1",
        {
            "sender": {"id": OTHER_PSID},
            "recipient": {"id": "1"},
            "message": {"mid": "b1", "text": "where is my parcel?"},
        },
    )
]


def events(channel: str, texts: list[str], start: float) -> list[ThreadEvent]:
    return [
        ThreadEvent(
            "user" if n % 2 == 0 else "bot",
            {"text": text},
            start + n,
            channel,
            f"{channel}-{start}-{n}" if n % 2 == 0 else None,
        )
        for n, text in enumerate(texts)
    ]


async def seed(store: SQLiteThreadStore, *, ana_events: int = 4) -> tuple[str, str]:
    """Ana on the website and Messenger (two Pages, and an opt-in), Bo on Messenger; their inbox items."""
    ana = await store.resolve(WEB_ANA, now=1.0)
    for identity in (Identity("messenger", PSID), Identity("messenger", NUMERIC_PSID), Identity("messenger_ref", REF)):
        await store.link(identity, ana, now=2.0)
    version = 0
    for start in range(0, ana_events, 500):  # in batches: one commit of thousands of events is slow for nothing
        batch = events("web", [f"ana {n}" for n in range(start, min(start + 500, ana_events))], 10.0 + start)
        version = await store.commit(
            ana,
            {"slots": {"name": "Ana"}, "channel": "web"},
            batch,
            expected_version=version,
            now=10.0 + start,
            wake_at=None,
        )
    bo = await store.resolve(Identity("messenger", OTHER_PSID), now=3.0)
    await store.link(WEB_BO, bo, now=3.0)
    await store.commit(
        bo,
        {"slots": {"name": "Bo"}},
        events("messenger", ["bo 0", "bo 1"], 20.0),
        expected_version=0,
        now=20.0,
        wake_at=None,
    )
    await store.enqueue_inbound("messenger", ANA_INBOX + BO_INBOX, now=30.0)
    return ana, bo


def query(db: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as connection:
        return connection.execute(sql, params).fetchall()


def inbox_keys(db: Path) -> list[str]:
    return [row[0] for row in query(db, "SELECT dedupe_key FROM inbox ORDER BY id")]


def traces(db: Path, thread_id: str) -> dict[str, int]:
    """Rows anywhere in the store that still mention a thread."""
    return {
        "threads": query(db, "SELECT COUNT(*) FROM threads WHERE thread_id = ?", thread_id)[0][0],
        "events": query(db, "SELECT COUNT(*) FROM events WHERE thread_id = ?", thread_id)[0][0],
        "identities": query(db, "SELECT COUNT(*) FROM identities WHERE thread_id = ?", thread_id)[0][0],
        "merges": query(
            db, "SELECT COUNT(*) FROM thread_merges WHERE source_id = ? OR into_id = ?", thread_id, thread_id
        )[0][0],
    }


NONE_LEFT = {"threads": 0, "events": 0, "identities": 0, "merges": 0}


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteThreadStore]:
    store = SQLiteThreadStore(tmp_path / "t.db")
    await store.open()
    yield store
    await store.close()


# ---------------------------------------------------------------------------------------------- the store


async def test_delete_thread_removes_everything_of_that_thread_and_nothing_else(store: SQLiteThreadStore) -> None:
    ana, bo = await seed(store)
    # an older thread of Ana's, merged into hers, with leftovers a merge normally leaves none of
    old = await store.resolve(Identity("rest", "ana-old"), now=4.0)
    old_version = await store.commit(
        old, {}, events("rest", ["old 0", "old 1"], 5.0), expected_version=0, now=5.0, wake_at=None
    )
    ana_log = [stored.event for stored in await store.events(ana)]
    await store.merge_threads(
        ana,
        old,
        ana_log + events("rest", ["old 0", "old 1"], 5.0),
        {"channel": "web"},
        expected_versions=(4, old_version),
        now=6.0,
        wake_at=None,
    )
    with sqlite3.connect(store.path) as connection:
        connection.execute(
            "INSERT INTO events (thread_id, seq, ts, kind, channel, data) VALUES (?, 1, 1.0, 'user', 'rest', '{}')",
            (old,),
        )
        connection.execute("INSERT INTO thread_merges VALUES ('t_unrelated', ?, 1.0)", (bo,))
    assert await store.merged_into(old) == ana and traces(store.path, old)["events"] == 1
    assert (await store.load(ana)) is not None and await store.find(WEB_ANA) == ana  # both cached now

    deleted = await store.delete_thread(ana)

    assert set(deleted) == {
        WEB_ANA,
        Identity("messenger", PSID),
        Identity("messenger", NUMERIC_PSID),
        Identity("messenger_ref", REF),
        Identity("rest", "ana-old"),
    }
    assert traces(store.path, ana) == NONE_LEFT and traces(store.path, old) == NONE_LEFT
    assert inbox_keys(store.path) == ["mid:b1"]
    # the caches forgot her too: she is a stranger now, and her old ids lead nowhere
    assert await store.load(ana) is None and await store.events(ana) == []
    for identity in deleted:
        assert await store.find(identity) is None
    assert await store.merged_into(old) is None
    assert await store.resolve(WEB_ANA, now=50.0) != ana
    # Bo is untouched
    snapshot = await store.load(bo)
    assert snapshot is not None and snapshot.state == {"slots": {"name": "Bo"}} and snapshot.version == 2
    assert [s.event.data["text"] for s in await store.events(bo)] == ["bo 0", "bo 1"]
    assert set(await store.identities(bo)) == {Identity("messenger", OTHER_PSID), WEB_BO}
    assert query(store.path, "SELECT source_id, into_id FROM thread_merges") == [("t_unrelated", bo)]


async def test_delete_thread_of_an_unknown_thread_changes_nothing(store: SQLiteThreadStore) -> None:
    ana, bo = await seed(store)
    assert await store.delete_thread("t_nobody") == []
    assert await store.delete_thread("t_nobody") == []
    assert len(await store.events(ana)) == 4 and len(await store.events(bo)) == 2
    assert len(inbox_keys(store.path)) == len(ANA_INBOX) + len(BO_INBOX)


async def test_delete_keeps_inbox_items_it_cannot_read_and_of_other_channels(store: SQLiteThreadStore) -> None:
    ana, _ = await seed(store)
    await store.enqueue_inbound("messenger", [InboxItem("broken", "{not json")], now=31.0)
    # the store never reads a payload: an item stored without its person is nobody's
    await store.enqueue_inbound("other", [InboxItem("x", json.dumps({"item": {"sender": {"id": PSID}}}))], now=31.0)
    await store.delete_thread(ana)
    assert inbox_keys(store.path) == ["mid:b1", "broken", "x"]


async def test_a_commit_queued_before_the_delete_cannot_bring_the_thread_back(store: SQLiteThreadStore) -> None:
    ana, _ = await seed(store)
    late = asyncio.ensure_future(
        store.commit(ana, {"late": True}, events("web", ["late"], 99.0), expected_version=4, now=99.0, wake_at=None)
    )
    await asyncio.sleep(0)  # the commit is queued and its flush scheduled, not written yet
    await store.delete_thread(ana)
    assert await late == 5  # it was written, and then deleted with the rest
    assert traces(store.path, ana) == NONE_LEFT and await store.load(ana) is None


# ---------------------------------------------------------------------------------------------- export / forget


async def test_export_has_every_event_across_pages(store: SQLiteThreadStore) -> None:
    ana, _ = await seed(store, ana_events=2345)
    data = await export_thread(store, ana, now=123.0)
    assert data is not None
    assert data["thread_id"] == ana and data["version"] == 2345 and data["exported_at"] == 123.0
    assert data["state"] == {"slots": {"name": "Ana"}, "channel": "web"}
    assert data["created_at"] == 10.0 and data["updated_at"] == 2010.0
    assert [e["seq"] for e in data["events"]] == list(range(1, 2346))
    assert [e["data"]["text"] for e in data["events"]] == [f"ana {n}" for n in range(2345)]
    first, second = data["events"][:2]
    assert first == {
        "seq": 1,
        "kind": "user",
        "timestamp": 10.0,
        "channel": "web",
        "message_id": "web-10.0-0",
        "data": {"text": "ana 0"},
    }
    assert second["kind"] == "bot" and second["message_id"] is None
    assert data["identities"] == [
        {"channel": "web", "user_id": "visitor-ana"},
        {"channel": "messenger", "user_id": NUMERIC_PSID},
        {"channel": "messenger", "user_id": PSID},
        {"channel": "messenger_ref", "user_id": REF},
    ]
    json.dumps(data)  # JSON-ready as it is
    assert await export_thread(store, "t_nobody") is None


async def test_forget_returns_the_export_and_deletes(store: SQLiteThreadStore) -> None:
    ana, bo = await seed(store)
    before = await export_thread(store, ana, now=7.0)
    forgotten = await forget_thread(store, LocalThreadLock(), ana, now=7.0)
    assert forgotten == before
    assert traces(store.path, ana) == NONE_LEFT and inbox_keys(store.path) == ["mid:b1"]
    assert await forget_thread(store, LocalThreadLock(), ana, now=8.0) is None
    assert len(await store.events(bo)) == 2


async def test_forget_waits_for_the_turn_in_progress_and_the_next_message_starts_afresh(
    store: SQLiteThreadStore,
) -> None:
    ana, _ = await seed(store)
    locks = LocalThreadLock()
    turn_started, finish_turn = asyncio.Event(), asyncio.Event()

    async def turn() -> None:  # as Pipeline.handle holds them
        async with locks.lock(f"identity:web:{WEB_ANA.user_id}"), locks.lock(f"thread:{ana}"):
            turn_started.set()
            await finish_turn.wait()
            await store.commit(
                ana, {"mid": "turn"}, events("web", ["during"], 50.0), expected_version=4, now=50.0, wake_at=None
            )

    running = asyncio.ensure_future(turn())
    await turn_started.wait()
    forgetting = asyncio.ensure_future(forget_thread(store, locks, ana, now=51.0))
    finish_turn.set()
    await running  # had the delete come first, this commit would have failed (the thread at version 0)
    forgotten = await forgetting
    assert forgotten is not None and [e["data"]["text"] for e in forgotten["events"]][-1] == "during"
    assert traces(store.path, ana) == NONE_LEFT


async def test_a_thread_is_found_by_identity_and_by_an_id_from_before_a_merge(store: SQLiteThreadStore) -> None:
    ana, _ = await seed(store)
    old = await store.resolve(Identity("rest", "ana-old"), now=4.0)
    await store.commit(old, {}, events("rest", ["old"], 5.0), expected_version=0, now=5.0, wake_at=None)
    await store.merge_threads(
        ana,
        old,
        [s.event for s in await store.events(ana)],
        {"channel": "web"},
        expected_versions=(4, 1),
        now=6.0,
        wake_at=None,
    )
    assert await current_thread_id(store, old) == ana and await current_thread_id(store, ana) == ana
    assert await find_thread(store, Identity("messenger", PSID)) == ana
    assert await find_thread(store, Identity("messenger", "nobody")) is None
    # an identity row still naming the merged id (a store from before merges moved them) is followed too
    with sqlite3.connect(store.path) as connection:
        connection.execute("INSERT INTO identities VALUES ('rest', 'stale', ?, 1.0)", (old,))
    assert await find_thread(store, Identity("rest", "stale")) == ana
    exported = await export_thread(store, old)
    assert exported is not None and exported["thread_id"] == ana
    forgotten = await forget_thread(store, LocalThreadLock(), old, now=9.0)
    assert forgotten is not None and forgotten["thread_id"] == ana
    assert traces(store.path, ana) == NONE_LEFT and traces(store.path, old) == NONE_LEFT


# ---------------------------------------------------------------------------------------------- admin API


@pytest.fixture
async def app_client(tmp_path: Path) -> AsyncIterator[tuple[web.Application, TestClient]]:
    config = demo_config(tmp_path / "data", server={"admin_token": TOKEN})
    async with open_runtime(config) as runtime:
        app = create_app(runtime)
        async with TestClient(TestServer(app)) as client:
            yield app, client


AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def test_admin_api_exports_and_forgets_a_customer(app_client: tuple[web.Application, TestClient]) -> None:
    app, client = app_client
    from bots.server.app import RUNTIME

    store = app[RUNTIME].store
    assert isinstance(store, SQLiteThreadStore)
    for sender, text in (("ana", "hi"), ("ana", "where is my order?"), ("bo", "hello")):
        response = await client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
        assert response.status == 200
    ana = await store.find(Identity("rest", "ana"))
    bo = await store.find(Identity("rest", "bo"))
    assert ana and bo and ana != bo
    await store.link(Identity("messenger", PSID), ana, now=1.0)
    await store.link(Identity("messenger", OTHER_PSID), bo, now=1.0)
    await store.enqueue_inbound("messenger", ANA_INBOX[:2] + BO_INBOX, now=2.0)
    frames: list[dict[str, Any]] = []

    async def tab(frame: dict[str, Any]) -> None:
        frames.append(frame)

    await app[CHANNELS]["web"].hub.subscribe(ana, tab)

    for headers in ({}, {"Authorization": "Bearer wrong"}):
        assert (await client.get(f"/api/threads/{ana}/export", headers=headers)).status == 401
        assert (await client.delete(f"/api/threads/{ana}", headers=headers)).status == 401
    assert await store.load(ana) is not None
    response = await client.get("/api/threads/t_nobody/export", headers=AUTH)
    assert response.status == 404 and (await response.json()) == {"error": "no thread t_nobody"}

    response = await client.get(f"/api/threads/{ana}/export", headers=AUTH)
    assert response.status == 200
    exported = await response.json()
    logged = await store.events(ana)
    assert len(logged) > 4 and [(e["seq"], e["kind"], e["data"]) for e in exported["events"]] == [
        (s.seq, s.event.kind, s.event.data) for s in logged
    ]
    assert exported["events"][0]["data"]["text"] == "hi"
    assert {(i["channel"], i["user_id"]) for i in exported["identities"]} == {("rest", "ana"), ("messenger", PSID)}

    response = await client.delete(f"/api/threads/{ana}", headers=AUTH)
    assert response.status == 200
    body = await response.json()
    assert body["deleted"] is True and body["thread_id"] == ana
    assert {(i["channel"], i["user_id"]) for i in body["identities"]} == {("rest", "ana"), ("messenger", PSID)}
    assert body["export"]["events"] == exported["events"] and body["export"]["state"] == exported["state"]
    assert frames == [{"type": "reset"}]  # the open tab was told

    assert (await client.get(f"/api/threads/{ana}", headers=AUTH)).status == 404
    assert (await client.get("/api/threads", params={"channel": "rest", "user_id": "ana"}, headers=AUTH)).status == 404
    assert [json.loads(p)["item"]["message"]["mid"] for _, p, _ in await store.pending_inbound("messenger")] == ["b1"]
    assert traces(store.path, ana) == NONE_LEFT
    assert (await client.delete(f"/api/threads/{ana}", headers=AUTH)).status == 404
    response = await client.get(f"/api/threads/{bo}", headers=AUTH)
    assert response.status == 200 and len((await response.json())["events"]) > 0
    # Ana writing again is a new customer: a new thread that knows nothing of the old one
    response = await client.post("/webhooks/rest/webhook", json={"sender": "ana", "message": "hi"})
    assert response.status == 200
    again = await store.find(Identity("rest", "ana"))
    assert again is not None and again != ana
    assert [s.event.data.get("text") for s in await store.events(again) if s.event.kind == "user"] == ["hi"]


# ---------------------------------------------------------------------------------------------- the command


def threadline(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bots.cli", *args],
        cwd=REPO,
        text=True,
        capture_output=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def write_config(path: Path, port: int, token: str) -> Path:
    path.write_text(f'bot: {DEMO_BOT}\nstore: sqlite:///forget.db\nserver:\n  port: {port}\n  admin_token: "{token}"\n')
    return path


async def seeded_store(data_dir: Path) -> tuple[Path, str, str]:
    store = SQLiteThreadStore(data_dir / "forget.db")
    await store.open()
    try:
        ana, bo = await seed(store, ana_events=1500)
    finally:
        await store.close()
    return store.path, ana, bo


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


async def start_server(config: Path, data_dir: Path, log: Path, port: int) -> subprocess.Popen[bytes]:
    provide_demo_model(data_dir)
    process = subprocess.Popen(
        [sys.executable, "-m", "bots.cli", "run", "--config", str(config)],
        cwd=REPO,
        env={**os.environ, "THREADLINE_DATA_DIR": str(data_dir)},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    await wait_healthy_async(f"http://127.0.0.1:{port}", process, log=log)
    return process


@pytest.mark.timeout(CEILING_SECONDS)  # a first start trains the NLU: its time is the machine's, not a bug
async def test_forget_command_through_the_running_server(
    tmp_path: Path, server_process: list[subprocess.Popen[bytes]]
) -> None:
    data_dir = tmp_path / "data"
    db, ana, bo = await seeded_store(data_dir)
    port = free_port()
    config = write_config(tmp_path / "config.yaml", port, TOKEN)
    process = await start_server(config, data_dir, tmp_path / "server.log", port)
    server_process.append(process)
    url = f"http://127.0.0.1:{port}"
    async with (
        aiohttp.ClientSession(headers=AUTH) as session,
        session.get(f"{url}/api/threads", params={"channel": "web", "user_id": WEB_ANA.user_id}) as r,
    ):
        assert (await r.json()) == {"thread_id": ana}  # the server has her cached now

    exported = threadline("forget", "--channel", "web", "--user-id", WEB_ANA.user_id, "--config", str(config))
    assert exported.returncode == 0, exported.stderr
    data = json.loads(exported.stdout)
    assert data["thread_id"] == ana and [e["seq"] for e in data["events"]] == list(range(1, 1501))
    assert {"channel": "messenger", "user_id": PSID} in data["identities"]

    refused = threadline("forget", "--thread", ana, "--delete", "--config", str(config))
    assert refused.returncode == 2 and "--delete needs --export FILE" in refused.stderr
    unknown = threadline("forget", "--thread", "t_nobody", "--config", str(config))
    assert unknown.returncode == 2 and unknown.stderr.strip() == "threadline: no thread t_nobody"
    wrong = threadline("forget", "--thread", ana, "--config", str(write_config(tmp_path / "wrong.yaml", port, "x")))
    assert wrong.returncode == 2 and "refused the admin token" in wrong.stderr
    empty = threadline("forget", "--thread", ana, "--config", str(write_config(tmp_path / "empty.yaml", port, "")))
    assert empty.returncode == 2 and "server.admin_token is empty" in empty.stderr
    closed = free_port()
    unreachable = threadline(
        "forget", "--thread", ana, "--config", str(config), "--server", f"http://127.0.0.1:{closed}"
    )
    assert unreachable.returncode == 2 and f"cannot reach the server at http://127.0.0.1:{closed}" in unreachable.stderr
    half = threadline("forget", "--channel", "web", "--config", str(config))
    assert half.returncode == 2 and "--channel C and --user-id U" in half.stderr
    for result in (refused, unknown, wrong, empty, unreachable, half):
        assert "Traceback" not in result.stderr and result.stdout == ""
    assert traces(db, ana)["events"] == 1500  # none of that deleted anything

    out = tmp_path / "ana.json"
    deleted = threadline(
        "forget", "--channel", "messenger", "--user-id", PSID, "--export", str(out), "--delete", "--config", str(config)
    )
    assert deleted.returncode == 0, deleted.stderr
    assert deleted.stdout.startswith(f"deleted thread {ana} (1500 events; ") and str(out) in deleted.stdout
    saved = json.loads(out.read_text())
    assert saved["events"] == data["events"] and saved["identities"] == data["identities"]
    assert out.stat().st_mode & 0o077 == 0  # personal data: the owner's only
    async with aiohttp.ClientSession(headers=AUTH) as session:
        async with session.get(f"{url}/api/threads", params={"channel": "web", "user_id": WEB_ANA.user_id}) as r:
            assert r.status == 404  # the server itself forgot her, caches and all
        async with session.get(f"{url}/api/threads/{bo}") as r:
            assert r.status == 200 and len((await r.json())["events"]) == 2
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    assert traces(db, ana) == NONE_LEFT and inbox_keys(db) == ["mid:b1"]
    assert traces(db, bo)["events"] == 2
    assert "Traceback" not in (tmp_path / "server.log").read_text()


async def test_forget_command_direct_with_the_server_stopped(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    db, ana, bo = await seeded_store(data_dir)
    config = write_config(tmp_path / "config.yaml", free_port(), "")  # no admin API needed
    env = {"THREADLINE_DATA_DIR": str(data_dir)}

    exported = threadline("forget", "--direct", "--thread", ana, "--config", str(config), env=env)
    assert exported.returncode == 0, exported.stderr
    data = json.loads(exported.stdout)
    assert data["thread_id"] == ana and len(data["events"]) == 1500 and data["state"]["slots"] == {"name": "Ana"}

    refused = threadline("forget", "--direct", "--thread", ana, "--delete", "--config", str(config), env=env)
    assert refused.returncode == 2 and "--delete needs --export FILE" in refused.stderr
    assert traces(db, ana)["events"] == 1500

    out = tmp_path / "ana.json"
    deleted = threadline(
        "forget",
        "--direct",
        "--channel",
        "messenger_ref",
        "--user-id",
        REF,
        "--export",
        str(out),
        "--delete",
        "--config",
        str(config),
        env=env,
    )
    assert deleted.returncode == 0, deleted.stderr
    assert json.loads(out.read_text())["events"] == data["events"]
    assert traces(db, ana) == NONE_LEFT and inbox_keys(db) == ["mid:b1"] and traces(db, bo)["events"] == 2

    again = threadline("forget", "--direct", "--thread", ana, "--config", str(config), env=env)
    assert again.returncode == 2 and again.stderr.strip() == f"threadline: no thread {ana}"
    nobody = threadline(
        "forget", "--direct", "--channel", "web", "--user-id", "nobody", "--config", str(config), env=env
    )
    assert nobody.returncode == 2 and nobody.stderr.strip() == "threadline: no thread for web user nobody"
    empty_dir = tmp_path / "elsewhere"
    missing = threadline(
        "forget", "--direct", "--thread", ana, "--config", str(config), env={"THREADLINE_DATA_DIR": str(empty_dir)}
    )
    assert missing.returncode == 2 and "no store at" in missing.stderr and not empty_dir.exists()
    for result in (refused, again, nobody, missing):
        assert "Traceback" not in result.stderr
