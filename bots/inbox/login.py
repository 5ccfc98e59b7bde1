"""Signing in and out. Failed sign-ins are limited per account and per address (a moving window, counted in
the store so that every worker counts them all), so guessing a password takes ages while an agent who
mistypes a few times is not locked out for long.

The per-address limit counts only failures for names that are no agent, and never refuses a right password:
behind a reverse proxy every agent shares one address, so a stranger guessing names must not lock the team
out. Over it, every wrong password is answered 429 alike, so the answer does not tell which names exist.

Sign-in is itself protected from cross-site requests: it takes JSON only (a form of another site cannot send
that without this server agreeing) and refuses another site's ``Origin``.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from bots.inbox.accounts import Accounts
from bots.inbox.attempts import FailedSignIns, Limit
from bots.inbox.sessions import Sessions, guard, same_origin
from bots.types import loads_text

PER_ACCOUNT = Limit(5, 15 * 60)  # 5 failures in 15 minutes per account
PER_ADDRESS = Limit(20, 15 * 60)  # 20 in 15 minutes per address


class Login:
    def __init__(self, accounts: Accounts, sessions: Sessions) -> None:
        self.accounts = accounts
        self.sessions = sessions
        self.failures = FailedSignIns(accounts.records)

    async def login(self, request: web.Request) -> web.Response:
        if not same_origin(request) or request.content_type != "application/json":
            return web.json_response({"error": "sign in with a JSON body from the inbox's own page"}, status=403)
        try:
            body: Any = loads_text(await request.read() or b"null")
        except ValueError as exc:  # not JSON, or a lone surrogate no store can keep
            return web.json_response({"error": f"the body is not valid JSON text: {exc}"}, status=400)
        except RecursionError:
            return web.json_response({"error": "the body is nested too deep"}, status=400)
        name, password = (body.get("name"), body.get("password")) if isinstance(body, dict) else (None, None)
        if not isinstance(name, str) or not isinstance(password, str) or not name or not password:
            return web.json_response({"error": "give 'name' and 'password'"}, status=400)
        account, address = f"account:{name}", f"address:{request.remote or 'unknown'}"
        if wait := await self.failures.wait({account: PER_ACCOUNT}):
            return _too_many(wait)  # a locked account: even the right password waits
        address_wait = await self.failures.wait({address: PER_ADDRESS})
        agent = await self.accounts.verify(name, password[:1024])
        if agent is None:
            known = await self.accounts.get(name) is not None
            await self.failures.failed([account] if known else [account, address])
            if address_wait:
                return _too_many(address_wait)
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


def _too_many(wait: int) -> web.Response:
    return web.json_response(
        {"error": "too many failed sign-ins; try again later", "retry_after": wait},
        status=429,
        headers={"Retry-After": str(wait)},
    )


def _about(name: str, role: str, csrf: str) -> dict[str, str]:
    return {"name": name, "role": role, "csrf": csrf}
