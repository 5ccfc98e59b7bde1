"""What the hand-off tests share: a demo server on a clock the test sets, and REST turns."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp.test_utils import TestClient, TestServer

from bots.runtime import Runtime, open_runtime
from bots.server.admin import RUNTIME
from bots.server.app import create_app
from tests.conftest import demo_config

ADMIN = {"Authorization": "Bearer s3cret"}
BERLIN = ZoneInfo("Europe/Berlin")
HOURS = {
    "timezone": "Europe/Berlin",
    "weekly": {day: ["09:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": ["2026-12-25"],
}


class Clock:
    """The time every part of the server reads, set by the test."""

    def __init__(self, moment: datetime) -> None:
        self.now = moment.timestamp()

    def __call__(self) -> float:
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment.timestamp()


def berlin(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=BERLIN)


def runtime_of(client: TestClient) -> Runtime:
    return client.app[RUNTIME]


@asynccontextmanager
async def demo_server(data_dir: Path, clock: Clock, **handoff: Any) -> AsyncIterator[TestClient]:
    config = demo_config(data_dir, server={"admin_token": "s3cret"}, handoff={"hours": HOURS, **handoff})
    async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
        runtime.pipeline.clock = clock
        runtime.threads.clock = clock
        yield client


async def say(client: TestClient, sender: str, message: str, language: str | None = None) -> list[str]:
    body: dict[str, Any] = {"sender": sender, "message": message}
    if language:
        body["metadata"] = {"language": language}
    response = await client.post("/webhooks/rest/webhook", json=body)
    assert response.status == 200, await response.text()
    return [item.get("text", "") for item in await response.json()]


async def thread_events(client: TestClient, sender: str) -> list[dict[str, Any]]:
    found = await client.get(f"/api/threads?channel=rest&user_id={sender}", headers=ADMIN)
    thread = (await found.json())["thread_id"]
    history = await (await client.get(f"/api/threads/{thread}", headers=ADMIN)).json()
    return list(history["events"])
