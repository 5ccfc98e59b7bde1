"""The subscription handshake and the signature on Meta's webhook deliveries (checked over the raw bytes).

Meta signs every POST with the app secret: ``X-Hub-Signature-256:
sha256=<hex>`` (HMAC-SHA256 of the body exactly as sent; Meta's "Getting
Started" page for webhooks), and older deliveries with ``X-Hub-Signature:
sha1=<hex>``. Messenger and Instagram deliveries are signed alike. Hashing a
re-serialised body would fail on the ``\\u00e4`` escapes Meta sends.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bots.types import secrets_match

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 1024 * 1024


def signature_ok(app_secret: str, raw: bytes, headers: Mapping[str, str]) -> bool:
    """X-Hub-Signature-256 (HMAC-SHA256 of the raw bytes), else X-Hub-Signature (SHA-1); constant time."""
    secret = app_secret.encode()
    header = headers.get("X-Hub-Signature-256")
    if header is not None:
        expected = "sha256=" + hmac.new(secret, raw, hashlib.sha256).hexdigest()
    else:
        header = headers.get("X-Hub-Signature")
        if header is None:
            return False
        expected = "sha1=" + hmac.new(secret, raw, hashlib.sha1).hexdigest()
    return secrets_match(header.strip().lower(), expected)


def verification(request: web.Request, verify_token: str, platform: str) -> web.Response:
    """The subscription handshake (GET): echo ``hub.challenge`` when the verify token matches, else 403."""
    mode = request.query.get("hub.mode", "")
    token = request.query.get("hub.verify_token", "")
    challenge = request.query.get("hub.challenge", "")
    if mode == "subscribe" and verify_token and secrets_match(token, verify_token):
        return web.Response(text=challenge, content_type="text/plain")
    log.warning("%s verification refused (mode %r)", platform, mode)
    return web.Response(status=403, text="verification failed", content_type="text/plain")


@dataclass(frozen=True)
class Delivery:
    """A webhook POST as read: its JSON body, or the response refusing it (too large, unsigned, not JSON)."""

    body: Any = None
    refused: web.Response | None = None


async def read_delivery(
    request: web.Request, app_secret: str, platform: str, max_bytes: int = MAX_BODY_BYTES
) -> Delivery:
    """The whole body, checked for size (413) and signature (403) over the raw bytes, then parsed (400)."""
    if request.content_length is not None and request.content_length > max_bytes:
        return Delivery(refused=web.json_response({"error": "body too large"}, status=413))
    try:
        raw = await request.read()  # the whole body, however many packets it came in
    except web.HTTPRequestEntityTooLarge:
        return Delivery(refused=web.json_response({"error": "body too large"}, status=413))
    if len(raw) > max_bytes:
        return Delivery(refused=web.json_response({"error": "body too large"}, status=413))
    if not signature_ok(app_secret, raw, request.headers):
        log.warning("%s webhook refused: missing or wrong signature", platform)
        return Delivery(refused=web.json_response({"error": "missing or wrong signature"}, status=403))
    try:
        return Delivery(json.loads(raw))
    except (ValueError, UnicodeDecodeError):
        log.warning("%s webhook refused: the body is not JSON", platform)
        return Delivery(refused=web.json_response({"error": "the body is not valid JSON"}, status=400))
