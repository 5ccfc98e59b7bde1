"""The ``connectors.instagram`` section of config.yaml. On when an access token and an app secret are set.

Each key in :data:`ENVIRONMENT` may come from its environment variable, which wins over the file (so secrets
stay out of it), as for Messenger.
"""

from __future__ import annotations

import os
import re
from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator

ENVIRONMENT = {
    "ig_user_id": "INSTAGRAM_USER_ID",
    "verify_token": "INSTAGRAM_VERIFY_TOKEN",
    "app_secret": "INSTAGRAM_APP_SECRET",
    "access_token": "INSTAGRAM_ACCESS_TOKEN",
    "graph_api_url": "INSTAGRAM_GRAPH_API_URL",
    "username": "INSTAGRAM_USERNAME",
}


class InstagramConfig(BaseModel):
    """Instagram messaging through Meta's Graph API (a professional account; Messenger-style webhooks)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The Instagram professional account's id (``entry.id`` of the webhooks): events for other accounts are
    # ignored. Empty: every account the app is subscribed for is answered.
    ig_user_id: str = Field("", pattern=r"^\d*$")
    verify_token: str = ""
    app_secret: str = ""
    # A Page access token of the Page linked to the account (Facebook Login), or an Instagram user access
    # token with graph_api_url https://graph.instagram.com/v21.0 (Instagram Login).
    access_token: str = ""
    graph_api_url: str = "https://graph.facebook.com/v21.0"
    app_id: str = ""  # our app's id: echoes from other app ids are a person writing from the Instagram inbox
    # The account's username: "Continue in Instagram" opens https://ig.me/m/<username>. Empty: not offered.
    username: str = Field("", pattern=r"^[A-Za-z0-9._]{0,30}$")
    appsecret_proof: bool = True
    typing_indicators: bool = True
    mark_seen: bool = True
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
        return bool(self.access_token and self.app_secret)


def load(section: Mapping[str, Any] | None, environ: Mapping[str, str] = os.environ) -> InstagramConfig:
    """The section as validated config, the INSTAGRAM_* environment variables winning over the file."""
    values = dict(section or {})
    values.update({key: environ[name] for key, name in ENVIRONMENT.items() if environ.get(name)})
    return InstagramConfig.model_validate(values)
