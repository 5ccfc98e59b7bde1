"""The config keys every Meta channel has: where the Graph API is, and how it is called."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connectors.meta.graph import GraphSettings


class GraphAccountConfig(BaseModel):
    """A Meta channel's Graph API settings; a channel's section adds its account and tokens."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    verify_token: str = ""
    app_secret: str = ""
    graph_api_url: str = "https://graph.facebook.com/v21.0"
    app_id: str = ""  # our app's id: echoes from other app ids are a person writing from the platform's inbox
    appsecret_proof: bool = True
    typing_indicators: bool = True
    mark_seen: bool = True
    send_retries: int = Field(5, ge=0, le=20)
    retry_base_seconds: float = Field(0.5, gt=0)
    retry_max_seconds: float = Field(30.0, gt=0)
    send_timeout_seconds: float = Field(20.0, gt=0)

    def graph_settings(self, platform: str, access_token: str, **extra: Any) -> GraphSettings:
        """The Graph client's settings for this account (``extra``: the platform's marker, error codes)."""
        return GraphSettings(
            platform,
            self.graph_api_url,
            access_token,
            self.app_secret,
            appsecret_proof=self.appsecret_proof,
            send_retries=self.send_retries,
            retry_base_seconds=self.retry_base_seconds,
            retry_max_seconds=self.retry_max_seconds,
            send_timeout_seconds=self.send_timeout_seconds,
            **extra,
        )

    @field_validator("graph_api_url")
    @classmethod
    def _graph_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL such as https://graph.facebook.com/v21.0")
        return value.rstrip("/")
