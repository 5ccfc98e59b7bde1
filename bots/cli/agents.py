"""``threadline agents add|list|remove|passwd``: the inbox's agent accounts, in the bot's store.

The store is opened directly (no server needed, and a running one sees the change at once: accounts are
never cached). A password is asked twice on a terminal, or read from standard input with
``--password-stdin`` (a script, a secret manager), never taken from the command line where ``ps`` shows it.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from pathlib import Path

from bots.config import load_config
from bots.errors import UserError
from bots.inbox.accounts import AccountError, Accounts
from bots.store.factory import open_store


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise UserError("no terminal to ask the password on: pipe it in with --password-stdin")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise UserError("the two passwords differ")
    return first


async def _run(config_path: Path, command: str, name: str, role: str, password: str) -> int:
    config = load_config(config_path)
    store = open_store(config.store, config.data_dir)
    await store.open()
    try:
        accounts = Accounts(store)
        if command == "list":
            for agent in sorted(await accounts.list(), key=lambda a: a.name):
                print(f"{agent.name}\t{agent.role}")
            return 0
        if command == "add":
            agent = await accounts.add(name, password, role)
            print(f"added {agent.role} {agent.name}")
            return 0
        if command == "remove":
            if not await accounts.remove(name):
                raise UserError(f"there is no agent {name!r}")
            print(f"removed {name}; their sessions have ended")
            return 0
        if not await accounts.passwd(name, password):
            raise UserError(f"there is no agent {name!r}")
        print(f"changed the password of {name}; their sessions have ended")
        return 0
    except AccountError as exc:
        raise UserError(str(exc)) from None
    finally:
        await store.close()


def agents(config_path: Path, command: str, name: str = "", role: str = "agent", password_stdin: bool = False) -> int:
    password = _password(password_stdin) if command in ("add", "passwd") else ""
    return asyncio.run(_run(config_path, command, name, role, password))
