"""The website widget's config section (``connectors.web``)."""

from __future__ import annotations

import ipaddress
import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connectors.web.texts import WidgetTexts


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateLimitConfig(_Strict):
    messages: int = Field(20, ge=1)
    per_seconds: float = Field(60.0, gt=0)


class WebConfig(_Strict):
    enabled: bool = True
    # Pages allowed to embed the widget, as origins (https://shop.example). Empty: only this server's own
    # origin (server.public_url). "*" allows any site.
    allowed_origins: tuple[str, ...] = ()
    # HMAC-SHA256 secret for signed customer ids from the business's site; empty: signed identities are off.
    identity_secret: str = ""
    websocket: bool = True
    history_limit: int = Field(200, ge=1, le=5000)
    rate_limit: RateLimitConfig = RateLimitConfig()
    demo_page: bool = True
    # Reverse proxies (addresses or networks) whose X-Forwarded-For / Forwarded headers say who a visitor is,
    # for the per-address rate limit. Empty: the connecting address counts (headers from anyone are ignored).
    trusted_proxies: tuple[str, ...] = ()
    # The widget's own words per language, over its catalogue (connectors/web/widget_texts.json):
    # {de: {placeholder: "Frag uns etwas…"}}.
    widget_texts: WidgetTexts = {}

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for proxy in value:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(f"{proxy!r} is not an address or network like 10.0.0.5 or 10.0.0.0/24") from None
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for origin in value:
            if origin != "*" and not re.match(r"^https?://[^/\s]+$", origin):
                raise ValueError(f"{origin!r} is not an origin like https://shop.example (no path, no trailing /)")
        return value
