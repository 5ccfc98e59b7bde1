"""The shared vocabulary of Threadline.

Every layer (connectors, NLU, engine, store, renderers) speaks in these frozen
dataclasses, so that no layer needs to import another one to know what a
message looks like. Keep this module free of imports from the rest of the
project.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

JSON = Any


# --------------------------------------------------------------------------- identity


@dataclass(frozen=True)
class Identity:
    """Who is talking, as a channel knows them (a REST sender, a PSID, a web visitor id).

    Several identities may point to one thread: that is how one conversation
    continues across channels.
    """

    channel: str
    user_id: str


# A link token (bots.linking.tokens) starts with this, so a channel can tell one from another ``ref``.
LINK_TOKEN_PREFIX = "tl1="  # tells a link token from any other ref a Page uses (ads, campaigns)


def is_link_token(value: str | None) -> bool:
    return bool(value) and str(value).startswith(LINK_TOKEN_PREFIX)


def is_text(value: str) -> bool:
    """Valid Unicode text: JSON allows lone surrogates (\\ud800), which no store or channel can carry."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_ESCAPED_SURROGATE_BYTES = re.compile(_ESCAPED_SURROGATE.pattern.encode())


def secrets_match(given: str, expected: str) -> bool:
    """A token or signature as a request gives it equals ours, in constant time. A header's undecodable
    bytes (kept as surrogates) or any other odd character simply do not match, never raise."""
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape"))


def is_json_text(value: Any) -> bool:
    """Whether every string in a decoded JSON value is valid Unicode text (no lone surrogate anywhere)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def loads_text(raw: bytes | str) -> Any:
    """JSON that is valid Unicode text. JSON lets a request write a lone surrogate (``\\ud800``), which no
    store or channel can carry: refused here (ValueError, a 4xx for the caller) instead of failing later.
    Only a body that has such an escape at all is checked in full, so ordinary requests cost one search."""
    value = json.loads(raw)
    escape = _ESCAPED_SURROGATE_BYTES.search(raw) if isinstance(raw, bytes) else _ESCAPED_SURROGATE.search(raw)
    if escape and not is_json_text(value):
        raise ValueError("the request holds text that is not valid Unicode (a lone surrogate)")
    return value


# dates and dataclasses go to ``default`` (as json's did); keys that are numbers, True or None become strings
_DUMPS_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS


def dumps_text(value: Any, default: Callable[[Any], Any] | None = None) -> str:
    """JSON text as ``json.dumps(value, ensure_ascii=False, default=default)`` writes it, read back as the same
    values, several times faster (orjson); NaN and Infinity come out as null, which JSON has instead. What orjson
    cannot write (integers beyond 64 bits, lone surrogates, a cycle) goes through json, or fails as it did."""
    try:
        return orjson.dumps(value, default=default, option=_DUMPS_OPTIONS).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, default=default)


def short_locale(locale: str | None) -> str | None:
    """The language part of a locale: ``pt-PT``, ``pt_BR`` or ``PT`` -> ``pt``."""
    if not locale:
        return None
    return re.split(r"[-_]", locale.strip())[0].lower() or None


# --------------------------------------------------------------------------- inbound


InboundKind = Literal["message", "event"]


@dataclass(frozen=True)
class Inbound:
    """One thing a customer did, already freed of its channel's wire format.

    ``kind == "message"``: the customer typed ``text`` or pressed a button whose
    payload is ``text`` (payloads start with ``/``). ``kind == "event"``: a
    channel or site event such as ``conversation_start``, ``referral`` (data
    ``{"ref": ...}``) or ``product_viewed`` (data ``{"sku": ...}``).
    """

    identity: Identity
    kind: InboundKind
    text: str = ""
    event: str = ""
    data: dict[str, JSON] = field(default_factory=dict)
    message_id: str | None = None
    language_hint: str | None = None
    metadata: dict[str, JSON] = field(default_factory=dict)
    timestamp: float = 0.0

    @property
    def channel(self) -> str:
        return self.identity.channel


# --------------------------------------------------------------------------- NLU


@dataclass(frozen=True)
class Entity:
    entity: str
    value: JSON
    start: int | None = None
    end: int | None = None
    extractor: str = ""
    role: str | None = None  # Rasa's entity roles and groups, for slot mappings that ask for them
    group: str | None = None
    additional_info: JSON = None  # Duckling's details (grain, unit) on an entity in Duckling's shape


@dataclass(frozen=True)
class IntentScore:
    name: str
    confidence: float


@dataclass(frozen=True)
class Payload:
    """A button's payload, ``/name`` or ``/name{"entity": "value"}`` (Rasa's form); :mod:`bots.payload` reads it.

    ``name`` keeps its slash (``/buy``), as flows list the payloads they start
    on; ``text`` is the whole payload as it came, without surrounding spaces.
    """

    name: str
    entities: dict[str, JSON] = field(default_factory=dict)
    text: str = ""


# The NLU's class for messages about other topics, and the intent name Rasa projects give their own examples of them
OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True)
class NLUResult:
    """What the engine needs to know about a text: the seam every interpreter fills.

    ``intent`` is ``None`` when nothing scored above the bot's threshold
    (Rasa reports this as ``nlu_fallback``); ``ranking`` keeps the best
    candidates anyway, for logs and custom actions. ``payload`` is the
    button payload the text is, when the pipeline read it as one: read once
    per turn, the engine takes it from here.
    """

    text: str
    language: str
    language_confidence: float
    intent: str | None
    confidence: float
    ranking: tuple[IntentScore, ...] = ()
    entities: tuple[Entity, ...] = ()
    payload: Payload | None = None

    def as_parse_data(self) -> dict[str, JSON]:
        """Rasa's ``parse_data`` shape, plus the detected language."""
        return {
            "text": self.text,
            "intent": {"name": self.intent or "nlu_fallback", "confidence": self.confidence},
            "intent_ranking": [{"name": s.name, "confidence": s.confidence} for s in self.ranking],
            "entities": [{k: v for k, v in vars(e).items() if v is not None and v != ""} for e in self.entities],
            "language": {"code": self.language, "confidence": self.language_confidence},
        }


# --------------------------------------------------------------------------- outbound


ButtonKind = Literal["postback", "url", "phone", "continue"]


@dataclass(frozen=True)
class Button:
    """A button on a text, media or card. ``value`` is the payload, URL or phone number.

    A ``continue`` button's value is a channel (``messenger`` or ``web``): the
    connector turns it into a link to the same thread on that channel when it
    sends it, so the log never holds a link token.
    """

    title: str
    kind: ButtonKind
    value: str


@dataclass(frozen=True)
class QuickReply:
    """A suggestion chip shown under the last message; it disappears once used."""

    title: str
    payload: str


@dataclass(frozen=True)
class Card:
    title: str
    subtitle: str = ""
    image_url: str = ""
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class Text:
    """A text. ``rasa``: see :class:`Media`."""

    text: str
    buttons: tuple[Button, ...] = ()
    quick_replies: tuple[QuickReply, ...] = ()
    type: Literal["text"] = "text"
    rasa: JSON = None


MediaKind = Literal["image", "video", "gif"]


@dataclass(frozen=True)
class Media:
    """An image, video or GIF, optionally with call-to-action buttons and a caption.

    ``rasa`` is, for a message made from a custom action's response, the items Rasa's REST
    channel sends for that response (computed from the response as the action gave it, so a
    PDF attachment, a list payload or a button's extra keys stay as they were); the response's
    first message carries them all, its others ``[]``. None for Threadline's own messages.
    Channels that speak Rasa's shape (REST) send these; the others show the message itself.
    """

    media: MediaKind
    url: str
    caption: str = ""
    buttons: tuple[Button, ...] = ()
    quick_replies: tuple[QuickReply, ...] = ()
    type: Literal["media"] = "media"
    rasa: JSON = None


@dataclass(frozen=True)
class Carousel:
    """Cards side by side. ``rasa``: see :class:`Media`."""

    cards: tuple[Card, ...]
    quick_replies: tuple[QuickReply, ...] = ()
    type: Literal["carousel"] = "carousel"
    rasa: JSON = None


@dataclass(frozen=True)
class Typing:
    seconds: float = 1.0
    type: Literal["typing"] = "typing"


@dataclass(frozen=True)
class Custom:
    """Channel-specific JSON passed through untouched (Rasa's ``custom``: an object, a list, any JSON).

    ``rasa``: see :class:`Media`.
    """

    data: JSON
    type: Literal["custom"] = "custom"
    rasa: JSON = None


Outbound = Text | Media | Carousel | Typing | Custom


def _buttons(buttons: tuple[Button, ...]) -> list[dict[str, str]]:
    return [{"title": b.title, "kind": b.kind, "value": b.value} for b in buttons]


def _quick_replies(replies: tuple[QuickReply, ...]) -> list[dict[str, str]]:
    return [{"title": q.title, "payload": q.payload} for q in replies]


def outbound_to_json(message: Outbound) -> dict[str, JSON]:
    """A message as plain JSON for the thread log (hand-written: ``asdict`` is slow on the hot path)."""
    if isinstance(message, Text):
        return _with_rasa(
            {
                "type": "text",
                "text": message.text,
                "buttons": _buttons(message.buttons),
                "quick_replies": _quick_replies(message.quick_replies),
            },
            message.rasa,
        )
    if isinstance(message, Media):
        return _with_rasa(
            {
                "type": "media",
                "media": message.media,
                "url": message.url,
                "caption": message.caption,
                "buttons": _buttons(message.buttons),
                "quick_replies": _quick_replies(message.quick_replies),
            },
            message.rasa,
        )
    if isinstance(message, Carousel):
        return _with_rasa(
            {
                "type": "carousel",
                "quick_replies": _quick_replies(message.quick_replies),
                "cards": [
                    {"title": c.title, "subtitle": c.subtitle, "image_url": c.image_url, "buttons": _buttons(c.buttons)}
                    for c in message.cards
                ],
            },
            message.rasa,
        )
    if isinstance(message, Typing):
        return {"type": "typing", "seconds": message.seconds}
    return _with_rasa({"type": "custom", "data": message.data}, message.rasa)


def _with_rasa(data: dict[str, JSON], rasa: JSON) -> dict[str, JSON]:
    return data if rasa is None else {**data, "rasa": rasa}


# --------------------------------------------------------------------------- thread events


# The kinds of events that come from outside and start a turn; their message ids are unique per thread.
INBOUND_KINDS = ("user", "site_event", "receipt", "agent", "handover")


@dataclass(frozen=True)
class ThreadEvent:
    """One entry of a thread's append-only log.

    ``kind`` is one of: ``user`` (an inbound message with its NLU result),
    ``site_event`` (an inbound channel/site event), ``bot`` (an outbound
    message), ``slot``, ``flow`` (started/ended/interrupted/resumed/cancelled),
    ``action``, ``handoff``, ``opt_out``, ``language``, ``error``.
    """

    kind: str
    data: dict[str, JSON]
    timestamp: float
    channel: str = ""
    message_id: str | None = None


# The kinds of events that come from outside (their ids are unique per thread) and start a turn.
INBOUND_KINDS = ("user", "site_event", "receipt", "agent", "handover")
# A channel's word that a turn's replies went out (or never will): a redelivery does not send them again.
SETTLED_KINDS = ("delivered", "delivery_failed")


@dataclass(frozen=True)
class StoredEvent:
    """An event of a thread's log with its place in it (``seq`` counts from 1)."""

    thread_id: str
    seq: int
    event: ThreadEvent

    def to_json(self) -> dict[str, Any]:
        """As the admin API and the agent inbox show it."""
        e = self.event
        return {"seq": self.seq, "kind": e.kind, "timestamp": e.timestamp, "channel": e.channel, "data": e.data}


@dataclass(frozen=True)
class InboxItem:
    """A webhook item kept in a channel's durable inbox: stored before the 200, processed afterwards.

    The store keeps ``payload`` as text and never reads it. ``person`` is the identity the item concerns,
    so forgetting that person's thread deletes their unprocessed items too; None when it concerns nobody.
    """

    key: str  # stored once per channel: a redelivery with a key seen before is not stored again
    payload: str
    person: Identity | None = None


@dataclass(frozen=True)
class TurnOutcome:
    """What one turn did. ``committed`` are the events it appended, with their sequence numbers."""

    thread_id: str
    outbound: list[Outbound]
    duplicate: bool = False
    language: str | None = None
    committed: tuple[StoredEvent, ...] = ()
    message_tag: str | None = None  # the tag the flow that spoke declared, for sends outside a channel's window
    channel: str = ""  # the identity channel the turn happened on ("" for a turn nobody started: a reminder)
    # the turn made its thread (a new customer's first message): no chat window or agent can show it yet
    made_thread: bool = False


def outbound_from_json(data: dict[str, JSON]) -> Outbound:
    """The inverse of :func:`outbound_to_json`: a logged message, ready to be sent again."""

    def buttons(items: list[dict[str, str]]) -> tuple[Button, ...]:
        return tuple(Button(b["title"], b["kind"], b["value"]) for b in items)  # type: ignore[arg-type]

    def replies(items: list[dict[str, str]]) -> tuple[QuickReply, ...]:
        return tuple(QuickReply(q["title"], q["payload"]) for q in items)

    kind = data.get("type")
    if kind == "text":
        return Text(
            data["text"],
            buttons(data.get("buttons", [])),
            replies(data.get("quick_replies", [])),
            rasa=data.get("rasa"),
        )
    if kind == "media":
        return Media(
            data["media"],
            data["url"],
            data.get("caption", ""),
            buttons(data.get("buttons", [])),
            replies(data.get("quick_replies", [])),
            rasa=data.get("rasa"),
        )
    if kind == "carousel":
        cards = tuple(
            Card(c["title"], c.get("subtitle", ""), c.get("image_url", ""), buttons(c.get("buttons", [])))
            for c in data.get("cards", [])
        )
        return Carousel(cards, replies(data.get("quick_replies", [])), rasa=data.get("rasa"))
    if kind == "typing":
        return Typing(float(data.get("seconds", 1.0)))
    raw = data.get("data")
    return Custom(raw if raw is not None else {}, rasa=data.get("rasa"))


# Called with the thread's lock still held, so replies of one thread reach every channel in order.
# It may return events about the delivery (a failed send, a refusal), which are added to the thread.
Deliver = Callable[[TurnOutcome], Awaitable["list[ThreadEvent] | None"]]
