"""Input a red-team sent that ended in a 500 with a traceback (issue: the first five minutes and the rough
edges): each is refused with a clear 4xx, or, in a Messenger batch, only the broken item is left out."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse
from aiohttp.test_utils import TestClient, TestServer

from bots.runtime import Runtime, open_runtime
from bots.server.admin import CHANNELS
from bots.server.app import create_app
from bots.types import Identity
from tests.conftest import demo_config
from tests.fake_graph import FakeGraph
from tests.test_messenger import PAGE, envelope, messenger_config, sign, text_event

JSON = {"Content-Type": "application/json"}
SURROGATE = "\\ud800"  # as JSON writes it: a lone surrogate, which no store or channel can carry


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[tuple[TestClient, Runtime, FakeGraph]]:
    graph = await FakeGraph().start()
    config = demo_config(
        tmp_path / "data",
        server={"admin_token": "adm"},
        connectors={"messenger": messenger_config(graph), "web": {"identity_secret": "shop-secret"}},
    )
    try:
        async with open_runtime(config) as runtime, TestClient(TestServer(create_app(runtime))) as client:
            yield client, runtime, graph
    finally:
        await graph.close()


async def refused(client: TestClient, path: str, body: str) -> tuple[int, str]:
    response = await client.post(path, data=body.encode(), headers=JSON)
    return response.status, json.dumps(await response.json())


async def test_broken_text_is_a_clear_400_on_rest_and_the_widget(server: Any) -> None:
    client, runtime, _graph = server
    visitor = '"visitor_id": "visitor0000000000hostile"'
    cases = [
        ("/webhooks/rest/webhook", f'{{"sender": "eve", "message": "hi", "message_id": "{SURROGATE}"}}'),
        ("/web/api/hello", f'{{{visitor}, "customer": {{"id": "{SURROGATE}", "signature": "ab"}}}}'),
        ("/web/api/hello", f'{{{visitor}, "link": "tl1={SURROGATE}"}}'),
        (
            "/web/api/send",
            f'{{{visitor}, "frame": {{"type": "event", "id": "e1", "name": "x", "data": {{"k": "{SURROGATE}"}}}}}}',
        ),
    ]
    for path, body in cases:
        status, answer = await refused(client, path, body)
        assert status == 400 and "not valid Unicode" in answer, (path, status, answer)
    assert await runtime.threads.find(Identity("rest", "eve")) is None
    assert await runtime.threads.find(Identity("web", "visitor0000000000hostile")) is None


async def test_a_signature_with_any_character_is_a_refusal_not_a_crash(server: Any) -> None:
    client, _runtime, _graph = server
    status, answer = await refused(
        client,
        "/web/api/hello",
        json.dumps({"visitor_id": "visitor0000000000sig", "customer": {"id": "ana", "signature": "é" * 64}}),
    )
    assert status == 403 and "identity_refused" in answer


async def test_an_admin_token_of_undecodable_bytes_is_a_401(server: Any) -> None:
    client, _runtime, _graph = server
    host, port = client.server.host, client.server.port
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        b"GET /api/threads?channel=rest&user_id=a HTTP/1.1\r\nHost: x\r\n"
        b"Authorization: Bearer \xff\xfe\xc3\r\nConnection: close\r\n\r\n"
    )
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    assert status_line.split()[1] == b"401", status_line


async def test_a_product_path_with_a_line_break_is_a_404(server: Any) -> None:
    client, _runtime, _graph = server
    response = await client.get("/products/%0a")
    assert response.status == 404 and (await response.json()) == {"error": "no such product"}


async def widget_tab(client: TestClient, visitor: str) -> ClientWebSocketResponse:
    """A widget's socket, greeted and ready."""
    ws = await client.ws_connect("/web/ws", headers={"Origin": str(client.make_url("")).rstrip("/")})
    await ws.send_str(json.dumps({"type": "hello", "visitor_id": visitor}))
    assert (await ws.receive_json())["type"] == "ready"
    return ws


async def still_answers(ws: ClientWebSocketResponse) -> None:
    """The tab goes on: a valid message afterwards is acknowledged."""
    await ws.send_str('{"type": "message", "id": "m2", "text": "hello"}')
    while (frame := await ws.receive_json())["type"] != "ack":
        pass
    assert frame["id"] == "m2"
    await ws.close()


async def test_a_widget_frame_with_broken_text_gets_an_error_frame_and_the_tab_goes_on(server: Any) -> None:
    ws = await widget_tab(server[0], "visitor0000000000wsbad")
    await ws.send_str(f'{{"type": "message", "id": "m1", "text": "hi {SURROGATE}"}}')
    error = await ws.receive_json()
    assert error["type"] == "error" and error["code"] == "bad_frame" and "not valid Unicode" in error["message"]
    await still_answers(ws)


async def test_a_binary_widget_frame_gets_an_error_frame_and_the_tab_goes_on(server: Any) -> None:
    ws = await widget_tab(server[0], "visitor0000000000wsbin")
    await ws.send_bytes(b'{"type": "message", "id": "m1", "text": "hi"}')
    error = await ws.receive_json()
    assert error == {"type": "error", "code": "bad_frame", "message": "frames must be JSON text, not binary"}
    await still_answers(ws)


async def test_one_broken_item_does_not_fail_a_messenger_batch(server: Any) -> None:
    client, runtime, graph = server
    broken = text_event("p-broken", "placeholder", "m-broken")
    good = text_event("p-good", "where is my order?", "m-good")
    raw = json.dumps(envelope(broken, good)).replace('"placeholder"', f'"hi {SURROGATE}"').encode()
    response = await client.post("/webhooks/messenger", data=raw, headers=sign(raw))
    assert response.status == 200
    await client.app[CHANNELS]["messenger"].idle()
    assert await runtime.threads.find(Identity("messenger", "p-good")) is not None and graph.messages("p-good")
    assert await runtime.threads.find(Identity("messenger", "p-broken")) is None


async def test_a_handover_whose_value_is_not_an_object_is_processed_not_stuck(server: Any) -> None:
    client, runtime, _graph = server
    item = {"sender": {"id": "p-hand"}, "recipient": {"id": PAGE}, "timestamp": 1, "pass_thread_control": "oops"}
    raw = json.dumps(envelope(item)).encode()
    assert (await client.post("/webhooks/messenger", data=raw, headers=sign(raw))).status == 200
    await client.app[CHANNELS]["messenger"].idle()
    assert await runtime.store.pending_inbound("messenger") == []  # done, not left for every restart
    thread = await runtime.threads.find(Identity("messenger", "p-hand"))
    assert thread is not None
    history = await runtime.threads.history(thread, after=0, limit=100, kinds=("handover",))
    assert history is not None and [e.event.data.get("action") for e in history.events] == ["passed"]


async def test_an_attachment_whose_type_is_not_a_string_is_processed_not_stuck(server: Any) -> None:
    client, runtime, graph = server
    attachments = [{"type": {"x": 1}, "payload": {}}, {"type": "image", "payload": {"url": "https://x.example/a.png"}}]
    item = text_event("p-attach", "", "m-attach", attachments=attachments)
    del item["message"]["text"]
    raw = json.dumps(envelope(item)).encode()
    assert (await client.post("/webhooks/messenger", data=raw, headers=sign(raw))).status == 200
    await client.app[CHANNELS]["messenger"].idle()
    assert await runtime.store.pending_inbound("messenger") == []  # done, not left for every restart
    assert graph.messages("p-attach")  # the fallback flow answered the photo
