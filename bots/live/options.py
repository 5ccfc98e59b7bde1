"""Threadline's own options in a store URL, which the database drivers must not see."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Options of ours: the lock lease and pool sizes (stores), the key prefix (Redis)
OWN_OPTIONS = ("lock_lease", "lock_pool_max", "pool_max", "prefix")


def split_options(url: str) -> tuple[str, dict[str, str]]:
    """(the URL for the driver, our options)."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    ours = {key: value for key, value in pairs if key in OWN_OPTIONS}
    rest = [(key, value) for key, value in pairs if key not in OWN_OPTIONS]
    return urlunsplit(parts._replace(query=urlencode(rest))), ours


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
