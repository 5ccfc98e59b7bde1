"""What one thread across channels costs: redeeming a link, merging two threads, planning a follow-up.

- link: a to_messenger token issued and redeemed for a new Messenger identity (signature check, the
  single-use write, the identity link), one at a time;
- merge: two threads of ``--events`` events each merged (read both logs, the merge rule, rewrite the log in one
  transaction), with the peak memory the merge rule itself allocates (tracemalloc);
- plan: a follow-up campaign's dry run over ``--threads`` threads (load, eligibility, condition, channel choice).

All on the embedded SQLite store in a temporary folder.

    .venv/bin/python bench/linking.py [--links 2000] [--events 5000] [--threads 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bots.config import Config  # noqa: E402
from bots.flow.state import ThreadState  # noqa: E402
from bots.followups import parse_campaign  # noqa: E402
from bots.linking.merge import MergeInput, merge_threads  # noqa: E402
from bots.runtime import open_runtime  # noqa: E402
from bots.server.app import create_app  # noqa: E402
from bots.server.followups import FOLLOWUPS  # noqa: E402
from bots.types import Identity, ThreadEvent  # noqa: E402


def log(thread: int, count: int, start: float) -> list[ThreadEvent]:
    kinds = ("user", "bot", "slot", "bot")
    return [
        ThreadEvent(
            kinds[i % 4],
            {"text": f"message {i} of thread {thread}", "name": f"s{i % 7}", "value": i},
            start + i * 1.5,
            "web",
            f"w{thread}:{i}" if i % 4 == 0 else None,
        )
        for i in range(count)
    ]


def percentile(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(len(values) * q))]


async def main(links: int, events: int, threads: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        config = Config.model_validate(
            {"bot": ROOT / "flows", "data_dir": Path(folder), "log_level": "warning", "linking": {"secret": "bench"}}
        )
        async with open_runtime(config) as runtime:
            store, linker = runtime.store, runtime.linker
            state = ThreadState(language="en", turn=3).to_json()

            # link: issue + redeem for a new identity
            web_threads = []
            for n in range(links):
                thread = await store.resolve(Identity("web", f"visitor{n:016d}"), now=time.time())
                web_threads.append(thread)
            times = []
            for n, thread in enumerate(web_threads):
                began = time.perf_counter()
                await linker.redeem(linker.issue(thread, "to_messenger"), "to_messenger", Identity("messenger", str(n)))
                times.append((time.perf_counter() - began) * 1000)
            print(
                f"link   {links} redeemed: p50 {statistics.median(times):.3f} ms, p99 {percentile(times, 0.99):.3f} ms,"
                f" {links / (sum(times) / 1000):.0f}/s one at a time"
            )

            # merge: two threads of `events` events each
            merges = []
            rule = []
            peak = 0
            for round_ in range(5):
                a = await store.resolve(Identity("web", f"merge-a-{round_}"), now=time.time())
                b = await store.resolve(Identity("messenger", f"merge-b-{round_}"), now=time.time())
                for thread, index in ((a, 0), (b, 1)):
                    await store.commit(
                        thread,
                        state,
                        log(index, events, 1000.0 + index * 0.7),
                        expected_version=0,
                        now=time.time(),
                        wake_at=state.get("wake_at"),
                    )
                one, two = log(0, events, 1000.0), log(1, events, 1000.7)
                tracemalloc.start()
                began = time.perf_counter()
                merge_threads(MergeInput(a, state, one), MergeInput(b, state, two), reason="bench", now=time.time())
                rule.append((time.perf_counter() - began) * 1000)
                peak = max(peak, tracemalloc.get_traced_memory()[1])
                tracemalloc.stop()
                began = time.perf_counter()
                await linker.merge(a, b, reason="bench")
                merges.append((time.perf_counter() - began) * 1000)
            print(
                f"merge  2 x {events} events: {statistics.median(merges):.1f} ms median of 5 (the rule alone "
                f"{statistics.median(rule):.1f} ms, peak {peak / 1e6:.1f} MB)"
            )

            # plan: a dry run over `threads` threads (a third selected)
            for n in range(threads):
                thread = await store.resolve(Identity("web", f"plan{n:08d}"), now=time.time())
                planned = ThreadState(language="en", turn=2)
                if n % 3 == 0:
                    planned.site_events.append(
                        {"name": "product_viewed", "data": {"sku": "TR2"}, "ts": time.time(), "channel": "web"}
                    )
                await store.commit(
                    thread, planned.to_json(), [], expected_version=0, now=time.time(), wake_at=planned.wake_at
                )
            app = create_app(runtime)
            campaign = parse_campaign(
                {"name": "bench", "text": "hi", "when": "count('product_viewed', sku='TR2', within_days=2) > 0"},
                runtime.bot,
            )
            began = time.perf_counter()
            targets = await app[FOLLOWUPS].plan(campaign)
            seconds = time.perf_counter() - began
            chosen = sum(1 for t in targets if t.status == "would_send")
            print(
                f"plan   {len(targets)} threads ({chosen} selected): {seconds:.2f} s, {len(targets) / seconds:.0f} "
                "threads/s"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--links", type=int, default=2000)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=10000)
    args = parser.parse_args()
    asyncio.run(main(args.links, args.events, args.threads))
