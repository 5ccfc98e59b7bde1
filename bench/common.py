"""What the benchmarks share: a free loopback port, process CPU time, and waiting for a server to come up."""

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


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
