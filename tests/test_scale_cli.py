"""The command line of scaling out: `threadline run --workers N` and `threadline migrate-store`."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bots.config import load_config
from bots.inbox.accounts import AGENT, Accounts
from bots.runtime import open_runtime
from bots.store.base import ThreadDump
from bots.store.factory import open_store
from bots.threads.desk import CONVERSATION, Desk
from bots.types import Identity, Inbound, InboxItem
from tests.cluster import REPO, worker_env, write_config
from tests.readiness import health, wait_healthy, wait_until
from tests.servers import free_port


def threadline(*args: str, data_dir: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bots.cli", *args],
        cwd=REPO,
        env=worker_env(data_dir),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# ---------------------------------------------------------------------- migrate-store

PASSWORD = "correct horse battery"


async def converse_on_sqlite(config_path: Path) -> list[str]:
    """Real conversations through the runtime on the embedded store, one of them on two channels, one of them
    answered by a person (a conversation of the agent inbox), and an agent account."""
    config = load_config(config_path)
    async with open_runtime(config) as runtime:
        Desk(runtime.threads)  # keeps the inbox's conversation records, as in a server with the inbox
        await Accounts(runtime.store).add("ana", PASSWORD, role="admin")
        for n in range(12):
            for k, text in enumerate(("hi", "which size", "42", "bye")):
                await runtime.threads.turn(
                    Inbound(
                        Identity("rest", f"u{n}"), "message", text=text, message_id=f"u{n}-{k}", timestamp=1000.0 + k
                    )
                )
        thread = await runtime.store.find(Identity("rest", "u0"))
        assert thread is not None
        answered = {"text": "Ana here", "by": "page_inbox"}
        await runtime.threads.turn(
            Inbound(Identity("rest", "u3"), "event", event="agent_message", data=answered, message_id="a-1")
        )
        assert len(await runtime.store.records(CONVERSATION)) == 1
        await runtime.store.link(Identity("web", "visitor0000000000042"), thread, now=2000.0)
        item = InboxItem("mid.1", json.dumps({"item": {"sender": {"id": "p1"}}}), Identity("messenger", "p1"))
        await runtime.store.enqueue_inbound("messenger", [item], now=2000.0)
        ig_item = InboxItem("mid:ig.1", json.dumps({"item": {"sender": {"id": "ig1"}}}), Identity("instagram", "ig1"))
        await runtime.store.enqueue_inbound("instagram", [ig_item], now=2000.0)  # every channel's inbox moves
        return sorted(await runtime.store.thread_ids())


async def dumps(url: str, data_dir: Path, ids: list[str]) -> list[ThreadDump | None]:
    store = open_store(url, data_dir)
    await store.open()
    try:
        return [await store.export_thread(thread_id, page=7) for thread_id in ids]
    finally:
        await store.close()


async def inbox_records(url: str, data_dir: Path) -> tuple[dict[str, object], bool]:
    """The inbox's records of a store, and whether ana signs in there with her password."""
    store = open_store(url, data_dir)
    await store.open()
    try:
        records = {kind: await store.records(kind) for kind in (AGENT, CONVERSATION)}
        return records, await Accounts(store).verify("ana", PASSWORD) is not None
    finally:
        await store.close()


def sqlite_with_conversations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, list[str]]:
    """(config, data dir, thread ids) of an embedded store with 12 real conversations in it."""
    config_path = write_config(tmp_path, "sqlite:///threads.db")
    data_dir = tmp_path / "data"
    with monkeypatch.context() as patched:
        patched.setenv("THREADLINE_DATA_DIR", str(data_dir))
        ids = asyncio.run(converse_on_sqlite(config_path))
    assert len(ids) == 12
    return config_path, data_dir, ids


@pytest.mark.parametrize("backend", ["postgres", "redis"])
def test_migrate_store_copies_every_thread_and_verifies_it(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    target = str(request.getfixturevalue(f"{backend}_url"))
    config_path, data_dir, ids = sqlite_with_conversations(tmp_path, monkeypatch)

    result = threadline("migrate-store", "--config", str(config_path), "--to", target, data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    assert "threads: 12 copied, 0 already there" in result.stdout
    assert "events: " in result.stdout and "unprocessed webhook items: 2" in result.stdout
    assert "verified: every one of the 12 threads has the same state, events" in result.stdout
    source = asyncio.run(dumps(f"sqlite:///{data_dir / 'threads.db'}", data_dir, ids))
    copied = asyncio.run(dumps(target, data_dir, ids))
    assert copied == source and all(d is not None and d.events for d in copied)
    assert any(Identity("web", "visitor0000000000042") in d.identities for d in copied if d)  # two channels
    assert "agent accounts: 1; inbox conversations: 1" in result.stdout
    source_records, copied_records = (
        asyncio.run(inbox_records(url, data_dir)) for url in (f"sqlite:///{data_dir / 'threads.db'}", target)
    )
    assert copied_records == source_records and copied_records[1]  # the account can sign in on the new store

    again = threadline("migrate-store", "--config", str(config_path), "--to", target, data_dir=data_dir)
    assert again.returncode == 0, again.stderr
    assert "threads: 0 copied, 12 already there" in again.stdout and "unprocessed webhook items: 0" in again.stdout


def test_migrate_store_reports_a_copy_that_differs(
    tmp_path: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_path, data_dir, ids = sqlite_with_conversations(tmp_path, monkeypatch)

    async def plant_an_older_copy() -> None:
        store = open_store(redis_url, data_dir)
        await store.open()
        try:
            await Accounts(store).add("ana", "another long password")
            await store.commit(ids[0], {}, [], expected_version=0, now=1.0, wake_at=None)  # same id, no events
            source = open_store(f"sqlite:///{data_dir / 'threads.db'}", data_dir)
            await source.open()
            try:
                dump = await source.export_thread(ids[1])
            finally:
                await source.close()
            assert dump is not None  # the same counts, one event's text changed
            first = dump.events[0]
            await store.import_thread(
                replace(dump, events=[replace(first, data={**first.data, "text": "changed"}), *dump.events[1:]])
            )
        finally:
            await store.close()

    asyncio.run(plant_an_older_copy())
    result = threadline("migrate-store", "--config", str(config_path), "--to", redis_url, data_dir=data_dir)
    assert result.returncode == 1
    assert "MISMATCH agent ana: the target has another record" in result.stdout  # an account ana already there
    assert f"MISMATCH {ids[0]}: " in result.stdout and "does not match" in result.stderr
    assert f"MISMATCH {ids[1]}: event 1 differs" in result.stdout


def test_migrate_store_refuses_a_source_that_is_not_there(tmp_path: Path, redis_url: str) -> None:
    config_path = write_config(tmp_path, "sqlite:///threads.db")
    result = threadline(
        "migrate-store",
        "--config",
        str(config_path),
        "--from",
        "sqlite:///nowhere.db",
        "--to",
        redis_url,
        data_dir=tmp_path / "data",
    )
    assert result.returncode == 2 and "nowhere.db does not exist" in result.stderr
    assert not (tmp_path / "data" / "nowhere.db").exists()  # no empty store made, and nothing "verified"


def test_migrate_store_refuses_an_unreachable_target(tmp_path: Path) -> None:
    config_path = write_config(tmp_path, "sqlite:///threads.db")
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "data" / "threads.db").touch()  # an empty store: the target is what is wrong
    result = threadline(
        "migrate-store",
        "--config",
        str(config_path),
        "--to",
        f"postgresql://nobody:secret-pass@127.0.0.1:{free_port()}/db",
        data_dir=tmp_path / "data",
    )
    assert result.returncode == 2 and "cannot connect" in result.stderr
    assert "secret-pass" not in result.stderr and "Traceback" not in result.stderr


# ---------------------------------------------------------------------- run --workers


def test_workers_need_a_shared_store(tmp_path: Path) -> None:
    config_path = write_config(tmp_path, "sqlite:///threads.db")
    result = threadline(
        "run", "--config", str(config_path), "--workers", "2", "--port", str(free_port()), data_dir=tmp_path / "data"
    )
    assert result.returncode == 2 and "needs a store that several processes share" in result.stderr


def test_workers_on_a_database_that_is_down_is_one_clear_error(tmp_path: Path) -> None:
    url = f"postgresql://threadline:secret-pass@127.0.0.1:{free_port()}/threadline"
    config_path = write_config(tmp_path, url)
    result = threadline(
        "run", "--config", str(config_path), "--workers", "2", "--port", str(free_port()), data_dir=tmp_path / "data"
    )
    assert result.returncode == 2 and "cannot connect" in result.stderr
    assert "secret-pass" not in result.stderr and "Traceback" not in result.stderr
    assert "worker 0 started" not in result.stderr  # refused before any worker was started


def pids_answering(base_url: str, wanted: int, supervisor: subprocess.Popen[str]) -> set[int]:
    """Until ``wanted`` worker pids were seen on fresh connections (the kernel spreads connections over the
    workers); fails if the supervisor exits first."""
    seen: set[int] = set()

    def enough() -> set[int] | None:
        answer = health(base_url)
        if answer is not None:
            seen.add(int(answer["pid"]))  # type: ignore[call-overload]
        return set(seen) if len(seen) >= wanted else None

    return wait_until(enough, supervisor, "the supervisor")


def test_run_workers_serves_on_one_port_and_restarts_a_killed_worker(tmp_path: Path, redis_url: str) -> None:
    config_path = write_config(tmp_path, redis_url)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "bots.cli", "run", "--config", str(config_path), "--workers", "3", "--port", str(port)],
        cwd=REPO,
        env=worker_env(tmp_path / "data"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        first = pids_answering(base, 3, supervisor)
        assert len(first) == 3, "three workers answer on the one port"
        victim = sorted(first)[0]
        os.kill(victim, signal.SIGKILL)
        after = pids_answering(base, 3, supervisor)
        assert victim not in after and len(after) == 3 and len(after - first) == 1  # one new worker took its place
    finally:
        supervisor.send_signal(signal.SIGTERM)
        output, _ = supervisor.communicate(timeout=60)
    assert supervisor.returncode == 0, output
    assert "exited with -9; restarting it" in output
    for pid in after:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()


async def test_sigterm_closes_open_tabs_and_the_server_stops(tmp_path: Path) -> None:
    import aiohttp

    config_path = write_config(tmp_path, "sqlite:///threads.db")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bots.cli", "run", "--config", str(config_path), "--port", str(port)],
        cwd=REPO,
        env=worker_env(tmp_path / "data"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, server)
        async with aiohttp.ClientSession() as session:
            ws = await session.ws_connect(base + "/web/ws")
            await ws.send_json({"type": "hello", "visitor_id": "visitor0000000000077"})
            assert (await ws.receive_json(timeout=10))["type"] == "ready"
            server.send_signal(signal.SIGTERM)
            closing = await ws.receive(timeout=30)
            # the tab is told to go (and reconnects elsewhere) instead of the shutdown waiting for it
            assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 1001
        output, _ = server.communicate(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert server.returncode == 0, output
