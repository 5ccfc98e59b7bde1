"""Throughput of 1, 2 and 4 workers on PostgreSQL and Redis, and a thread with 100 000 events.

    python bench/workers_throughput.py                    # both stores, 1,2,4 workers, 10 s each
    python bench/workers_throughput.py --stores redis --workers 1,2 --seconds 5

It starts its own PostgreSQL and Redis servers on loopback (Debian's packages,
as the tests do), then for each store and worker count a fresh database and
`threadline run --workers N` serving the demo bot on one port. The load comes
from wrk (C, one thread, so the load generator takes little of the 2 cores)
with a Lua script: REST messages in the 11 languages from 512 customers taking turns, so
every request runs language ID, intent and entities, the flow engine, the
thread lock, a commit and sometimes a custom action. Printed per run:
messages/s, p50/p99 latency (wrk's), and the CPU share of the workers, of the
database server and of the load generator over the measured window.

Then a thread with 100 000 events: the demo's own events, copied until the log
is that long, and a customer who keeps talking on it; the p50/p99 of their
next 400 messages against a fresh thread's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
from bots.store.base import ThreadStore  # noqa: E402
from bots.store.factory import open_store  # noqa: E402
from bots.store.records import Snapshot  # noqa: E402
from bots.types import (  # noqa: E402
    INBOUND_KINDS,
    Identity,
    ThreadEvent,
)
from common import cpu_seconds, free_port, wait_healthy  # noqa: E402
from tests.servers import Server, start_postgres, start_redis  # noqa: E402

MESSAGES = [
    "hi",
    "/order_status",
    "ST-123456",
    "thanks!",
    "hallo",
    "wo ist mein Paket?",
    "bonjour",
    "je cherche des chaussures de trail",
    "hola",
    "¿qué talla debo elegir?",
    "41",
    "ciao",
    "quanto costa la spedizione?",
    "hoi",
    "ik wil mijn schoenen retourneren",
    "cześć",
    "czy jesteś botem?",
    "olá",
    "onde está a minha encomenda",
    "bună",
    "cât costă pantofii de alergare?",
    "你好",
    "我的快递到哪了",
    "chào shop",
    "mình muốn đổi size",
]
# wrk's script: 512 customers of this run take turns, so each thread gets a message every 512 requests (never
# two at once) and grows a conversation, as real traffic does; a run's customers are new (the prefix).
# (printf-style: the Lua code is full of braces)
WRK_SCRIPT = """
local messages = {%s}
local counter = 0
local prefix = ""
init = function(args)
  math.randomseed(os.time())
  prefix = "s" .. tostring(math.random(1, 1000000000))
end
request = function()
  counter = counter + 1
  local sender = prefix .. "-" .. tostring(counter %% 512)
  local body = '{"sender": "' .. sender .. '", "message": ' .. messages[(counter %% #messages) + 1] .. '}'
  return wrk.format("POST", "/webhooks/rest/webhook", {["Content-Type"] = "application/json"}, body)
end
""" % ", ".join(json.dumps(json.dumps(m)) for m in MESSAGES)  # noqa: UP031


def cpu_of(pids: list[int]) -> float:
    """CPU seconds of these processes (those that have exited since count nothing)."""
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except OSError:
            continue
    return total


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (a supervisor's workers, a postmaster's backends)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def write_config(root: Path, store: str) -> Path:
    text = (REPO / "config.yaml").read_text()
    text = re.sub(r"(?m)^bot: .*$", f"bot: {REPO / 'flows'}", text)
    text = re.sub(r"(?m)^store: .*$", f"store: {store}", text)
    text = re.sub(r"(?m)^log_level: .*$", "log_level: warning", text)
    text = text.replace(
        "rate_limit: {messages: 20, per_seconds: 60}", "rate_limit: {messages: 1000000, per_seconds: 1}"
    )
    path = root / f"config-{abs(hash(store))}.yaml"
    path.write_text(text)
    return path


async def fresh_store_url(kind: str, server: Server | None, run: int) -> str:
    if server is None:  # the embedded store, for reference (one worker only)
        return f"sqlite:///bench-{run}.db"
    if kind == "postgres":
        import asyncpg

        connection = await asyncpg.connect(server.url)
        try:
            await connection.execute(f"CREATE DATABASE bench_{run}")
        finally:
            await connection.close()
        return server.url.rsplit("/", 1)[0] + f"/bench_{run}"
    import redis.asyncio as aioredis

    url = server.url.rsplit("/", 1)[0] + f"/{run % 60 + 1}"
    client = aioredis.from_url(url)
    await client.flushdb()
    await client.aclose()
    return url


def start_workers(config: Path, workers: int, port: int, data: Path, tree: Path = REPO) -> subprocess.Popen[bytes]:
    """`threadline run` of the checkout ``tree`` (this one by default)."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bots.cli",
            "run",
            "--config",
            str(config),
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        cwd=tree,
        env={**os.environ, "THREADLINE_DATA_DIR": str(data), "PYTHONPATH": str(tree)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def run_wrk(url: str, seconds: float, connections: int, script: Path) -> tuple[int, float, float, float, int]:
    """(requests, p50 ms, p99 ms, wrk's CPU seconds, non-2xx or socket errors)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{round(seconds)}s",
            "--timeout",
            "30s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = result.stdout

    def millis(label: str) -> float:
        match = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        assert match, out
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors += int(match.group(1))
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(g) for g in match.groups())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return requests, millis("50%"), millis("99%"), cpu, errors


CONVERSATION = ["hi", "/order_status", "ST-123456", "thanks!", "which size should I take?", "42", "bye"]


async def say(session: aiohttp.ClientSession, url: str, sender: str, text: str) -> float:
    started = time.perf_counter()
    async with session.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}) as reply:
        await reply.read()
        assert reply.status == 200, reply.status
    return time.perf_counter() - started


async def stored_thread(store: ThreadStore, identity: Identity) -> tuple[str, Snapshot, list[ThreadEvent]]:
    """A customer's thread id, snapshot and events as stored: the template the benchmarks copy."""
    thread = await store.find(identity)
    assert thread is not None, identity
    snapshot = await store.load(thread)
    assert snapshot is not None, thread
    return thread, snapshot, [e.event for e in await store.events(thread)]


async def grow_thread(store_url: str, data: Path, events: int) -> None:
    """Copy the thread's own events until its log holds ``events`` (the server is stopped: SQLite has one writer)."""
    store = open_store(store_url, data)
    await store.open()
    try:
        thread, snapshot, pattern = await stored_thread(store, Identity("rest", "longtail"))
        version, copy = snapshot.version, 0
        while version < events:
            copy += 1
            batch = [
                replace(e, message_id=f"copy{copy}-{i}" if e.kind in INBOUND_KINDS else None)
                for i, e in enumerate(pattern * 100)
            ][: events - version]
            version = await store.commit(
                thread,
                snapshot.state,
                batch,
                expected_version=version,
                now=time.time(),
                wake_at=snapshot.state.get("wake_at"),
            )
    finally:
        await store.close()
    if store_url.startswith("postgres"):
        # The log grew by 100 000 rows in a second; a real one grows over months while autovacuum keeps the
        # planner's statistics current. Without them the first few action turns took ~65 ms (custom plans).
        import asyncpg

        connection = await asyncpg.connect(store_url.split("?")[0])
        try:
            await connection.execute("ANALYZE")
        finally:
            await connection.close()


async def long_thread(config: Path, store_url: str, data: Path, events: int, messages: int) -> tuple[float, ...]:
    """p50/p99 ms of a customer's messages on a thread of ``events`` events, and on a fresh thread."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_workers(config, 1, port, data)
    try:
        await wait_healthy(url, attempts=1200, warm=True)
        async with aiohttp.ClientSession() as session:
            for text in CONVERSATION:  # a real thread first: its events are what the long log is made of
                await say(session, url, "longtail", text)
    finally:
        stop(server)
    await grow_thread(store_url, data, events)
    server = start_workers(config, 1, port, data)
    try:
        await wait_healthy(url, attempts=1200, warm=True)
        async with aiohttp.ClientSession() as session:
            for text in CONVERSATION:  # warm-up
                await say(session, url, "warm-up", text)
            long = sorted(
                [await say(session, url, "longtail", CONVERSATION[i % len(CONVERSATION)]) for i in range(messages)]
            )
            fresh = sorted(
                [
                    await say(session, url, "fresh-customer", CONVERSATION[i % len(CONVERSATION)])
                    for i in range(messages)
                ]
            )
    finally:
        stop(server)

    def p(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(len(values) * q))] * 1000

    return statistics.median(long) * 1000, p(long, 0.99), statistics.median(fresh) * 1000, p(fresh, 0.99)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stores", default="postgres,redis")
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--history", type=int, default=100_000, help="events of the long thread (0: skip)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2
    root = Path(tempfile.mkdtemp(prefix="threadline-workers-bench-"))
    data = root / "data"
    script = root / "load.lua"
    script.write_text(WRK_SCRIPT)
    servers: dict[str, Server] = {}
    run = 0
    try:
        print(
            f"{'store':>8} {'workers':>7} {'messages':>8} {'msg/s':>7} {'speed-up':>8} {'p50 ms':>7} {'p99 ms':>7} "
            f"{'errors':>6} {'workers CPU %':>13} {'database CPU %':>14} {'wrk CPU %':>9}",
            flush=True,
        )
        for kind in args.stores.split(","):
            if kind in ("postgres", "redis"):
                servers[kind] = start_postgres() if kind == "postgres" else start_redis()
            baseline = None
            for workers in (int(w) for w in args.workers.split(",")):
                if kind not in servers and workers > 1:
                    continue  # the embedded store has one writer: --workers is refused
                run += 1
                store_url = await fresh_store_url(kind, servers.get(kind), run)
                port = free_port()
                supervisor = start_workers(write_config(root, store_url), workers, port, data)
                url = f"http://127.0.0.1:{port}"
                try:
                    await wait_healthy(url, attempts=1200, warm=True)
                    run_wrk(url, 3, args.connections, script)  # warm-up: every worker up, caches filled
                    database = servers[kind].process.pid if kind in servers else None
                    server_pids = descendants(database) if database else []
                    worker_pids = descendants(supervisor.pid)
                    cpu_workers, cpu_db, started = cpu_of(worker_pids), cpu_of(server_pids), time.perf_counter()
                    requests, p50, p99, wrk_cpu, errors = run_wrk(url, args.seconds, args.connections, script)
                    elapsed = time.perf_counter() - started
                    share_workers = (cpu_of(worker_pids) - cpu_workers) / elapsed * 100
                    share_db = ((cpu_of(descendants(database)) - cpu_db) / elapsed * 100) if database else 0.0
                    rate = requests / args.seconds
                    baseline = baseline or rate
                    print(
                        f"{kind:>8} {workers:>7} {requests:>8} {rate:>7.0f} {rate / baseline:>7.2f}x {p50:>7.1f} "
                        f"{p99:>7.1f} {errors:>6} {share_workers:>13.0f} {share_db:>14.0f} "
                        f"{wrk_cpu / elapsed * 100:>9.0f}",
                        flush=True,
                    )
                finally:
                    stop(supervisor)
            if args.history:
                run += 1
                store_url = await fresh_store_url(kind, servers.get(kind), run)
                long_p50, long_p99, fresh_p50, fresh_p99 = await long_thread(
                    write_config(root, store_url), store_url, data, args.history, 400
                )
                print(
                    f"{kind:>8}: a thread of {args.history} events answers in p50 {long_p50:.1f} ms, p99 "
                    f"{long_p99:.1f} ms (a fresh thread: p50 {fresh_p50:.1f} ms, p99 {fresh_p99:.1f} ms), "
                    "400 messages one after the other",
                    flush=True,
                )
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
