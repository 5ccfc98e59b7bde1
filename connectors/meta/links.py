"""Following a "continue here" link that reached a Meta channel in a referral's ``ref``.

The website's "Continue in Messenger/Instagram" opens an m.me or ig.me link
whose ``ref`` is a single-use link token. Meta hands the ``ref`` back in a
``referral`` (an existing conversation, or an ice breaker's postback on
Instagram), and the channel redeems it so the customer joins the website's
thread. Flows then get ``thread_linked`` (or ``link_refused`` with the
reason), never a referral carrying the token. A person who already chats
here is asked first (``link_confirm``; the quick replies ``/link_accept``
and ``/link_decline`` answer it).

A ``ref`` that is not a link token at all (a campaign's ``summer_sale``)
stays an ordinary referral. Messenger's checkbox opt-ins carry refs the same way.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from bots.types import Inbound, is_link_token
from connectors.base import ThreadAccess

LINK_ACCEPT, LINK_DECLINE = "/link_accept", "/link_decline"  # the answers to "join the chat from the website?"


def _as_event(inbound: Inbound, event: str, data: dict[str, Any]) -> Inbound:
    return dataclasses.replace(inbound, kind="event", text="", event=event, data=data)


async def follow_link(threads: ThreadAccess, inbound: Inbound, *, to: str) -> Inbound:
    """The inbound as flows should see it once any link it carries (or answers about) is followed."""
    identity = inbound.identity
    answer = inbound.text.strip() if inbound.kind == "message" else ""
    if answer in (LINK_ACCEPT, LINK_DECLINE):
        held = threads.take_link(identity)
        if answer == LINK_DECLINE:
            return inbound  # the flows say that this chat goes on as it was
        if held is None:
            return _as_event(inbound, "link_refused", {"reason": "expired", "from": "web"})
        return await _redeem(threads, inbound, held[0], to=to, confirmed=True, context={})
    ref = inbound.data.get("ref") if inbound.event in ("referral", "optin") else None
    if not is_link_token(ref):
        return inbound
    context: dict[str, Any] = {k: inbound.data[k] for k in ("source", "type", "referer_uri") if k in inbound.data}
    return await _redeem(threads, inbound, str(ref), to=to, confirmed=False, context=context)


async def _redeem(
    threads: ThreadAccess, inbound: Inbound, token: str, *, to: str, confirmed: bool, context: dict[str, Any]
) -> Inbound:
    result = await threads.redeem_link(token, inbound.identity, to=to, confirmed=confirmed)
    if result.status == "refused":
        return _as_event(inbound, "link_refused", {"reason": result.reason, "from": "web", **context})
    if result.status == "confirm":
        threads.hold_link(inbound.identity, token, to)
        return _as_event(inbound, "link_confirm", {"from": "web", **context})
    return _as_event(
        inbound, "thread_linked", {"from": "web", "merged": result.merged, "again": result.again, **context}
    )
