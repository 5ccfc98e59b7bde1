"""The ``connectors.instagram`` section of config.yaml. On when an access token and an app secret are set.

Each key in :data:`ENVIRONMENT` may come from its environment variable, which wins over the file (so secrets
stay out of it), as for Messenger.
"""

from __future__ import annotations

from pydantic import Field

from connectors.meta.config import GraphAccountConfig

ENVIRONMENT = {
    "ig_user_id": "INSTAGRAM_USER_ID",
    "verify_token": "INSTAGRAM_VERIFY_TOKEN",
    "app_secret": "INSTAGRAM_APP_SECRET",
    "access_token": "INSTAGRAM_ACCESS_TOKEN",
    "graph_api_url": "INSTAGRAM_GRAPH_API_URL",
    "username": "INSTAGRAM_USERNAME",
}


class InstagramConfig(GraphAccountConfig):
    """Instagram messaging through Meta's Graph API (a professional account; Messenger-style webhooks).

    Besides the keys below: verify_token, app_secret, graph_api_url (https://graph.instagram.com/v21.0 with
    an Instagram Login token), app_id, appsecret_proof, typing_indicators, mark_seen, send_retries,
    retry_base_seconds, retry_max_seconds, send_timeout_seconds (connectors/meta/config.py).
    """

    # The Instagram professional account's id (``entry.id`` of the webhooks): events for other accounts are
    # ignored. Empty: every account the app is subscribed for is answered.
    ig_user_id: str = Field("", pattern=r"^\d*$")
    # A Page access token of the Page linked to the account (Facebook Login), or an Instagram user access
    # token (Instagram Login).
    access_token: str = ""
    # The account's username: "Continue in Instagram" opens https://ig.me/m/<username>. Empty: not offered.
    username: str = Field("", pattern=r"^[A-Za-z0-9._]{0,30}$")

    @property
    def enabled(self) -> bool:
        return bool(self.access_token and self.app_secret)
