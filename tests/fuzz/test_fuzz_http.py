"""Property: no request, however hostile, makes the server fail. Every route answers a well-formed response
below 500, no ERROR or traceback is logged, and a signed Messenger batch keeps its valid items whatever
junk comes with them."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bots.types import Identity
from tests.conftest import fuzz_examples
from tests.fuzz import strategies as h
from tests.fuzz.harness import Site, running_site
from tests.fuzz.raw_http import RawRequest, exchange
from tests.fuzz.requests import MESSENGER_SECRET, ROUTES, hostile_requests
from tests.fuzz.strategies import VISITORS
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


def test_a_signed_messenger_batch_keeps_its_valid_items_whatever_junk_comes_with_them(tmp_path: Path) -> None:
    people = (f"p-valid-{n}" for n in itertools.count())
    with running_site(tmp_path / "data") as (runner, site):

        @settings(max_examples=fuzz_examples(15))
        @given(
            valid=st.integers(min_value=1, max_value=2),
            junk=st.lists(h.messaging_items, min_size=1, max_size=4),
            junk_first=st.booleans(),
            escaped=st.booleans(),
        )
        def valid_items_kept(valid: int, junk: list[dict[str, object]], junk_first: bool, escaped: bool) -> None:
            psids = [next(people) for _ in range(valid)]
            good = [text_event(psid, "where is my order?", f"m-{psid}") for psid in psids]
            items = junk + good if junk_first else good + junk
            body = envelope(*items)
            raw = (
                json.dumps(body).encode()
                if escaped
                else json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")
            )
            digest = hmac.new(MESSENGER_SECRET.encode(), raw, hashlib.sha256).hexdigest()
            headers = {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}

            async def deliver() -> int:
                response = await site.client.post("/webhooks/messenger", data=raw, headers=headers)
                await site.settle()
                return response.status

            assert runner.run(deliver()) == 200
            for psid in psids:
                assert runner.run(site.runtime.threads.find(Identity("messenger", psid))) is not None, psid
                assert site.messenger_graph.messages(psid), psid  # answered, not only stored
            assert site.failures.take() == []

        valid_items_kept()
