"""What the benchmarks share: a free loopback port, process CPU time and memory, and waiting for a server to come up."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
from pathlib import Path

import aiohttp


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mib(pid: int) -> float:
    """A process's resident memory in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc); with ``children``, also those of
    its child processes, finished (waited for) or still running (a training process, and that one's helper)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    used = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    own = used / os.sysconf("SC_CLK_TCK")
    return own + sum(_running_child_cpu(pid)) if children else own


def _running_child_cpu(pid: int) -> list[float]:
    used = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            used += [cpu_seconds(int(child), children=True) for child in task.read_text().split()]
        except OSError:  # a thread or child ended meanwhile (its time then counts once it is waited for)
            continue
    return used


async def wait_healthy(base_url: str, attempts: int = 600, *, warm: bool = False) -> None:
    """Until /health answers 200; with ``warm``, until start-up's background work is over too (a throughput
    measurement must not share the CPU with tokenizers being built)."""
    async with aiohttp.ClientSession() as session:
        for _ in range(attempts):
            try:
                async with session.get(f"{base_url}/health") as response:
                    if response.status == 200 and (not warm or _warm(await response.json())):
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{base_url} did not come up")


def _warm(health: dict[str, object]) -> bool:
    """A Threadline server's /health says start-up is over (an older one, without "warm": its full model serves)."""
    return bool(health.get("warm", health.get("nlu") != "provisional"))


async def wait_up(url: str, path: str, process: subprocess.Popen[bytes], seconds: float = 300) -> None:
    """Until ``path`` answers 200 (Threadline's: warm, with its full NLU model and every tokenizer built, so no
    start-up work runs beside what is measured); raises if the server exits first."""
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the server at {url} exited with {process.returncode}")
            try:
                async with session.get(url + path) as response:
                    if response.status == 200 and (path != "/health" or _warm(await response.json())):
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not come up in {seconds:.0f} s")
