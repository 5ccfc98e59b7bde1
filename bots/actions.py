"""Custom actions: the seam between flows and the business's own Python code.

A flow step ``- action: lookup_order`` pauses the engine; the pipeline calls
the action through an :class:`ActionRunner` and hands the outcome back. This
module provides the in-process runner for plain async functions registered on
an :class:`ActionRegistry` in the bot folder's ``actions.py``. Other runners
(rasa-sdk in process, a remote action server) implement the same protocol.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Protocol

from bots.errors import UserError
from bots.flow.engine import ActionOutcome
from bots.types import Outbound

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActionCall:
    """What an action may read about the thread."""

    name: str
    thread_id: str
    language: str
    channel: str
    slots: dict[str, Any]
    latest_message: dict[str, Any] | None
    site_events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ActionResult:
    """What an action returns: slots to set, texts (by response key) and messages to send."""

    slots: dict[str, Any] = field(default_factory=dict)
    responses: list[str] = field(default_factory=list)
    messages: list[Outbound] = field(default_factory=list)


ActionFunction = Callable[[ActionCall], Awaitable[ActionResult]]


class ActionRegistry:
    """The actions one bot defines. One registry per bot, never a process-wide global."""

    def __init__(self) -> None:
        self._actions: dict[str, ActionFunction] = {}

    def register(self, name: str) -> Callable[[ActionFunction], ActionFunction]:
        def decorator(function: ActionFunction) -> ActionFunction:
            if name in self._actions:
                raise ValueError(f"action {name!r} is registered twice")
            if not asyncio.iscoroutinefunction(function):
                raise TypeError(f"action {name!r} must be an async function")
            self._actions[name] = function
            return function
        return decorator

    def names(self) -> list[str]:
        return sorted(self._actions)

    def get(self, name: str) -> ActionFunction | None:
        return self._actions.get(name)


class ActionRunner(Protocol):
    def names(self) -> list[str]: ...

    async def run(self, call: ActionCall) -> ActionOutcome: ...


class InProcessActionRunner:
    """Calls registered async functions directly, with a timeout, turning failures into outcomes."""

    def __init__(self, registry: ActionRegistry, timeout_seconds: float = 10.0) -> None:
        self.registry = registry
        self.timeout_seconds = timeout_seconds

    def names(self) -> list[str]:
        return self.registry.names()

    async def run(self, call: ActionCall) -> ActionOutcome:
        function = self.registry.get(call.name)
        if function is None:
            return ActionOutcome(ok=False, error=f"unknown action {call.name!r}")
        try:
            result = await asyncio.wait_for(function(call), self.timeout_seconds)
        except asyncio.TimeoutError:
            log.error("action %s timed out after %.1fs on thread %s", call.name, self.timeout_seconds, call.thread_id)
            return ActionOutcome(ok=False, error=f"timed out after {self.timeout_seconds:g}s")
        except Exception as exc:  # the business's code may fail in any way; the customer must not notice
            log.exception("action %s failed on thread %s", call.name, call.thread_id)
            return ActionOutcome(ok=False, error=f"{type(exc).__name__}: {exc}")
        if not isinstance(result, ActionResult):
            return ActionOutcome(ok=False, error=f"returned {type(result).__name__}, not ActionResult")
        return ActionOutcome(ok=True, slots=dict(result.slots), responses=list(result.responses),
                             messages=list(result.messages))


def load_actions(bot_dir: Path, module: str) -> ActionRegistry:
    """Import ``<bot_dir>/<module>.py`` (or package) and return its ``actions`` registry; empty if absent."""
    path = bot_dir / f"{module}.py"
    if not path.is_file():
        path = bot_dir / module / "__init__.py"
    if not path.is_file():
        return ActionRegistry()
    module_name = f"threadline_bot_actions_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise UserError(f"{path}: cannot be imported")
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = loaded
    try:
        spec.loader.exec_module(loaded)
    except Exception as exc:
        raise UserError(f"{path}: importing the actions failed: {type(exc).__name__}: {exc}") from exc
    registry = getattr(loaded, "actions", None)
    if not isinstance(registry, ActionRegistry):
        raise UserError(f"{path}: define `actions = ActionRegistry()` and register the actions on it")
    return registry
