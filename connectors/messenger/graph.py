"""The Graph API client: Send API requests with retries, sender actions, and the User Profile API.

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
from dataclasses import dataclass
from typing import Any

import aiohttp

from connectors.messenger.config import MessengerConfig

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


def classify(status: int, body: Any) -> SendResult:
    """What a Graph error response means for the sender."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        retryable = status >= 500 or status == 429
        return SendResult(False, reason="server_error" if retryable else "unexpected_response",
                          message=f"HTTP {status}", retryable=retryable)
    code = error.get("code") if isinstance(error.get("code"), int) else None
    subcode = error.get("error_subcode") if isinstance(error.get("error_subcode"), int) else None
    message = str(error.get("message", ""))
    if code == 4 and subcode == 2018354:
        return SendResult(False, reason="frequency_limit", code=code, subcode=subcode, message=message)
    if code in RETRY_CODES or (status >= 500 and code not in (190, 230, 551, 10, 100)):
        return SendResult(False, reason="rate_limited" if code in (4, 9, 613) else "temporary_failure",
                          code=code, subcode=subcode, message=message, retryable=True)
    reason = REASONS.get((code, subcode)) or REASONS.get((code, None)) or f"graph_error_{code}"  # type: ignore[arg-type]
    return SendResult(False, reason=reason, code=code, subcode=subcode, message=message)


class GraphClient:
    def __init__(self, config: MessengerConfig, session: aiohttp.ClientSession | None = None) -> None:
        self.config = config
        self._session = session
        self._owns_session = session is None
        self._proof = hmac.new(config.app_secret.encode(), config.page_access_token.encode(),
                               hashlib.sha256).hexdigest()

    async def __aenter__(self) -> "GraphClient":
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=self.config.send_timeout_seconds)
            self._session = aiohttp.ClientSession(timeout=timeout, json_serialize=_dumps)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None and self._owns_session:
            await self._session.close()
        self._session = None

    def _params(self) -> dict[str, str]:
        params = {"access_token": self.config.page_access_token}
        if self.config.appsecret_proof:
            params["appsecret_proof"] = self._proof
        return params

    async def _post_once(self, path: str, body: dict[str, Any]) -> tuple[SendResult, dict[str, Any]]:
        assert self._session is not None, "use the client as an async context manager"
        try:
            async with self._session.post(f"{self.config.graph_api_url}{path}", params=self._params(),
                                          json=body) as response:
                try:
                    payload = await response.json(content_type=None)
                except (ValueError, aiohttp.ContentTypeError):
                    payload = None
                if response.status == 200 and isinstance(payload, dict) and "error" not in payload:
                    return SendResult(True, message_id=payload.get("message_id")), payload
                return classify(response.status, payload), payload if isinstance(payload, dict) else {}
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            return SendResult(False, reason="connection_error", message=str(exc) or type(exc).__name__,
                              retryable=True), {}

    async def post(self, path: str, body: dict[str, Any]) -> SendResult:
        """POST with retries for temporary failures; the result says how many attempts it took."""
        attempt = 0
        while True:
            attempt += 1
            result, _payload = await self._post_once(path, body)
            if result.ok or not result.retryable or attempt > self.config.send_retries:
                if not result.ok:
                    log.warning("Graph %s failed after %d attempt(s): %s %s", path, attempt, result.reason,
                                result.message)
                return SendResult(result.ok, result.message_id, result.reason, result.code, result.subcode,
                                  result.message, attempt, result.retryable)
            delay = min(self.config.retry_max_seconds, self.config.retry_base_seconds * 2 ** (attempt - 1))
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))

    async def send(self, recipient: dict[str, str], body: dict[str, Any], *, messaging_type: str = "RESPONSE",
                   tag: str | None = None) -> SendResult:
        request: dict[str, Any] = {"recipient": recipient}
        if "sender_action" in body:
            request["sender_action"] = body["sender_action"]  # never combined with a message
        else:
            request["messaging_type"] = messaging_type
            if tag:
                request["tag"] = tag
            request["message"] = {**body["message"], "metadata": "threadline"}
        return await self.post("/me/messages", request)

    async def profile_locale(self, psid: str) -> str | None:
        """The person's locale (``de_DE``) from the User Profile API, or None when it is not available."""
        assert self._session is not None
        try:
            async with self._session.get(f"{self.config.graph_api_url}/{psid}",
                                         params={**self._params(), "fields": "first_name,locale"},
                                         timeout=aiohttp.ClientTimeout(total=3)) as response:  # on the reply's path
                payload = await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            log.info("no profile for %s: %s", psid, exc)
            return None
        if response.status != 200 or not isinstance(payload, dict) or "error" in payload:
            return None
        locale = payload.get("locale")
        return locale if isinstance(locale, str) else None


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
