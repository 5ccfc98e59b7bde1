"""A rasa-sdk action server over HTTP: ``POST {url}/webhook``, ``GET {url}/actions``.

The domain is large (every text in every language), so after a server has
accepted it once only its ``domain_digest`` is sent; a server that lost it
(restarted) answers 449 and gets the whole domain again, as Rasa Pro does.
Calls are never retried: an action may have side effects (an order placed).
"""

from __future__ import annotations

import json
import logging
import zlib
from typing import Any

import aiohttp

from bots.actions.in_process import ActionNotFound, ActionRejected

log = logging.getLogger(__name__)


class ActionServerError(Exception):
    """The server could not be reached, failed (500) or answered something unusable."""


def base_url(url: str) -> str:
    """Accept Rasa's ``endpoints.yml`` form (``.../webhook``) as well as the server's root."""
    url = url.rstrip("/")
    return url[: -len("/webhook")] if url.endswith("/webhook") else url


class RemoteActionServer:
    def __init__(self, url: str, *, timeout_seconds: float, compress: bool = False) -> None:
        self.url = base_url(url)
        self.timeout_seconds = timeout_seconds
        self.compress = compress
        self._session: aiohttp.ClientSession | None = None
        self._digest_known: str | None = None  # the domain digest the server has accepted

    @property
    def where(self) -> str:
        return f"the action server at {self.url}"

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout_seconds))

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def names(self) -> list[str]:
        """The actions the server lists; raises :class:`ActionServerError` when it cannot be asked."""
        await self.start()
        assert self._session is not None
        try:
            async with self._session.get(f"{self.url}/actions") as response:
                if response.status != 200:
                    raise ActionServerError(f"{self.where} answered GET /actions with HTTP {response.status}")
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise ActionServerError(f"{self.where} is not reachable: {type(exc).__name__}: {exc}") from exc
        if not isinstance(body, list):
            raise ActionServerError(f"{self.where} listed its actions as {type(body).__name__}, not a list")
        return sorted(str(item.get("name")) for item in body if isinstance(item, dict) and item.get("name"))

    def known_names(self) -> list[str] | None:
        return None  # only known by asking the server (``names``)

    async def call(self, request: dict[str, Any], *, domain: dict[str, Any], digest: str) -> dict[str, Any]:
        await self.start()
        send_domain = self._digest_known != digest
        status, body = await self._post(
            {**request, "domain_digest": digest, **({"domain": domain} if send_domain else {})}
        )
        if status == 449:  # the server no longer has our domain (restarted): send it
            status, body = await self._post({**request, "domain_digest": digest, "domain": domain})
        if status == 200:
            self._digest_known = digest
            if body is not None and not isinstance(body, dict):
                raise ActionServerError(f"{self.where} answered {type(body).__name__}, not an object")
            return body or {"events": [], "responses": []}
        message = body.get("error") if isinstance(body, dict) else None
        if status == 404:
            raise ActionNotFound(f"{self.where} has no action {request['next_action']!r}")
        if status == 400:
            raise ActionRejected(f"rejected: {message or 'no reason given'}")
        raise ActionServerError(f"{self.where} answered HTTP {status}" + (f": {message}" if message else ""))

    async def _post(self, payload: dict[str, Any]) -> tuple[int, Any]:
        assert self._session is not None
        data = json.dumps(payload, ensure_ascii=False, default=str).encode()
        headers = {"Content-Type": "application/json"}
        if self.compress:
            data = zlib.compress(data)
            headers["Content-Encoding"] = "deflate"
        try:
            async with self._session.post(f"{self.url}/webhook", data=data, headers=headers) as response:
                text = await response.text()
                status = response.status
        except aiohttp.ClientConnectionError as exc:
            raise ActionServerError(f"{self.where} is not reachable: {exc}") from exc
        try:
            return status, json.loads(text) if text else None
        except ValueError:
            if status == 200:
                raise ActionServerError(f"{self.where} answered with something that is not JSON") from None
            return status, None
