"""``handoff:`` in config.yaml: the outgoing webhook and the business hours, validated up front."""

from __future__ import annotations

import re
from datetime import date, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_span(text: str) -> tuple[time, time]:
    """``"09:00-18:00"`` as (start, end); ``24:00`` may end a span (until midnight)."""
    match = _SPAN.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a span like '09:00-18:00'")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
        raise ValueError(f"{text!r}: hours go from 00:00 to 24:00")
    start, end = time(h1, m1), time.max if h2 == 24 else time(h2, m2)
    if end <= start:
        raise ValueError(f"{text!r}: the span ends before it starts (split a night shift over two days)")
    return start, end


class HoursConfig(_Strict):
    """When people answer: spans per weekday in one time zone, and closed dates. Empty ``weekly``: always open."""

    timezone: str = "UTC"
    # e.g. {mon: ["09:00-12:00", "13:00-18:00"], sat: ["10:00-14:00"]}; a day not listed is closed
    weekly: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    holidays: tuple[date, ...] = ()  # closed all day, e.g. 2026-12-25

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Berlin") from None
        return value

    @field_validator("weekly")
    @classmethod
    def _weekly(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for day, spans in value.items():
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r}; use {', '.join(WEEKDAYS)}")
            for span in spans:
                parse_span(span)
        return value


class HandoffConfig(_Strict):
    """Notifications and hours around the hand-off queue (docs/inbox.md, "Notifications, hours and figures")."""

    notify_url: str = ""  # empty: no webhook
    notify_secret: str = ""  # signs the webhook's body (HMAC-SHA256); required with notify_url
    notify_timeout_seconds: float = Field(10.0, gt=0, le=120)
    hours: HoursConfig = HoursConfig()
    # Replies an agent picks in the inbox, per language of the conversation: {en: ["..."], de: ["..."]}
    canned_replies: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @field_validator("canned_replies")
    @classmethod
    def _canned(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for language, replies in value.items():
            for reply in replies:
                if not reply.strip() or len(reply) > 4000:
                    raise ValueError(f"{language}: a canned reply is 1 to 4000 characters, as a reply an agent sends")
        return value

    @field_validator("notify_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def _secret(self) -> HandoffConfig:
        if self.notify_url and len(self.notify_secret) < 16:
            raise ValueError("notify_secret: set a secret of at least 16 characters to sign the webhook")
        return self
