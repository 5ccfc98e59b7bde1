"""rasa-sdk actions run inside the Threadline process: no HTTP, same code as on an action server.

The bot folder's actions package (``actions/`` or ``actions.py``) is imported
under its own name with the bot folder on ``sys.path``, exactly as ``python -m
rasa_sdk --actions actions`` run in that folder would, so ``from
actions.catalogue import PRODUCTS`` (also lazily, inside ``run``) and helper
modules beside the package work. Only the ``Action`` classes defined in the
package are registered: rasa-sdk's own discovery takes every ``Action``
subclass in the process. A process serves one bot; loading another bot folder
(tests do) first unloads the previous folder's modules.

Calls go through rasa-sdk's ``ActionExecutor.run`` with the same request a
server would receive, and the answer goes through JSON as it would over
HTTP. Code that blocks (a plain ``def run``, or a form validation action with
plain ``def validate_<slot>`` methods) runs on the actions' own bounded thread
pool, so it neither stalls other conversations nor the threads the server's
I/O needs. Before the package is imported, ``ruamel.yaml``'s safe loaders are
given back (:mod:`threadline_ruamel_compat`, as the installed ``.pth`` does in every
interpreter): rasa-sdk 3.21's ruamel.yaml removed them and many Rasa projects'
actions call them at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import json
import logging
import pkgutil
import sys
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import threadline_ruamel_compat as ruamel_compat
from bots.actions.translate import MalformedResult
from bots.errors import UserError

log = logging.getLogger(__name__)
ACTION_THREADS = 16
_LOADED_DIRS: set[str] = set()  # bot folders whose modules this process imported


class ActionRejected(Exception):
    """The action refused to run (rasa-sdk's ``ActionExecutionRejection``)."""


class ActionNotFound(ActionRejected):
    """No action of that name (an action server's 404)."""


def _unload_other_bots(bot_dir: str) -> None:
    for other in list(_LOADED_DIRS - {bot_dir}):
        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None) or ""
            if file.startswith(other + "/"):
                del sys.modules[name]
        while other in sys.path:
            sys.path.remove(other)
        _LOADED_DIRS.discard(other)


def _import_package(bot_dir: Path, package: str) -> list[ModuleType]:
    """Import ``package`` from ``bot_dir`` and all its submodules, and keep them imported."""
    root = bot_dir / package.replace(".", "/")
    if not (root / "__init__.py").is_file() and not root.with_suffix(".py").is_file():
        return []
    folder = str(bot_dir.resolve())
    _unload_other_bots(folder)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    _LOADED_DIRS.add(folder)
    stale = [
        n
        for n, m in sys.modules.items()
        if (n == package or n.startswith(package + "."))
        and not (getattr(m, "__file__", None) or "").startswith(folder + "/")
    ]
    for name in stale:  # a module of the same name from elsewhere (not this bot's)
        del sys.modules[name]
    try:
        # In the bot folder, as `python -m rasa_sdk` is run there: code that opens "actions/data.json" on import works.
        with contextlib.chdir(folder):
            module = importlib.import_module(package)
            modules = [module]
            if hasattr(module, "__path__"):
                for info in pkgutil.walk_packages(module.__path__, prefix=package + "."):
                    modules.append(importlib.import_module(info.name))
        return modules
    except Exception as exc:
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(folder)]
        if isinstance(exc, SyntaxError) and exc.filename:
            where = f"{exc.filename}:{exc.lineno}: "
        else:
            where = f"{frames[-1].filename}:{frames[-1].lineno}: " if frames else ""
        raise UserError(
            f"{where}importing the actions package {package!r} failed: {type(exc).__name__}: {exc}"
        ) from exc


def _blocks(action: Any) -> bool:
    """Whether calling the action may block the event loop (code written without ``async``)."""
    if not inspect.iscoroutinefunction(action):
        return True
    from rasa_sdk.forms import ValidationAction

    instance = getattr(action, "__self__", None)
    if isinstance(instance, ValidationAction):
        return any(
            callable(member) and not inspect.iscoroutinefunction(member)
            for name, member in inspect.getmembers(instance)
            if name.startswith(("validate_", "extract_"))
        )
    return False


def load_executor(bot_dir: Path, package: str) -> Any:
    """An ``ActionExecutor`` with the actions defined in the bot's package (empty when there is none)."""
    from rasa_sdk import Action
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    ruamel_compat.install_on_import()  # the .pth did it when installed; also from a bare checkout
    modules = _import_package(bot_dir, package)
    seen: dict[str, str] = {}
    for module in modules:
        classes: list[tuple[str, type[Any]]] = inspect.getmembers(module, inspect.isclass)  # rasa-sdk is untyped
        for _attr, cls in classes:
            if not issubclass(cls, Action) or cls.__module__ != module.__name__ or inspect.isabstract(cls):
                continue  # rasa-sdk's own classes, abstract bases, and classes imported from elsewhere
            try:
                name = cls().name()
            except Exception as exc:
                raise UserError(
                    f"{module.__name__}.{cls.__name__}: name() failed: {type(exc).__name__}: {exc}"
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
        self._blocking = {name: _blocks(action) for name, action in self.executor.actions.items()}
        self._pool: ThreadPoolExecutor | None = None

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
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    async def call(self, request: dict[str, Any], *, domain: dict[str, Any], digest: str) -> dict[str, Any]:
        from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

        request = {**request, "domain": domain, "domain_digest": digest}
        name = request["next_action"]
        if name not in self.executor.actions:
            raise ActionNotFound(f"no action {name!r} in {self.where}")
        try:
            if self._blocking.get(name):
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(ACTION_THREADS, thread_name_prefix="action")
                result = await asyncio.get_running_loop().run_in_executor(
                    self._pool, asyncio.run, self.executor.run(request)
                )
            else:
                result = await self.executor.run(request)
        except ActionNotFoundException as exc:
            raise ActionNotFound(str(getattr(exc, "message", exc))) from exc
        except ActionExecutionRejection as exc:
            raise ActionRejected(f"rejected: {getattr(exc, 'message', exc)}") from exc
        answer = result.model_dump() if result is not None else {"events": [], "responses": []}
        # What a server could send, no more: an action server fails on values JSON cannot carry, and so
        # does this, instead of storing a set as text or breaking a channel's reply later.
        try:
            wire: dict[str, Any] = json.loads(json.dumps(answer))
            return wire
        except (TypeError, ValueError) as exc:
            raise MalformedResult(f"the answer holds a value JSON cannot carry: {exc}") from exc
