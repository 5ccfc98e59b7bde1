"""The channel seam: what a channel provides, and the one narrow interface it may call.

A channel translates its payloads into :class:`~bots.types.Inbound`, hands them
to :class:`ThreadAccess`, and renders what the bot says within its limits. It
never touches the store or a lock: the thread unit of work (``bots/threads.py``)
does, and calls back into the channel to deliver. Connectors import only this
module and ``bots/types.py``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

from aiohttp import web
from pydantic import BaseModel

from bots.types import (
    Deliver,
    Identity,
    Inbound,
    InboxItem,
    NLUResult,
    Outbound,
    StoredEvent,
    ThreadEvent,
    TurnOutcome,
)


@dataclass(frozen=True)
class RenderLimits:
    """What a channel can show in one message; ``threadline validate`` warns where a flow asks for more.

    None means "no limit". Nothing is ever dropped: a channel splits what is over its limits.
    """

    text_chars: int | None = None
    buttons: int | None = None
    quick_replies: int | None = None
    cards: int | None = None
    button_title_chars: int | None = None
    quick_reply_title_chars: int | None = None
    card_title_chars: int | None = None
    payload_chars: int | None = None


@dataclass(frozen=True)
class ThreadView:
    """A thread as a channel may see it when reaching it outside a turn: read-only."""

    thread_id: str
    state: dict[str, Any]
    identities: tuple[Identity, ...]

    def last_inbound_on(self, identity_channels: tuple[str, ...]) -> float | None:
        """When the customer last did something on any of these identity channels."""
        seen = self.state.get("last_inbound_by_channel") or {}
        return max((seen[c] for c in identity_channels if c in seen), default=None)


ReachStatus = Literal["now", "queued", "refused"]


@dataclass(frozen=True)
class Reach:
    """Whether a channel can reach a thread outside a turn right now, and how.

    ``now``: delivered at once (Messenger inside its window, an open chat
    window). ``queued``: kept with the thread and shown when the customer
    comes back (the website's next visit, the REST channel's next request).
    ``refused``: not on this channel, with the reason.
    """

    channel: str
    status: ReachStatus
    reason: str
    detail: dict[str, Any] = field(default_factory=dict)  # e.g. messaging_type and tag


@dataclass(frozen=True)
class Sent:
    """What sending outside a turn did: the events to record with the messages (delivered, failed)."""

    ok: bool
    events: tuple[ThreadEvent, ...] = ()
    reason: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class History:
    """A thread's log as a chat window loads it."""

    thread_id: str
    version: int
    state: dict[str, Any]
    events: tuple[StoredEvent, ...]


@dataclass(frozen=True)
class LinkRedeemed:
    """What following a link from another channel did. ``status``: linked, confirm or refused."""

    status: Literal["linked", "confirm", "refused"]
    thread_id: str | None = None
    merged: bool = False
    again: bool = False
    reason: str = ""
    detail: str = ""


class ThreadAccess(Protocol):
    """The one interface a channel may call (implemented by ``bots.threads.Threads``)."""

    async def turn(self, inbound: Inbound, deliver: Deliver | None = None) -> TurnOutcome:
        """Run a turn with the thread's lock held from load to ``deliver``; a redelivery answers the earlier
        turn's replies again (``duplicate``), delivering them if they were never confirmed sent."""

    async def understand(self, text: str, identity: Identity | None, language_hint: str | None) -> NLUResult:
        """What a message would mean in that identity's thread, without running a turn (``/model/parse``)."""

    async def find(self, identity: Identity) -> str | None: ...

    async def is_handed_off(self, identity: Identity) -> bool:
        """Whether a person holds this identity's thread (a channel then shows no bot typing)."""

    async def open_thread(self, identity: Identity, *, signed_in: Identity | None = None) -> str:
        """The thread a chat window shows: the signed-in customer's own, bringing a first-time signer's
        anonymous chat along (see docs/linking.md), else the identity's (created when new)."""

    async def join(self, identity: Identity, prior: Identity) -> bool:
        """Put ``identity`` on ``prior``'s thread when it has none yet (a checkbox opt-in's first message)."""

    async def redeem_link(self, token: str, identity: Identity, *, to: str, confirmed: bool) -> LinkRedeemed: ...

    def hold_link(self, identity: Identity, token: str, to: str) -> None:
        """Keep a link that needs the customer's confirmation until they answer."""

    def take_link(self, identity: Identity) -> tuple[str, str] | None: ...

    def resolve_links(self, thread_id: str, messages: list[Outbound], here: str) -> list[Outbound]:
        """``continue`` buttons as fresh links for sending on channel ``here`` (one to ``here`` is left out)."""

    def link_offered(self, to: str) -> bool:
        """Whether "continue on ``to``" links can be made at all (the Page or the site is configured)."""

    async def link_url(self, identity: Identity, to: str) -> str | None:
        """A fresh single-use link continuing the identity's thread on channel ``to``; None when unavailable."""

    async def history(
        self, thread_id: str, *, after: int | None = None, limit: int = 200, kinds: tuple[str, ...] = ()
    ) -> History | None:
        """The events after ``after`` in order; without it the last ``limit`` (of ``kinds``, when given)."""

    def inbox(self, channel: str) -> WebhookInbox: ...


class WebhookInbox(Protocol):
    async def enqueue(self, items: list[InboxItem], *, now: float) -> list[int | None]: ...

    async def pending(self, *, limit: int = 1000) -> list[tuple[int, str, Identity | None]]:
        """Items stored and not processed yet, oldest first: (id, payload, person)."""

    async def finish(self, ids: list[int], *, now: float) -> None: ...

    async def sent(self, key: str, turn: str) -> int:
        """How many replies of one turn of the item ``key`` went out before (0 the first time it is processed)."""

    async def mark_sent(self, key: str, turn: str, count: int) -> None:
        """Record, durably, that the first ``count`` replies of that turn went out (right after each one)."""


OnFrame = Callable[[str, dict[str, Any]], Awaitable[None]]


class LiveFrames(Protocol):
    """Frames for open chat windows between the workers of a shared store (``bots.live``)."""

    async def start(self, on_frame: OnFrame) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, thread_id: str, frame: dict[str, Any]) -> None: ...

    async def watch(self, thread_id: str) -> None: ...

    async def unwatch(self, thread_id: str) -> None: ...

    async def tab_opened(self, thread_id: str, tab_id: str) -> None: ...

    async def tab_closed(self, thread_id: str, tab_id: str) -> None: ...

    async def online(self, thread_id: str) -> int: ...


@dataclass(frozen=True)
class BotPresentation:
    """How the bot presents itself to people (its ``settings`` in bot.yml), for the pages a channel serves."""

    name: str = "Threadline"
    title: str = "Chat"  # the chat window's title
    colour: str = "#2f6fed"
    greetings: Mapping[str, str] = field(default_factory=dict)  # language -> what the chat window says first
    languages: tuple[str, ...] = ("en",)
    default_language: str = "en"
    avatar: str | None = None  # a file the server serves under /media/
    demo_shop: bool = False  # the demo bot's own setting: its page at / is the Stride shop
    locales: Mapping[str, str] = field(default_factory=dict)  # language -> Babel locale (settings.locales)

    def locale_for(self, language: str) -> str:
        """The Babel locale the bot writes ``language``'s dates and amounts in."""
        return self.locales.get(language, language)

    def language_for(self, wanted: list[str]) -> str:
        """The first of the visitor's languages the bot speaks, else the bot's default language."""
        return next((language for language in wanted if language in self.languages), self.default_language)


@dataclass(frozen=True)
class ChannelContext:
    """What a channel is built with: the thread access, its own config section, and the server's settings."""

    threads: ThreadAccess
    config: Any  # the channel's own config model (its ChannelSpec.config_model)
    public_url: str
    max_message_chars: int
    data_dir: Path
    live: LiveFrames | None = None  # frames for open chat windows across workers; None with one process
    site_url: str = ""  # the page with the widget that links into the website open (linking.site_url)
    messenger_page: str = ""  # the Page's username that m.me links open (linking.messenger_page)
    bot: BotPresentation = BotPresentation()


class Channel(ABC):
    """One channel: its routes, its payloads, its rendering and its policy for reaching a customer."""

    name: ClassVar[str]
    # Identity.channel values this channel owns (the website has visitors and signed-in customers).
    identity_channels: ClassVar[tuple[str, ...]]
    limits: ClassVar[RenderLimits] = RenderLimits()

    @abstractmethod
    def __init__(self, context: ChannelContext) -> None:
        """Built by the server from the registry, with what the channel may use (its config section included)."""

    @abstractmethod
    def routes(self) -> list[web.RouteDef]: ...

    async def start(self) -> None:  # noqa: B027 (an optional hook: by default nothing to do)
        """Called once the server runs (a webhook channel processes what its inbox still holds)."""

    async def closing(self) -> None:  # noqa: B027 (an optional hook: by default nothing to do)
        """The server begins to stop: close long-lived connections (they reconnect, to another worker)."""

    async def stop(self) -> None:  # noqa: B027 (an optional hook: by default nothing to do)
        """Called when the server has stopped taking requests."""

    async def deliver(self, outcome: TurnOutcome) -> list[ThreadEvent] | None:
        """A committed turn of a thread this channel serves, the thread's lock held.

        Called for turns on this channel without a waiting request (webhooks reply here) and, when
        ``mirrors`` is set, for turns on other channels (open chat windows show them). Returns events about
        the delivery to record (sent, failed).
        """
        return None

    # Shows every turn of its threads, also those on other channels (the website's open chat windows).
    mirrors: ClassVar[bool] = False
    # Cannot push: messages sent outside a turn wait for the customer's next request (the REST channel).
    answers_later: ClassVar[bool] = False

    def continue_url(self, token: str) -> str | None:
        """The URL that continues a thread on this channel with a link token (``continue_in: <channel>``
        buttons and the widget's link frame): the site with ``tl_link``, m.me, ig.me. None when links into this
        channel are not configured; the unit of work asks with an empty token to know whether they are."""
        return None

    async def rewritten(self, thread_id: str) -> None:  # noqa: B027 (an optional hook)
        """The thread's log was rewritten (two threads merged) or deleted: views of it must reload."""

    @abstractmethod
    def reach(
        self, thread: ThreadView, *, now: float, tag: str | None = None, by_person: bool = False, live: bool = False
    ) -> Reach:
        """Can this channel reach the thread outside a turn now? Pure: the routing rule asks every channel."""

    @abstractmethod
    async def send(
        self, thread: ThreadView, messages: list[Outbound], reach: Reach, *, committed: tuple[StoredEvent, ...] = ()
    ) -> Sent:
        """Send outside a turn as ``reach`` allowed (the thread's lock held; the messages are committed)."""

    async def live_windows(self, thread_id: str) -> int:
        """How many open windows show this thread now (only the website has any)."""
        return 0

    async def typing(self, thread_id: str, on: bool) -> int:
        """Show (or stop showing) the customer that a person is typing; how many windows show it (only the
        website's chat windows can)."""
        return 0


@dataclass(frozen=True)
class ChannelSpec:
    """A registry entry: a channel's name, its config section's model, and its class (built with a
    :class:`ChannelContext`; its ``limits`` are what ``threadline validate`` checks flows against)."""

    name: str
    config_model: type[BaseModel]
    channel: type[Channel]
    enabled: Callable[[Any], bool] = lambda config: bool(getattr(config, "enabled", True))
    env: dict[str, str] = field(default_factory=dict)  # config key -> environment variable that wins over it
