"""The hand-off desk of a running bot, from ``handoff:`` in config.yaml."""

from __future__ import annotations

from typing import Any

from bots.flow.engine import Engine
from bots.flow.state import ThreadState
from bots.handoff.desk import HandoffDesk
from bots.handoff.hours import BusinessHours
from bots.handoff.notify import Notifier
from bots.handoff.presence import open_presence
from bots.handoff.settings import HandoffConfig
from bots.live.bus import LiveBus
from bots.store.base import WebhookInbox

# With several workers, a notification another worker queued is left to it this long before this one sweeps it
SHARED_GRACE_SECONDS = 120.0


def build_desk(
    config: HandoffConfig, engine: Engine, store: WebhookInbox, bus: LiveBus | None, *, shared: bool, public_url: str
) -> HandoffDesk:
    def render(key: str, state: ThreadState, values: dict[str, Any]) -> str | None:
        return engine.response(key, state, values) if key in engine.bot.responses else None

    notifier = None
    if config.notify_url:
        notifier = Notifier(
            store,
            config.notify_url,
            config.notify_secret,
            timeout_seconds=config.notify_timeout_seconds,
            foreign_grace_seconds=SHARED_GRACE_SECONDS if shared else 0.0,
        )
    return HandoffDesk(BusinessHours(config.hours), open_presence(bus), render, notifier, public_url)
