"""Messenger webhook throughput, end to end, against a loopback fake of the Graph API.

    python bench/messenger_throughput.py            # 300 people x 8 messages, 32 webhook POSTs at a time

Starts the fake Graph API in this process, spawns `threadline run` with the
Messenger connector pointed at it, and posts signed webhooks, one event
each, as Facebook does. It reports the webhook response times (what
Facebook waits for), inbound events per second end to end (from the first
POST until the fake Graph API has received the last reply), whether each
person's replies came in the order of their messages, and CPU shares.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
from common import cpu_seconds, free_port, wait_healthy  # noqa: E402
from tests.fake_graph import FakeGraph  # noqa: E402

SECRET = "bench-secret"
PAGE = "111899832631525"


def script(person: int, messages: int) -> list[str]:
    """Size help, then a size (the answer names it, so order is checkable), alternating."""
    return ["/size_help" if n % 2 == 0 else str(36 + (person + n) % 12) for n in range(messages)]


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--messages", type=int, default=8, help="messages per person (default 8)")
    parser.add_argument("--concurrency", type=int, default=32, help="webhook POSTs in flight (default 32)")
    args = parser.parse_args()

    graph = await FakeGraph(access_token="bench-token", app_secret=SECRET).start()
    port = free_port()
    data = tempfile.mkdtemp(prefix="threadline-bench-")
    env = {
        **os.environ,
        "THREADLINE_DATA_DIR": data,
        "MESSENGER_APP_SECRET": SECRET,
        "MESSENGER_PAGE_ACCESS_TOKEN": "bench-token",
        "MESSENGER_GRAPH_API_URL": graph.url,
        "MESSENGER_VERIFY_TOKEN": "v",
        "MESSENGER_PAGE_ID": PAGE,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "bots.cli", "run", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/webhooks/messenger"
    try:
        await wait_healthy(f"http://127.0.0.1:{port}", warm=True)
        async with aiohttp.ClientSession() as session:
            # one queue per person, so a person's messages are posted in order, as Facebook sends them
            queues = [[(p, n, text) for n, text in enumerate(script(p, args.messages))] for p in range(args.people)]
            latencies: list[float] = []
            posted: dict[tuple[int, int], float] = {}  # (person, message number) -> when its POST was sent
            errors = 0
            semaphore = asyncio.Semaphore(args.concurrency)

            async def person_worker(items: list[tuple[int, int, str]]) -> None:
                nonlocal errors
                for person, n, text in items:
                    event = {
                        "sender": {"id": f"psid-{person}"},
                        "recipient": {"id": PAGE},
                        "timestamp": int(time.time() * 1000),
                        "message": {"mid": f"m_{person}_{n}", "text": text},
                    }
                    raw = json.dumps(
                        {
                            "object": "page",
                            "entry": [{"id": PAGE, "time": int(time.time() * 1000), "messaging": [event]}],
                        }
                    ).encode()
                    signature = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
                    async with semaphore:
                        started = time.perf_counter()
                        posted[(person, n)] = time.monotonic()
                        async with session.post(
                            url,
                            data=raw,
                            headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"},
                        ) as r:
                            await r.read()
                            errors += r.status != 200
                        latencies.append(time.perf_counter() - started)

            server_cpu, own_cpu = cpu_seconds(server.pid), sum(os.times()[:2])
            first = time.perf_counter()
            await asyncio.gather(*(person_worker(items) for items in queues))
            events = args.people * args.messages
            # done when the fake Graph API has heard nothing new for a second (every reply has arrived)
            seen = -1
            while seen != len(graph.requests):
                seen = len(graph.requests)
                await asyncio.sleep(1.0)
            last = max(r.at for r in graph.requests)
            elapsed = last - (first - time.perf_counter() + time.monotonic())
            elapsed = max(elapsed, 1e-6)
            server_share = (cpu_seconds(server.pid) - server_cpu) / elapsed * 100
            own_share = (sum(os.times()[:2]) - own_cpu) / elapsed * 100
        # event to reply: each message's first answer at the fake Graph API (the question, or the size advice)
        reply_latencies = []
        for person in range(args.people):
            firsts = [
                r.at
                for r in graph.requests
                if isinstance(r.body, dict)
                and "message" in r.body
                and r.body["recipient"].get("id") == f"psid-{person}"
                and r.body["message"].get("text", "").startswith(("Which EU size", "Our shoes fit"))
            ]
            for n, at in enumerate(firsts):
                reply_latencies.append(at - posted[(person, n)])
        reply_latencies.sort()
        in_order = 0
        for person in range(args.people):
            said = [m["message"].get("text", "") for m in graph.messages(f"psid-{person}")]
            sizes = [t.split("take ")[1][:2] for t in said if t.startswith("Our shoes fit true to size")]
            expected = [t for t in script(person, args.messages) if not t.startswith("/")]
            in_order += sizes == expected
        latencies.sort()
        p50 = statistics.median(latencies) * 1000
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
        print(f"events: {events} ({args.people} people x {args.messages}), webhook POSTs in flight: {args.concurrency}")
        print(f"inbound events/s end to end: {events / elapsed:.0f}   (elapsed {elapsed:.2f} s)")
        print(f"webhook response p50 {p50:.1f} ms, p99 {p99:.1f} ms, non-200: {errors}")
        r50 = statistics.median(reply_latencies) * 1000
        r99 = reply_latencies[min(len(reply_latencies) - 1, int(len(reply_latencies) * 0.99))] * 1000
        print(
            f"event to first reply at the Graph API: p50 {r50:.1f} ms, p99 {r99:.1f} ms "
            f"({len(reply_latencies)} replies matched)"
        )
        print(
            f"Graph API requests: {len(graph.requests)} ({len(graph.messages())} messages), "
            f"limit violations: {len(graph.violations)}"
        )
        print(f"people whose replies kept their order: {in_order}/{args.people}")
        print(f"CPU: server {server_share:.0f} %, this process (load + fake Graph API) {own_share:.0f} %")
    finally:
        stopping = time.perf_counter()
        server.terminate()
        server.wait(timeout=120)
        print(f"server stopped {time.perf_counter() - stopping:.1f} s after SIGTERM")
        await graph.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
