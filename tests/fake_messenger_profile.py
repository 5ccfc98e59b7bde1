"""The Messenger Profile API of the fake Graph API (``tests/fake_graph.py``): ``/me/messenger_profile``.

GET answers ``{"data": [{...the requested fields that are set...}]}`` (``{"data": []}`` when none is),
POST sets each field it carries (a field replaces the Page's whole field) and answers
``{"result": "success"}``, DELETE with ``{"fields": [...]}`` removes them. A body outside Meta's documented
formats and limits is answered the way Graph does, with a ``(#100)`` error, and nothing changes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

FIELDS = {"get_started", "greeting", "persistent_menu", "ice_breakers", "whitelisted_domains"}
LOCALE = re.compile(r"^(default|[a-z]{2}_[A-Z]{2})$")


def _error(message: str, status: int = 400) -> web.Response:
    body = {"error": {"message": f"(#100) {message}", "type": "OAuthException", "code": 100, "fbtrace_id": "P"}}
    return web.json_response(body, status=status)


def _per_locale(name: str, value: Any, check: Callable[[dict[str, Any]], list[str]]) -> list[str]:
    if not isinstance(value, list) or not value:
        return [f"{name} must be a non-empty array"]
    problems = []
    locales = [entry.get("locale") for entry in value if isinstance(entry, dict)]
    if "default" not in locales:
        problems.append(f"{name} needs an entry with locale default")
    if len(set(locales)) != len(locales) or len(locales) != len(value):
        problems.append(f"{name}: one object per locale")
    for entry in value:
        if isinstance(entry, dict):
            if not LOCALE.match(str(entry.get("locale"))):
                problems.append(f"{name}: unsupported locale {entry.get('locale')!r}")
            problems += check(entry)
    return problems


def _greeting(entry: dict[str, Any]) -> list[str]:
    text = entry.get("text")
    return [] if isinstance(text, str) and 0 < len(text) <= 160 else ["greeting text must be 1 to 160 characters"]


def _menu(entry: dict[str, Any]) -> list[str]:
    items = entry.get("call_to_actions")
    if not isinstance(items, list) or not 1 <= len(items) <= 20:
        return ["persistent_menu call_to_actions must hold 1 to 20 buttons"]
    problems = []
    for item in items:
        if not isinstance(item.get("title"), str) or not 0 < len(item["title"]) <= 30:
            problems.append("persistent_menu title must be 1 to 30 characters")
        if item.get("type") == "postback":
            if not isinstance(item.get("payload"), str) or not 0 < len(item["payload"]) <= 1000:
                problems.append("postback payload must be 1 to 1000 characters")
        elif item.get("type") != "web_url" or not str(item.get("url", "")).startswith(("http://", "https://")):
            problems.append(f"persistent_menu button type {item.get('type')!r} or its url")
    return problems


def _ice_breakers(entry: dict[str, Any]) -> list[str]:
    items = entry.get("call_to_actions")
    if not isinstance(items, list) or not 1 <= len(items) <= 4:
        return ["ice_breakers call_to_actions must hold 1 to 4 questions"]
    return [
        "ice breaker question must be 1 to 80 characters and have a payload"
        for item in items
        if not (isinstance(item.get("question"), str) and 0 < len(item["question"]) <= 80 and item.get("payload"))
    ]


@dataclass
class FakeMessengerProfile:
    fields: dict[str, Any] = field(default_factory=dict)  # the Page's profile as Graph keeps it
    requests: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)  # (method, query, body)

    def posts(self) -> list[dict[str, Any]]:
        return [body for method, _, body in self.requests if method == "POST"]

    def problems(self, body: dict[str, Any]) -> list[str]:
        problems = [f"unknown field {name!r}" for name in body if name not in FIELDS]
        if "get_started" in body:
            payload = body["get_started"].get("payload") if isinstance(body["get_started"], dict) else None
            if not isinstance(payload, str) or not 0 < len(payload) <= 1000:
                problems.append("get_started payload must be 1 to 1000 characters")
        if "greeting" in body:
            problems += _per_locale("greeting", body["greeting"], _greeting)
        if "persistent_menu" in body:
            problems += _per_locale("persistent_menu", body["persistent_menu"], _menu)
            if "get_started" not in body and "get_started" not in self.fields:
                problems.append("You must set a Get Started button if you also wish to use persistent menu.")
        if "ice_breakers" in body:
            problems += _per_locale("ice_breakers", body["ice_breakers"], _ice_breakers)
        if "whitelisted_domains" in body:
            domains = body["whitelisted_domains"]
            if not isinstance(domains, list) or len(domains) > 50:
                problems.append("whitelisted_domains must be an array of at most 50 domains")
            elif any(not str(d).startswith("https://") for d in domains):
                problems.append("whitelisted_domains must be https URLs")
        return problems

    async def handle(self, request: web.Request, refused: web.Response | None) -> web.Response:
        body = await request.json() if request.method != "GET" and request.can_read_body else None
        self.requests.append((request.method, dict(request.query), body))
        if refused is not None:
            return refused
        if request.method == "GET":
            wanted = [f for f in request.query.get("fields", "").split(",") if f]
            if not wanted:
                return _error("The parameter fields is required")
            found = {name: self.fields[name] for name in wanted if name in self.fields}
            return web.json_response({"data": [found] if found else []})
        if not isinstance(body, dict) or not body:
            return _error("Invalid parameter")
        if request.method == "DELETE":
            for name in body.get("fields", []):
                self.fields.pop(name, None)
            return web.json_response({"result": "success"})
        problems = self.problems(body)
        if problems:
            return _error("; ".join(problems))
        self.fields.update(body)
        return web.json_response({"result": "success"})
