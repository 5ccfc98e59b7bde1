"""Messenger replies sent twice or lost when the server is killed with SIGKILL while it answers.

    python bench/messenger_kill.py                        # 8 kills, 400 people, the working tree's code
    python bench/messenger_kill.py --compare HEAD~1       # the same run against an older commit first

Starts the fake Graph API in this process and `threadline run` (SQLite store) with the Messenger connector
pointed at it, and posts signed webhooks at a steady rate, one person and one message each ("returns": two
replies), retrying a POST until it gets its 200 as Facebook does. Meanwhile it kills the server N times
with SIGKILL, each at a random moment 0.2-2 s after it came up (so often while it works off the messages
that queued up while it was down), and starts it again on the same data. After the last kill it waits until
every POST was acknowledged and the fake Graph API has heard nothing for two seconds, then counts, per
person, the replies that arrived more than once (duplicates) and the ones that never did (lost).

``--compare REV`` exports that commit (git archive) and runs it first with the same seed, then the working
tree, and prints both.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
from common import free_port, wait_healthy  # noqa: E402
from tests.fake_graph import FakeGraph  # noqa: E402

SECRET = "bench-secret"
PAGE = "111899832631525"
TEXT = "returns"
REPLIES = (
    "You can return unworn shoes within 30 days of delivery, free of charge.",
    "Which order would you like to return? Please send the order number (like ST-123456).",
)


@dataclass
class Result:
    code: str
    kills: int
    people: int
    duplicates: list[int]  # per reply of the turn: first, second
    lost: int
    people_with_duplicates: int
    seconds: float


class Server:
    """`threadline run` from one checkout on one data directory, started again after each kill."""

    def __init__(self, code: Path, data: str, graph_url: str, log: Path | None) -> None:
        self.code = code
        self.log = log
        self.starts = 0
        self.port = free_port()
        self.env = {
            **os.environ,
            "PYTHONPATH": str(code),
            "THREADLINE_DATA_DIR": data,
            "MESSENGER_APP_SECRET": SECRET,
            "MESSENGER_PAGE_ACCESS_TOKEN": "bench-token",
            "MESSENGER_GRAPH_API_URL": graph_url,
            "MESSENGER_VERIFY_TOKEN": "v",
            "MESSENGER_PAGE_ID": PAGE,
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.starts += 1
        log = open(self.log / f"server-{self.starts}.log", "wb") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bots.cli", "run", "--port", str(self.port)],
            cwd=self.code,
            env=self.env,
            stdout=log,
            stderr=log,
        )
        await wait_healthy(self.url)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no shutdown, nothing flushed
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=120)


def signed(person: int) -> tuple[bytes, dict[str, str]]:
    event = {
        "sender": {"id": f"psid-{person}"},
        "recipient": {"id": PAGE},
        "timestamp": int(time.time() * 1000),
        "message": {"mid": f"m_kill_{person}", "text": TEXT},
    }
    raw = json.dumps({"object": "page", "entry": [{"id": PAGE, "time": event["timestamp"], "messaging": [event]}]})
    signature = "sha256=" + hmac.new(SECRET.encode(), raw.encode(), hashlib.sha256).hexdigest()
    return raw.encode(), {"X-Hub-Signature-256": signature, "Content-Type": "application/json"}


async def post_until_acknowledged(session: aiohttp.ClientSession, server: Server, person: int) -> None:
    raw, headers = signed(person)
    while True:
        try:
            async with session.post(f"{server.url}/webhooks/messenger", data=raw, headers=headers) as response:
                await response.read()
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)  # the server is down: Facebook tries again later


async def run(code: Path, label: str, args: argparse.Namespace) -> Result:
    rng = random.Random(args.seed)
    graph = await FakeGraph(access_token="bench-token", app_secret=SECRET).start()
    log = Path(args.log) / label.replace(" ", "-") if args.log else None
    if log:
        log.mkdir(parents=True, exist_ok=True)
    server = Server(code, tempfile.mkdtemp(prefix="threadline-kill-"), graph.url, log)
    started = time.perf_counter()
    try:
        await server.start()
        async with aiohttp.ClientSession() as session:
            first = time.monotonic()

            async def feed(person: int) -> None:
                await asyncio.sleep(max(0.0, first + person / args.rate - time.monotonic()))  # a steady rate
                await post_until_acknowledged(session, server, person)

            feeding = asyncio.gather(*(feed(p) for p in range(args.people)))
            for _ in range(args.kills):
                await asyncio.sleep(rng.uniform(*args.uptime))  # a random moment while it serves
                server.kill()
                await server.start()
            await feeding
            heard = -1
            while heard != len(graph.requests):  # every reply is in once the fake Graph API has been quiet a while
                heard = len(graph.requests)
                await asyncio.sleep(2.0)
        elapsed = time.perf_counter() - started
    finally:
        server.stop()
        await graph.close()
    duplicates = [0] * len(REPLIES)
    lost = people_with_duplicates = 0
    for person in range(args.people):
        said = Counter(m["message"].get("text", "") for m in graph.messages(f"psid-{person}"))
        extra = [max(0, said[reply] - 1) for reply in REPLIES]
        duplicates = [a + b for a, b in zip(duplicates, extra, strict=True)]
        people_with_duplicates += sum(extra) > 0
        lost += sum(said[reply] == 0 for reply in REPLIES)
    return Result(label, args.kills, args.people, duplicates, lost, people_with_duplicates, elapsed)


def export(rev: str) -> Path:
    """The code of an older commit, in a directory of its own."""
    target = Path(tempfile.mkdtemp(prefix="threadline-rev-"))
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=8)
    parser.add_argument("--people", type=int, default=400, help="people, one message each (default 400)")
    parser.add_argument("--rate", type=float, default=20.0, help="new messages per second (default 20)")
    parser.add_argument(
        "--uptime", type=float, nargs=2, default=(0.2, 2.0), help="each kill comes this many seconds after a start"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log", metavar="DIR", help="keep each server start's log in this directory")
    parser.add_argument("--compare", metavar="REV", help="run this commit first, with the same seed")
    args = parser.parse_args()
    runs = [(export(args.compare), args.compare)] if args.compare else []
    runs.append((REPO, "working tree"))
    print(
        f"{args.people} people x 1 message ({len(REPLIES)} replies each) at {args.rate:g}/s, {args.kills} kills "
        f"each {args.uptime[0]:g}-{args.uptime[1]:g} s after a start, seed {args.seed}"
    )
    for code, label in runs:
        result = await run(code, label, args)
        print(
            f"{result.code}: duplicate replies {sum(result.duplicates)} (first replies {result.duplicates[0]}, "
            f"second {result.duplicates[1]}; people {result.people_with_duplicates}), "
            f"lost replies {result.lost}, of {len(REPLIES) * result.people}; {result.seconds:.0f} s"
        )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
