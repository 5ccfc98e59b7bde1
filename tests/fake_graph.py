"""A loopback fake of Facebook's Graph API for the Messenger connector's tests and benchmark.

It records every request, checks each Send API call against the documented
formats and limits (and answers a violation the way Graph does, with a
(#100) error), can be scripted to answer with Graph's documented error
bodies, and serves the User Profile API and the Page's Messenger Profile API (``page``, in
``tests/fake_messenger_profile.py``).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.fake_messenger_profile import FakeMessengerProfile

TAGS = {"CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE", "HUMAN_AGENT", "CUSTOMER_FEEDBACK"}
ERRORS = {  # bodies as documented (shared/docs/messenger-protocol.md, section 3.4 and E18)
    613: (
        400,
        {
            "error": {
                "message": "(#613) Calls to this api have exceeded the rate limit.",
                "type": "OAuthException",
                "code": 613,
                "fbtrace_id": "C8eF69zBeUS",
            }
        },
    ),
    1200: (
        500,
        {
            "error": {
                "message": "Temporary send message failure. Please try again later.",
                "type": "OAuthException",
                "code": 1200,
                "fbtrace_id": "A1",
            }
        },
    ),
    551: (
        400,
        {
            "error": {
                "message": "(#551) This person isn't available right now.",
                "type": "OAuthException",
                "code": 551,
                "error_subcode": 1545041,
                "fbtrace_id": "G3GRmtpZiq6",
            }
        },
    ),
    2018278: (
        400,
        {
            "error": {
                "message": "(#10) This message is sent outside of allowed window. Learn more about the "
                "new policy here: https://developers.facebook.com/docs/messenger-platform/"
                "policy-overview",
                "type": "OAuthException",
                "code": 10,
                "error_subcode": 2018278,
                "fbtrace_id": "B2",
            }
        },
    ),
    190: (
        401,
        {
            "error": {
                "message": "Invalid OAuth access token.",
                "type": "OAuthException",
                "code": 190,
                "error_subcode": 1234567,
                "fbtrace_id": "BLBz/WZt8dN",
            }
        },
    ),
    2018001: (
        400,
        {
            "error": {
                "message": "(#100) No matching user found",
                "type": "OAuthException",
                "code": 100,
                "error_subcode": 2018001,
                "fbtrace_id": "H88xneLGeNw",
            }
        },
    ),
}


@dataclass
class Recorded:
    path: str
    query: dict[str, str]
    body: Any
    at: float


@dataclass
class FakeGraph:
    error_bodies: ClassVar[dict[int, tuple[int, dict[str, Any]]]] = ERRORS  # what fail_next(code) answers
    access_token: str = "page-token"
    app_secret: str = "app-secret"
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    scripted: dict[str, deque[int]] = field(default_factory=lambda: defaultdict(deque))
    delay: float = 0.0
    server: TestServer | None = None
    message_seq: int = 0
    page: FakeMessengerProfile = field(default_factory=FakeMessengerProfile)  # /me/messenger_profile

    # ------------------------------------------------------------------ what tests look at

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/v21.0"))

    def sends(self, recipient: str | None = None) -> list[dict[str, Any]]:
        """Send API bodies (messages and sender actions) in the order they arrived, for one recipient or all."""
        return [
            r.body
            for r in self.requests
            if r.path.endswith("/messages")
            and isinstance(r.body, dict)
            and (recipient is None or recipient in r.body.get("recipient", {}).values())
        ]

    def messages(self, recipient: str | None = None) -> list[dict[str, Any]]:
        return [b for b in self.sends(recipient) if "message" in b]

    def fail_next(self, recipient: str, *codes: int) -> None:
        """The next sends to ``recipient`` answer with these Graph errors, in order."""
        self.scripted[recipient].extend(codes)

    # ------------------------------------------------------------------ checks

    def _check_message(self, body: dict[str, Any]) -> list[str]:
        problems = []
        recipient = body.get("recipient")
        if not isinstance(recipient, dict) or len([k for k in ("id", "user_ref") if recipient.get(k)]) != 1:
            problems.append("recipient needs exactly one of id or user_ref")
        if "sender_action" in body:
            if "message" in body or body["sender_action"] not in ("typing_on", "typing_off", "mark_seen"):
                problems.append("sender_action must be alone and typing_on/typing_off/mark_seen")
            return problems
        kind = body.get("messaging_type")
        if kind not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
            problems.append(f"messaging_type {kind!r}")
        if (kind == "MESSAGE_TAG") != ("tag" in body) or ("tag" in body and body["tag"] not in TAGS):
            problems.append("tag only (and always) with MESSAGE_TAG, and a valid one")
        message = body.get("message")
        if not isinstance(message, dict) or not (("text" in message) ^ ("attachment" in message)):
            return problems + ["message needs text or attachment"]
        if "text" in message and not (0 < len(message["text"]) <= 2000):
            problems.append(f"text of {len(message.get('text', ''))} characters")
        if len(str(message.get("metadata", ""))) > 1000:
            problems.append("metadata over 1000 characters")
        replies = message.get("quick_replies", [])
        if len(replies) > 13 or any(
            len(q.get("title", "")) > 20 or len(q.get("payload", "")) > 1000 or q.get("content_type") != "text"
            for q in replies
        ):
            problems.append("quick replies over the limits")
        attachment = message.get("attachment")
        if isinstance(attachment, dict) and attachment.get("type") == "template":
            payload = attachment["payload"]
            if payload["template_type"] == "button":
                if not (0 < len(payload["text"]) <= 640) or not (1 <= len(payload["buttons"]) <= 3):
                    problems.append("button template over the limits")
                problems += self._check_buttons(payload["buttons"])
            elif payload["template_type"] == "generic":
                elements = payload["elements"]
                if not (1 <= len(elements) <= 10):
                    problems.append(f"{len(elements)} generic elements")
                for element in elements:
                    if len(element.get("title", "")) > 80 or len(element.get("subtitle", "")) > 80:
                        problems.append("element title/subtitle over 80")
                    if len(element) < 2:
                        problems.append("an element needs a field besides its title")
                    problems += self._check_buttons(element.get("buttons", []), allow_none=True)
            else:
                problems.append(f"template {payload['template_type']!r}")
        elif isinstance(attachment, dict) and attachment.get("type") not in ("image", "video", "audio", "file"):
            problems.append(f"attachment type {attachment.get('type')!r}")
        return problems

    @staticmethod
    def _check_buttons(buttons: list[dict[str, Any]], allow_none: bool = False) -> list[str]:
        problems = []
        if len(buttons) > 3 or (not buttons and not allow_none):
            problems.append(f"{len(buttons)} buttons")
        for button in buttons:
            if len(button.get("title", "")) > 20:
                problems.append(f"button title {button.get('title')!r} over 20")
            if button.get("type") == "phone_number" and not re.match(r"^\+\d+$", button.get("payload", "")):
                problems.append("phone number payload")
            if button.get("type") not in ("web_url", "postback", "phone_number"):
                problems.append(f"button type {button.get('type')!r}")
        return problems

    def _auth(self, request: web.Request) -> web.Response | None:
        token = request.query.get("access_token") or request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token != self.access_token:
            return web.json_response(ERRORS[190][1], status=401)
        proof = request.query.get("appsecret_proof")
        expected = hmac.new(self.app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()
        if proof is not None and proof != expected:
            return web.json_response(
                {
                    "error": {
                        "message": "Invalid appsecret_proof provided in the API argument",
                        "type": "GraphMethodException",
                        "code": 100,
                    }
                },
                status=400,
            )
        return None

    # ------------------------------------------------------------------ handlers

    async def send(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        self.requests.append(Recorded(request.path, dict(request.query), body, time.monotonic()))
        if self.delay:
            await asyncio.sleep(self.delay)
        if (refused := self._auth(request)) is not None:
            return refused
        if not isinstance(body, dict):
            return web.json_response(
                {"error": {"message": "(#100) Invalid JSON", "type": "OAuthException", "code": 100}}, status=400
            )
        problems = self._check_message(body)
        if problems:
            self.violations += problems
            return web.json_response(
                {
                    "error": {
                        "message": "(#100) " + "; ".join(problems),
                        "type": "OAuthException",
                        "code": 100,
                        "fbtrace_id": "V",
                    }
                },
                status=400,
            )
        recipient = body["recipient"].get("id") or body["recipient"].get("user_ref")
        if self.scripted.get(recipient):
            status, error = self.error_bodies[self.scripted[recipient].popleft()]
            return web.json_response(error, status=status)
        if "sender_action" in body:
            return web.json_response({"recipient_id": recipient})
        self.message_seq += 1
        return web.json_response({"recipient_id": recipient, "message_id": f"m_fake{self.message_seq}"})

    async def profile(self, request: web.Request) -> web.Response:
        self.requests.append(Recorded(request.path, dict(request.query), None, time.monotonic()))
        if (refused := self._auth(request)) is not None:
            return refused
        psid = request.match_info["psid"]
        if psid not in self.profiles:
            return web.json_response(
                {
                    "error": {
                        "message": "No profile available for this user.",
                        "type": "OAuthException",
                        "code": 100,
                        "error_subcode": 2018218,
                    }
                },
                status=400,
            )
        return web.json_response({"id": psid, **self.profiles[psid]})

    async def messenger_profile(self, request: web.Request) -> web.Response:
        return await self.page.handle(request, self._auth(request))

    def app(self) -> web.Application:
        app = web.Application()
        for method in ("GET", "POST", "DELETE"):
            app.router.add_route(method, r"/{version:v\d+\.\d+}/me/messenger_profile", self.messenger_profile)
        app.router.add_post(r"/{version:v\d+\.\d+}/me/messages", self.send)
        app.router.add_post(r"/{version:v\d+\.\d+}/{page:\d+}/messages", self.send)
        app.router.add_get(r"/{version:v\d+\.\d+}/{psid}", self.profile)
        return app

    async def start(self) -> FakeGraph:
        self.server = TestServer(self.app(), host="127.0.0.1")
        await self.server.start_server()
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()
