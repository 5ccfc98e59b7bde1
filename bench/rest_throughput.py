"""REST channel throughput and latency against a running Threadline server.

    python bench/rest_throughput.py --spawn                 # starts `threadline run` on a free port
    python bench/rest_throughput.py --url http://127.0.0.1:8080 --pid 1234

For each concurrency level (default 1, 8, 32) it runs short multi-language
conversations (greetings, order questions with order numbers, size help with
answers, product search with carousels, button presses) from many senders for
a fixed time, and prints messages/s, p50/p99 latency, the server's resident
memory, and the CPU share of the server and of this load generator.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import cpu_seconds, free_port, rss_mib, wait_healthy

REPO = Path(__file__).resolve().parent.parent
CONVERSATIONS = [
    ["hi", "/order_status", "ST-123456", "thanks!"],
    ["hallo", "wo ist mein Paket?", "ST-345678", "danke dir"],
    ["bonjour", "je cherche des chaussures de trail", '/buy{"sku": "TR2"}', "42"],
    ["hola", "¿qué talla debo elegir?", "41", "gracias"],
    ["ciao", "quanto costa la spedizione?", "grazie mille"],
    ["hoi", "ik wil mijn schoenen retourneren", "ST-234567", "too_small"],
    ["cześć", "czy jesteś botem?", "dzięki"],
    ["olá", "onde está a minha encomenda", "ST-999999", "obrigado"],
    ["bună", "cât costă pantofii de alergare?", "mersi"],
    ["你好", "我的快递到哪了", "ST-123456", "谢谢"],
    ["chào shop", "mình muốn đổi size", "42", "cảm ơn"],
]


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


async def level(url: str, concurrency: int, seconds: float, run: int) -> tuple[int, list[float], float]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker(index: int) -> None:
            nonlocal errors
            for round_number in itertools.count():
                script = CONVERSATIONS[(index + round_number) % len(CONVERSATIONS)]
                sender = f"bench-{run}-{concurrency}-{index}-{round_number}"
                for text in script:
                    if time.perf_counter() >= deadline:
                        return
                    started = time.perf_counter()
                    async with session.post(
                        f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}
                    ) as response:
                        await response.read()
                        if response.status != 200:
                            errors += 1
                    latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker(i) for i in range(concurrency)))
        elapsed = time.perf_counter() - started
    return errors, latencies, elapsed


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running server (default: --spawn one)")
    parser.add_argument("--pid", type=int, help="the server's pid, for memory and CPU figures")
    parser.add_argument("--spawn", action="store_true", help="start `threadline run` with a fresh data dir")
    parser.add_argument("--concurrency", default="1,8,32", help="comma-separated levels (default 1,8,32)")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each level (default 10)")
    parser.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds before measuring (default 2)")
    args = parser.parse_args()
    process = None
    url, pid = args.url, args.pid
    if url is None or args.spawn:
        port = free_port()
        data = tempfile.mkdtemp(prefix="threadline-bench-")
        process = subprocess.Popen(
            [sys.executable, "-m", "bots.cli", "run", "--port", str(port)],
            cwd=REPO,
            env={**os.environ, "THREADLINE_DATA_DIR": data},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url, pid = f"http://127.0.0.1:{port}", process.pid
        await wait_healthy(url, warm=True)
    try:
        await level(url, 8, args.warmup, 0)
        print(
            f"{'concurrency':>11} {'messages':>9} {'msg/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} "
            f"{'server RSS MiB':>14} {'server CPU %':>12} {'bench CPU %':>11}"
        )
        for run, concurrency in enumerate(int(c) for c in args.concurrency.split(",")):
            server_cpu = cpu_seconds(pid) if pid else float("nan")
            own_cpu = own_cpu_seconds()
            errors, latencies, elapsed = await level(url, concurrency, args.seconds, run + 1)
            server_share = (cpu_seconds(pid) - server_cpu) / elapsed * 100 if pid else float("nan")
            own_share = (own_cpu_seconds() - own_cpu) / elapsed * 100
            latencies.sort()
            p50 = statistics.median(latencies) * 1000
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
            print(
                f"{concurrency:>11} {len(latencies):>9} {len(latencies) / elapsed:>8.0f} {p50:>7.1f} {p99:>7.1f} "
                f"{errors:>6} {rss_mib(pid) if pid else float('nan'):>14.0f} {server_share:>12.0f} "
                f"{own_share:>11.0f}"
            )
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
