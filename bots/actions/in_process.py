"""rasa-sdk actions run inside the Threadline process: no HTTP, same code as on an action server.

The bot folder's actions package (``actions/`` or ``actions.py``) is imported
under its own name, exactly as ``python -m rasa_sdk --actions actions`` would,
so ``from actions.shop import CATALOGUE`` works in it. Only the ``Action``
classes defined in that package are registered: rasa-sdk's own discovery
takes every ``Action`` subclass in the process, which would mix the actions
of two bots loaded by one process.

Calls go through rasa-sdk's ``ActionExecutor.run`` with the same request a
server would receive. A synchronous ``run`` (plain ``def``) is executed on a
worker thread so a slow one cannot stall every other conversation.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import pkgutil
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from bots.errors import UserError

log = logging.getLogger(__name__)


class ActionRejected(Exception):
    """The action refused to run (rasa-sdk's ``ActionExecutionRejection``), or it does not exist."""


def _import_package(bot_dir: Path, package: str) -> list[ModuleType]:
    """Import ``package`` from ``bot_dir`` and all its submodules; leave ``sys.modules`` as it was."""
    root = bot_dir / package
    if not (root / "__init__.py").is_file() and not (bot_dir / f"{package}.py").is_file():
        return []
    before = set(sys.modules)
    sys.path.insert(0, str(bot_dir))
    try:
        for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
            del sys.modules[name]  # another bot's package of the same name
        module = importlib.import_module(package)
        modules = [module]
        if hasattr(module, "__path__"):
            for info in pkgutil.walk_packages(module.__path__, prefix=package + "."):
                modules.append(importlib.import_module(info.name))
        return modules
    except Exception as exc:
        frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        where = f"{frame.filename}:{frame.lineno}: " if frame and frame.filename.startswith(str(bot_dir)) else ""
        raise UserError(f"{where}importing the actions package {package!r} failed: {type(exc).__name__}: {exc}"
                        ) from exc
    finally:
        sys.path.remove(str(bot_dir))
        for name in set(sys.modules) - before:
            if name == package or name.startswith(package + "."):
                del sys.modules[name]  # the executor holds what it needs; the next bot imports its own


def load_executor(bot_dir: Path, package: str) -> Any:
    """An ``ActionExecutor`` with the actions defined in the bot's package (empty when there is none)."""
    from rasa_sdk import Action
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    modules = _import_package(bot_dir, package)
    names = {m.__name__ for m in modules}
    seen: dict[str, str] = {}
    for module in modules:
        for _attr, cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(cls, Action) or cls.__module__ not in names or inspect.isabstract(cls):
                continue
            if cls.__module__ != module.__name__:
                continue  # imported from a sibling module: registered there
            try:
                name = cls().name()
            except Exception as exc:
                raise UserError(f"{module.__name__}.{cls.__name__}: name() failed: {type(exc).__name__}: {exc}"
                                ) from exc
            if name in seen:
                raise UserError(f"two actions are called {name!r}: {seen[name]} and {module.__name__}.{cls.__name__}")
            seen[name] = f"{module.__name__}.{cls.__name__}"
            executor.register_action(cls)
    return executor


class InProcessActionServer:
    """Answers action calls like a rasa-sdk server would, by calling the executor directly."""

    def __init__(self, bot_dir: Path, package: str, *, executor: Any = None) -> None:
        self.package = package
        self.executor = executor if executor is not None else load_executor(bot_dir, package)

    @property
    def where(self) -> str:
        return f"package {self.package!r}"

    async def names(self) -> list[str]:
        return sorted(self.executor.actions)

    def known_names(self) -> list[str] | None:
        return sorted(self.executor.actions)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def call(self, request: dict[str, Any], *, domain: dict[str, Any], digest: str) -> dict[str, Any]:
        from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

        request = {**request, "domain": domain, "domain_digest": digest}
        name = request["next_action"]
        action = self.executor.actions.get(name)
        if action is None:
            raise ActionRejected(f"no action {name!r} in {self.where}")
        try:
            if inspect.iscoroutinefunction(action):
                result = await self.executor.run(request)
            else:  # plain ``def run``: keep the event loop free while it works
                result = await asyncio.to_thread(asyncio.run, self.executor.run(request))
        except (ActionExecutionRejection, ActionNotFoundException) as exc:
            raise ActionRejected(str(getattr(exc, "message", exc))) from exc
        return result.model_dump() if result is not None else {"events": [], "responses": []}
