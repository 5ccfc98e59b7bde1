"""Per-message cost against how many threads the store holds: returning customers, one at a time.

    python bench/many_threads.py                       # SQLite, 1 000 and 100 000 threads, 2 rounds, 10 s each
    python bench/many_threads.py --threads 1000,100000 --rounds 3 --store sqlite

For each size a store is filled with that many customers' threads (a real conversation's snapshot and events,
copied), then `threadline run` serves it and customers picked at random among them send one message each, one
after the other (concurrency 1, so the figures are a message's own cost, not queueing). Sizes are interleaved.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
from bots.store.factory import open_store  # noqa: E402
from bots.types import Identity  # noqa: E402
from common import cpu_seconds, free_port, wait_up  # noqa: E402
from workers_throughput import CONVERSATION, say, start_workers, stop, stored_thread, write_config  # noqa: E402

FILL_BATCH = 500


async def fill(store_url: str, data: Path, threads: int) -> None:
    """``threads`` customers c0, c1, ..., each with a copy of the template customer's snapshot and events."""
    store = open_store(store_url, data)
    await store.open()
    try:
        _template, snapshot, events = await stored_thread(store, Identity("rest", "template"))

        async def one(index: int) -> None:
            thread_id = await store.resolve(Identity("rest", f"c{index}"), now=time.time())
            await store.commit(thread_id, snapshot.state, events, expected_version=0, now=time.time(), wake_at=None)

        for start in range(0, threads, FILL_BATCH):
            await asyncio.gather(*(one(i) for i in range(start, min(threads, start + FILL_BATCH))))
    finally:
        await store.close()


async def serve(config: Path, data: Path, threads: int, seconds: float) -> tuple[int, float, float, float]:
    """(messages, p50 ms, p99 ms, server CPU ms per message) of returning customers at concurrency 1."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_workers(config, 1, port, data)
    try:
        await wait_up(url, "/health", server)
        latencies: list[float] = []
        async with aiohttp.ClientSession() as session:
            for _ in range(50):  # warm-up
                await say(session, url, f"c{random.randrange(threads)}", random.choice(CONVERSATION))
            cpu = cpu_seconds(server.pid)
            deadline = time.perf_counter() + seconds
            while time.perf_counter() < deadline:
                text = random.choice(CONVERSATION)
                latencies.append(await say(session, url, f"c{random.randrange(threads)}", text) * 1000)
            cpu = cpu_seconds(server.pid) - cpu
    finally:
        stop(server)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(latencies), statistics.median(latencies), p99, cpu * 1000 / len(latencies)


async def prepare(root: Path, threads: int) -> Path:
    """A store of ``threads`` customers, and the config serving it."""
    store_url = f"sqlite:///many-{threads}.db"
    config = write_config(root, store_url)
    port = free_port()
    server = start_workers(config, 1, port, root / "data")
    try:
        await wait_up(f"http://127.0.0.1:{port}", "/health", server)
        async with aiohttp.ClientSession() as session:
            for text in CONVERSATION:
                await say(session, f"http://127.0.0.1:{port}", "template", text)
    finally:
        stop(server)
    await fill(store_url, root / "data", threads)
    return config


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", default="1000,100000")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="threadline-many-"))
    sizes = [int(n) for n in args.threads.split(",")]
    try:
        await compare_sizes(root, sizes, args.rounds, args.seconds)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


async def compare_sizes(root: Path, sizes: list[int], rounds: int, seconds: float) -> None:
    configs = {n: await prepare(root, n) for n in sizes}
    print(f"{'threads':>8} {'messages':>8} {'msg/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms/msg':>10}", flush=True)
    for _ in range(rounds):
        for n in sizes:
            messages, p50, p99, cpu = await serve(configs[n], root / "data", n, seconds)
            print(f"{n:>8} {messages:>8} {messages / seconds:>7.0f} {p50:>7.2f} {p99:>7.2f} {cpu:>10.2f}", flush=True)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
