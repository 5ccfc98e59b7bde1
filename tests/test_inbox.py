"""The agent inbox's API over real HTTP and WebSockets, on SQLite: sessions, CSRF, sign-in limits, the
hand-off queue, an agent's actions and replies on the REST channel and to an open chat window."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bots.inbox.accounts import Accounts
from bots.runtime import Runtime, open_runtime
from bots.server.app import create_app
from tests.conftest import demo_config
from tests.inbox_client import AgentClient, next_change

PASSWORD = "correct horse battery"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[tuple[TestServer, Runtime]]:
    async with open_runtime(demo_config(tmp_path / "data")) as runtime:
        accounts = Accounts(runtime.store)
        await accounts.add("ana", PASSWORD)
        await accounts.add("bo", PASSWORD)
        await accounts.add("boss", PASSWORD, role="admin")
        server = TestServer(create_app(runtime))
        await server.start_server()
        yield server, runtime
        await server.close()


@pytest.fixture
async def agents(server: tuple[TestServer, Runtime]) -> AsyncIterator[dict[str, AgentClient]]:
    base = str(server[0].make_url("")).rstrip("/")
    clients = {name: AgentClient(base, name, PASSWORD) for name in ("ana", "bo", "boss")}
    for client in clients.values():
        assert (await client.login()).status == 200
    yield clients
    for client in clients.values():
        await client.close()


async def rest(server: TestServer, sender: str, text: str) -> list[dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(server.make_url("/webhooks/rest/webhook"), json={"sender": sender, "message": text}) as response,
    ):
        assert response.status == 200
        return list(await response.json())


async def thread_of(agent: AgentClient, q: str, name: str = "open") -> str:
    [row] = await agent.queue(name, q=q)
    return str(row["thread_id"])


async def test_without_a_session_nothing_is_read_or_changed(server: tuple[TestServer, Runtime]) -> None:
    test_server, runtime = server
    await rest(test_server, "carla", "/talk_to_human")
    [thread] = await runtime.store.thread_ids()
    before = await runtime.store.load(thread)
    base = str(test_server.make_url("")).rstrip("/")
    async with aiohttp.ClientSession() as http:
        for path in ("/inbox/api/conversations", f"/inbox/api/conversations/{thread}", "/inbox/api/me"):
            async with http.get(base + path) as response:
                assert response.status == 401, path
        for action in ("reply", "notes", "typing", "read", "assign", "unassign", "hand-back", "close"):
            async with http.post(
                f"{base}/inbox/api/conversations/{thread}/{action}", json={"text": "hi", "version": 1}
            ) as response:
                assert response.status == 401, action
        forged = {"threadline_inbox": "eyJhIjoiYW5hIiwiZSI6MCwiYyI6IngifQ.forged.sig"}
        async with http.get(f"{base}/inbox/api/conversations", cookies=forged) as response:
            assert response.status == 401
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await http.ws_connect(f"{base}/inbox/api/live")
    after = await runtime.store.load(thread)
    assert after is not None and before is not None and after.version == before.version
    assert await runtime.store.records("conversation") == {thread: await runtime.store.record("conversation", thread)}
    assert (await runtime.store.record("conversation", thread) or {})["assignee"] is None


async def test_changes_need_the_csrf_token_and_the_own_origin(
    server: tuple[TestServer, Runtime], agents: dict[str, AgentClient]
) -> None:
    test_server, runtime = server
    await rest(test_server, "dora", "/talk_to_human")
    ana = agents["ana"]
    thread = await thread_of(ana, "dora", "queue")
    assert (await ana.post(f"/inbox/api/conversations/{thread}/assign", **{"X-CSRF-Token": ""}))[0] == 403
    assert (await ana.post(f"/inbox/api/conversations/{thread}/assign", **{"X-CSRF-Token": "guess"}))[0] == 403
    other_site = {"Origin": "https://evil.example"}
    assert (await ana.post(f"/inbox/api/conversations/{thread}/assign", **other_site))[0] == 403
    assert (await runtime.store.record("conversation", thread) or {})["assignee"] is None
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await ana.http.ws_connect(f"{ana.base}/inbox/api/live", headers=other_site)
    async with ana.http.post(
        f"{ana.base}/inbox/api/login", data=f"name=ana&password={PASSWORD}", headers=ana.origin
    ) as form:
        assert form.status == 403  # a form of another site cannot sign anyone in
    cookie = (await ana.login()).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/inbox" in cookie
    assert "Secure" not in cookie  # served over plain http here (public_url https:// adds it)
    status, body = await ana.post(f"/inbox/api/conversations/{thread}/assign")
    assert (status, body["assignee"]) == (200, "ana")
    # logging out ends the session: the old cookie reads nothing any more
    cookies = {c.key: c.value for c in ana.http.cookie_jar}
    assert (await ana.post("/inbox/api/logout"))[0] == 200
    async with (
        aiohttp.ClientSession() as stranger,
        stranger.get(f"{ana.base}/inbox/api/conversations", cookies=cookies) as response,
    ):
        assert response.status == 401


async def test_failed_sign_ins_are_limited_per_account_and_unknown_names_per_address(
    agents: dict[str, AgentClient],
) -> None:
    ana = agents["ana"]
    for _ in range(5):
        assert (await ana.login("wrong password")).status == 401
    refused = await ana.login()  # the right password, too late
    assert refused.status == 429 and int(refused.headers["Retry-After"]) > 0
    assert (await agents["bo"].login()).status == 200  # another account from the same address still can
    strangers = [AgentClient(ana.base, f"nobody{i}", "x" * 12) for i in range(21)]
    try:
        for stranger in strangers[:20]:
            assert (await stranger.login()).status == 401
        assert (await strangers[20].login()).status == 429  # 20 unknown names from this address
        # The team behind the same address (a reverse proxy) still signs in with right passwords, and a
        # wrong one for a real name is answered like an unknown name's: 429, so names are not told apart
        assert (await agents["boss"].login("wrong password")).status == 429
        assert (await agents["boss"].login()).status == 200
    finally:
        for stranger in strangers:
            await stranger.close()


async def test_hand_off_reply_on_rest_hand_back_and_close(
    server: tuple[TestServer, Runtime], agents: dict[str, AgentClient]
) -> None:
    test_server, runtime = server
    ana, bo = agents["ana"], agents["bo"]
    await rest(test_server, "early", "/talk_to_human")
    await rest(test_server, "erik", "/talk_to_human")
    queue = await ana.queue()
    assert [set(r["channels"]) for r in queue] == [{"rest"}, {"rest"}]
    assert queue[0]["queued_at"] <= queue[1]["queued_at"] and all(r["waiting_seconds"] >= 0 for r in queue)
    thread = await thread_of(ana, "erik", "queue")
    assert queue[1]["thread_id"] == thread  # oldest first
    assert (await ana.post(f"/inbox/api/conversations/{thread}/assign"))[0] == 200
    assert [r["thread_id"] for r in await ana.queue("mine")] == [thread]
    assert await bo.queue("mine") == [] and thread not in [r["thread_id"] for r in await bo.queue()]
    status, refused = await bo.post(f"/inbox/api/conversations/{thread}/reply", {"text": "Bo here"})
    assert status == 409 and refused["error"].startswith("conflict: ana holds")
    assert await rest(test_server, "erik", "hello? my order 4711 is late") == []  # the bot stays quiet
    status, sent = await ana.post(f"/inbox/api/conversations/{thread}/reply", {"text": "Ana here, let me look"})
    assert status == 202 and sent["status"] == "queued" and sent["sent"] is False  # REST: on the next request
    await ana.post(f"/inbox/api/conversations/{thread}/notes", {"text": "<script>alert(1)</script> VIP"})
    answer = await rest(test_server, "erik", "thanks")
    assert [m.get("text") for m in answer] == ["Ana here, let me look"]  # the note is never sent
    await rest(test_server, "zoe", "/greet")  # the bot's own conversation: found by the customer's id only
    assert {r["thread_id"] for r in await ana.queue("open")} == {r["thread_id"] for r in queue}
    assert await ana.queue("open", q="zo") == []
    [zoe] = await ana.queue("open", q="zoe")
    assert (zoe["channels"], zoe["assignee"], zoe["queued_at"]) == (["rest"], None, None)
    for q in ("erik", "4711", "let me look", "VIP"):
        assert await thread_of(ana, q) == thread, q
    status, view = await ana.get(f"/inbox/api/conversations/{thread}")
    assert status == 200 and view["assignee"] == "ana" and view["handoff"] is True
    assert view["identities"] == [{"channel": "rest", "user_id": "erik"}]
    kinds = [(e["kind"], e["data"].get("text")) for e in view["events"] if e["kind"] in ("user", "agent", "agent_note")]
    assert kinds[-4:] == [
        ("user", "hello? my order 4711 is late"),
        ("agent", "Ana here, let me look"),
        ("agent_note", "<script>alert(1)</script> VIP"),
        ("user", "thanks"),
    ]
    beyond = {"version": view["version"] + 1}  # messages that do not exist yet cannot be read
    assert (await ana.post(f"/inbox/api/conversations/{thread}/read", beyond))[0] == 400
    assert (await ana.post(f"/inbox/api/conversations/{thread}/typing", {}))[0] == 400  # 'on' is required
    status, _ = await ana.post(f"/inbox/api/conversations/{thread}/read", {"version": view["version"]})
    assert status == 200
    [row] = await ana.queue("mine")
    assert row["thread_id"] == thread and row["unread"] is False
    assert (await bo.queue("open"))[0]["unread"] is True  # read marks are each agent's own
    assert (await bo.post(f"/inbox/api/conversations/{thread}/hand-back"))[0] == 409  # not Bo's to give back
    assert (await ana.post(f"/inbox/api/conversations/{thread}/hand-back"))[0] == 200
    assert await rest(test_server, "erik", "/greet") != []  # the bot answers again
    assert (await agents["boss"].post(f"/inbox/api/conversations/{thread}/close"))[0] == 200
    assert [r["thread_id"] for r in await ana.queue("closed")] == [thread]
    assert thread not in [r["thread_id"] for r in await ana.queue("open")]
    await rest(test_server, "erik", "one more question")  # the customer is back: open again
    assert thread in [r["thread_id"] for r in await ana.queue("open")]


async def test_a_bot_only_conversation_an_agent_closed_opens_again_when_the_customer_writes(
    server: tuple[TestServer, Runtime], agents: dict[str, AgentClient]
) -> None:
    """Its turns skip the inbox record it does not have, until an agent's action gives it one."""
    test_server, _ = server
    boss = agents["boss"]
    for text in ("/greet", "where is my order", "thanks"):
        await rest(test_server, "zed", text)
    thread = await thread_of(boss, "zed")
    assert (await boss.post(f"/inbox/api/conversations/{thread}/close"))[0] == 200
    assert [r["thread_id"] for r in await boss.queue("closed")] == [thread]
    await rest(test_server, "zed", "one more question")
    assert [r["thread_id"] for r in await boss.queue("open", q="zed")] == [thread]
    assert await boss.queue("closed") == []


async def test_a_web_customer_sees_typing_and_the_reply_live_and_agents_see_changes(
    server: tuple[TestServer, Runtime], agents: dict[str, AgentClient]
) -> None:
    test_server, runtime = server
    ana, bo = agents["ana"], agents["bo"]
    watching = await bo.live()
    async with aiohttp.ClientSession() as http:
        origin = str(test_server.make_url("")).rstrip("/")
        tab = await http.ws_connect(test_server.make_url("/web/ws"), headers={"Origin": origin})
        await tab.send_json({"type": "hello", "visitor_id": "visitor0000000000042"})
        assert (await tab.receive_json(timeout=60))["type"] == "ready"
        await tab.send_json({"type": "message", "id": "m1", "text": "/talk_to_human"})
        queued = await next_change(watching, status="open")
        thread = queued["thread_id"]
        assert queued["queued_at"] is not None and queued["assignee"] is None
        [row] = await ana.queue()
        assert (row["channels"], row["online"]) == (["web"], True)
        status, typing = await ana.post(f"/inbox/api/conversations/{thread}/typing", {"on": True})
        assert (status, typing["windows"]) == (200, 1)
        frame = await tab.receive_json(timeout=60)
        while frame.get("type") != "typing":
            frame = await tab.receive_json(timeout=60)
        assert frame == {"type": "typing", "on": True}
        status, sent = await ana.post(f"/inbox/api/conversations/{thread}/reply", {"text": "Hi, Ana here"})
        assert (status, sent["status"], sent["channel"]) == (200, "delivered", "web")
        assert (await next_change(watching, thread_id=thread))["assignee"] == "ana"
        while True:
            frame = await tab.receive_json(timeout=60)
            if frame["type"] == "messages":
                break
        [message] = frame["messages"]
        assert message["text"] == "Hi, Ana here"  # the widget shows a person's reply as the chat's side
        await tab.close()
    await watching.close()


async def test_bad_input_gets_a_clear_4xx(agents: dict[str, AgentClient], server: tuple[TestServer, Runtime]) -> None:
    await rest(server[0], "fred", "/talk_to_human")
    ana = agents["ana"]
    thread = await thread_of(ana, "fred")
    assert (await ana.get("/inbox/api/conversations", list="everything"))[0] == 400
    assert (await ana.get("/inbox/api/conversations/nope"))[0] == 404
    for action, body in (
        ("reply", {}),
        ("reply", {"text": "x" * 5000}),
        ("notes", {"text": 3}),
        ("read", {"version": "1"}),
        ("typing", {"on": "yes"}),
        ("assign", {"to": "nobody"}),
    ):
        assert (await ana.post(f"/inbox/api/conversations/{thread}/{action}", body))[0] == 400, action
    async with ana.http.post(
        f"{ana.base}/inbox/api/conversations/{thread}/reply",
        data=b"not json",
        headers={"X-CSRF-Token": ana.csrf, **ana.origin},
    ) as response:
        assert response.status == 400 and "error" in json.loads(await response.text())


async def test_a_queued_conversation_merged_into_another_thread_stays_in_the_queue(
    server: tuple[TestServer, Runtime], agents: dict[str, AgentClient]
) -> None:
    test_server, runtime = server
    ana = agents["ana"]
    await rest(test_server, "hana", "/talk_to_human")
    await rest(test_server, "hana-on-another-device", "/greet")
    [queued] = await ana.queue()
    source = queued["thread_id"]
    [into] = await ana.queue("open", q="hana-on-another-device")
    # the customer links their two chats (what a link between channels does): one thread now
    assert await runtime.threads.linker.merge(into["thread_id"], source, reason="test") is not None
    [moved] = await ana.queue()
    assert moved["thread_id"] == into["thread_id"] and moved["queued_at"] == queued["queued_at"]
    status, view = await ana.get(f"/inbox/api/conversations/{source}")  # the old id leads to the thread
    assert (status, view["thread_id"], view["linked_threads"]) == (200, into["thread_id"], [source])
    assert {i["user_id"] for i in view["identities"]} == {"hana", "hana-on-another-device"}


async def test_text_that_is_not_unicode_or_nested_too_deep_gets_a_400_not_a_500(
    agents: dict[str, AgentClient], server: tuple[TestServer, Runtime]
) -> None:
    """JSON may write a lone surrogate (\\ud800) and nest without limit; neither may reach the store or crash."""
    await rest(server[0], "gus", "/talk_to_human")
    ana = agents["ana"]
    thread = await thread_of(ana, "gus")
    headers = {"X-CSRF-Token": ana.csrf, "Content-Type": "application/json", **ana.origin}
    for action in ("reply", "notes"):
        async with ana.http.post(
            f"{ana.base}/inbox/api/conversations/{thread}/{action}", data=b'{"text": "x\\ud800"}', headers=headers
        ) as response:
            assert response.status == 400, action
            assert "surrogate" in json.loads(await response.text())["error"]
    for body in (b'{"name": "ana", "password": "x\\ud800"}', b"[" * 5000 + b"]" * 5000):
        async with ana.http.post(
            f"{ana.base}/inbox/api/login", data=body, headers={"Content-Type": "application/json", **ana.origin}
        ) as response:
            assert response.status == 400, body[:20]
