"""Proactive follow-ups: a dry run and a real run through the real connectors, respecting opt-out,
Messenger's window and the channel choice; and the CLI against a running server."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from bots.flow.state import ThreadState
from bots.followups import CampaignError, parse_campaign
from bots.runtime import Runtime, open_runtime
from bots.server.app import create_app
from bots.server.followups import FOLLOWUPS
from bots.types import Identity
from tests.conftest import REPO, demo_config
from tests.fake_graph import FakeGraph
from tests.readiness import CEILING_SECONDS, wait_healthy_async
from tests.servers import free_port
from tests.test_messenger import deliver, envelope, messenger_config, settle, text_event, texts_of
from tests.test_web_protocol import Tab, open_tab
from tests.trained_models import provide_demo_model

ADMIN = {"Authorization": "Bearer adm"}
DAY = 86400.0
WHEN = "count('product_viewed', sku='TR2', within_days=2) > 0 and count('purchase') == 0"
TEXT = {
    "en": "Still thinking about the {recent.product_viewed.name}? Sizes are selling fast.",
    "de": "Denkst du noch an den {recent.product_viewed.name}? Die Größen gehen schnell weg.",
}


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    fake = await FakeGraph().start()
    yield fake
    await fake.close()


@pytest.fixture
async def server(tmp_path: Path, graph: FakeGraph) -> AsyncIterator[tuple[TestClient, Runtime]]:
    config = demo_config(
        tmp_path / "data", connectors={"messenger": messenger_config(graph)}, server={"admin_token": "adm"}
    )
    async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
        yield client, runtime


async def adjust(runtime: Runtime, thread_id: str, change: Callable[[ThreadState], None]) -> None:
    """Move a thread's clock back (days cannot pass in a test): the state as it would be by then."""
    snapshot = await runtime.store.load(thread_id)
    assert snapshot is not None
    state = ThreadState.from_json(snapshot.state)
    change(state)
    await runtime.store.commit(
        thread_id, state.to_json(), [], expected_version=snapshot.version, now=time.time(), wake_at=state.wake_at
    )


def viewed(sku: str, days_ago: float, name: str = "Trail Runner 2") -> Callable[[ThreadState], None]:
    def change(state: ThreadState) -> None:
        state.site_events.append(
            {
                "name": "product_viewed",
                "data": {"sku": sku, "name": name},
                "ts": time.time() - days_ago * DAY,
                "channel": "web",
            }
        )

    return change


def messenger_silent_for(days: float) -> Callable[[ThreadState], None]:
    def change(state: ThreadState) -> None:
        for channel in ("messenger",):
            state.last_inbound_by_channel[channel] = time.time() - days * DAY

    return change


async def messenger_thread(client: TestClient, runtime: Runtime, psid: str, text: str = "hello") -> str:
    await deliver(client, envelope(text_event(psid, text, f"mid.{psid}.{text}")))
    await settle(client)
    thread = await runtime.store.find(Identity("messenger", psid))
    assert thread is not None
    return thread


async def web_thread(
    client: TestClient,
    runtime: Runtime,
    visitor: str,
    *,
    talk: bool = True,
    keep_open: bool = False,
    locale: str = "en",
) -> tuple[str, Tab | None]:
    tab, _ready = await open_tab(client, visitor, locale=locale)
    await tab.send(type="event", id="e1", name="product_viewed", data={"sku": "TR2", "name": "Trail Runner 2"})
    await tab.until_ack("e1")
    if talk:
        await tab.send(type="message", id="m1", text="hi")
        await tab.until_ack("m1")
    thread = await runtime.store.find(Identity("web", visitor))
    assert thread is not None
    if keep_open:
        return thread, tab
    await tab.ws.close()
    return thread, None


async def build_threads(client: TestClient, runtime: Runtime) -> dict[str, str]:
    threads: dict[str, str] = {}
    threads["messenger_window"] = await messenger_thread(client, runtime, "fb-in")
    await adjust(runtime, threads["messenger_window"], viewed("TR2", 1))
    # Messenger went quiet three days ago; the same person also chats on the website (not open now)
    threads["web_queued"] = await messenger_thread(client, runtime, "fb-out")
    await adjust(runtime, threads["web_queued"], messenger_silent_for(3))
    await adjust(runtime, threads["web_queued"], viewed("TR2", 1))
    await runtime.store.link(Identity("web", "visitor0000000000fbout"), threads["web_queued"], now=time.time())
    threads["messenger_closed"] = await messenger_thread(client, runtime, "fb-closed")
    await adjust(runtime, threads["messenger_closed"], messenger_silent_for(3))
    await adjust(runtime, threads["messenger_closed"], viewed("TR2", 1))
    threads["opted_out"] = await messenger_thread(client, runtime, "fb-stop", "/opt_out")
    await adjust(runtime, threads["opted_out"], viewed("TR2", 1))
    threads["bought"], _ = await web_thread(client, runtime, "visitor0000000000bought")
    await adjust(
        runtime,
        threads["bought"],
        lambda s: s.site_events.append(
            {"name": "purchase", "data": {"sku": "TR2"}, "ts": time.time(), "channel": "web"}
        ),
    )
    threads["never_talked"], _ = await web_thread(client, runtime, "visitor0000000000silent", talk=False)
    threads["old_view"], _ = await web_thread(client, runtime, "visitor0000000000old")
    await adjust(runtime, threads["old_view"], lambda s: s.site_events.clear())
    await adjust(runtime, threads["old_view"], viewed("TR2", 5))
    return threads


EXPECTED = {
    "messenger_window": ("messenger", "messenger_window"),
    "web_queued": ("web", "web_queued"),
    "web_online": ("web", "web_online"),
    "messenger_closed": (None, "no_channel"),
    "opted_out": (None, "opted_out"),
    "bought": (None, "not_selected"),
    "never_talked": (None, "never_talked"),
    "old_view": (None, "not_selected"),
}


async def test_dry_run_lists_who_gets_what_and_why_others_are_skipped_and_sends_nothing(
    server, graph: FakeGraph
) -> None:  # type: ignore[no-untyped-def]
    client, runtime = server
    threads = await build_threads(client, runtime)
    threads["web_online"], tab = await web_thread(client, runtime, "visitor0000000000online", keep_open=True)
    versions = {name: (await runtime.store.load(t)).version for name, t in threads.items()}  # type: ignore[union-attr]
    sends_before = len(graph.messages())
    response = await client.post(
        "/api/followups", headers=ADMIN, json={"name": "tr2-nudge", "when": WHEN, "text": TEXT, "dry_run": True}
    )
    assert response.status == 200
    report = await response.json()
    by_thread = {t["thread_id"]: t for t in report["targets"]}
    for name, (channel, reason) in EXPECTED.items():
        target = by_thread[threads[name]]
        assert (target["channel"], target["reason"].split(":")[0]) == (channel, reason), (name, target)
        assert target["status"] == ("would_send" if channel else "skipped"), (name, target)
    assert "outside_window" in by_thread[threads["messenger_closed"]]["reason"]
    assert report["counts"] == {"would_send": 3, "skipped": 5} and report["dry_run"] is True
    # nothing was sent or written
    assert len(graph.messages()) == sends_before
    for name, thread in threads.items():
        assert (await runtime.store.load(thread)).version == versions[name], name  # type: ignore[union-attr]
    assert tab is not None
    await tab.ws.close()


async def test_real_run_sends_through_the_allowed_channel_once_and_honours_opt_outs(server, graph: FakeGraph) -> None:  # type: ignore[no-untyped-def]
    client, runtime = server
    threads = await build_threads(client, runtime)
    threads["web_online"], tab = await web_thread(client, runtime, "visitor0000000000online", keep_open=True)
    assert tab is not None
    before = {name: (await runtime.store.load(t)).version for name, t in threads.items()}  # type: ignore[union-attr]

    report = await run_to_end(client, {"name": "tr2-nudge", "when": WHEN, "text": TEXT, "rate_per_minute": 6000})
    by_thread = {t["thread_id"]: t for t in report["targets"]}
    assert report["counts"] == {"sent": 3, "skipped": 5}, report
    assert {name for name in threads if by_thread[threads[name]]["status"] == "sent"} == {
        "messenger_window",
        "web_queued",
        "web_online",
    }

    text = "Still thinking about the Trail Runner 2? Sizes are selling fast."
    # Messenger, inside the window: a RESPONSE
    sent = [m for m in graph.messages("fb-in") if m["message"].get("text") == text]
    assert len(sent) == 1 and sent[0]["messaging_type"] == "RESPONSE"
    # nothing to the people outside the window, opted out, or not selected
    for psid in ("fb-out", "fb-closed", "fb-stop"):
        assert text not in texts_of(graph.messages(psid)), psid
    # the open chat window got it live
    frame = await tab.next("messages")
    assert [m["text"] for m in frame["messages"]] == [text] and frame["messages"][0]["channel"] == "web"
    # the offline visitor sees it on the next visit
    later, ready = await open_tab(client, "visitor0000000000fbout")
    assert ready["messages"][-1]["text"] == text
    # skipped threads are untouched
    for name in ("messenger_closed", "opted_out", "bought", "never_talked", "old_view"):
        assert (await runtime.store.load(threads[name])).version == before[name], name  # type: ignore[union-attr]
    # the thread log records the follow-up
    events = [e.event for e in await runtime.store.events(threads["messenger_window"])]
    assert any(
        e.kind == "followup" and e.data["campaign"] == "tr2-nudge" and e.data["channel"] == "messenger" for e in events
    )

    # a second run reaches nobody twice
    response = await client.post(
        "/api/followups", headers=ADMIN, json={"name": "tr2-nudge", "when": WHEN, "text": TEXT, "dry_run": True}
    )
    again = await response.json()
    assert again["counts"].get("would_send", 0) == 0
    assert {
        t["reason"].split(":")[0]
        for t in again["targets"]
        if t["thread_id"] in {threads["messenger_window"], threads["web_queued"], threads["web_online"]}
    } == {"already_sent"}
    await later.ws.close()
    await tab.ws.close()


async def test_an_opt_out_after_planning_is_honoured_and_the_pace_is_kept(server, graph: FakeGraph) -> None:  # type: ignore[no-untyped-def]
    client, runtime = server
    threads = [await messenger_thread(client, runtime, f"fb-{n}") for n in range(4)]
    for thread in threads:
        await adjust(runtime, thread, viewed("TR2", 0.5))
    runner = client.app[FOLLOWUPS]
    waits: list[float] = []
    real_sleep = asyncio.sleep

    async def recording_sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 1:  # fb-2 writes "stop" after planning, before the first send (threads go in id order)
            await deliver(client, envelope(text_event("fb-2", "/opt_out", "mid.stop")))
            await settle(client)
        await real_sleep(0)

    campaign = parse_campaign(
        {"name": "paced", "when": WHEN, "flow": "welcome_back", "rate_per_minute": 6}, runtime.bot
    )
    runner.sleep = recording_sleep
    run = await runner.start(campaign)
    assert runner.task is not None
    await runner.task
    statuses = {t.thread_id: (t.status, t.reason.split(":")[0]) for t in run.targets}
    assert statuses[threads[2]] == ("skipped", "opted_out")
    assert [statuses[t][0] for t in (threads[0], threads[1], threads[3])] == ["sent"] * 3
    # 6 a minute: ten seconds between sends (asked of the sleep, which the test does not really wait)
    assert waits[0] == 0 and all(9.0 < w <= 10.0 for w in waits[1:]), waits
    said = texts_of(graph.messages("fb-0"))
    assert said[-1] == "Welcome back 👋 Still looking at the Trail Runner 2?"  # the flow ran, with context


def test_campaigns_are_checked_before_anything_is_sent(demo_runtime: Runtime) -> None:
    bot = demo_runtime.bot
    bad = [
        ({"when": WHEN, "text": "x"}, "'name'"),
        ({"name": "a", "text": "x"}, "'when'"),
        ({"name": "a", "when": "count(", "text": "x"}, "invalid condition"),
        ({"name": "a", "when": "bought_it", "text": "x"}, "unknown name 'bought_it'"),
        ({"name": "a", "when": "open('x')", "text": "x"}, "unknown function 'open'"),
        ({"name": "a", "when": WHEN}, "either 'flow'"),
        ({"name": "a", "when": WHEN, "flow": "nope"}, "no flow 'nope'"),
        ({"name": "a", "when": WHEN, "text": {"de": "x"}}, "default language"),
        ({"name": "a", "when": WHEN, "text": "x", "rate_per_minute": 0}, "rate_per_minute"),
        ({"name": "a", "when": WHEN, "text": "x", "limit": 0}, "limit"),
    ]
    for body, message in bad:
        with pytest.raises(CampaignError) as caught:
            parse_campaign(body, bot)
        assert message in str(caught.value), (body, str(caught.value))


@pytest.mark.timeout(CEILING_SECONDS)  # a first start trains the NLU: its time is the machine's, not a bug
async def test_the_cli_runs_a_campaign_on_a_running_server(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "config.yaml"
    config.write_text(
        f"bot: {REPO / 'flows'}\nstore: sqlite:///t.db\nserver:\n  port: {port}\n  admin_token: adm\n", encoding="utf-8"
    )
    env = {**os.environ, "THREADLINE_DATA_DIR": str(tmp_path / "data")}
    provide_demo_model(tmp_path / "data")
    server = subprocess.Popen(
        [sys.executable, "-m", "bots.cli", "run", "--config", str(config)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        await wait_healthy_async(base, server)
        async with aiohttp.ClientSession() as session:
            visitor = "visitor0000000000cli01"
            hello = {"visitor_id": visitor, "locale": "en"}
            async with session.post(f"{base}/web/api/hello", json=hello) as response:
                assert response.status == 200
            for frame in (
                {
                    "type": "event",
                    "id": "e1",
                    "name": "product_viewed",
                    "data": {"sku": "TR2", "name": "Trail Runner 2"},
                },
                {"type": "message", "id": "m1", "text": "hi"},
            ):
                async with session.post(f"{base}/web/api/send", json={**hello, "frame": frame}) as response:
                    assert response.status == 200

            def cli(*args: str) -> subprocess.CompletedProcess[str]:
                return subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "bots.cli",
                        "followup",
                        "--config",
                        str(config),
                        "--name",
                        "cli-nudge",
                        "--when",
                        WHEN,
                        *args,
                    ],
                    env=env,
                    cwd=REPO,
                    capture_output=True,
                    text=True,
                    timeout=120,
                )

            dry = cli("--text", json.dumps(TEXT), "--dry-run")
            assert dry.returncode == 0, dry.stderr
            assert "web_queued" in dry.stdout and "campaign cli-nudge (dry run): 1 would_send" in dry.stdout
            real = cli("--text", json.dumps(TEXT), "--json")
            assert real.returncode == 0, real.stderr
            report = json.loads(real.stdout)
            assert report["counts"] == {"sent": 1} and report["status"] == "done"
            async with session.get(f"{base}/web/api/poll", params={"visitor_id": visitor}) as response:
                messages = (await response.json())["messages"]
            assert messages[-1]["text"] == "Still thinking about the Trail Runner 2? Sizes are selling fast."
            wrong = cli("--flow", "no_such_flow")
            assert wrong.returncode == 2 and "no flow 'no_such_flow'" in wrong.stderr
    finally:
        server.terminate()
        server.wait(timeout=60)


async def run_to_end(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/api/followups", headers=ADMIN, json=body)
    assert response.status == 202, await response.text()
    report = await response.json()
    deadline = time.monotonic() + 120  # a ceiling, never a pause: returns as soon as the run ends
    while report["status"] == "running":
        assert time.monotonic() < deadline, f"campaign {body['name']} still running after 120 s: {report}"
        await asyncio.sleep(0.05)
        report = await (await client.get(f"/api/followups/{body['name']}", headers=ADMIN)).json()
    return report


async def test_a_failed_send_is_tried_again_by_the_next_run_and_campaigns_run_one_at_a_time(
    server, graph: FakeGraph
) -> None:  # type: ignore[no-untyped-def]
    client, runtime = server
    thread = await messenger_thread(client, runtime, "fb-flaky")
    await adjust(runtime, thread, viewed("TR2", 0.2))
    graph.fail_next("fb-flaky", 551)  # "this person isn't available right now"
    body = {"name": "retry", "when": WHEN, "text": TEXT, "rate_per_minute": 6000}
    first = await run_to_end(client, body)
    assert [(t["status"], t["reason"].split(":")[0]) for t in first["targets"]] == [("failed", "send_failed")]
    snapshot = await runtime.store.load(thread)
    assert snapshot is not None and "retry" not in snapshot.state["followups"]
    second = await run_to_end(client, body)
    assert [t["status"] for t in second["targets"]] == ["sent"]
    assert (
        texts_of(graph.messages("fb-flaky"))[-1] == "Still thinking about the Trail Runner 2? Sizes are selling fast."
    )

    # two campaigns started together: one runs, the other is told to wait
    slow = {"when": WHEN, "text": TEXT, "rate_per_minute": 6000}
    answers = await asyncio.gather(
        client.post("/api/followups", headers=ADMIN, json={"name": "a", **slow}),
        client.post("/api/followups", headers=ADMIN, json={"name": "b", **slow}),
    )
    assert sorted(a.status for a in answers) == [202, 409]
    task = client.app[FOLLOWUPS].task
    assert task is not None
    await task


async def test_a_message_tag_lets_a_follow_up_reach_messenger_after_the_window_but_never_a_promotional_one(
    server,
) -> None:  # type: ignore[no-untyped-def]
    client, runtime = server
    thread = await messenger_thread(client, runtime, "fb-late")
    await adjust(runtime, thread, messenger_silent_for(3))
    await adjust(runtime, thread, viewed("TR2", 1))

    async def route(**extra: Any) -> dict[str, Any]:
        response = await client.post(
            "/api/followups",
            headers=ADMIN,
            json={"name": "tagged", "when": WHEN, "text": TEXT, "dry_run": True, **extra},
        )
        return (await response.json())["targets"][0]

    assert (await route())["reason"].startswith("no_channel: messenger refused (outside_window")
    tagged = await route(tag="POST_PURCHASE_UPDATE")
    assert (tagged["channel"], tagged["reason"]) == ("messenger", "messenger_tag: message tag POST_PURCHASE_UPDATE")
    assert (await route(tag="HUMAN_AGENT"))["channel"] is None  # only for messages a person typed
