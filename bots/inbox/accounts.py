"""Agent accounts, kept in the bot's store: names, roles and argon2 password hashes.

Each account has an ``epoch``; a session names the epoch it was opened in, so changing the password or
logging out (which moves the epoch on) ends every session of that account on every worker at once.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bots.store.base import RecordTable

AGENT = "agent"
ROLES = ("agent", "admin")
NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
MIN_PASSWORD = 10
_HASHER = PasswordHasher()
# verified when the name is unknown, so a wrong name costs as long as a wrong password (no account probing)
_DUMMY = _HASHER.hash("not-an-account-password")


class AccountError(ValueError):
    """A request the accounts refuse, with the reason to show."""


@dataclass(frozen=True)
class Agent:
    name: str
    role: str
    epoch: int

    @property
    def admin(self) -> bool:
        return self.role == "admin"


def _agent(name: str, record: dict[str, Any]) -> Agent:
    return Agent(name, str(record.get("role", "agent")), int(record.get("epoch", 0)))


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise AccountError(f"{name!r} is not an agent name: use 1-64 of a-z, 0-9, '.', '_' and '-'")
    return name


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    return password


class Accounts:
    def __init__(self, records: RecordTable) -> None:
        self.records = records

    async def get(self, name: str) -> Agent | None:
        record = await self.records.record(AGENT, name) if NAME.fullmatch(name) else None
        return _agent(name, record) if record is not None else None

    async def list(self) -> list[Agent]:
        return [_agent(name, record) for name, record in (await self.records.records(AGENT)).items()]

    async def add(self, name: str, password: str, role: str = "agent") -> Agent:
        check_name(name)
        if role not in ROLES:
            raise AccountError(f"role {role!r}: give one of {', '.join(ROLES)}")
        hashed = await asyncio.to_thread(_HASHER.hash, check_password(password))
        record = {"role": role, "hash": hashed, "epoch": 0}
        if await self.records.add_record(AGENT, name, record) != record:
            raise AccountError(f"there is an agent {name!r} already")
        return _agent(name, record)

    async def remove(self, name: str) -> bool:
        return await self.records.delete_record(AGENT, name)

    async def passwd(self, name: str, password: str) -> bool:
        """A new password; every session of the account ends. False when there is no such agent."""
        hashed = await asyncio.to_thread(_HASHER.hash, check_password(password))
        record = await self.records.record(AGENT, check_name(name))
        if record is None:
            return False
        await self.records.put_record(AGENT, name, {**record, "hash": hashed, "epoch": int(record["epoch"]) + 1})
        return True

    async def end_sessions(self, agent: Agent) -> None:
        record = await self.records.record(AGENT, agent.name)
        if record is not None and int(record["epoch"]) == agent.epoch:
            await self.records.put_record(AGENT, agent.name, {**record, "epoch": agent.epoch + 1})

    async def verify(self, name: str, password: str) -> Agent | None:
        """The agent whose name and password these are, else None; as slow either way (argon2 off the loop)."""
        record = await self.records.record(AGENT, name) if NAME.fullmatch(name) else None
        hashed = str(record["hash"]) if record is not None else _DUMMY
        try:
            await asyncio.to_thread(_HASHER.verify, hashed, password)
        except (VerificationError, InvalidHashError):
            return None
        return _agent(name, record) if record is not None else None
