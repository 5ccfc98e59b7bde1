"""Start-up time and memory of ``threadline run``: a first start that trains, and a restart that loads.

    python bench/startup.py                 # 3 rounds of this tree's demo bot
    python bench/startup.py --rounds 5 --tree OTHER_CHECKOUT

Each round starts the server with a fresh data dir (so it trains the NLU), times
the first answer to POST /webhooks/rest/webhook, reads the server's resident
memory, stops it, then starts it again on the same data dir (the trained model is
on disk) and does the same. Time is counted from spawning the process to the first
answer, so it includes Python's start, imports, training or loading, opening the
store and binding the port. Memory is read twice: right after the first answer,
and after one more message in each of the demo's 11 languages (every tokenizer
built, as on a server that has been serving a while). The medians of the rounds
are printed last.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import cpu_seconds, free_port, rss_mib

REPO = Path(__file__).resolve().parent.parent
POLL_SECONDS = 0.02
HELLOS = [
    "hello",
    "你好",
    "hallo daar",
    "bonjour",
    "guten Tag",
    "ciao",
    "cześć",
    "olá",
    "bună ziua",
    "hola",
    "xin chào",
]


async def first_answer(process: subprocess.Popen[bytes], url: str) -> None:
    """Ask until the server answers (the port is closed until it is ready) or the process exits."""
    body = {"sender": "bench-startup", "message": "hello"}
    async with aiohttp.ClientSession() as session:
        while process.poll() is None:
            try:
                async with session.post(f"{url}/webhooks/rest/webhook", json=body) as response:
                    if response.status == 200 and await response.json():
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(POLL_SECONDS)
    raise RuntimeError(f"the server exited with {process.returncode} before answering")


async def every_language(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for n, text in enumerate(HELLOS):
            body = {"sender": f"bench-startup-{n}", "message": text}
            async with session.post(f"{url}/webhooks/rest/webhook", json=body) as response:
                response.raise_for_status()


async def start(tree: Path, data: str) -> tuple[float, float, float, float]:
    """Seconds from spawning ``threadline run`` to its first answer, the CPU seconds used by then (its own and
    its finished children's: what a busy machine's other load does not change much), its RSS in MiB right
    after, and its RSS once it answered in every language."""
    port = free_port()
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "bots.cli", "run", "--port", str(port)],
        cwd=tree,
        env={**os.environ, "THREADLINE_DATA_DIR": data, "PYTHONPATH": str(tree)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        await first_answer(process, f"http://127.0.0.1:{port}")
        seconds = time.perf_counter() - began
        cpu, first_rss = cpu_seconds(process.pid, children=True), rss_mib(process.pid)
        await every_language(f"http://127.0.0.1:{port}")
        return seconds, cpu, first_rss, rss_mib(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=60)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="first starts and restarts to time (default 3)")
    parser.add_argument("--tree", type=Path, default=REPO, help="the checkout to run (default: this one)")
    args = parser.parse_args()
    first: list[tuple[float, float, float, float]] = []
    again: list[tuple[float, float, float, float]] = []
    print(f"nproc {os.cpu_count()}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"{'round':>6} {'first start s':>13} {'CPU s':>6} {'RSS MiB':>8} {'RSS all MiB':>11} "
        f"{'restart s':>9} {'CPU s':>6} {'RSS MiB':>8} {'RSS all MiB':>11}"
    )
    for round_ in range(1, args.rounds + 1):
        with tempfile.TemporaryDirectory(prefix="threadline-startup-") as data:
            first.append(await start(args.tree.resolve(), data))
            again.append(await start(args.tree.resolve(), data))
        print(_row(str(round_), first[-1], again[-1]))
    median = tuple(statistics.median(run[i] for run in first) for i in range(4))
    median_again = tuple(statistics.median(run[i] for run in again) for i in range(4))
    print(_row("median", median, median_again))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


def _row(name: str, first: tuple[float, ...], again: tuple[float, ...]) -> str:
    return (
        f"{name:>6} {first[0]:>13.2f} {first[1]:>6.1f} {first[2]:>8.0f} {first[3]:>11.0f} "
        f"{again[0]:>9.2f} {again[1]:>6.1f} {again[2]:>8.0f} {again[3]:>11.0f}"
    )


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
