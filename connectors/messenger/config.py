"""Facebook Messenger's config section (``connectors.messenger``)."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


MESSENGER_ENV = {
    "page_id": "MESSENGER_PAGE_ID",
    "verify_token": "MESSENGER_VERIFY_TOKEN",
    "app_secret": "MESSENGER_APP_SECRET",
    "page_access_token": "MESSENGER_PAGE_ACCESS_TOKEN",
    "graph_api_url": "MESSENGER_GRAPH_API_URL",
}


class MessengerConfig(_Strict):
    """Facebook Messenger. On when a page access token and an app secret are set.

    Each of the keys in MESSENGER_ENV may come from its environment variable, which wins over the file.
    """

    page_id: str = ""
    verify_token: str = ""
    app_secret: str = ""
    page_access_token: str = ""
    graph_api_url: str = "https://graph.facebook.com/v21.0"
    app_id: str = ""  # our app's id: echoes from other app ids (or none) are a person writing from the Page inbox
    appsecret_proof: bool = True
    typing_indicators: bool = True
    mark_seen: bool = True
    fetch_profile_locale: bool = True
    send_retries: int = Field(5, ge=0, le=20)
    retry_base_seconds: float = Field(0.5, gt=0)
    retry_max_seconds: float = Field(30.0, gt=0)
    send_timeout_seconds: float = Field(20.0, gt=0)

    @field_validator("graph_api_url")
    @classmethod
    def _graph_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL such as https://graph.facebook.com/v21.0")
        return value.rstrip("/")

    @property
    def enabled(self) -> bool:
        return bool(self.page_access_token and self.app_secret)


