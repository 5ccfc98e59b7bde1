"""What an Instagram event means for the thread: the inbounds to run, in order. Pure, no I/O.

Texts, quick replies (their payload), postbacks (their payload) and media
are messages; everything else is an event flows can trigger on:
``story_mention`` (data ``url``), ``story_reply`` (data ``story`` and
``text``), ``reaction`` (``mid``, ``action``, ``reaction``, ``emoji``),
``referral`` (``ref``, ``source``, ``type``, ad data), ``message_deleted``,
``message_read``, ``optin``, ``handover``, and ``agent_message`` for what a
person typed in the Instagram inbox. Each inbound carries the item's key as
its message id, so a redelivered item is taken once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bots.types import Identity, Inbound
from connectors.instagram.parse import InstagramEvent
from connectors.meta.payload import obj

CHANNEL = "instagram"
INBOX_AGENT = "instagram_inbox"  # who wrote an echo that is not ours


@dataclass(frozen=True)
class Step:
    """One inbound to run; ``unless_answered``: skipped when an earlier step of the same item got an answer."""

    inbound: Inbound
    unless_answered: bool = False


def identity_of(event: InstagramEvent) -> Identity | None:
    return Identity(CHANNEL, event.igsid) if event.igsid else None


def agent_message(event: InstagramEvent, identity: Identity) -> Inbound:
    """An echo that is not ours: a person answered from the Instagram inbox (the bot should know)."""
    message = event.message
    data: dict[str, Any] = {"text": message.get("text", ""), "by": INBOX_AGENT}
    if isinstance(message.get("attachments"), list):
        data["attachments"] = message["attachments"]
    return Inbound(
        identity,
        "event",
        event="agent_message",
        data=data,
        message_id=f"ig:{event.key}",
        metadata=_metadata(event),
        timestamp=event.timestamp,
    )


def _metadata(event: InstagramEvent) -> dict[str, Any]:
    metadata: dict[str, Any] = {"mid": event.mid, "account_id": event.account_id}
    if event.standby:
        metadata["standby"] = True
        metadata["observe_only"] = True  # another app owns the conversation: watch, never answer
    return metadata


def steps(event: InstagramEvent, identity: Identity) -> list[Step]:
    """The inbounds of one event (echoes are the caller's: only it knows which are ours)."""
    message_id = f"ig:{event.key}"
    metadata = _metadata(event)

    def event_step(name: str, data: dict[str, Any], suffix: str = "", **options: Any) -> Step:
        return Step(
            Inbound(
                identity,
                "event",
                event=name,
                data=data,
                message_id=message_id + suffix,
                metadata=metadata,
                timestamp=event.timestamp,
            ),
            **options,
        )

    def message_step(text: str, extra: dict[str, Any] | None = None, **options: Any) -> Step:
        return Step(
            Inbound(
                identity,
                "message",
                text=text,
                message_id=message_id,
                timestamp=event.timestamp,
                metadata={**metadata, **(extra or {})},
            ),
            **options,
        )

    body, message = event.body, event.message
    result: list[Step] = []
    referral = message.get("referral") if event.kind != "postback" else body["postback"].get("referral")
    if isinstance(referral, dict):  # an ad, a product, or an ig.me link through an ice breaker: first
        result.append(event_step("referral", dict(referral), ":referral"))
    kind = event.kind
    if kind == "quick_reply":
        payload = message["quick_reply"].get("payload")
        result.append(message_step(str(payload or message.get("text", "")), {"display": message.get("text")}))
    elif kind == "text":
        story = obj(message.get("reply_to")).get("story")
        if isinstance(story, dict):
            # A reply to the account's story: flows about the story answer it; if none does, the text is a message.
            result.append(event_step("story_reply", {"story": story, "text": message["text"]}, ":story"))
            result.append(message_step(message["text"], {"reply_to": message["reply_to"]}, unless_answered=True))
        else:
            extra = {"reply_to": message["reply_to"]} if message.get("reply_to") else None
            result.append(message_step(message["text"], extra))
    elif kind == "attachments":
        attachments = [a for a in message["attachments"] if isinstance(a, dict)]
        mentions = [a for a in attachments if a.get("type") == "story_mention"]
        if mentions:
            url = obj(mentions[0].get("payload")).get("url", "")
            result.append(event_step("story_mention", {"url": url, "mid": event.mid}))
        else:
            # a photo, voice message, shared post or reel: recorded, and the fallback says what the bot can do
            result.append(message_step("", {"attachments": attachments}))
    elif kind == "unsupported":
        result.append(message_step("", {"unsupported": True}))
    elif kind == "postback":
        postback = body["postback"]
        if postback.get("payload"):
            result.append(message_step(str(postback["payload"]), {"display": postback.get("title")}))
    elif kind == "deleted":
        result.append(event_step("message_deleted", {"mid": event.mid}))
    elif kind in ("referral", "reaction", "optin"):
        result.append(event_step(kind, dict(body[kind])))
    elif kind == "read":
        result.append(event_step("message_read", dict(body["read"])))
    elif kind == "handover":
        handover = _handover(body)
        if handover is not None:
            result.append(event_step("handover", handover))
    return result


def _handover(body: dict[str, Any]) -> dict[str, Any] | None:
    for key, action in (
        ("take_thread_control", "taken"),
        ("pass_thread_control", "passed"),
        ("request_thread_control", "requested"),
    ):
        if key in body:
            return {"action": action, **(body[key] or {})}
    return None  # app_roles: about the app, not a conversation
