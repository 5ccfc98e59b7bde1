"""Real PostgreSQL and Redis servers on loopback, started from Debian's packages for the test session.

Each server lives in its own temporary directory and listens on a free
loopback port, so a developer's own servers are never touched. `make test`
installs the packages when they are missing; without them (and without
root to install them) the backend's tests are skipped with the reason.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import random
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.readiness import listening, wait_until

PORTS_PER_PROCESS = 2000  # each test process (pytest-xdist worker) takes its ports from its own range
_FIRST_PORT = 12000  # below the kernel's ephemeral ports (32768 and up), which it hands out for port 0
_next_port = itertools.count(random.randrange(PORTS_PER_PROCESS))


def free_port() -> int:
    """A free loopback port no other test process can be given. The kernel's port 0 is not enough when tests run
    in parallel: it can give two processes the same port between the probe and the server's bind, and servers
    that share a port on purpose (SO_REUSEPORT, `run --workers`) then silently share it with another test's."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    low = _FIRST_PORT + (int(worker) if worker.isdigit() else 0) % 10 * PORTS_PER_PROCESS
    for _ in range(PORTS_PER_PROCESS):
        port = low + next(_next_port) % PORTS_PER_PROCESS
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue  # in use, or still closing
            return port
    raise RuntimeError(f"no free loopback port in {low}-{low + PORTS_PER_PROCESS - 1}")


def _wait_for_port(port: int, process: subprocess.Popen[bytes], what: str, log: Path) -> None:
    wait_until(lambda: listening(port), process, what, log)


def _accepting(binaries: Path, port: int) -> bool | None:
    """True once PostgreSQL accepts connections (pg_isready's exit status 0), not just listens; else None."""
    probe = [str(binaries / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres"]
    return True if subprocess.run(probe, check=False).returncode == 0 else None


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    directory: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def postgres_bin() -> Path | None:
    """The directory of Debian's PostgreSQL server programs (initdb is not on PATH there)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def start_postgres() -> Server:
    """initdb into a temporary directory and start a server on a free loopback port, trust auth.

    PostgreSQL refuses to run as root, so as root it runs as the ``postgres``
    user the Debian package creates.
    """
    binaries = postgres_bin()
    if binaries is None:
        raise FileNotFoundError("PostgreSQL is not installed (apt-get install postgresql)")
    directory = Path(tempfile.mkdtemp(prefix="threadline-pg-"))
    data, log = directory / "data", directory / "server.log"
    prefix: list[str] = []
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(directory, owner.pw_uid, owner.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [
            *prefix,
            str(binaries / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ],
        check=True,
        capture_output=True,
    )
    port = free_port()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                *prefix,
                str(binaries / "postgres"),
                "-D",
                str(data),
                "-p",
                str(port),
                "-h",
                "127.0.0.1",
                "-k",
                str(directory),
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=300",
                "-c",
                "shared_buffers=128MB",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"postgresql://postgres@127.0.0.1:{port}/postgres", process, directory)
    try:
        # The port opens before the server accepts connections ("the database system is starting up"):
        # ready is when pg_isready says so.
        wait_until(lambda: _accepting(binaries, port), process, "postgres", log)
    except BaseException:
        server.stop()
        raise
    return server


def start_redis() -> Server:
    """A redis-server on a free loopback port, no persistence (tests kill workers, not the server)."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise FileNotFoundError("Redis is not installed (apt-get install redis-server)")
    directory = Path(tempfile.mkdtemp(prefix="threadline-redis-"))
    port, log = free_port(), directory / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(directory),
                "--databases",
                "64",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(f"redis://127.0.0.1:{port}/0", process, directory)
    try:
        _wait_for_port(port, process, "redis-server", log)
    except BaseException:
        server.stop()
        raise
    return server
