"""Property: whatever frames a client sends the widget's WebSocket, each is answered (an ack, a ready, a link
or an error frame) or the socket is closed with a code that says why; nothing is logged as a failure; and on a
socket that stays open, a valid message after the garbage still gets its answer."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.web.frames import MAX_FRAME_BYTES
from tests.conftest import fuzz_examples
from tests.fuzz import strategies as h
from tests.fuzz.harness import ORIGIN, Site, running_site

ANSWERS = {"ready", "ack", "error", "link"}  # what answers a frame; "messages" and "reset" are pushes
FINAL = "final-check"
ANSWER_GUARD_SECONDS = 60  # liveness, not speed: a frame nobody answers would otherwise hang the run


@dataclass(frozen=True)
class Frame:
    """One WebSocket frame as the fuzz sends it."""

    data: str | bytes

    @property
    def payload(self) -> bytes:
        return self.data if isinstance(self.data, bytes) else self.data.encode("utf-8", "surrogatepass")


def _text(document: Any) -> str:
    return json.dumps(document)  # lone surrogates escaped, as a browser's JSON.stringify writes them


garbage_frames = st.one_of(
    h.widget_frames.map(_text),  # frames of the right shape, with wrong types and broken text
    h.widget_hello.map(_text),
    h.json_values.map(_text),  # JSON, but no object, or an object of nothing the widget sends
    st.text(h._ANY_CHARACTER, max_size=60),  # not JSON (and perhaps not even encodable text)
    st.sampled_from(
        ["", "{", "[" * 5000 + "]" * 5000, '{"type": "message", "id": "x", "text": "\\ud800"}', "hi \ud800"]
    ),
    st.binary(max_size=100),
    st.sampled_from(["x" * (MAX_FRAME_BYTES + 1), b"\x00" * (MAX_FRAME_BYTES + 1)]),  # over the limit
).map(Frame)


async def _answers(ws: aiohttp.ClientWebSocketResponse, count: int) -> tuple[list[dict[str, Any]], int | None]:
    """The next ``count`` answers, or those that came before the server closed the socket (and its code)."""
    answers: list[dict[str, Any]] = []
    while len(answers) < count:
        message = await ws.receive(timeout=ANSWER_GUARD_SECONDS)
        if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
            return answers, ws.close_code
        assert message.type == aiohttp.WSMsgType.TEXT, message
        frame = json.loads(message.data)
        assert isinstance(frame, dict) and isinstance(frame.get("type"), str), frame
        if frame["type"] in ANSWERS:
            answers.append(frame)
    return answers, None


async def _talk(site: Site, visitor: str, garbage: list[Frame]) -> None:
    async with site.client.ws_connect("/web/ws", headers={"Origin": ORIGIN}) as ws:
        await ws.send_str(_text({"type": "hello", "visitor_id": visitor}))
        (ready,), _ = await _answers(ws, 1)
        assert ready["type"] == "ready", ready
        for frame in garbage:
            # a text frame is sent as its bytes: a lone surrogate becomes invalid UTF-8, as a raw client can send
            kind = aiohttp.WSMsgType.BINARY if isinstance(frame.data, bytes) else aiohttp.WSMsgType.TEXT
            await ws.send_frame(frame.payload, kind)
        await ws.send_str(_text({"type": "message", "id": FINAL, "text": "where is my order?"}))
        answers, closed = await _answers(ws, len(garbage) + 1)
    if closed is not None:  # only for a reason the client gave
        reasons = {
            aiohttp.WSCloseCode.MESSAGE_TOO_BIG: any(len(frame.payload) > MAX_FRAME_BYTES for frame in garbage),
            aiohttp.WSCloseCode.INVALID_TEXT: any(not _utf8(frame) for frame in garbage),
            4003: any(b'"hello"' in frame.payload for frame in garbage),  # a hello with a refused identity
        }
        assert reasons.get(closed), (closed, answers)
        return
    assert answers[-1]["id"] == FINAL and answers[-1]["type"] in ("ack", "error"), answers
    assert [a for a in answers if a.get("code") == "internal"] == [], answers


def _utf8(frame: Frame) -> bool:
    """Whether a text frame's bytes are UTF-8 (a binary frame is not text, so it is not asked)."""
    try:
        frame.payload.decode() if isinstance(frame.data, str) else None
    except UnicodeDecodeError:
        return False
    return True


def test_the_widget_socket_answers_any_frames_and_goes_on(tmp_path: Path) -> None:
    visitors = (f"visitor0000000000ws{n}" for n in itertools.count())
    with running_site(tmp_path / "data") as (runner, site):

        @settings(max_examples=fuzz_examples(100))
        @given(st.lists(garbage_frames, min_size=1, max_size=4))
        def answered(garbage: list[Frame]) -> None:
            runner.run(_talk(site, next(visitors), garbage))
            assert site.failures.take() == []

        answered()
