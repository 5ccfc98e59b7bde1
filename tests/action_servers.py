"""A real rasa-sdk action server for tests: started in its bot folder, ready when /health answers, stopped whole.

Sanic runs the actions in worker processes: stopping only the main process can leave a worker behind, so the
whole process group is signalled, and killed if it does not stop.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.readiness import wait_healthy


def start_action_server(
    port: int, log_path: Path, bot: Path, module: str = "rasa_sdk", env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """``python -m <module> --actions actions`` in the bot folder, as rasa-sdk's docs say to run it."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", module, "--actions", "actions", "--port", str(port)],
            cwd=bot,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, "the action server", log_path)
    except RuntimeError:
        stop_action_server(process)
        raise
    return process


def stop_action_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
