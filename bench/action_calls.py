"""What one custom action call costs: in process and on a real rasa-sdk action server.

Runs the demo bot's ``lookup_order`` (a rasa-sdk ``Action``) through the same
runner the pipeline uses, on a thread whose history holds ``--history``
events, so the figure includes building the tracker from the thread log,
the domain (sent once, then its digest), rasa-sdk's executor and turning the
answer into engine effects. The remote server is ``python -m rasa_sdk
--actions actions`` started in the demo bot's folder.

    .venv/bin/python bench/action_calls.py [--calls 2000] [--history 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import free_port, wait_healthy  # noqa: E402
from bots.actions import ActionCall, ActionRunner, open_action_server  # noqa: E402
from bots.config import SUPPORTED_LANGUAGES  # noqa: E402
from bots.flow.loader import load_bot  # noqa: E402
from bots.flow.state import ThreadState  # noqa: E402
from bots.types import ThreadEvent  # noqa: E402

BOT = ROOT / "flows"


def history(length: int) -> list[ThreadEvent]:
    """A plausible thread log: customer messages, slot changes, flows and bot replies."""
    events: list[ThreadEvent] = []
    kinds = ("user", "flow", "slot", "bot")
    for i in range(length):
        kind = kinds[i % 4]
        data: dict[str, object] = {
            "user": {
                "text": "where is my order ST-123456",
                "parse_data": {"intent": {"name": "order_status", "confidence": 0.9}},
            },
            "flow": {"flow": "order_status", "status": "started"},
            "slot": {"name": "order_number", "value": "ST-123456", "source": "answer"},
            "bot": {"type": "text", "text": "Good news! Your order has shipped.", "buttons": [], "quick_replies": []},
        }[kind]
        events.append(ThreadEvent(kind, data, 1_700_000_000 + i, "rest"))
    return events


async def measure(mode: str, url: str, calls: int, length: int) -> list[float]:
    bot = load_bot(BOT, languages=SUPPORTED_LANGUAGES, default_language="en").bot
    assert bot is not None
    server = open_action_server(mode, BOT, package="actions", url=url, timeout_seconds=10)
    await server.start()
    runner = ActionRunner(server, bot, timeout_seconds=10)
    state = ThreadState(language="en", slots={"order_number": "ST-123456"})
    call = ActionCall(
        "lookup_order", "t_bench", "rest", state, {"text": "ST-123456", "intent": {}}, history(length), "bench-user"
    )
    try:
        for _ in range(50):  # warm up (imports, the first domain upload, connection pool)
            await runner.run(call)
        latencies = []
        for _ in range(calls):
            started = time.perf_counter()
            outcome = await runner.run(call)
            latencies.append((time.perf_counter() - started) * 1000)
            assert outcome.ok, outcome.error
        return latencies
    finally:
        await server.close()


def report(mode: str, latencies: list[float]) -> None:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered)
    p99 = ordered[int(len(ordered) * 0.99) - 1]
    print(
        f"{mode:<10} calls {len(ordered):>5}   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   "
        f"calls/s (one at a time) {1000 / statistics.mean(ordered):6.0f}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--history", type=int, default=200, help="events in the thread's history")
    args = parser.parse_args()
    print(f"lookup_order, tracker with {args.history} past events, Python {sys.version.split()[0]}")
    report("in_process", await measure("in_process", "", args.calls, args.history))
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)],
        cwd=BOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        await wait_healthy(f"http://127.0.0.1:{port}")
        report("remote", await measure("remote", f"http://127.0.0.1:{port}/webhook", args.calls, args.history))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait()


if __name__ == "__main__":
    asyncio.run(main())
