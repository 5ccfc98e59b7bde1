"""What every channel connector is: routes that turn payloads into Inbound, and a renderer back."""

from __future__ import annotations

from typing import Protocol

from aiohttp import web

from bots.pipeline import Pipeline


class Connector(Protocol):
    name: str

    def routes(self, pipeline: Pipeline) -> list[web.RouteDef]: ...
