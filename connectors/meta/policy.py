"""Meta's messaging policy, checked before anything reaches Messenger or Instagram.

Within 24 hours of the person's last interaction the business may send
anything (``RESPONSE``). After that, only with a message tag: ``HUMAN_AGENT``
for a message a person typed, up to 7 days (Meta's "Message Tags" page; the
same on Instagram), or one of the non-promotional tags a flow declares
(``message_tag:``) where the platform has them: Messenger has four, the
Instagram Messaging API none of them ("not available for Instagram
Messaging API"). Anything else is refused here, recorded on the thread, and
reported to the caller, instead of being sent and failing with Graph error
10/2018278 (Messenger) or 10/2534022 (Instagram).
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.base import Reach

WINDOW_SECONDS = 24 * 3600
HUMAN_AGENT_SECONDS = 7 * 24 * 3600
MESSENGER_TAGS = frozenset({"CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "ACCOUNT_UPDATE", "CUSTOMER_FEEDBACK"})


@dataclass(frozen=True)
class Decision:
    allowed: bool
    messaging_type: str = "RESPONSE"
    tag: str | None = None
    reason: str = ""


def decide(
    last_interaction: float | None,
    now: float,
    *,
    tag: str | None = None,
    by_person: bool = False,
    bot_tags: frozenset[str] = MESSENGER_TAGS,
    platform: str = "Messenger",
    business: str = "page",
) -> Decision:
    """May the business message someone whose last interaction was at ``last_interaction``, and how?"""
    if last_interaction is None:
        return Decision(False, reason=f"no_interaction: the person never wrote to the {business}")
    age = now - last_interaction
    if age <= WINDOW_SECONDS:
        return Decision(True, "RESPONSE")
    if by_person:
        if age <= HUMAN_AGENT_SECONDS:
            return Decision(True, "MESSAGE_TAG", "HUMAN_AGENT")
        return Decision(False, reason="outside_human_agent_window: more than 7 days since the person's last message")
    if tag == "HUMAN_AGENT":
        return Decision(False, reason="human_agent_needs_a_person: HUMAN_AGENT is only for messages a person typed")
    if tag in bot_tags:
        return Decision(True, "MESSAGE_TAG", tag)
    if tag:
        return Decision(
            False,
            reason=f"outside_window: more than 24 hours since the person's last message, and "
            f"{platform} has no message tag {tag}",
        )
    return Decision(
        False, reason="outside_window: more than 24 hours since the person's last message and no message tag"
    )


def reach_of(channel: str, platform: str, decision: Decision) -> Reach:
    """A policy decision as the channel seam states it: sent now (with the messaging type and tag), or refused."""
    if not decision.allowed:
        return Reach(channel, "refused", decision.reason)
    why = (
        f"{channel}_window: within 24 hours of their last {platform} message"
        if decision.tag is None
        else f"{channel}_tag: message tag {decision.tag}"
    )
    return Reach(channel, "now", why, {"messaging_type": decision.messaging_type, "tag": decision.tag})
