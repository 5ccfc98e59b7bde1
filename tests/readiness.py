"""Waiting for a server process a test started: until it is ready, or until it exits (then fail with its output).

A test never decides how long a start may take: a first start trains the NLU, and a busy machine takes
many times as long as a quiet one. The only limit is a safety ceiling far above any real start, so that
a server that hangs without exiting ends a CI job instead of holding it forever.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

CEILING_SECONDS = 600.0  # not a timing: only a hung process that never exits ever reaches it
POLL_SECONDS = 0.05  # how often readiness is asked; between asks, the process's exit is waited for

T = TypeVar("T")


def wait_until(ready: Callable[[], T | None], process: subprocess.Popen[Any], what: str, log: Path | None = None) -> T:
    """What ``ready()`` returns once it returns something other than None; fails as soon as ``process`` exits.

    The failure shows the process's output: ``log`` (where its output goes), else its stderr pipe.
    """
    deadline = time.monotonic() + CEILING_SECONDS
    while (answer := ready()) is None:
        try:
            code = process.wait(timeout=POLL_SECONDS)
        except subprocess.TimeoutExpired:
            code = None
        if code is not None:
            raise RuntimeError(f"{what} exited with {code} before it was ready: {_output(process, log)}")
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"{what} was not ready after {CEILING_SECONDS:.0f} s: {_output(process, log)}")
    return answer


def _output(process: subprocess.Popen[Any], log: Path | None) -> str:
    if log is not None:
        return log.read_text(errors="replace")[-3000:]
    if process.stderr is not None and process.poll() is not None:
        text = process.stderr.read()
        return (text.decode(errors="replace") if isinstance(text, bytes) else str(text))[-3000:]
    return "(no output kept)"


def health(base_url: str) -> dict[str, object] | None:
    """The server's /health answer, None while it does not answer."""
    try:
        with urllib.request.urlopen(base_url + "/health", timeout=2) as response:
            answer = json.loads(response.read())
    except (OSError, ValueError):
        return None
    return answer if isinstance(answer, dict) else None


def wait_healthy(
    base_url: str, process: subprocess.Popen[Any], what: str = "the server", log: Path | None = None
) -> dict[str, object]:
    """Until ``base_url``/health answers (the server has its model and listens), or the process exits."""
    return wait_until(lambda: health(base_url), process, what, log)


async def wait_healthy_async(
    base_url: str, process: subprocess.Popen[Any], what: str = "the server", log: Path | None = None
) -> dict[str, object]:
    return await asyncio.to_thread(wait_healthy, base_url, process, what, log)


def listening(port: int) -> bool | None:
    """True once something accepts connections on the loopback port, None before."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return None


def wait_full_model(base_url: str, process: subprocess.Popen[Any], log: Path | None = None) -> dict[str, object]:
    """Until /health says the full NLU model serves: a first start answers with a provisional one meanwhile."""
    return wait_until(
        lambda: answer if (answer := health(base_url)) is not None and answer.get("nlu") == "full" else None,
        process,
        "the server's full NLU model",
        log,
    )


async def wait_full_model_async(
    base_url: str, process: subprocess.Popen[Any], log: Path | None = None
) -> dict[str, object]:
    return await asyncio.to_thread(wait_full_model, base_url, process, log)


def wait_warm(base_url: str, process: subprocess.Popen[Any], log: Path | None = None) -> dict[str, object]:
    """Until /health says start-up's background work is over (full model, every language's tokenizer)."""
    return wait_until(
        lambda: answer if (answer := health(base_url)) is not None and answer.get("warm") is True else None,
        process,
        "the end of the server's start-up work",
        log,
    )
