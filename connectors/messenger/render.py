"""Channel-neutral messages -> Send API message bodies, within Messenger's limits.

Messenger limits: text 2000 characters; button template text 640 and 1-3
buttons; button and quick-reply titles 20 characters; 13 quick replies; a
generic template (carousel) 10 elements of 80-character title and subtitle
with 3 buttons each. A flow may ask for more; nothing is ever dropped (see
connectors/meta/render.py, shared with Instagram). Each change is reported in
``Rendered.adjustments``, and the same checks run at ``threadline validate``
time (:func:`bots.cli.channel_limits.check_limits`; a channel does not read flows).
"""

from __future__ import annotations

from bots.types import Outbound
from connectors.meta.render import Rendered, SendLimits, SendRenderer, shorten, split_text

__all__ = ["LIMITS", "Rendered", "render", "render_all", "shorten", "split_text"]

TEXT_LIMIT = 2000
BUTTON_TEXT_LIMIT = 640
TITLE_LIMIT = 20
CARD_TEXT_LIMIT = 80
MAX_BUTTONS = 3
MAX_QUICK_REPLIES = 13
MAX_CARDS = 10
PAYLOAD_LIMIT = 1000
LIMITS = SendLimits(
    "Messenger",
    TEXT_LIMIT,
    button_text=BUTTON_TEXT_LIMIT,
    title=TITLE_LIMIT,
    card_text=CARD_TEXT_LIMIT,
    buttons=MAX_BUTTONS,
    quick_replies=MAX_QUICK_REPLIES,
    cards=MAX_CARDS,
    payload=PAYLOAD_LIMIT,
)
_RENDERER = SendRenderer(LIMITS)


def render(message: Outbound) -> Rendered:
    return _RENDERER.render_all([message])


def render_all(messages: list[Outbound]) -> Rendered:
    return _RENDERER.render_all(messages)
