"""`threadline messenger setup` as a user runs it, against the fake Graph API's Messenger Profile API."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import DEMO_BOT, REPO
from tests.fake_graph import FakeGraph

MENU = [
    {"title": "menu_track_order", "payload": "/order_status"},
    {"title": "menu_size_help", "payload": "/size_help"},
    {"title": {"en": "Our shop", "de": "Unser Shop"}, "url": "https://shop.example/"},
]
ICE_BREAKERS = [{"question": "menu_track_order", "payload": "/order_status"}]


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    fake = await FakeGraph().start()
    yield fake
    await fake.close()


def write_config(tmp_path: Path, graph: FakeGraph, **messenger: Any) -> Path:
    config = {
        "bot": str(DEMO_BOT),
        "languages": ["en", "de", "zh"],
        "server": {"public_url": "https://chat.shop.example"},
        "linking": {"site_url": "https://shop.example/shoes"},
        "connectors": {
            "web": {"allowed_origins": ["https://shop.example", "http://localhost:3000"]},
            "messenger": {
                "page_access_token": "page-token",
                "app_secret": "app-secret",
                "graph_api_url": graph.url,
                **messenger,
            },
        },
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False))
    return path


async def setup(config: Path, *args: str) -> tuple[int, str, str]:
    """The real command in a subprocess, while this loop serves the fake Graph API."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MESSENGER_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bots.cli",
        "messenger",
        "setup",
        "--config",
        str(config),
        *args,
        cwd=REPO,
        env={**env, "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_setup_sets_the_profile_from_the_bot_and_shows_the_changes(tmp_path: Path, graph: FakeGraph) -> None:
    graph.page.fields = {
        "get_started": {"payload": "GET_STARTED"},
        "greeting": [{"locale": "default", "text": "Old greeting"}, {"locale": "fr_FR", "text": "Bonjour"}],
        "whitelisted_domains": ["https://partner.example/"],
    }
    config = write_config(
        tmp_path, graph, profile={"persistent_menu": MENU, "ice_breakers": ICE_BREAKERS}, get_started_payload="START"
    )

    code, out, err = await setup(config, "--dry-run")
    assert (code, err) == (0, "")
    assert 'payload "GET_STARTED" -> "START"' in out
    assert '~ default: "Old greeting" -> "Stride\'s shopping assistant 👟' in out
    assert '+ de_DE: "Der Shopping-Assistent von Stride 👟' in out and "+ zh_CN: " in out and "- fr_FR: " in out
    assert "+ https://chat.shop.example" in out and "+ https://shop.example" in out
    assert "http://localhost:3000 (connectors.web.allowed_origins) is not an https address" in out
    assert "Dry run: 5 field(s) would change; nothing was sent." in out
    assert graph.page.posts() == [] and graph.page.fields["get_started"] == {"payload": "GET_STARTED"}

    code, out, err = await setup(config)
    assert (code, err) == (0, ""), out
    assert "Updated the Page's Messenger profile: get_started, greeting, persistent_menu, ice_breakers, " in out
    page = graph.page.fields
    assert page["get_started"] == {"payload": "START"}
    greetings = {g["locale"]: g["text"] for g in page["greeting"]}
    assert list(greetings) == ["default", "de_DE", "zh_CN"]  # English is the default; fr_FR is gone
    assert greetings["zh_CN"].startswith("Stride购物助手")
    menus = {m["locale"]: m for m in page["persistent_menu"]}
    assert menus["default"]["call_to_actions"] == [
        {"type": "postback", "title": "Track my order", "payload": "/order_status"},
        {"type": "postback", "title": "Size help", "payload": "/size_help"},
        {"type": "web_url", "title": "Our shop", "url": "https://shop.example/"},
    ]
    assert [i["title"] for i in menus["de_DE"]["call_to_actions"]] == [
        "Bestellung verfolgen",
        "Größenberatung",
        "Unser Shop",
    ]
    assert menus["zh_CN"]["call_to_actions"][2]["title"] == "Our shop"  # no Chinese title given: the default's
    assert page["ice_breakers"][0] == {
        "locale": "default",
        "call_to_actions": [{"question": "Track my order", "payload": "/order_status"}],
    }
    assert page["whitelisted_domains"] == [
        "https://partner.example/",
        "https://chat.shop.example",
        "https://shop.example",
    ]
    assert graph.page.requests[-1][1]["access_token"] == "page-token"

    code, out, _ = await setup(config)  # nothing left to change: nothing is sent
    assert code == 0 and "The Page's Messenger profile is up to date." in out and len(graph.page.posts()) == 1


async def test_a_profile_over_messengers_limits_is_refused_with_its_config_line(
    tmp_path: Path, graph: FakeGraph
) -> None:
    menu = [{"title": {"en": "A title far longer than thirty characters"}, "payload": "/order_status"}]
    config = write_config(tmp_path, graph, profile={"persistent_menu": menu, "greeting": "no_such_text"})
    code, out, err = await setup(config)
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert any(
        line.endswith(
            "error MSG-E001: connectors.messenger.profile.persistent_menu.0.title: the en persistent menu title has 41 "
            "characters; Messenger takes at most 30"
        )
        and f"{config}:" in line
        for line in lines
    ), err
    assert any("connectors.messenger.profile.greeting: the bot has no text 'no_such_text'" in line for line in lines)
    assert "Traceback" not in err and graph.page.requests == []

    too_many = [{"question": "menu_track_order", "payload": f"/q{i}"} for i in range(5)]
    config = write_config(tmp_path, graph, profile={"ice_breakers": too_many})
    code, _, err = await setup(config)
    text = config.read_text().splitlines()
    line = next(n for n, t in enumerate(text, 1) if "ice_breakers:" in t)
    assert code == 2 and f"{config}:{line}:" in err and "ice_breakers" in err and "at most 4" in err, err


async def test_graph_errors_and_a_missing_token_are_clear_messages(tmp_path: Path, graph: FakeGraph) -> None:
    code, out, err = await setup(write_config(tmp_path, graph, page_access_token="stale-token"))
    assert code == 1 and "Traceback" not in err
    assert "could not read the Page's Messenger profile: Invalid OAuth access token. (code 190" in err

    code, _, err = await setup(write_config(tmp_path, graph, page_access_token=""))
    assert code == 2 and "connectors.messenger.page_access_token is not set" in err and "Traceback" not in err

    greeting = {"en": "Hi", "de": "Hallo"}  # Graph refusing the POST: its message is shown
    graph.page.fields = {"whitelisted_domains": [f"https://s{i}.example" for i in range(49)]}
    code, out, err = await setup(write_config(tmp_path, graph, profile={"greeting": greeting}))
    assert code == 1 and "Graph refused the Messenger profile: (#100) whitelisted_domains must be an array" in err
