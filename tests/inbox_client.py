"""An agent of the inbox over HTTP, as the inbox's page is: a cookie jar of its own and the CSRF token."""

from __future__ import annotations

from typing import Any

import aiohttp
from yarl import URL


class AgentClient:
    def __init__(self, base: str, name: str, password: str) -> None:
        self.base = base.rstrip("/")
        self.name = name
        self.password = password
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    @property
    def origin(self) -> dict[str, str]:
        return {"Origin": self.base}

    async def login(self, password: str | None = None) -> aiohttp.ClientResponse:
        response = await self.http.post(
            f"{self.base}/inbox/api/login",
            json={"name": self.name, "password": password or self.password},
            headers=self.origin,
        )
        if response.status == 200:
            self.csrf = (await response.json())["csrf"]
        return response

    async def get(self, path: str, **params: str) -> tuple[int, Any]:
        async with self.http.get(URL(f"{self.base}{path}").update_query(params)) as response:
            return response.status, await response.json()

    async def post(self, path: str, body: dict[str, Any] | None = None, **headers: str) -> tuple[int, Any]:
        sent = {"X-CSRF-Token": self.csrf, **self.origin, **headers}
        async with self.http.post(f"{self.base}{path}", json=body or {}, headers=sent) as response:
            return response.status, await response.json()

    async def queue(self, name: str = "queue", q: str = "") -> list[dict[str, Any]]:
        status, body = await self.get("/inbox/api/conversations", list=name, q=q)
        assert status == 200, body
        return list(body["conversations"])

    async def live(self) -> aiohttp.ClientWebSocketResponse:
        socket = await self.http.ws_connect(f"{self.base}/inbox/api/live", headers=self.origin)
        ready = await socket.receive_json(timeout=60)  # a ceiling, not a wait
        assert ready == {"type": "ready", "agent": self.name}
        return socket

    async def close(self) -> None:
        await self.http.close()


async def next_change(socket: aiohttp.ClientWebSocketResponse, **wanted: Any) -> dict[str, Any]:
    """The next conversation frame with these fields (a ceiling of 60 s, never a pause)."""
    while True:
        frame = await socket.receive_json(timeout=60)
        if frame.get("type") == "conversation" and all(frame.get(k) == v for k, v in wanted.items()):
            return dict(frame)
