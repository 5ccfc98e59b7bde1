"""Which postback is the Page's Get Started tap, whatever payload the button carries.

Messenger sends the Get Started tap as an ordinary postback with the button's payload, and the Page's
payload is whatever someone set (``GET_STARTED``, ``start``, ``__GET_STARTED__``). Read as something the
customer typed, it would answer a question left open on the website ("that doesn't look like an order
number") and show "Get Started" in the history. So a postback is the Get Started, a conversation start,
when:

1. its payload is ``connectors.messenger.get_started_payload`` (what ``threadline messenger setup`` sets)
   or the one the Page's profile has (read when the channel starts); or
2. it carries a ``referral`` (Meta adds one only to a Get Started tap that came through an m.me link, an ad
   or a plugin), or it is the first event of a person who has no thread yet, and its payload is not one of
   the bot's button payloads naming an intent (``/order_status``): such a payload is an ice breaker or a
   menu item, and stays a message.
"""

from __future__ import annotations

import logging
from typing import Any

from bots.payload import parse_payload
from bots.types import Identity
from connectors.base import ThreadAccess

log = logging.getLogger(__name__)


class GetStarted:
    """The payloads known to be the Page's Get Started, and the rule for the others."""

    def __init__(self, configured: str) -> None:
        self.payloads = {configured}

    def learn(self, page_payload: str | None) -> None:
        """The payload the Page's profile has (set by hand or by another tool), when Graph told it."""
        if page_payload and page_payload not in self.payloads:
            log.info("Messenger: the Page's Get Started payload %r is recognised too", page_payload)
            self.payloads.add(page_payload)

    async def recognises(
        self, postback: dict[str, Any], identity: Identity, threads: ThreadAccess, language_hint: str | None
    ) -> bool:
        payload = str(postback.get("payload") or "")
        if payload in self.payloads:
            return True
        if not isinstance(postback.get("referral"), dict) and await threads.find(identity) is not None:
            return False  # a person who already chats here tapped a menu item or a button
        if parse_payload(payload) is None:
            return True  # not a payload of the bot's grammar: it starts no flow
        meaning = await threads.understand(payload, identity, language_hint)
        return meaning.intent is None
