"""What the benchmarks share: a free loopback port, process CPU time and memory, and waiting for a server to come up."""

from __future__ import annotations

import asyncio
import os
import socket
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
    the child processes it has waited for (a training process, and that one's helper)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    used = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return used / os.sysconf("SC_CLK_TCK")


async def wait_healthy(base_url: str, attempts: int = 600) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(attempts):
            try:
                async with session.get(f"{base_url}/health") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{base_url} did not come up")
