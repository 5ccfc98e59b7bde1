"""Messenger's Graph API client: the shared Meta client (connectors/meta/graph.py) with Messenger's settings,
the User Profile API, and the Page's Messenger Profile API (``/me/messenger_profile``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import aiohttp

from connectors.messenger.config import MessengerConfig
from connectors.meta.graph import REASONS, RETRY_CODES, GraphSettings, SendResult, classify
from connectors.meta.graph import GraphClient as MetaGraphClient

__all__ = ["REASONS", "RETRY_CODES", "GraphClient", "SendResult", "classify", "describe", "settings_of"]

PROFILE_PATH = "/me/messenger_profile"


def settings_of(config: MessengerConfig) -> GraphSettings:
    return config.graph_settings("Messenger", config.page_access_token, metadata="threadline")


def describe(result: SendResult) -> str:
    """Graph's own words for a failure, with its code: what a person setting up the Page needs to see."""
    code = f" (code {result.code}" + (f", subcode {result.subcode})" if result.subcode else ")") if result.code else ""
    return f"{result.message or result.reason}{code}"


class GraphClient(MetaGraphClient):
    def __init__(self, config: MessengerConfig, session: aiohttp.ClientSession | None = None) -> None:
        super().__init__(settings_of(config), session)
        self.config = config

    async def profile_locale(self, psid: str) -> str | None:
        """The person's locale (``de_DE``) from the User Profile API, or None when it is not available."""
        profile = await self.profile(psid, "first_name,locale")
        locale = profile.get("locale") if profile else None
        return locale if isinstance(locale, str) else None

    async def messenger_profile(
        self, fields: Iterable[str], *, timeout: float | None = None
    ) -> tuple[dict[str, Any] | None, str]:
        """The Page's profile fields that are set (``{}``: none), or None and why Graph did not answer them."""
        assert self._session is not None, "use the client as an async context manager"
        options: dict[str, Any] = {"timeout": aiohttp.ClientTimeout(total=timeout)} if timeout else {}
        try:
            async with self._session.get(
                f"{self.settings.base_url}{PROFILE_PATH}",
                params={**self._params(), "fields": ",".join(fields)},
                **options,
            ) as response:
                payload = await response.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            return None, f"no answer from {self.settings.base_url}: {exc or type(exc).__name__}"
        if response.status != 200 or not isinstance(payload, dict) or "error" in payload:
            return None, describe(classify(response.status, payload))
        data = payload.get("data")
        return (data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}), ""

    async def set_messenger_profile(self, fields: dict[str, Any]) -> SendResult:
        """Set these profile fields (each replaces the Page's whole field); temporary failures are retried."""
        return await self.post(PROFILE_PATH, fields)

    async def get_started_payload(self) -> str | None:
        """The Page's Get Started payload, or None (not set, or Graph did not answer within 3 seconds)."""
        profile, _ = await self.messenger_profile(("get_started",), timeout=3)
        get_started = (profile or {}).get("get_started")
        payload = get_started.get("payload") if isinstance(get_started, dict) else None
        return payload if isinstance(payload, str) and payload else None
