"""Where a visitor connects from, for the per-address rate limit.

Behind a reverse proxy every request comes from the proxy's address, so all visitors would share one
allowance. The proxy says who it forwards in ``X-Forwarded-For`` (or RFC 7239's ``Forwarded: for=``), but
anyone can send those headers: they are believed only from a configured proxy
(``connectors.web.trusted_proxies``), and read from the right, skipping our own proxies, so a client cannot
choose its address by prepending one.
"""

from __future__ import annotations

import ipaddress
import re

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_FORWARDED_FOR = re.compile(r'for="?\[?([^\]";,]+)', re.IGNORECASE)


def networks(values: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(value, strict=False) for value in values)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def _trusted(value: str | None, proxies: tuple[Network, ...]) -> bool:
    address = _address(value) if value else None
    return address is not None and any(address in network for network in proxies)


def client_address(request: web.Request, proxies: tuple[Network, ...]) -> str | None:
    """The visitor's address: the connecting one, or, when that is a trusted proxy, the nearest hop it names
    that is not a trusted proxy itself."""
    remote = request.remote
    if not proxies or not _trusted(remote, proxies):
        return remote
    hops = [hop.strip() for header in request.headers.getall("X-Forwarded-For", []) for hop in header.split(",")]
    hops += _FORWARDED_FOR.findall(",".join(request.headers.getall("Forwarded", [])))
    for hop in reversed([hop for hop in hops if hop]):
        if _address(hop) is None:
            return remote  # a hop that is not an address: believe none of it
        if not _trusted(hop, proxies):
            return hop
    return remote
