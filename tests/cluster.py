"""Several real `threadline run` workers on one shared store, each on its own loopback port.

Tests pick the worker for each request, so a conversation can hop between
workers on purpose; `kill` sends SIGKILL to one, as a crash would.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

from bots.config import load_config
from bots.flow.loader import load_bot
from tests.conftest import BASE_FILES, write_bot
from tests.readiness import wait_healthy
from tests.servers import free_port
from tests.trained_models import provide_model

REPO = Path(__file__).resolve().parent.parent
ADMIN_TOKEN = "cluster-admin-token"


def write_config(root: Path, store_url: str, bot_files: dict[str, str] | None = None, **server: object) -> Path:
    """A small English/German bot (plus ``bot_files``) and a config for it on ``store_url``, its NLU model
    trained and saved."""
    bot = write_bot(root / "bot", {**BASE_FILES, **(bot_files or {})})
    config = {
        "bot": str(bot),
        "languages": ["en", "de"],
        "store": store_url,
        "log_level": "warning",
        "server": {"host": "127.0.0.1", "port": 0, "admin_token": ADMIN_TOKEN, **server},
        "linking": {"secret": "cluster-link-secret"},
        "connectors": {"web": {"rate_limit": {"messages": 1_000_000, "per_seconds": 1}}},
    }
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    data = root / "data"
    loaded = load_bot(bot, languages=("en", "de"), default_language="en")
    assert loaded.bot is not None
    provide_model(loaded.bot, data)  # here, so workers load it instead of each training
    load_config(path)  # fails here, readably, if the config is wrong
    return path


def worker_env(data_dir: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "THREADLINE_DATA_DIR": str(data_dir)}


class Cluster:
    def __init__(self, config: Path, count: int) -> None:
        self.config = config
        self.ports = [free_port() for _ in range(count)]
        self.processes: list[subprocess.Popen[bytes] | None] = [None] * count
        self.logs = [config.parent / f"worker{i}.log" for i in range(count)]

    def url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.ports[index]}"

    def start(self) -> Cluster:
        """Start every worker and wait until each answers /health (blocking: fixtures of any scope use it)."""
        for index, port in enumerate(self.ports):
            with open(self.logs[index], "ab") as log:
                self.processes[index] = subprocess.Popen(
                    [sys.executable, "-m", "bots.cli", "run", "--config", str(self.config), "--port", str(port)],
                    cwd=REPO,
                    env=worker_env(self.config.parent / "data"),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
        for index in range(len(self.ports)):
            self.wait_healthy(index)
        return self

    def wait_healthy(self, index: int) -> None:
        """Until worker ``index`` answers /health; fails with its log as soon as it exits."""
        process = self.processes[index]
        assert process is not None
        wait_healthy(self.url(index), process, f"worker {index}", self.logs[index])

    def log_tail(self, index: int) -> str:
        return textwrap.shorten(self.logs[index].read_text(errors="replace")[-3000:], 3000)

    def kill(self, index: int) -> None:
        """kill -9: no shutdown, no lock released, no connection closed politely."""
        process = self.processes[index]
        assert process is not None
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        for process in self.processes:
            if process is not None and process.poll() is None:
                process.terminate()
        for process in self.processes:
            if process is not None:
                try:
                    process.wait(30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
