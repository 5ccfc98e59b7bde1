"""The inbox's JSON API (docs/inbox.md): every route needs an agent's session, and every change its CSRF token."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bots.handoff.report import MAX_DAYS, FiguresReader, days_param, figures_json
from bots.inbox import actions
from bots.inbox.accounts import Accounts, Agent
from bots.inbox.live import AgentFeed
from bots.inbox.login import Login
from bots.inbox.sessions import Session, Sessions, guard
from bots.inbox.views import LISTS, Views
from bots.threads.access import Threads
from bots.threads.desk import Action, Desk
from bots.types import Text, loads_text

MAX_TEXT = 4000
Handler = Callable[[web.Request, Session], Awaitable[web.StreamResponse]]


def _error(message: str, status: int) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _body(request: web.Request) -> dict[str, Any] | web.Response:
    try:
        body = loads_text(await request.read()) if request.can_read_body else {}
    except ValueError as exc:  # not JSON, or a lone surrogate no store can keep
        return _error(f"the body is not valid JSON text: {exc}", 400)
    except RecursionError:
        return _error("the body is nested too deep", 400)
    return body if isinstance(body, dict) else _error("the body must be a JSON object", 400)


def _text(body: dict[str, Any]) -> str | web.Response:
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        return _error("give 'text'", 400)
    if len(text) > MAX_TEXT:
        return _error(f"'text' is longer than {MAX_TEXT} characters", 400)
    return text


class InboxAPI:
    def __init__(
        self,
        threads: Threads,
        desk: Desk,
        accounts: Accounts,
        feed: AgentFeed,
        *,
        https: bool,
        canned: dict[str, tuple[str, ...]] | None = None,
        figures: FiguresReader | None = None,
    ) -> None:
        self.threads = threads
        self.canned = canned or {}
        self.figures_reader = figures
        self.desk = desk
        self.accounts = accounts
        self.sessions = Sessions(accounts, desk.records, https=https)
        self.login = Login(accounts, self.sessions)
        self.views = Views(desk)
        self.feed = feed

    def routes(self) -> list[web.RouteDef]:
        signed: list[tuple[str, str, Handler]] = [
            ("GET", "/inbox/api/conversations", self.list),
            ("GET", "/inbox/api/conversations/{thread_id}", self.thread),
            ("POST", "/inbox/api/conversations/{thread_id}/reply", self.reply),
            ("POST", "/inbox/api/conversations/{thread_id}/notes", self.note),
            ("POST", "/inbox/api/conversations/{thread_id}/typing", self.typing),
            ("POST", "/inbox/api/conversations/{thread_id}/read", self.read),
            ("POST", "/inbox/api/conversations/{thread_id}/assign", self.assign),
            ("POST", "/inbox/api/conversations/{thread_id}/unassign", self.simple(actions.unassign)),
            ("POST", "/inbox/api/conversations/{thread_id}/hand-back", self.simple(actions.hand_back)),
            ("POST", "/inbox/api/conversations/{thread_id}/close", self.simple(actions.close)),
            ("GET", "/inbox/api/agents", self.agents),
            ("GET", "/inbox/api/canned", self.canned_replies),
            ("GET", "/inbox/api/figures", self.figures),
            ("GET", "/inbox/api/live", self.live),
        ]
        return [
            web.post("/inbox/api/login", self.login.login),
            web.post("/inbox/api/logout", self.login.logout),
            web.get("/inbox/api/me", self.login.me),
            *(web.route(method, path, self._signed(handler)) for method, path, handler in signed),
        ]

    def _signed(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def checked(request: web.Request) -> web.StreamResponse:
            session = await guard(request, self.sessions)
            if isinstance(session, web.Response):
                return session
            return await handler(request, session)

        return checked

    async def list(self, request: web.Request, session: Session) -> web.Response:
        name = request.query.get("list", "open")
        if name not in LISTS:
            return _error(f"list: one of {', '.join(LISTS)}", 400)
        query = request.query.get("q", "").strip()[:200]
        rows = await self.views.conversations(name, session.agent.name, query=query, now=self.threads.clock())
        return web.json_response({"list": name, "q": query, "conversations": rows})

    async def thread(self, request: web.Request, session: Session) -> web.Response:
        found = await self.views.thread(request.match_info["thread_id"], session.agent.name)
        return web.json_response(found) if found is not None else _error("no such conversation", 404)

    async def _change(self, thread_id: str, action: Action) -> web.Response:
        row = await self.desk.change(thread_id, action)
        if row is None:
            return _error("no such conversation", 404)
        if isinstance(row, str):
            return _error(row, 409)
        return web.json_response({"thread_id": await self.desk.current(thread_id), **row})

    def simple(self, make: Callable[[Agent], Action]) -> Handler:
        async def handler(request: web.Request, session: Session) -> web.Response:
            return await self._change(request.match_info["thread_id"], make(session.agent))

        return handler

    async def assign(self, request: web.Request, session: Session) -> web.Response:
        """Take the conversation, or (``to``) transfer it to another agent."""
        body = await _body(request)
        if isinstance(body, web.Response):
            return body
        to = body.get("to", session.agent.name)
        if not isinstance(to, str) or await self.accounts.get(to) is None:
            return _error("'to' must name an agent", 400)
        return await self._change(request.match_info["thread_id"], actions.assign(session.agent, to))

    async def note(self, request: web.Request, session: Session) -> web.Response:
        body = await _body(request)
        text = _text(body) if isinstance(body, dict) else body
        if isinstance(text, web.Response):
            return text
        return await self._change(request.match_info["thread_id"], actions.note(session.agent, text))

    async def read(self, request: web.Request, session: Session) -> web.Response:
        body = await _body(request)
        if isinstance(body, web.Response):
            return body
        version = body.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            return _error("give 'version', the thread version read up to", 400)
        thread_id = await self.desk.current(request.match_info["thread_id"])
        snapshot = await self.desk.snapshot(thread_id)
        if snapshot is None:
            return _error("no such conversation", 404)
        if version > snapshot.version:  # would mark messages read before they exist (versions only grow)
            return _error(f"'version' {version} is beyond the thread's {snapshot.version}", 400)
        return await self._change(thread_id, actions.read(session.agent, version))

    async def typing(self, request: web.Request, session: Session) -> web.Response:
        body = await _body(request)
        if isinstance(body, web.Response):
            return body
        on = body.get("on")
        if not isinstance(on, bool):
            return _error("give 'on': true or false", 400)
        thread_id = await self.desk.current(request.match_info["thread_id"])
        if await self.desk.snapshot(thread_id) is None:
            return _error("no such conversation", 404)
        return web.json_response({"thread_id": thread_id, "windows": await self.desk.typing(thread_id, on)})

    async def reply(self, request: web.Request, session: Session) -> web.Response:
        """The agent's answer, on the customer's current channel under its policy; the answer says what
        happened (``delivered`` 200, ``queued`` 202, ``refused`` or ``failed`` 409 with the reason)."""
        body = await _body(request)
        text = _text(body) if isinstance(body, dict) else body
        if isinstance(text, web.Response):
            return text
        thread_id = request.match_info["thread_id"]
        taken = await self.desk.change(thread_id, actions.assign(session.agent, session.agent.name))
        if taken is None:
            return _error("no such conversation", 404)
        if isinstance(taken, str):
            return _error(taken, 409)
        result = await self.threads.send(thread_id, [Text(text)], by_person=session.agent.name)
        if result is None:
            return _error("no such conversation", 404)
        await self.desk.typing(await self.desk.current(thread_id), False)
        status = {"delivered": 200, "queued": 202}.get(result["status"], 409)
        return web.json_response(result, status=status)

    async def agents(self, request: web.Request, session: Session) -> web.Response:
        """Who a conversation can be transferred to."""
        return web.json_response({"agents": [{"name": a.name, "role": a.role} for a in await self.accounts.list()]})

    async def canned_replies(self, request: web.Request, session: Session) -> web.Response:
        """The replies an agent may pick, per language (``handoff.canned_replies`` in config.yaml)."""
        return web.json_response({"replies": {lang: list(texts) for lang, texts in self.canned.items()}})

    async def figures(self, request: web.Request, session: Session) -> web.Response:
        """The operator figures of ``/api/handoff/figures``, for an agent's session instead of the admin token."""
        if self.figures_reader is None:
            return _error("this server keeps no figures", 404)
        days = days_param(request.query.get("days", "7"))
        if days is None:
            return _error(f"days must be a whole number from 1 to {MAX_DAYS}", 400)
        reader = self.figures_reader
        return web.json_response(figures_json(await reader.read(), reader.hours, days))

    async def live(self, request: web.Request, session: Session) -> web.StreamResponse:
        return await self.feed.serve(request, session.agent.name)
