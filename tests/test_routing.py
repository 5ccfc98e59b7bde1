"""One routing rule for every message sent outside a turn (admin or agent sends, reminders, campaigns).

Regression tests for a bug the three old rules had: an admin message to a REST-only customer was reported as
sent on the website and reached nobody. (The other, a reminder on a signed-in customer's thread never reaching
their open widget tab, is tested with the reminders in test_actions.py.)
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from bots.config import Config
from bots.runtime import open_runtime
from bots.server.app import create_app
from tests.test_actions import ACTION_BOT
from tests.test_web_protocol import open_tab

SECRET = "shop-secret"
ADMIN = {"Authorization": "Bearer adm"}


def config(tmp_path: Path) -> Config:
    return Config.model_validate(
        {
            "bot": ACTION_BOT,
            "languages": ["en", "de"],
            "data_dir": tmp_path / "data",
            "actions": {"mode": "in_process", "timeout_seconds": 2},
            "server": {"admin_token": "adm"},
            "connectors": {"web": {"identity_secret": SECRET}},
        }
    )


def signed(customer_id: str) -> dict[str, str]:
    return {"id": customer_id, "signature": hmac.new(SECRET.encode(), customer_id.encode(), hashlib.sha256).hexdigest()}


async def test_a_message_to_a_rest_customer_waits_for_their_next_request(tmp_path: Path) -> None:
    async with open_runtime(config(tmp_path)) as runtime, TestClient(TestServer(create_app(runtime))) as client:
        response = await client.post("/webhooks/rest/webhook", json={"sender": "rita", "message": "hello"})
        assert response.status == 200
        thread = (
            await (
                await client.get("/api/threads", params={"channel": "rest", "user_id": "rita"}, headers=ADMIN)
            ).json()
        )["thread_id"]
        response = await client.post(
            f"/api/threads/{thread}/messages",
            headers=ADMIN,
            json={"text": "Anna here: your refund is on its way", "by": "Anna"},
        )
        result = await response.json()
        # not "sent": it is kept with the thread and the answer says so
        assert response.status == 202, result
        assert result["sent"] is False and result["status"] == "queued" and result["channel"] == "rest"
        assert result["reason"].startswith("rest_next_request")

        response = await client.post("/webhooks/rest/webhook", json={"sender": "rita", "message": "hello again"})
        replies = await response.json()
        assert replies[0] == {"recipient_id": "rita", "text": "Anna here: your refund is on its way"}
        assert len(replies) > 1  # then the bot's answer to this message

        response = await client.post("/webhooks/rest/webhook", json={"sender": "rita", "message": "hello"})
        assert "Anna here: your refund is on its way" not in [r.get("text") for r in await response.json()]


async def test_a_message_to_a_thread_nobody_can_be_reached_on_is_refused_not_sent(tmp_path: Path) -> None:
    async with open_runtime(config(tmp_path)) as runtime, TestClient(TestServer(create_app(runtime))) as client:
        tab, _ = await open_tab(client, "visitor0000000000088")
        await tab.send(type="message", id="m1", text="hello")
        await tab.until_ack("m1")
        thread = (
            await (
                await client.get(
                    "/api/threads", params={"channel": "web", "user_id": "visitor0000000000088"}, headers=ADMIN
                )
            ).json()
        )["thread_id"]
        response = await client.post(f"/api/threads/{thread}/messages", headers=ADMIN, json={"text": "Hi"})
        assert (response.status, (await response.json())["status"]) == (200, "delivered")  # the tab is open
        await tab.ws.close()
        deadline = time.monotonic() + 60  # the server lets go of the tab once it has read the close
        while (await runtime.threads.live(thread))["web"]:
            assert time.monotonic() < deadline, "the server still counts the closed tab after 60 s"
            await asyncio.sleep(0.01)
        response = await client.post(f"/api/threads/{thread}/messages", headers=ADMIN, json={"text": "Still there?"})
        result = await response.json()
        assert (response.status, result["status"], result["sent"], result["live_tabs"]) == (202, "queued", False, 0)
        assert (await client.post("/api/threads/t_nothing/messages", headers=ADMIN, json={"text": "x"})).status == 404
