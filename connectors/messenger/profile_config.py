"""``connectors.messenger.profile``: what ``threadline messenger setup`` puts in the Page's Messenger profile.

Titles, questions and the greeting name texts of the bot (``menu_track_order``) or give one text per
language (``{en: ..., de: ...}``), so every language the bot speaks gets its own locale on Messenger. The
counts Meta allows are checked here, where a mistake gets its config line; lengths are checked when the
texts are known (``profile.py``).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

GREETING_TEXT = "messenger_greeting"  # the bot's text used as the greeting when the config names none
MAX_MENU_ITEMS = 20  # persistent menu: call_to_actions per locale (Graph API v8.0+, no nested menus)
MAX_ICE_BREAKERS = 4
MAX_PAYLOAD = 1000


def _text(value: Any) -> Any:
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, dict) and value and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return value
    raise ValueError("expected a text key of the bot, or a mapping of language code to text")


TextSpec = Annotated[str | dict[str, str], BeforeValidator(_text)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MenuItem(_Strict):
    """One persistent-menu entry: a postback (a payload, like a flow's button) or a web link."""

    title: TextSpec
    payload: str | None = Field(None, min_length=1, max_length=MAX_PAYLOAD)
    url: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http(s) URL")
        return value

    @model_validator(mode="after")
    def _one_target(self) -> MenuItem:
        if (self.payload is None) == (self.url is None):
            raise ValueError("a menu item needs exactly one of payload or url")
        return self


class IceBreaker(_Strict):
    """A question a new customer can tap; Messenger sends its payload as a postback."""

    question: TextSpec
    payload: str = Field(min_length=1, max_length=MAX_PAYLOAD)


class ProfileConfig(_Strict):
    """The Page's Messenger profile as the bot wants it; a list left empty leaves that part of the Page alone."""

    greeting: TextSpec = GREETING_TEXT
    persistent_menu: list[MenuItem] = Field(default_factory=list, max_length=MAX_MENU_ITEMS)
    composer_input_disabled: bool = False
    ice_breakers: list[IceBreaker] = Field(default_factory=list, max_length=MAX_ICE_BREAKERS)
    whitelisted_domains: list[str] = Field(default_factory=list)  # besides public_url, site_url, allowed_origins

    @field_validator("whitelisted_domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        for domain in value:
            if not re.match(r"^https://[^/\s]+", domain):
                raise ValueError(f"{domain!r}: Messenger whitelists https:// domains only")
        return value
