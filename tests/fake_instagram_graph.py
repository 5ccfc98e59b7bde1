"""A loopback fake of the Graph API as the Instagram channel sees it: Messenger's fake with Instagram's rules.

Same endpoints and error format (Instagram messaging is Meta's Messenger
Platform with IGSIDs), stricter checks (Meta's Instagram Messaging pages):
text at most 1000 UTF-8 bytes, recipients by IGSID only, buttons ``web_url``
or ``postback`` only, and no message tag but ``HUMAN_AGENT``. A violation is
answered the way Graph does, with a (#100) error, and listed in ``violations``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from connectors.meta.payload import obj
from tests.fake_graph import ERRORS, FakeGraph

INSTAGRAM_ERRORS = {
    **ERRORS,
    # Quoted from a real response (ComposioHQ/composio issue 3604): Instagram's own subcode for the window.
    2534022: (
        403,
        {
            "error": {
                "message": "This message is sent outside of allowed window.",
                "type": "IGApiException",
                "code": 10,
                "error_subcode": 2534022,
                "fbtrace_id": "A9C5BFZGYCvRghcFEHTjgpC",
            }
        },
    ),
}


@dataclass
class FakeInstagramGraph(FakeGraph):
    error_bodies: ClassVar[dict[int, tuple[int, dict[str, Any]]]] = INSTAGRAM_ERRORS
    access_token: str = "ig-token"

    def _check_message(self, body: dict[str, Any]) -> list[str]:
        problems = super()._check_message(body)
        if "user_ref" in (body.get("recipient") or {}):
            problems.append("Instagram recipients are IGSIDs (recipient.id)")
        if "sender_action" in body:
            return problems
        if body.get("tag") not in (None, "HUMAN_AGENT"):
            problems.append(f"tag {body.get('tag')!r}: Instagram has only HUMAN_AGENT")
        message = obj(body.get("message"))
        text = message.get("text")
        if isinstance(text, str) and len(text.encode("utf-8")) > 1000:
            problems.append(f"text of {len(text.encode('utf-8'))} bytes (at most 1000)")
        payload = obj(obj(message.get("attachment")).get("payload"))
        buttons = list(payload.get("buttons", [])) + [
            b for e in payload.get("elements", []) for b in e.get("buttons", [])
        ]
        if any(b.get("type") not in ("web_url", "postback") for b in buttons):
            problems.append("Instagram buttons are web_url or postback")
        return problems
