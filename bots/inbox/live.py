"""Live updates for agents: every change of a conversation (queued, assigned, closed, a new message) reaches
every signed-in agent's WebSocket, on every worker. An open socket is also what makes an agent *online* for
the hand-off (``bots.handoff.presence``): a customer is told "nobody is online" only when no inbox is open.

The inbox has a live bus of its own (the same kind as the chat windows': Redis pub/sub or PostgreSQL
LISTEN/NOTIFY, none for SQLite's single process), on which it publishes under one topic no thread has.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from aiohttp import WSMsgType, web

from bots.handoff.presence import AgentPresence
from bots.live.bus import LiveBus

log = logging.getLogger(__name__)
TOPIC = "~inbox"  # not a thread id: thread ids never start with "~"


class AgentFeed:
    def __init__(self, bus: LiveBus | None, presence: AgentPresence | None = None) -> None:
        self.bus = bus
        self.presence = presence
        self.sockets: set[web.WebSocketResponse] = set()

    async def start(self) -> None:
        if self.bus is not None:
            await self.bus.start(self._from_bus)
            await self.bus.watch(TOPIC)

    async def stop(self) -> None:
        for socket in list(self.sockets):
            await socket.close(code=1001, message=b"server shutting down")
        if self.bus is not None:
            await self.bus.stop()

    async def publish(self, frame: dict[str, Any]) -> None:
        """To this worker's agents at once, and to the other workers' through the bus."""
        await self._here(frame)
        if self.bus is not None:
            try:
                await self.bus.publish(TOPIC, frame)
            except Exception as exc:  # the bus reconnects by itself; agents reload what they missed
                log.warning("inbox: could not tell the other workers: %s", exc)

    async def _from_bus(self, topic: str, frame: dict[str, Any]) -> None:
        if topic == TOPIC:
            await self._here(frame)

    async def _here(self, frame: dict[str, Any]) -> None:
        for socket in list(self.sockets):
            try:
                await socket.send_json(frame)
            except Exception:  # a closed socket must not stop the others
                self.sockets.discard(socket)

    async def serve(self, request: web.Request, agent: str) -> web.WebSocketResponse:
        """An agent's socket: a ``ready`` frame once every later change will reach it, then the changes."""
        socket = web.WebSocketResponse(heartbeat=30.0)
        await socket.prepare(request)
        self.sockets.add(socket)
        connection = f"{agent}:{uuid.uuid4().hex}"
        try:
            await self._presence(connection, True)
            await socket.send_json({"type": "ready", "agent": agent})
            async for message in socket:
                if message.type == WSMsgType.TEXT and message.data == "ping":
                    await socket.send_str("pong")
        finally:
            self.sockets.discard(socket)
            await self._presence(connection, False)
        return socket

    async def _presence(self, connection: str, opened: bool) -> None:
        """Count the agent in (or out); a bus that is down must not refuse the agent their inbox."""
        if self.presence is None:
            return
        try:
            if opened:
                await self.presence.connected(connection)
            else:
                await self.presence.disconnected(connection)
        except Exception as exc:  # the hand-off then says only what the hours say, never "nobody is online"
            log.warning("inbox: could not update agents' presence: %s", exc)
