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
import logging
from typing import Mapping

from aiohttp import web

log = logging.getLogger(__name__)


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
    return hmac.compare_digest(header.strip().lower().encode(), expected.encode())


def verification(request: web.Request, verify_token: str, platform: str) -> web.Response:
    """The subscription handshake (GET): echo ``hub.challenge`` when the verify token matches, else 403."""
    mode = request.query.get("hub.mode", "")
    token = request.query.get("hub.verify_token", "")
    challenge = request.query.get("hub.challenge", "")
    if mode == "subscribe" and verify_token and hmac.compare_digest(token.encode(), verify_token.encode()):
        return web.Response(text=challenge, content_type="text/plain")
    log.warning("%s verification refused (mode %r)", platform, mode)
    return web.Response(status=403, text="verification failed", content_type="text/plain")
