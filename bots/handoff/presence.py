"""Which agents are online: the one fact the hand-off needs from the inbox, behind a small interface.

The inbox core calls :meth:`AgentPresence.connected` when an agent's inbox connection opens and
:meth:`AgentPresence.disconnected` when it closes; the hand-off asks :meth:`AgentPresence.online`.
With several workers the count lives on the live bus (``bots.live``) as leases each worker renews for
its own connections, so a killed worker's agents drop out by themselves; with the embedded SQLite
(one process) it is kept in memory.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from bots.live.bus import LiveBus

# The bus counts open tabs per thread id; agents' inbox connections are counted under this reserved id,
# which no thread has (thread ids are generated hex strings).
AGENTS_KEY = "inbox:agents"


class AgentPresence(ABC):
    @abstractmethod
    async def connected(self, connection_id: str) -> None:
        """An agent's inbox connection opened (one per browser tab; an agent with two tabs counts twice)."""

    @abstractmethod
    async def disconnected(self, connection_id: str) -> None: ...

    @abstractmethod
    async def online(self) -> int:
        """Agents' inbox connections open now, on every worker."""


class LocalPresence(AgentPresence):
    def __init__(self) -> None:
        self._open: set[str] = set()

    async def connected(self, connection_id: str) -> None:
        self._open.add(connection_id)

    async def disconnected(self, connection_id: str) -> None:
        self._open.discard(connection_id)

    async def online(self) -> int:
        return len(self._open)


class BusPresence(AgentPresence):
    def __init__(self, bus: LiveBus) -> None:
        self._bus = bus

    async def connected(self, connection_id: str) -> None:
        await self._bus.tab_opened(AGENTS_KEY, connection_id)

    async def disconnected(self, connection_id: str) -> None:
        await self._bus.tab_closed(AGENTS_KEY, connection_id)

    async def online(self) -> int:
        return await self._bus.online(AGENTS_KEY)


def open_presence(bus: LiveBus | None) -> AgentPresence:
    return BusPresence(bus) if bus is not None else LocalPresence()
