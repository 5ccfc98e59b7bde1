"""The real server, built as ``threadline run`` builds it, with every channel on, for fuzzing from a plain
(synchronous) hypothesis test: the server lives in one event loop that each example runs its requests in."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from bots.runtime import Runtime, open_runtime
from bots.server.admin import CHANNELS
from bots.server.app import create_app
from tests.conftest import demo_config
from tests.fake_graph import FakeGraph
from tests.fake_instagram_graph import FakeInstagramGraph
from tests.test_instagram import ACCOUNT
from tests.test_messenger import messenger_config

ADMIN_TOKEN = "adm"
IDENTITY_SECRET = "shop-secret"
ORIGIN = "https://shop.example"


class FailureLog(logging.Handler):
    """Keeps every log record that means the server failed: an ERROR (or worse), or any record with a traceback."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)

    def take(self) -> list[str]:
        """The failures since the last call, formatted with their tracebacks, and forget them."""
        formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
        taken = [formatter.format(record) for record in self.records]
        self.records.clear()
        return taken


@dataclass
class Site:
    client: TestClient
    runtime: Runtime
    messenger_graph: FakeGraph
    instagram_graph: FakeInstagramGraph
    failures: FailureLog

    @property
    def address(self) -> tuple[str, int]:
        server = self.client.server
        assert server.port is not None
        return server.host, server.port

    async def settle(self) -> None:
        """Wait until the webhook channels have processed every event they accepted."""
        for name in ("messenger", "instagram"):
            await self.client.app[CHANNELS][name].idle()


async def _open(stack: AsyncExitStack, data_dir: Path) -> Site:
    messenger_graph = await FakeGraph().start()
    stack.push_async_callback(messenger_graph.close)
    instagram_graph = FakeInstagramGraph()
    await instagram_graph.start()
    stack.push_async_callback(instagram_graph.close)
    config = demo_config(
        data_dir,
        server={"admin_token": ADMIN_TOKEN, "public_url": ORIGIN},
        connectors={
            "messenger": messenger_config(messenger_graph),
            "instagram": {
                "ig_user_id": ACCOUNT,
                "verify_token": "verify-me",
                "app_secret": instagram_graph.app_secret,
                "access_token": instagram_graph.access_token,
                "graph_api_url": instagram_graph.url,
                "typing_indicators": False,
                "mark_seen": False,
                "retry_base_seconds": 0.01,
                "retry_max_seconds": 0.05,
            },
            "web": {
                "identity_secret": IDENTITY_SECRET,
                "allowed_origins": [ORIGIN],
                "rate_limit": {"messages": 1_000_000, "per_seconds": 60},  # the fuzz is one very busy visitor
            },
        },
    )
    runtime = await stack.enter_async_context(open_runtime(config))
    client = await stack.enter_async_context(TestClient(TestServer(create_app(runtime))))
    return Site(client, runtime, messenger_graph, instagram_graph, FailureLog())


@contextmanager
def running_site(data_dir: Path) -> Iterator[tuple[asyncio.Runner, Site]]:
    """The site and the loop it runs in; failures logged anywhere in the process are kept in ``site.failures``."""
    with asyncio.Runner() as runner:
        stack = AsyncExitStack()
        root = logging.getLogger()
        site: Site | None = None
        try:
            site = runner.run(_open(stack, data_dir))
            root.addHandler(site.failures)
            yield runner, site
        finally:
            if site is not None:
                root.removeHandler(site.failures)
            runner.run(stack.aclose())
