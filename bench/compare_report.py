"""bench/compare.py's figures and its closing summary: medians over the rounds and the ratios that matter."""

from __future__ import annotations

import statistics
from dataclasses import dataclass


@dataclass
class Figures:
    messages: int
    rate: float
    p50: float
    p99: float
    cpu_ms: float  # server CPU per message
    rss: float  # MiB, all the server's processes
    db_ms: float  # database server CPU per message
    slope: float = float("nan")  # ms per turn (the long conversation)


def summary(table: dict[tuple[str, str], list[Figures]]) -> None:
    def median(target: str, workload: str, field: str) -> float:
        found = [getattr(f, field) for f in table.get((target, workload), [])]
        return statistics.median(found) if found else float("nan")

    print("\nmedians over the rounds")
    print(
        f"{'target':>10} {'load':>5} {'msg/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms':>7} {'RSS MiB':>7} {'DB ms':>6}"
    )
    for target, workload in table:
        print(
            f"{target:>10} {workload:>5} "
            + " ".join(
                f"{median(target, workload, field):>{width}.{digits}f}"
                for field, width, digits in (
                    ("rate", 7, 0),
                    ("p50", 7, 1),
                    ("p99", 7, 1),
                    ("cpu_ms", 7, 2),
                    ("rss", 7, 0),
                    ("db_ms", 6, 2),
                )
            )
            + (f" slope {median(target, workload, 'slope'):+.4f} ms/turn" if workload == "long" else "")
        )
    print("\nratios (medians over the rounds of each round's ratio)")
    rounds = max(len(v) for v in table.values())

    def ratio(a: tuple[str, str], b: tuple[str, str], field: str) -> str:
        pairs = [
            getattr(x, field) / getattr(y, field)
            for x, y in zip(table.get(a, []), table.get(b, []), strict=False)
            if getattr(y, field)
        ]
        return f"{statistics.median(pairs):.2f}x over {len(pairs)}/{rounds} rounds" if pairs else "n/a"

    for workload in ("new", "short"):
        for store in ("sqlite", "postgres", "redis"):
            print(
                f"{workload}: {store} / rasa msg/s {ratio((store, workload), ('rasa', workload), 'rate')}; "
                f"rasa / {store} CPU per message {ratio(('rasa', workload), (store, workload), 'cpu_ms')}; "
                f"bare / {store} msg/s {ratio(('bare', workload), (store, workload), 'rate')}"
            )
        for store in ("postgres", "redis"):
            print(f"{workload}: 2 workers / 1 on {store}: {ratio((store + '*2', workload), (store, workload), 'rate')}")

    for target, workload in table:
        if target.endswith("@before"):
            now = (target.removesuffix("@before"), workload)
            print(
                f"{workload}: {now[0]} this checkout / before: msg/s {ratio(now, (target, workload), 'rate')}; "
                f"CPU per message {ratio(now, (target, workload), 'cpu_ms')}; DB CPU per message "
                f"{ratio(now, (target, workload), 'db_ms')}"
            )
