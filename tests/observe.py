"""Conditions a test can wait for in the in-process server, instead of waiting for a time."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest
from aiohttp import web


@dataclass
class BodyReads:
    begun: asyncio.Event = field(default_factory=asyncio.Event)  # a handler awaits a request's body
    ended: asyncio.Event = field(default_factory=asyncio.Event)  # ... and that read returned or raised


def observe_body_reads(monkeypatch: pytest.MonkeyPatch) -> BodyReads:
    """Watch handlers read request bodies (``request.read()``, which ``json()`` and ``text()`` use).

    A test that sends a body in pieces, or leaves half-way through it, waits for ``begun`` so that the
    server is known to be reading while the body is still incomplete, however slow the machine is. Once
    ``ended`` is set and the test runs again, what the handler does without awaiting (answering, logging
    the failure) is done.
    """
    reads = BodyReads()
    read = web.BaseRequest.read

    async def observed_read(request: web.BaseRequest) -> bytes:
        reads.begun.set()
        try:
            return await read(request)
        finally:
            reads.ended.set()

    monkeypatch.setattr(web.BaseRequest, "read", observed_read)
    return reads
