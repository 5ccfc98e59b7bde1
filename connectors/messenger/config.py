"""Facebook Messenger's config section (``connectors.messenger``)."""

from __future__ import annotations

from pydantic import Field

from connectors.messenger.profile_config import ProfileConfig
from connectors.meta.config import GraphAccountConfig

MESSENGER_ENV = {
    "page_id": "MESSENGER_PAGE_ID",
    "verify_token": "MESSENGER_VERIFY_TOKEN",
    "app_secret": "MESSENGER_APP_SECRET",
    "page_access_token": "MESSENGER_PAGE_ACCESS_TOKEN",
    "graph_api_url": "MESSENGER_GRAPH_API_URL",
}


class MessengerConfig(GraphAccountConfig):
    """Facebook Messenger. On when a page access token and an app secret are set.

    Each of the keys in MESSENGER_ENV may come from its environment variable, which wins over the file.
    """

    page_id: str = ""
    page_access_token: str = ""
    fetch_profile_locale: bool = True
    # The Get Started button's payload that `threadline messenger setup` sets; any payload works (docs/channels.md)
    get_started_payload: str = Field("__GET_STARTED__", min_length=1, max_length=1000)
    profile: ProfileConfig = ProfileConfig()  # greeting, menu, ice breakers: `threadline messenger setup`

    @property
    def enabled(self) -> bool:
        return bool(self.page_access_token and self.app_secret)
