"""``threadline forget``: a customer's data request from the command line: export their thread, or delete it.

It asks the running server by default: the server caches identities and
snapshots and is the only writer of its store, so only it can delete a
thread without a later turn or a stale cache bringing it back. With the
server stopped, ``--direct`` opens the store itself.

With ``--delete`` the export is written to a file first (and again with
what was actually deleted), so a customer's data is never gone before a
copy of it is safe.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp

from bots.atomic_file import write_atomically
from bots.cli.admin_client import TIMEOUT_SECONDS, AdminClient, server_url
from bots.config import Config, load_config
from bots.errors import UserError
from bots.store.factory import open_store
from bots.store.local_lock import LocalThreadLock
from bots.threads.privacy import export_thread, find_thread, forget_thread
from bots.types import Identity


def _write_export(data: dict[str, Any], path: Path | None) -> None:
    """Atomically, and readable by the owner only: the file holds a customer's personal data."""
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    if path is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        write_atomically(path, text.encode("utf-8"))
    except OSError as exc:
        raise UserError(f"cannot write the export to {path}: {exc.strerror or exc}") from None


async def _over_http(
    config: Config,
    config_path: Path,
    url: str,
    thread_id: str | None,
    who: Identity | None,
    export_path: Path | None,
    delete: bool,
) -> dict[str, Any]:
    token = config.server.admin_token
    if not token:
        raise UserError(
            f"server.admin_token is empty in {config_path}: the admin API needs it "
            "(or stop the server and use --direct)"
        )
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)) as session:
        client = AdminClient(session, url, config_path)
        if thread_id is None:
            assert who is not None
            found = await client.call(
                "GET",
                "/api/threads",
                params={"channel": who.channel, "user_id": who.user_id},
                missing=f"no thread for {who.channel} user {who.user_id}",
            )
            thread_id = str(found["thread_id"])
        path = f"/api/threads/{quote(thread_id, safe='')}"
        missing = f"no thread {thread_id}"
        exported = await client.call("GET", f"{path}/export", missing=missing)
        if not delete:
            return exported
        _write_export(exported, export_path)  # a safe copy before anything is deleted
        deleted = await client.call("DELETE", path, missing=missing)
        return dict(deleted["export"])


async def _direct(
    config: Config, thread_id: str | None, who: Identity | None, export_path: Path | None, delete: bool
) -> dict[str, Any]:
    store = open_store(config.store, config.data_dir)
    path = getattr(store, "path", None)
    if isinstance(path, Path) and not path.is_file():  # opening would create an empty store
        raise UserError(f"no store at {path} (check {config.store!r} and THREADLINE_DATA_DIR)")
    await store.open()
    try:
        if thread_id is None:
            assert who is not None
            thread_id = await find_thread(store, who)
            if thread_id is None:
                raise UserError(f"no thread for {who.channel} user {who.user_id}")
        exported = await export_thread(store, thread_id)
        if exported is None:
            raise UserError(f"no thread {thread_id}")
        if not delete:
            return exported
        _write_export(exported, export_path)
        forgotten = await forget_thread(store, LocalThreadLock(), thread_id, now=time.time())
        if forgotten is None:
            raise UserError(f"no thread {thread_id}")
        return forgotten
    finally:
        await store.close()


def forget(
    config_path: Path,
    *,
    thread_id: str | None,
    channel: str | None,
    user_id: str | None,
    export_path: Path | None,
    delete: bool,
    server: str | None,
    direct: bool,
) -> int:
    if (channel is None) != (user_id is None) or (thread_id is not None and channel is not None):
        raise UserError("name the customer with --thread ID, or with --channel C and --user-id U")
    if delete and export_path is None:
        raise UserError("--delete needs --export FILE: the customer's data is saved there before it is deleted")
    if direct and server:
        raise UserError("--direct opens the store itself; --server is for the running server: give one of them")
    config = load_config(config_path)
    who = Identity(channel, user_id) if channel is not None and user_id is not None else None
    if direct:
        data = asyncio.run(_direct(config, thread_id, who, export_path, delete))
    else:
        data = asyncio.run(
            _over_http(config, config_path, server_url(config, server), thread_id, who, export_path, delete)
        )
    _write_export(data, export_path)
    if delete:
        names = ", ".join(f"{i['channel']} {i['user_id']}" for i in data["identities"]) or "no identities"
        print(
            f"deleted thread {data['thread_id']} ({len(data['events'])} events; {names}); its data is in {export_path}"
        )
    elif export_path is not None:
        print(f"exported thread {data['thread_id']} ({len(data['events'])} events) to {export_path}")
    return 0
