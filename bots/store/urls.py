"""Threadline's own options in a store URL, which the database drivers must not see."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit, urlunsplit

# Options of ours (bots/store/postgres/ and bots/store/redis/ read them): the lock lease, pool sizes and
# waiters (PostgreSQL), the key prefix (Redis). A driver must never see them: asyncpg would send an unknown one
# to the server as a setting, which refuses the connection.
OWN_OPTIONS = ("lock_lease", "lock_pool_max", "lock_waiters", "pool_max", "prefix")


def split_options(url: str) -> tuple[str, dict[str, str]]:
    """(the URL for the driver, our options): ours leave the query, everything else stays as written."""
    parts = urlsplit(url)
    ours: dict[str, str] = {}
    kept: list[str] = []
    for item in parts.query.split("&") if parts.query else []:
        key, value = (unquote(text) for text in item.partition("=")[::2])
        if key in OWN_OPTIONS:
            ours[key] = value
        else:
            kept.append(item)
    return urlunsplit(parts._replace(query="&".join(kept))), ours


def redacted(url: str) -> str:
    """The URL without its password (in the user part or a ``password=`` option), for messages and logs."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.split(':', 1)[0]}:***@{host}" if ":" in user else netloc
    query = (
        "&".join("password=***" if item.split("=", 1)[0] == "password" else item for item in parts.query.split("&"))
        if parts.query
        else ""
    )
    return urlunsplit(parts._replace(netloc=netloc, query=query))
