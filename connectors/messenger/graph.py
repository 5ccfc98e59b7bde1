"""Messenger's Graph API client: the shared Meta client (connectors/meta/graph.py) with Messenger's settings."""

from __future__ import annotations

import aiohttp

from connectors.messenger.config import MessengerConfig
from connectors.meta.graph import REASONS, RETRY_CODES, GraphSettings, SendResult, classify
from connectors.meta.graph import GraphClient as MetaGraphClient

__all__ = ["REASONS", "RETRY_CODES", "GraphClient", "SendResult", "classify", "settings_of"]


def settings_of(config: MessengerConfig) -> GraphSettings:
    return GraphSettings(
        "Messenger",
        config.graph_api_url,
        config.page_access_token,
        config.app_secret,
        appsecret_proof=config.appsecret_proof,
        send_retries=config.send_retries,
        retry_base_seconds=config.retry_base_seconds,
        retry_max_seconds=config.retry_max_seconds,
        send_timeout_seconds=config.send_timeout_seconds,
        metadata="threadline",
    )


class GraphClient(MetaGraphClient):
    def __init__(self, config: MessengerConfig, session: aiohttp.ClientSession | None = None) -> None:
        super().__init__(settings_of(config), session)
        self.config = config

    async def profile_locale(self, psid: str) -> str | None:
        """The person's locale (``de_DE``) from the User Profile API, or None when it is not available."""
        profile = await self.profile(psid, "first_name,locale")
        locale = profile.get("locale") if profile else None
        return locale if isinstance(locale, str) else None
