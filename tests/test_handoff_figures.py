"""Operator figures: scraped from /metrics and parsed with prometheus-client's own parser, and as JSON."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.handoff_helpers import ADMIN, Clock, berlin, demo_server, runtime_of, say

ASK = "I want to talk to a real person"


async def test_waiting_first_response_rate_and_resolutions(tmp_path: Path) -> None:
    clock = Clock(berlin("2026-12-07", 10))
    async with demo_server(tmp_path / "data", clock) as client:
        await runtime_of(client).handoff.presence.connected("eva-tab")
        await say(client, "solo", "hi")  # the bot handles it alone
        await say(client, "h1", ASK)
        thread = (await (await client.get("/api/threads?channel=rest&user_id=h1", headers=ADMIN)).json())["thread_id"]
        clock.set(berlin("2026-12-07", 10, 5))
        sent = await client.post(
            f"/api/threads/{thread}/messages", json={"text": "Hi, Eva here", "by": "Eva"}, headers=ADMIN
        )
        assert sent.status == 202  # a REST customer gets it with their next request
        assert (await client.post(f"/api/threads/{thread}/handoff/release", headers=ADMIN)).status == 200
        clock.set(berlin("2026-12-07", 10, 6))
        await say(client, "h2", ASK)  # still waiting when the figures are read
        clock.set(berlin("2026-12-07", 10, 10))

        assert (await client.get("/metrics")).status == 401
        response = await client.get("/metrics", headers=ADMIN)
        assert response.status == 200 and response.content_type == "text/plain"
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(await response.text())
            for s in family.samples
        }
        assert samples[("threadline_conversations_total", ())] == 3
        assert samples[("threadline_handoffs_total", ())] == 2
        assert samples[("threadline_resolved_total", (("by", "bot"),))] == 1
        assert samples[("threadline_resolved_total", (("by", "person"),))] == 1
        assert samples[("threadline_handoff_waiting", ())] == 1
        assert samples[("threadline_agents_online", ())] == 1
        assert samples[("threadline_handoff_wait_seconds_count", ())] == 2
        assert samples[("threadline_handoff_wait_seconds_sum", ())] == 300 + 240
        assert samples[("threadline_first_response_seconds_count", ())] == 1
        assert samples[("threadline_first_response_seconds_sum", ())] == 300
        assert samples[("threadline_first_response_seconds_bucket", (("le", "120.0"),))] == 0
        assert samples[("threadline_first_response_seconds_bucket", (("le", "300.0"),))] == 1

        body = await (await client.get("/api/handoff/figures?days=2", headers=ADMIN)).json()
        assert body["timezone"] == "Europe/Berlin" and body["open_now"] is True and body["agents_online"] == 1
        quiet, today = body["days"]
        assert quiet == {
            "day": "2026-12-06",
            "conversations": 0,
            "handoffs": 0,
            "handoff_rate": None,
            "resolved_by_bot": 0,
            "resolved_by_person": 0,
            "still_waiting": 0,
            "waiting_seconds": {"count": 0, "mean": None, "median": None, "max": None},
            "first_response_seconds": {"count": 0, "mean": None, "median": None, "max": None},
        }
        assert today["day"] == "2026-12-07"
        assert (today["conversations"], today["handoffs"], today["handoff_rate"]) == (3, 2, 0.6667)
        assert (today["resolved_by_bot"], today["resolved_by_person"], today["still_waiting"]) == (1, 1, 1)
        assert today["waiting_seconds"] == {"count": 2, "mean": 270.0, "median": 270.0, "max": 300.0}
        assert today["first_response_seconds"] == {"count": 1, "mean": 300.0, "median": 300.0, "max": 300.0}


async def test_figures_refuse_bad_requests(tmp_path: Path) -> None:
    async with demo_server(tmp_path / "data", Clock(berlin("2026-12-07", 10))) as client:
        assert (await client.get("/api/handoff/figures")).status == 401
        for days in ("0", "91", "x", "-1"):
            response = await client.get(f"/api/handoff/figures?days={days}", headers=ADMIN)
            assert response.status == 400
            assert (await response.json())["error"] == "days must be a whole number from 1 to 90"
        assert len((await (await client.get("/api/handoff/figures", headers=ADMIN)).json())["days"]) == 7
