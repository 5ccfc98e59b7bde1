"""Business hours and agents' presence: a customer asking for a person is told honestly, in their language."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from bots.config import load_config
from bots.errors import ProblemsError
from tests.handoff_helpers import ADMIN as ADMIN_HEADERS
from tests.handoff_helpers import Clock, berlin, demo_server, runtime_of, say, thread_events

ASK = {
    "en": "I want to talk to a real person",
    "de": "echte person bitte",
    "fr": "je veux parler à quelqu'un",
    "zh": "转人工",
    "es": "quiero hablar con una persona",
    "pl": "chcę rozmawiać z człowiekiem",
}


def text(client: TestClient, key: str, language: str) -> str:
    [variant] = runtime_of(client).bot.responses[key][language]
    return variant


@pytest.mark.parametrize("language", sorted(ASK))
async def test_outside_hours_the_customer_is_told_in_their_language(tmp_path: Path, language: str) -> None:
    clock = Clock(berlin("2026-12-05", 12))  # a Saturday
    async with demo_server(tmp_path / "data", clock) as client:
        await runtime_of(client).handoff.presence.connected("agent-tab")  # someone online does not open the shop
        replies = await say(client, "c1", ASK[language], language)
        assert replies == [text(client, "handoff_started", language), text(client, "handoff_closed", language)]


MONDAY_ONLY = {"timezone": "Europe/Berlin", "weekly": {"mon": ["10:00-12:00"]}}
# Any hour or weekday a text could name: the texts must not promise hours the config does not have
NAMED_HOURS = ("9:00", "18:00", "9–18", "9h", "Mon", "Fri", "Mo.", "lun", "ven", "周一")


@pytest.mark.parametrize("language", ["en", "de", "fr", "zh"])
async def test_the_texts_name_no_hours_but_the_configured_ones_decide(tmp_path: Path, language: str) -> None:
    clock = Clock(berlin("2026-12-07", 11))  # a Monday, inside the only span
    async with demo_server(tmp_path / "data", clock, hours=MONDAY_ONLY) as client:
        await runtime_of(client).handoff.presence.connected("agent-tab")
        [started] = await say(client, "in", ASK[language], language)
        clock.set(berlin("2026-12-08", 11))  # Tuesday: closed under this config, though Mon–Fri once was said
        late = await say(client, "out", ASK[language], language)
        assert late[1:] == [text(client, "handoff_closed", language)]
        for said in (started, *late):
            assert not any(named in said for named in NAMED_HOURS), said


async def test_in_hours_the_notice_depends_on_agents_online(tmp_path: Path) -> None:
    clock = Clock(berlin("2026-12-07", 10))  # a Monday morning
    async with demo_server(tmp_path / "data", clock) as client:
        presence = runtime_of(client).handoff.presence
        assert await say(client, "nobody", ASK["de"], "de") == [
            text(client, "handoff_started", "de"),
            text(client, "handoff_no_agent", "de"),
        ]
        await presence.connected("tab-1")
        assert await say(client, "staffed", ASK["fr"], "fr") == [text(client, "handoff_started", "fr")]
        await presence.disconnected("tab-1")
        clock.set(berlin("2026-12-07", 18, 1))  # closing time has passed
        assert (await say(client, "late", ASK["en"]))[1:] == [text(client, "handoff_closed", "en")]
        clock.set(berlin("2026-12-25", 10))  # a Friday, but a listed holiday
        await presence.connected("tab-2")
        assert (await say(client, "xmas", ASK["zh"], "zh"))[1:] == [text(client, "handoff_closed", "zh")]
        events = await thread_events(client, "xmas")
        [queued] = [e for e in events if e["kind"] == "handoff_queue"]
        assert queued["data"] == {"open": False, "agents_online": 1, "notice": "closed"}


async def test_a_left_email_address_stays_with_the_handoff(tmp_path: Path) -> None:
    clock = Clock(berlin("2026-12-06", 22))  # Sunday night
    async with demo_server(tmp_path / "data", clock) as client:
        await say(client, "ana", ASK["es"], "es")
        # the first message: kept, and acknowledged once (silence read as a bot that had stopped listening)
        assert await say(client, "ana", "mi pedido no llegó") == [text(client, "handoff_message_noted", "es")]
        assert await say(client, "ana", "es el ST-123456") == []  # the next ones wait quietly
        assert await say(client, "ana", "escribidme a ana@example.com") == [
            "¡Gracias! Te escribiremos a ana@example.com."
        ]
        events = await thread_events(client, "ana")
        [contact] = [e for e in events if e["kind"] == "handoff_contact"]
        assert contact["data"] == {"email": "ana@example.com", "text": "escribidme a ana@example.com"}
        said = [e["data"]["text"] for e in events if e["kind"] == "user"]
        assert "mi pedido no llegó" in said
        # Once a person has answered, the bot no longer speaks for the team
        thread = (await (await client.get("/api/threads?channel=rest&user_id=ana", headers=ADMIN_HEADERS)).json())[
            "thread_id"
        ]
        sent = await client.post(
            f"/api/threads/{thread}/messages", json={"text": "Hola Ana", "by": "Eva"}, headers=ADMIN_HEADERS
        )
        assert sent.status in (200, 202)
        replies = await say(client, "ana", "otra: ana2@example.com")
        assert "¡Gracias!" not in " ".join(replies)


def test_bad_hours_are_named_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "handoff:\n  notify_url: ftp://x\n  hours:\n    timezone: Mars/Olympus\n"
        "    weekly:\n      mon: ['18:00-09:00']\n      funday: ['10:00-11:00']\n"
    )
    with pytest.raises(ProblemsError) as caught:
        load_config(path)
    problems = str(caught.value)
    assert f"{path}:2:3: error CFG-E003: handoff.notify_url: must be an http:// or https:// URL" in problems
    assert f"{path}:4:5: error CFG-E003: handoff.hours.timezone: unknown time zone 'Mars/Olympus'" in problems
    assert (
        f"{path}:5:5: error CFG-E003: handoff.hours.weekly: '18:00-09:00': the span ends before it starts" in problems
    )


def test_a_webhook_without_a_secret_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("handoff:\n  notify_url: https://chat.example/hook\n")
    with pytest.raises(ProblemsError, match="notify_secret: set a secret of at least 16 characters"):
        load_config(path)
