"""The Graph API client of Meta's messaging channels: Send API requests with retries, and profiles.

Messenger and Instagram share one Send API (``POST /me/messages``, Meta's
"Messenger Platform" with ``recipient.id`` a PSID or an IGSID) and one error
format, so one client serves both; :class:`GraphSettings` says what differs
(the base URL, the token, the platform's own error codes, whether a
``metadata`` marker is sent along).

Errors are classified by Graph's ``error.code``/``error_subcode`` (not by
HTTP status): temporary failures and rate limits are retried with
exponential backoff; everything else gives up at once with a reason the
thread records (outside the 24-hour window, person unavailable, unknown
user, bad token, missing permission). All calls share one aiohttp session.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

RETRY_CODES = {1200, 2, 4, 9, 613, 80006}
REASONS = {
    (10, 2018278): "outside_window",
    (10, 2018065): "outside_window",
    (551, None): "person_unavailable",
    (100, 2018001): "no_matching_user",
    (190, None): "bad_access_token",
    (230, None): "missing_permission",
    (10, 2018108): "not_allowed",
    (100, 2018109): "attachment_too_large",
    (100, 2018034): "empty_message",
    (4, 2018354): "frequency_limit",
}
# Codes that are a refusal even when Graph answers them with a 5xx status.
FINAL_CODES = (190, 230, 551, 10, 100)


@dataclass(frozen=True)
class SendResult:
    ok: bool
    message_id: str | None = None
    reason: str | None = None  # why it gave up
    code: int | None = None
    subcode: int | None = None
    message: str = ""
    attempts: int = 1
    retryable: bool = False


@dataclass(frozen=True)
class GraphSettings:
    """One platform's Graph API account: where to send, as whom, and how patiently."""

    platform: str  # "Messenger", "Instagram": for log lines
    base_url: str  # https://graph.facebook.com/v21.0
    access_token: str
    app_secret: str
    appsecret_proof: bool = True
    send_retries: int = 5
    retry_base_seconds: float = 0.5
    retry_max_seconds: float = 30.0
    send_timeout_seconds: float = 20.0
    send_path: str = "/me/messages"
    metadata: str | None = None  # a marker echoed back with our own messages (Messenger documents it)
    reasons: Mapping[tuple[int, int | None], str] = field(default_factory=dict)  # the platform's own codes


def classify(status: int, body: Any, reasons: Mapping[tuple[int, int | None], str] | None = None) -> SendResult:
    """What a Graph error response means for the sender (``reasons``: a platform's codes besides the shared ones)."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        retryable = status >= 500 or status == 429
        return SendResult(
            False,
            reason="server_error" if retryable else "unexpected_response",
            message=f"HTTP {status}",
            retryable=retryable,
        )
    code = error.get("code") if isinstance(error.get("code"), int) else None
    subcode = error.get("error_subcode") if isinstance(error.get("error_subcode"), int) else None
    message = str(error.get("message", ""))
    if code == 4 and subcode == 2018354:
        return SendResult(False, reason="frequency_limit", code=code, subcode=subcode, message=message)
    if code in RETRY_CODES or (status >= 500 and code not in FINAL_CODES):
        return SendResult(
            False,
            reason="rate_limited" if code in (4, 9, 613) else "temporary_failure",
            code=code,
            subcode=subcode,
            message=message,
            retryable=True,
        )
    table = {**REASONS, **(reasons or {})}
    reason = table.get((code, subcode)) or table.get((code, None)) or f"graph_error_{code}"  # type: ignore[arg-type]
    return SendResult(False, reason=reason, code=code, subcode=subcode, message=message)


class GraphClient:
    def __init__(self, settings: GraphSettings, session: aiohttp.ClientSession | None = None) -> None:
        self.settings = settings
        self._session = session
        self._owns_session = session is None
        self._proof = hmac.new(settings.app_secret.encode(), settings.access_token.encode(), hashlib.sha256).hexdigest()

    async def __aenter__(self) -> GraphClient:
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=self.settings.send_timeout_seconds)
            self._session = aiohttp.ClientSession(timeout=timeout, json_serialize=_dumps)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None and self._owns_session:
            await self._session.close()
        self._session = None

    def _params(self) -> dict[str, str]:
        params = {"access_token": self.settings.access_token}
        if self.settings.appsecret_proof:
            params["appsecret_proof"] = self._proof
        return params

    async def _post_once(self, path: str, body: dict[str, Any]) -> SendResult:
        assert self._session is not None, "use the client as an async context manager"
        try:
            async with self._session.post(
                f"{self.settings.base_url}{path}", params=self._params(), json=body
            ) as response:
                try:
                    payload = await response.json(content_type=None)
                except (ValueError, aiohttp.ContentTypeError):
                    payload = None
                if response.status == 200 and isinstance(payload, dict) and "error" not in payload:
                    return SendResult(True, message_id=payload.get("message_id"))
                return classify(response.status, payload, self.settings.reasons)
        except (TimeoutError, aiohttp.ClientError) as exc:
            return SendResult(False, reason="connection_error", message=str(exc) or type(exc).__name__, retryable=True)

    async def post(self, path: str, body: dict[str, Any]) -> SendResult:
        """POST with retries for temporary failures; the result says how many attempts it took."""
        settings = self.settings
        attempt = 0
        while True:
            attempt += 1
            result = await self._post_once(path, body)
            if result.ok or not result.retryable or attempt > settings.send_retries:
                if not result.ok:
                    log.warning(
                        "%s Graph %s failed after %d attempt(s): %s %s",
                        settings.platform,
                        path,
                        attempt,
                        result.reason,
                        result.message,
                    )
                return SendResult(
                    result.ok,
                    result.message_id,
                    result.reason,
                    result.code,
                    result.subcode,
                    result.message,
                    attempt,
                    result.retryable,
                )
            delay = min(settings.retry_max_seconds, settings.retry_base_seconds * 2 ** (attempt - 1))
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))

    async def send(
        self,
        recipient: dict[str, str],
        body: dict[str, Any],
        *,
        messaging_type: str = "RESPONSE",
        tag: str | None = None,
    ) -> SendResult:
        """One Send API body (``{"message": ...}`` or ``{"sender_action": ...}``) to one recipient."""
        request: dict[str, Any] = {"recipient": recipient}
        if "sender_action" in body:
            request["sender_action"] = body["sender_action"]  # never combined with a message
        else:
            request["messaging_type"] = messaging_type
            if tag:
                request["tag"] = tag
            message = dict(body["message"])
            if self.settings.metadata is not None:
                message["metadata"] = self.settings.metadata
            request["message"] = message
        return await self.post(self.settings.send_path, request)

    async def profile(self, user_id: str, fields: str) -> dict[str, Any] | None:
        """The person's profile fields, or None when Graph has none (short timeout: it is on the reply's path)."""
        assert self._session is not None
        try:
            async with self._session.get(
                f"{self.settings.base_url}/{user_id}",
                params={**self._params(), "fields": fields},
                timeout=aiohttp.ClientTimeout(total=3),
            ) as response:
                payload = await response.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            log.info("%s: no profile for %s: %s", self.settings.platform, user_id, exc)
            return None
        if response.status != 200 or not isinstance(payload, dict) or "error" in payload:
            return None
        return payload


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
