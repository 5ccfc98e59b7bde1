"""Side by side in one run: the bare-server ceiling, Threadline on each store and worker count, and Rasa.

    python bench/compare.py                                  # 3 interleaved rounds, every target, 10 s a workload
    python bench/compare.py --rounds 1 --targets bare,sqlite --seconds 5
    python bench/compare.py --rasa DIR                       # DIR made by `sh bench/rasa_bot.sh DIR`

Targets, each started fresh in every round (a new database, a new data dir), in turn within a round so
that what the machine's other users do falls on all of them alike:

- ``bare``: bench/bare_server.py, aiohttp with the same endpoints and nothing behind them (the ceiling);
- ``sqlite``, ``postgres``, ``redis``: `threadline run` with the demo bot on that store (PostgreSQL and Redis
  are real servers on loopback, started here as the tests start them); ``postgres*2``, ``redis*2``: two workers;
- ``sqlite@before``, ``postgres*2@before``, ... (with ``--before``): the same on another checkout, to measure
  a change side by side;
- ``rasa`` (with ``--rasa``): `rasa run` serving the `rasa init` bot (its default in-memory tracker store).

Workloads, the load from wrk (one thread, so it takes little of the machine):

- ``new``: every message from a new customer (the first message of every conversation opens a thread);
- ``short``: 512 customers taking turns through short multi-language conversations;
- ``long``: one customer's 200-turn conversation, one message at a time: per-turn latency and its slope.

Printed per round and target: msg/s, p50/p99 ms, the server's CPU ms per message (all its processes), its RSS,
the database server's CPU ms per message; then the medians over the rounds and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
from common import free_port, rss_mib, wait_up  # noqa: E402
from compare_report import Figures, summary  # noqa: E402
from tests.servers import Server, start_postgres, start_redis  # noqa: E402
from workers_throughput import (  # noqa: E402
    CONVERSATION,
    WRK_SCRIPT,
    cpu_of,
    descendants,
    fresh_store_url,
    run_wrk,
    start_workers,
    stop,
    write_config,
)

NEW_CUSTOMERS = WRK_SCRIPT.replace("tostring(counter % 512)", "tostring(counter)")
ALL_TARGETS = "bare,sqlite,postgres,postgres*2,redis,redis*2,rasa"
LONG_TURNS = 200


@dataclass
class Running:
    process: subprocess.Popen[bytes]
    url: str
    database: int | None  # the database server's pid, for its CPU


async def start(
    target: str, root: Path, servers: dict[str, Server], rasa: Path | None, run: int, before_tree: Path | None
) -> Running:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    if target == "bare":
        process = subprocess.Popen([sys.executable, str(REPO / "bench" / "bare_server.py"), str(port)])
        await wait_up(url, "/health", process)
        return Running(process, url, None)
    if target == "rasa":
        assert rasa is not None
        process = subprocess.Popen(
            [str(rasa / "env" / "bin" / "rasa"), "run", "--port", str(port), "--model", "models"],
            cwd=rasa / "bot",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        await wait_up(url, "/", process)
        return Running(process, url, None)
    name, _, before = target.partition("@")
    kind, _, workers = name.partition("*")
    if kind != "sqlite" and kind not in servers:
        servers[kind] = start_postgres() if kind == "postgres" else start_redis()
    server = servers.get(kind)
    store_url = await fresh_store_url(kind, server, run)
    tree = Path(before_tree) if before else REPO
    # one data dir: the NLU model trains once
    process = start_workers(write_config(root, store_url), int(workers or 1), port, root / "data", tree)
    await wait_up(url, "/health", process)
    return Running(process, url, server.process.pid if server else None)


def measure(running: Running, work: Callable[[], tuple[int, float, float, float]]) -> Figures:
    """Run ``work`` (messages, p50, p99, seconds) and take the server's and the database's CPU around it."""
    server_pids = descendants(running.process.pid)
    db_pids = descendants(running.database) if running.database else []
    server_cpu, db_cpu = cpu_of(server_pids), cpu_of(db_pids)
    messages, p50, p99, seconds = work()
    server_cpu = cpu_of(descendants(running.process.pid)) - server_cpu
    db_cpu = (cpu_of(descendants(running.database)) - db_cpu) if running.database else 0.0
    rss = sum(rss_mib(pid) for pid in descendants(running.process.pid))
    per = 1000 / max(messages, 1)
    return Figures(messages, messages / seconds, p50, p99, server_cpu * per, rss, db_cpu * per)


def wrk_load(url: str, script: str, seconds: float, connections: int, root: Path) -> tuple[int, float, float, float]:
    path = root / f"load-{uuid.uuid4().hex}.lua"
    path.write_text(script)
    requests, p50, p99, _, errors = run_wrk(url, seconds, connections, path)
    if errors:
        print(f"  ({errors} errors)", flush=True)
    return requests, p50, p99, float(round(seconds))


async def long_conversation(url: str) -> tuple[list[float], float]:
    """Per-turn latencies (ms) of one customer's 200 turns, one after the other, and the wall time."""
    sender = f"long-{uuid.uuid4().hex}"
    latencies = []
    async with aiohttp.ClientSession() as session:
        began = time.perf_counter()
        for turn in range(LONG_TURNS):
            started = time.perf_counter()
            text = CONVERSATION[turn % len(CONVERSATION)]
            async with session.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}) as r:
                await r.read()
                if r.status != 200:
                    raise RuntimeError(f"turn {turn}: HTTP {r.status}")
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies, time.perf_counter() - began


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def first_message(url: str) -> None:
    """One message before any load: what a server loads lazily is loaded before it is measured."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{url}/webhooks/rest/webhook", json={"sender": "warm", "message": "hi"}) as reply,
    ):
        await reply.read()


def long_figures(running: Running) -> Figures:
    """The 200-turn conversation, measured; its slope is the fitted per-turn latency growth."""
    latencies: list[float] = []

    def work() -> tuple[int, float, float, float]:
        found, seconds = asyncio.run(long_conversation(running.url))
        latencies.extend(found)
        return len(found), statistics.median(found), percentile(found, 0.99), seconds

    figures = measure(running, work)
    figures.slope = statistics.linear_regression(range(len(latencies)), latencies).slope
    return figures


async def one_target(
    target: str, args: argparse.Namespace, root: Path, servers: dict[str, Server], run: int
) -> dict[str, Figures]:
    running = await start(target, root, servers, args.rasa, run, args.before)
    results: dict[str, Figures] = {}
    try:
        await first_message(running.url)
        wrk_load(running.url, WRK_SCRIPT, 3, args.connections, root)  # warm-up: every worker up, caches filled
        for workload in args.workloads.split(","):
            if workload == "long" and "*" in target:
                continue  # one customer at a time: a second worker has nothing to do
            if workload == "long":
                figures = await asyncio.to_thread(long_figures, running)
            else:
                script = NEW_CUSTOMERS if workload == "new" else WRK_SCRIPT
                figures = await asyncio.to_thread(
                    measure, running, lambda s=script: wrk_load(running.url, s, args.seconds, args.connections, root)
                )
            results[workload] = figures
            slope = f" slope {figures.slope:+.4f} ms/turn" if workload == "long" else ""
            print(
                f"{run:>3} {target:>10} {workload:>5} {figures.messages:>7} {figures.rate:>7.0f} {figures.p50:>7.1f} "
                f"{figures.p99:>7.1f} {figures.cpu_ms:>7.2f} {figures.rss:>7.0f} {figures.db_ms:>6.2f}{slope}",
                flush=True,
            )
    finally:
        stop(running.process)
    return results


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", default=ALL_TARGETS, help=f"comma-separated (default {ALL_TARGETS})")
    parser.add_argument("--workloads", default="new,short,long")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0, help="per wrk workload (default 10)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--before", type=Path, help="another checkout (e.g. a worktree of an older commit): targets NAME@before run it"
    )
    parser.add_argument("--rasa", type=Path, help="a folder made by bench/rasa_bot.sh (Rasa is skipped without)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2
    targets = [t for t in args.targets.split(",") if t != "rasa" or args.rasa]
    with open("/proc/loadavg") as loadavg:
        print(f"load average before: {loadavg.read().split()[:3]}; {len(targets)} targets, {args.rounds} rounds")
    root = Path(tempfile.mkdtemp(prefix="threadline-compare-"))
    servers: dict[str, Server] = {}
    table: dict[tuple[str, str], list[Figures]] = {}
    print(
        f"{'run':>3} {'target':>10} {'load':>5} {'msgs':>7} {'msg/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'CPU ms':>7} {'RSS MiB':>7} {'DB ms':>6}"
    )
    try:
        run = 0
        for _ in range(args.rounds):
            for target in targets:
                run += 1
                for workload, figures in (await one_target(target, args, root, servers, run)).items():
                    table.setdefault((target, workload), []).append(figures)
    finally:
        for server in servers.values():
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
    with open("/proc/loadavg") as loadavg:
        print(f"load average after: {loadavg.read().split()[:3]}")
    summary(table)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
