"""Signing in and out. Failed sign-ins are limited per account and per address (a moving window in each
worker's memory, with the ``limits`` library), so guessing a password takes ages while an agent who mistypes
a few times is not locked out for long.

Sign-in is itself protected from cross-site requests: it takes JSON only (a form of another site cannot send
that without this server agreeing) and refuses another site's ``Origin``.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from aiohttp import web
from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from bots.inbox.accounts import Accounts
from bots.inbox.sessions import Sessions, guard, same_origin

PER_ACCOUNT: RateLimitItem = RateLimitItemPerMinute(5, 15)  # 5 failures in 15 minutes per account
PER_ADDRESS: RateLimitItem = RateLimitItemPerMinute(20, 15)  # 20 in 15 minutes per address


class Login:
    def __init__(self, accounts: Accounts, sessions: Sessions) -> None:
        self.accounts = accounts
        self.sessions = sessions
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def _wait(self, name: str, address: str) -> int:
        """Seconds until a sign-in may be tried again (0: now)."""
        wait = 0.0
        for item, key in ((PER_ACCOUNT, f"account:{name}"), (PER_ADDRESS, f"address:{address}")):
            stats = await self.limiter.get_window_stats(item, key)
            if stats.remaining <= 0:
                wait = max(wait, stats.reset_time - time.time(), 1.0)
        return math.ceil(wait)

    async def login(self, request: web.Request) -> web.Response:
        if not same_origin(request) or request.content_type != "application/json":
            return web.json_response({"error": "sign in with a JSON body from the inbox's own page"}, status=403)
        try:
            body: Any = await request.json()
        except ValueError:
            return web.json_response({"error": "the body is not valid JSON"}, status=400)
        name, password = (body.get("name"), body.get("password")) if isinstance(body, dict) else (None, None)
        if not isinstance(name, str) or not isinstance(password, str) or not name or not password:
            return web.json_response({"error": "give 'name' and 'password'"}, status=400)
        address = request.remote or "unknown"
        if wait := await self._wait(name, address):
            return web.json_response(
                {"error": "too many failed sign-ins; try again later", "retry_after": wait},
                status=429,
                headers={"Retry-After": str(wait)},
            )
        agent = await self.accounts.verify(name, password[:1024])
        if agent is None:
            await self.limiter.hit(PER_ACCOUNT, f"account:{name}")
            await self.limiter.hit(PER_ADDRESS, f"address:{address}")
            return web.json_response({"error": "wrong name or password"}, status=401)
        response = web.Response(content_type="application/json")
        session = await self.sessions.open(response, request, agent)
        response.text = json.dumps(_about(agent.name, agent.role, session.csrf))
        return response

    async def me(self, request: web.Request) -> web.Response:
        """Who is signed in, and the CSRF token a page that was reloaded needs again."""
        session = await guard(request, self.sessions)
        if isinstance(session, web.Response):
            return session
        return web.json_response(_about(session.agent.name, session.agent.role, session.csrf))

    async def logout(self, request: web.Request) -> web.Response:
        session = await guard(request, self.sessions)
        if isinstance(session, web.Response):
            return session
        await self.accounts.end_sessions(session.agent)
        response = web.json_response({"signed_out": session.agent.name})
        self.sessions.close(response)
        return response


def _about(name: str, role: str, csrf: str) -> dict[str, str]:
    return {"name": name, "role": role, "csrf": csrf}
