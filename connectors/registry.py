"""The channels Threadline can run: one entry per channel package, each exposing ``SPEC``.

Adding a channel is a package under ``connectors/`` and one line here; its
config section, routes, delivery and policy come with it (docs/channels.md).
"""

from __future__ import annotations

import importlib
from functools import cache

from connectors.base import ChannelSpec

CHANNEL_PACKAGES = (
    "connectors.rest",
    "connectors.web",
    "connectors.messenger",
    "connectors.instagram",
)


@cache
def channel_specs() -> tuple[ChannelSpec, ...]:
    return tuple(importlib.import_module(name).SPEC for name in CHANNEL_PACKAGES)


def channel_names() -> tuple[str, ...]:
    return tuple(spec.name for spec in channel_specs())
