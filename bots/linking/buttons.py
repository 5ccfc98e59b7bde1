"""``continue`` buttons become real links when they are sent, never earlier.

A link token is short-lived and single-use: minting it when the flow runs
would put a credential in the thread log and let it expire in a history
view. Connectors call :func:`resolve_continue_buttons` just before
rendering, with a function that makes the URL for a channel (or None when
that channel cannot be linked to from here: then the button is left out).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bots.types import Button, Carousel, Media, Outbound, Text

LINK_PARAMETER = "tl_link"  # the query parameter the widget reads a Messenger -> web token from


def site_link(site_url: str, token: str) -> str:
    """``site_url`` with the token added to its query (keeping any query it had)."""
    parts = urlsplit(site_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != LINK_PARAMETER]
    query.append((LINK_PARAMETER, token))
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(query), parts.fragment))


def messenger_link(page: str, token: str) -> str:
    return f"https://m.me/{page}?ref={token}"


def _buttons(buttons: tuple[Button, ...], url_for: Callable[[str], str | None]) -> tuple[Button, ...]:
    if not any(b.kind == "continue" for b in buttons):
        return buttons
    result = []
    for button in buttons:
        if button.kind != "continue":
            result.append(button)
            continue
        url = url_for(button.value)
        if url is not None:
            result.append(Button(button.title, "url", url))
    return tuple(result)


def resolve_continue_buttons(messages: list[Outbound], url_for: Callable[[str], str | None]) -> list[Outbound]:
    resolved: list[Outbound] = []
    for message in messages:
        if isinstance(message, (Text, Media)):
            message = dataclasses.replace(message, buttons=_buttons(message.buttons, url_for))
        elif isinstance(message, Carousel):
            message = dataclasses.replace(
                message,
                cards=tuple(
                    dataclasses.replace(card, buttons=_buttons(card.buttons, url_for)) for card in message.cards
                ),
            )
        resolved.append(message)
    return resolved
