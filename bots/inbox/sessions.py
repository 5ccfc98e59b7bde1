"""Agent sessions: a signed, HTTP-only, SameSite=Strict cookie naming the agent, the account's epoch and the
session's CSRF token. Nothing is kept per session on the server, so any worker can check any cookie; the
signing key is made once and kept in the store, shared by every worker.

Every request that changes something must repeat the session's CSRF token in ``X-CSRF-Token`` (a page of
another site can make the browser send the cookie, never read the token), and an ``Origin`` header, when
the browser sends one, must be this server's.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from aiohttp import web
from itsdangerous import BadSignature, URLSafeTimedSerializer

from bots.inbox.accounts import Accounts, Agent
from bots.store.base import RecordTable

COOKIE = "threadline_inbox"
COOKIE_PATH = "/inbox"
MAX_AGE_SECONDS = 12 * 3600  # a working day; then the agent signs in again
CSRF_HEADER = "X-CSRF-Token"


@dataclass(frozen=True)
class Session:
    agent: Agent
    csrf: str


class Sessions:
    def __init__(self, accounts: Accounts, records: RecordTable, *, https: bool = False) -> None:
        self.accounts = accounts
        self.records = records
        self.https = https  # served at an https:// public URL (TLS may end at a proxy in front)
        self._serializer: URLSafeTimedSerializer | None = None

    async def _signer(self) -> URLSafeTimedSerializer:
        if self._serializer is None:
            key = await self.records.add_record("inbox", "session_key", {"value": secrets.token_urlsafe(48)})
            self._serializer = URLSafeTimedSerializer(str(key["value"]), salt="threadline-inbox-session")
        return self._serializer

    async def open(self, response: web.StreamResponse, request: web.Request, agent: Agent) -> Session:
        """Start a session: the cookie on ``response``; the CSRF token goes in the answer's body."""
        csrf = secrets.token_urlsafe(24)
        value = (await self._signer()).dumps({"a": agent.name, "e": agent.epoch, "c": csrf})
        response.set_cookie(
            COOKIE,
            value,
            max_age=MAX_AGE_SECONDS,
            path=COOKIE_PATH,
            httponly=True,
            samesite="Strict",
            secure=self.https or request.secure,
        )
        return Session(agent, csrf)

    @staticmethod
    def close(response: web.StreamResponse) -> None:
        response.del_cookie(COOKIE, path=COOKIE_PATH)

    async def of(self, request: web.Request) -> Session | None:
        """The request's session, None when it has none that is valid now (expired, forged, ended)."""
        value = request.cookies.get(COOKIE)
        if not value:
            return None
        try:
            data = (await self._signer()).loads(value, max_age=MAX_AGE_SECONDS)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("a"), str) or not isinstance(data.get("c"), str):
            return None
        agent = await self.accounts.get(data["a"])
        if agent is None or agent.epoch != data.get("e"):
            return None  # removed, or its password changed or it logged out since
        return Session(agent, data["c"])


def same_origin(request: web.Request) -> bool:
    """A browser names the page a request comes from; when it does, it must be this server."""
    origin = request.headers.get("Origin")
    return origin is None or origin == f"{request.scheme}://{request.host}"


async def guard(request: web.Request, sessions: Sessions) -> Session | web.Response:
    """The request's session, or the refusal: 401 without one, 403 for a change without its CSRF token."""
    session = await sessions.of(request)
    if session is None:
        return web.json_response({"error": "sign in first"}, status=401)
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        given = request.headers.get(CSRF_HEADER, "")
        if not secrets.compare_digest(given.encode(), session.csrf.encode()) or not same_origin(request):
            return web.json_response(
                {"error": f"missing or wrong {CSRF_HEADER}, or another site's request"}, status=403
            )
    elif request.headers.get("Upgrade", "").lower() == "websocket" and not same_origin(request):
        return web.json_response({"error": "another site's page cannot open the inbox's live updates"}, status=403)
    return session
