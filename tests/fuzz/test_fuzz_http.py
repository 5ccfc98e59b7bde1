"""Property: no request, however hostile, makes the server fail. Every route answers a well-formed response
below 500, no ERROR or traceback is logged, and a signed Messenger or Instagram batch keeps its valid items
whatever junk comes with them."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bots.types import Identity
from tests.conftest import fuzz_examples
from tests.fake_graph import FakeGraph
from tests.fuzz import strategies as h
from tests.fuzz.harness import Site, running_site
from tests.fuzz.raw_http import RawRequest, exchange
from tests.fuzz.requests import MESSENGER_SECRET, ROUTES, hostile_requests
from tests.fuzz.strategies import VISITORS
from tests.test_instagram import envelope as instagram_envelope
from tests.test_instagram import message as instagram_message
from tests.test_messenger import envelope, text_event


async def known_threads(site: Site) -> list[str]:
    """Threads the fuzz can find by the ids it picks from: a REST sender's and the widget visitors'."""
    response = await site.client.post("/webhooks/rest/webhook", json={"sender": "fuzz-1", "message": "hi"})
    assert response.status == 200
    threads = [await site.runtime.threads.find(Identity("rest", "fuzz-1"))]
    for visitor in VISITORS:
        response = await site.client.post("/web/api/hello", json={"visitor_id": visitor})
        assert response.status == 200
        threads.append(await site.runtime.threads.find(Identity("web", visitor)))
    assert all(threads)
    return [thread for thread in threads if thread is not None]


def test_no_request_makes_the_server_fail(tmp_path: Path) -> None:
    with running_site(tmp_path / "data") as (runner, site):
        secrets = {"messenger": MESSENGER_SECRET, "instagram": site.instagram_graph.app_secret}
        known = runner.run(known_threads(site))

        def answered_well(request: RawRequest) -> None:
            answer = runner.run(exchange(*site.address, request))
            runner.run(site.settle())
            assert answer.status < 500, (answer.status, answer.body[:500])
            if answer.content_type == "application/json":
                json.loads(answer.body)  # raises when the server sent broken JSON
            assert b"Traceback" not in answer.body
            assert site.failures.take() == []

        for route in ROUTES:  # each route gets its share, rather than what a random pick leaves it
            settings(max_examples=fuzz_examples(12))(given(hostile_requests(route, known, secrets))(answered_well))()


@dataclass(frozen=True)
class MetaChannel:
    """What a signed batch test needs of Messenger or Instagram."""

    name: str
    envelope: Callable[..., dict[str, Any]]
    text_item: Callable[[str, str], dict[str, Any]]  # (sender, mid) -> a valid text message item

    def secret(self, site: Site) -> str:
        return MESSENGER_SECRET if self.name == "messenger" else site.instagram_graph.app_secret

    def graph(self, site: Site) -> FakeGraph:
        return site.messenger_graph if self.name == "messenger" else site.instagram_graph


META_CHANNELS = [
    MetaChannel("messenger", envelope, lambda psid, mid: text_event(psid, "where is my order?", mid)),
    MetaChannel(
        "instagram", instagram_envelope, lambda igsid, mid: instagram_message(igsid, mid, "where is my order?")
    ),
]


@pytest.mark.parametrize("channel", META_CHANNELS, ids=lambda channel: channel.name)
def test_a_signed_batch_keeps_its_valid_items_whatever_junk_comes_with_them(
    tmp_path: Path, channel: MetaChannel
) -> None:
    people = (f"p-valid-{n}" for n in itertools.count())
    with running_site(tmp_path / "data") as (runner, site):

        @settings(max_examples=fuzz_examples(12))
        @given(
            valid=st.integers(min_value=1, max_value=2),
            junk=st.lists(h.messaging_items, min_size=1, max_size=4),
            junk_first=st.booleans(),
            escaped=st.booleans(),
        )
        def valid_items_kept(valid: int, junk: list[dict[str, object]], junk_first: bool, escaped: bool) -> None:
            senders = [next(people) for _ in range(valid)]
            good = [channel.text_item(sender, f"m-{sender}") for sender in senders]
            body = channel.envelope(*(junk + good if junk_first else good + junk))
            raw = (
                json.dumps(body).encode()
                if escaped
                else json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")
            )
            digest = hmac.new(channel.secret(site).encode(), raw, hashlib.sha256).hexdigest()
            headers = {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}

            async def deliver() -> int:
                response = await site.client.post(f"/webhooks/{channel.name}", data=raw, headers=headers)
                await site.settle()
                return response.status

            assert runner.run(deliver()) == 200
            for sender in senders:
                assert runner.run(site.runtime.threads.find(Identity(channel.name, sender))) is not None, sender
                assert channel.graph(site).messages(sender), sender  # answered, not only stored
            assert site.failures.take() == []

        valid_items_kept()
