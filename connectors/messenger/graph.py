"""Messenger's Graph API client: the shared Meta client (connectors/meta/graph.py) with Messenger's settings."""

from __future__ import annotations

import aiohttp

from connectors.messenger.config import MessengerConfig
from connectors.meta.graph import REASONS, RETRY_CODES, GraphSettings, SendResult, classify
from connectors.meta.graph import GraphClient as MetaGraphClient

__all__ = ["REASONS", "RETRY_CODES", "GraphClient", "SendResult", "classify", "settings_of"]


def settings_of(config: MessengerConfig) -> GraphSettings:
    return config.graph_settings("Messenger", config.page_access_token, metadata="threadline")


class GraphClient(MetaGraphClient):
    def __init__(self, config: MessengerConfig, session: aiohttp.ClientSession | None = None) -> None:
        super().__init__(settings_of(config), session)
        self.config = config

    async def profile_locale(self, psid: str) -> str | None:
        """The person's locale (``de_DE``) from the User Profile API, or None when it is not available."""
        profile = await self.profile(psid, "first_name,locale")
        locale = profile.get("locale") if profile else None
        return locale if isinstance(locale, str) else None
