"""Custom actions written with rasa-sdk, run in process or on a rasa-sdk action server.

A flow step ``- action: lookup_order`` pauses the engine; the pipeline hands
an :class:`ActionCall` to the :class:`ActionRunner`, which builds Rasa's
action request (tracker, domain), sends it to the configured server, and
translates the answer into engine effects. Whatever goes wrong (a timeout,
an exception in the action, a server that is down, a malformed answer)
becomes a failed :class:`~bots.flow.engine.ActionOutcome`: the flow takes its
error path and the customer gets a polite message, never silence.
"""

from __future__ import annotations

import asyncio
import logging
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Protocol

from bots.actions.in_process import ActionNotFound, ActionRejected, InProcessActionServer
from bots.actions.remote import ActionServerError, RemoteActionServer
from bots.actions.tracker import ActionCall, Domain, tracker_of
from bots.actions.translate import MalformedResult, outcome_of
from bots.flow.engine import ActionOutcome
from bots.flow.model import Bot

__all__ = ["ActionCall", "ActionRunner", "ActionServer", "open_action_server"]
log = logging.getLogger(__name__)

try:
    RASA_SDK_VERSION = version("rasa-sdk")  # the SDK checks major.minor against the version we send
except PackageNotFoundError:  # pragma: no cover - rasa-sdk is a core dependency
    RASA_SDK_VERSION = "3.21.0"


class ActionServer(Protocol):
    @property
    def where(self) -> str: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def names(self) -> list[str]: ...

    def known_names(self) -> list[str] | None: ...

    async def call(self, request: dict[str, Any], *, domain: dict[str, Any], digest: str) -> dict[str, Any]: ...


def open_action_server(
    mode: str, bot_dir: Path, *, package: str, url: str, timeout_seconds: float, compress: bool = False
) -> ActionServer:
    if mode == "remote":
        return RemoteActionServer(url, timeout_seconds=timeout_seconds, compress=compress)
    return InProcessActionServer(bot_dir, package)


class ActionRunner:
    """Runs one action call with a timeout and turns every failure into an outcome."""

    def __init__(self, server: ActionServer, bot: Bot, *, timeout_seconds: float) -> None:
        self.server = server
        self.bot = bot
        self.domain = Domain(bot)
        self.timeout_seconds = timeout_seconds

    async def run(self, call: ActionCall) -> ActionOutcome:
        request = {
            "next_action": call.name,
            "sender_id": call.thread_id,
            "tracker": tracker_of(call, self.bot),
            "version": RASA_SDK_VERSION,
        }
        try:
            result = await asyncio.wait_for(
                self.server.call(request, domain=self.domain.as_dict, digest=self.domain.digest), self.timeout_seconds
            )
            return outcome_of(call.name, result)
        except ActionNotFound as exc:
            if call.name.startswith("validate_"):  # form validation is optional: no validator, nothing to check
                return ActionOutcome(ok=True)
            error = str(exc)
            log.error("action %s on thread %s: %s", call.name, call.thread_id, error)
        except TimeoutError:
            error = f"timed out after {self.timeout_seconds:g}s"
            log.error("action %s on thread %s: %s", call.name, call.thread_id, error)
        except (ActionRejected, ActionServerError, MalformedResult) as exc:
            error = str(exc)
            log.error("action %s on thread %s: %s", call.name, call.thread_id, error)
        except Exception as exc:  # the business's code may fail in any way; the customer must not notice
            error = f"{type(exc).__name__}: {exc}"
            log.exception("action %s failed on thread %s", call.name, call.thread_id)
        return ActionOutcome(ok=False, error=error)
