"""Two agents on two workers of one Redis store see the same queue and each other's assignments live; agent
accounts are added with `threadline agents` and sign-in works on every worker."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.cluster import REPO, Cluster, worker_env, write_config
from tests.inbox_client import AgentClient, next_change

PASSWORD = "correct horse battery"
HUMAN = {
    "human.yml": """
        flows:
          human:
            trigger: {payloads: [/human]}
            steps:
              - handoff: human
    """
}


def cli(config: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bots.cli", "agents", *args, "--config", str(config)],
        cwd=REPO,
        env=worker_env(config.parent / "data"),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def cluster(redis_url: str, tmp_path: Path) -> Iterator[Cluster]:
    config = write_config(tmp_path, redis_url, bot_files=HUMAN)
    for name, role in (("ana", "agent"), ("bo", "admin")):
        added = cli(config, "add", name, "--role", role, "--password-stdin", stdin=PASSWORD + "\n")
        assert added.returncode == 0, added.stderr
    running = Cluster(config, 2).start()
    yield running
    running.stop()


@pytest.fixture
async def agents(cluster: Cluster) -> AsyncIterator[tuple[AgentClient, AgentClient]]:
    ana, bo = AgentClient(cluster.url(0), "ana", PASSWORD), AgentClient(cluster.url(1), "bo", PASSWORD)
    for agent in (ana, bo):
        assert (await agent.login()).status == 200
    yield ana, bo
    await ana.close()
    await bo.close()


async def test_two_agents_on_two_workers_share_the_queue_and_see_assignments_live(
    cluster: Cluster, agents: tuple[AgentClient, AgentClient]
) -> None:
    ana, bo = agents
    watching_bo, watching_ana = await bo.live(), await ana.live()  # on worker 1 and worker 0
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{cluster.url(0)}/webhooks/rest/webhook", json={"sender": "gina", "message": "/human"}) as sent,
    ):
        assert sent.status == 200
    queued = await next_change(watching_bo, status="open")  # a customer on worker 0, an agent on worker 1
    thread = queued["thread_id"]
    assert queued["assignee"] is None and queued["queued_at"] is not None
    assert [r["thread_id"] for r in await ana.queue()] == [r["thread_id"] for r in await bo.queue()] == [thread]
    status, taken = await ana.post(f"/inbox/api/conversations/{thread}/assign")
    assert (status, taken["assignee"]) == (200, "ana")
    assert (await next_change(watching_bo, thread_id=thread))["assignee"] == "ana"
    assert await bo.queue() == [] and [r["assignee"] for r in await bo.queue("open")] == ["ana"]
    status, moved = await bo.post(f"/inbox/api/conversations/{thread}/assign", {"to": "bo"})  # an admin may
    assert (status, moved["assignee"]) == (200, "bo")
    assert (await next_change(watching_ana, thread_id=thread, assignee="bo"))["status"] == "open"
    assert [r["thread_id"] for r in await bo.queue("mine")] == [thread] and await ana.queue("mine") == []
    await watching_ana.close()
    await watching_bo.close()


async def test_the_agents_command_lists_changes_and_removes_accounts_and_ends_their_sessions(
    cluster: Cluster, agents: tuple[AgentClient, AgentClient]
) -> None:
    ana, bo = agents
    config = cluster.config
    listed = cli(config, "list")
    assert listed.returncode == 0 and listed.stdout.splitlines() == ["ana\tagent", "bo\tadmin"]
    again = cli(config, "add", "ana", "--password-stdin", stdin=PASSWORD + "\n")
    assert again.returncode != 0 and "there is an agent 'ana' already" in again.stderr
    short = cli(config, "add", "cy", "--password-stdin", stdin="short\n")
    assert short.returncode != 0 and "at least 10 characters" in short.stderr
    bad = cli(config, "add", "Not A Name", "--password-stdin", stdin=PASSWORD + "\n")
    assert bad.returncode != 0 and "is not an agent name" in bad.stderr
    assert cli(config, "passwd", "ana", "--password-stdin", stdin="another long password\n").returncode == 0
    assert (await ana.get("/inbox/api/me"))[0] == 401  # every session of the account ended
    assert (await ana.login()).status == 401
    assert (await ana.login("another long password")).status == 200
    assert (await bo.get("/inbox/api/me"))[0] == 200
    assert cli(config, "remove", "bo").returncode == 0
    assert (await bo.get("/inbox/api/me"))[0] == 401
    assert cli(config, "list").stdout.splitlines() == ["ana\tagent"]
    missing = cli(config, "remove", "bo")
    assert missing.returncode != 0 and "there is no agent 'bo'" in missing.stderr


async def test_failed_sign_ins_are_counted_across_workers(cluster: Cluster) -> None:
    """Five failures spread over two workers lock the account on both: no worker counts only its own."""
    tries = [AgentClient(cluster.url(n % 2), "ana", PASSWORD) for n in range(7)]
    try:
        for attempt in tries[:5]:
            assert (await attempt.login("wrong password")).status == 401
        for late in tries[5:]:  # the right password, on either worker, too late
            refused = await late.login()
            assert refused.status == 429 and int(refused.headers["Retry-After"]) > 0
    finally:
        for attempt in tries:
            await attempt.close()


async def test_unknown_names_on_two_workers_limit_the_address_but_not_the_team(cluster: Cluster) -> None:
    """Twenty unknown names spread over both workers limit the address on both; a right password still signs in."""
    strangers = [AgentClient(cluster.url(n % 2), f"nobody{n}", PASSWORD) for n in range(22)]
    ana = AgentClient(cluster.url(1), "ana", PASSWORD)
    try:
        for stranger in strangers[:20]:
            assert (await stranger.login()).status == 401
        for late in strangers[20:]:  # one on each worker
            assert (await late.login()).status == 429
        assert (await ana.login()).status == 200
    finally:
        for client in (*strangers, ana):
            await client.close()
