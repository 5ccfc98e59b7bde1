"""Link tokens between channels: genuine ones work once; forged, expired, replayed or mismatched ones never."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bots.linking.tokens import LinkRefused, LinkTokens, is_link_token
from bots.store.base import TOKEN_GRACE_SECONDS
from bots.store.sqlite import SQLiteThreadStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_790_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tokens(clock: Clock) -> LinkTokens:
    return LinkTokens("link-secret", ttl_seconds=600, clock=clock)


def refusal(tokens: LinkTokens, token: str, purpose: str = "to_messenger", **kwargs: str) -> str:
    with pytest.raises(LinkRefused) as caught:
        tokens.read(token, purpose, **kwargs)  # type: ignore[arg-type]
    return caught.value.reason


def test_a_token_names_its_thread_and_fits_a_messenger_ref(tokens: LinkTokens) -> None:
    token = tokens.issue("t_0123456789abcdef0123456789abcdef", "to_messenger")
    assert is_link_token(token) and len(token) <= 250
    assert re.fullmatch(r"[A-Za-z0-9_=-]+", token)  # what an m.me ref may contain
    claim = tokens.read(token, "to_messenger")
    assert claim.thread_id == "t_0123456789abcdef0123456789abcdef" and claim.purpose == "to_messenger"
    assert tokens.issue("t_x", "to_messenger") != tokens.issue("t_x", "to_messenger")  # a nonce each


def test_forged_tokens_are_refused(tokens: LinkTokens, clock: Clock) -> None:
    token = tokens.issue("t_a", "to_messenger")
    assert refusal(tokens, token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")) == "forged"
    other = LinkTokens("another-secret", ttl_seconds=600, clock=clock).issue("t_a", "to_messenger")
    assert refusal(tokens, other) == "forged"
    payload_swapped = tokens.issue("t_b", "to_messenger").split("=", 2)
    parts = token.split("=", 2)
    assert refusal(tokens, "=".join([parts[0], payload_swapped[1], parts[2]])) == "forged"


def test_expired_tokens_are_refused(tokens: LinkTokens, clock: Clock) -> None:
    token = tokens.issue("t_a", "to_web")
    clock.now += 599
    assert tokens.read(token, "to_web").thread_id == "t_a"
    clock.now += 2
    assert refusal(tokens, token, "to_web") == "expired"


def test_mismatched_tokens_are_refused(tokens: LinkTokens) -> None:
    token = tokens.issue("t_a", "to_messenger")
    assert refusal(tokens, token, "to_web") == "mismatched"  # a Messenger link used on the website
    assert refusal(tokens, token, "to_messenger", thread_id="t_b") == "mismatched"
    assert tokens.read(token, "to_messenger", thread_id="t_a").thread_id == "t_a"


def test_malformed_tokens_are_refused(tokens: LinkTokens) -> None:
    for token in ("", "summer_sale", "tl1=", "tl1=" + "A" * 300, "tl1=not=a=token"):
        assert refusal(tokens, token) in ("malformed", "forged")
    assert refusal(tokens, "summer_sale") == "malformed"  # an ordinary ref is not a link token


async def test_a_token_is_used_once(tokens: LinkTokens, clock: Clock, tmp_path: Path) -> None:
    store = SQLiteThreadStore(tmp_path / "db.sqlite")
    await store.open()
    try:
        token = tokens.issue("t_a", "to_messenger")
        claim = tokens.read(token, "to_messenger")
        assert await store.consume_token(claim.nonce, expires_at=claim.expires_at, now=clock.now, by="a") is True
        assert await store.consume_token(claim.nonce, expires_at=claim.expires_at, now=clock.now, by="b") is False
        assert await store.consume_token(claim.nonce, expires_at=claim.expires_at, now=clock.now, by="a") is True
        # still remembered just past expiry (a token's age is checked in whole seconds; clocks differ) ...
        clock.now = claim.expires_at + 0.9
        assert tokens.read(token, "to_messenger").nonce == claim.nonce  # itsdangerous still accepts it
        assert (
            await store.consume_token(claim.nonce, expires_at=claim.expires_at, now=claim.expires_at + 0.9, by="b")
            is False
        )
        # ... and forgotten once it could never be accepted again
        later = tokens.read(tokens.issue("t_b", "to_messenger"), "to_messenger")
        far = claim.expires_at + TOKEN_GRACE_SECONDS + 1
        assert await store.consume_token(later.nonce, expires_at=later.expires_at, now=far, by="c")
        assert await store.consume_token(claim.nonce, expires_at=claim.expires_at, now=far, by="b")
    finally:
        await store.close()


# --------------------------------------------------------------------------- merging two threads

from bots.linking.merge import MergeInput, merge_threads  # noqa: E402
from bots.store.local_lock import LocalThreadLock  # noqa: E402
from bots.threads.linking import ThreadLinker  # noqa: E402
from bots.types import Identity, ThreadEvent  # noqa: E402


def _state(**fields: object) -> dict[str, object]:
    from bots.flow.state import ThreadState

    state = ThreadState(**fields)  # type: ignore[arg-type]
    return state.to_json()


def test_merge_interleaves_logs_by_time_keeping_each_order_and_applies_the_slot_rule() -> None:
    web = MergeInput(
        "t_web",
        _state(language="de", slots={"size": 42, "sku": "TR2"}, last_inbound_at=300.0, stack=[]),
        [
            ThreadEvent("user", {"text": "hallo"}, 100.0, "web", "web:1"),
            ThreadEvent("slot", {"name": "size", "value": 42}, 300.0, "web"),
            ThreadEvent("bot", {"type": "text", "text": "Gut"}, 300.0, "web"),
        ],
    )
    from bots.flow.state import Frame

    fb = MergeInput(
        "t_fb",
        _state(
            language="en",
            slots={"size": 40, "email": "a@b.c"},
            last_inbound_at=200.0,
            stack=[Frame("orders", 2, True)],
            opted_out=True,
            last_inbound_by_channel={"messenger": 200.0},
        ),
        [
            ThreadEvent("slot", {"name": "size", "value": 40}, 150.0, "messenger"),
            ThreadEvent("user", {"text": "hi"}, 200.0, "messenger", "fb:mid.1"),
            ThreadEvent("bot", {"type": "text", "text": "Hi"}, 120.0, "messenger"),  # out of time order on purpose
        ],
    )
    merged = merge_threads(web, fb, reason="test", now=400.0)
    texts = [(e.channel, e.kind, e.timestamp) for e in merged.events]
    assert texts == [
        ("web", "user", 100.0),
        ("messenger", "slot", 150.0),
        ("messenger", "user", 200.0),
        ("messenger", "bot", 120.0),
        ("web", "slot", 300.0),
        ("web", "bot", 300.0),
        ("", "merge", 400.0),
    ]
    state = merged.state
    assert state["slots"] == {"size": 42, "sku": "TR2", "email": "a@b.c"}  # size: the web changed it last
    assert state["language"] == "de" and state["stack"] == []  # the web thread was used last
    assert state["opted_out"] is True  # an opt-out anywhere holds
    assert state["last_inbound_by_channel"] == {"messenger": 200.0}
    assert merged.record["flows_ended"] == ["orders"] and merged.record["slots_from_merged"] == ["email"]
    assert merged.record["events_moved"] == 3


def test_the_thread_used_last_keeps_its_pending_question() -> None:
    from bots.flow.state import Frame

    old = MergeInput("t_old", _state(slots={"size": 40}, last_inbound_at=100.0), [])
    active = MergeInput(
        "t_new",
        _state(slots={"size": 44}, last_inbound_at=500.0, language="fr", stack=[Frame("size_help", 1, True)]),
        [],
    )
    merged = merge_threads(old, active, reason="test", now=600.0)
    assert merged.state["stack"][0]["flow"] == "size_help" and merged.state["language"] == "fr"
    assert merged.state["slots"] == {"size": 40}  # no slot event on either side: the survivor's value
    assert merged.record["conversation_from"] == "t_new"


async def test_linker_merges_into_the_token_thread_and_redirects_the_old_id(
    tokens: LinkTokens, clock: Clock, tmp_path: Path
) -> None:
    store = SQLiteThreadStore(tmp_path / "t.db")
    await store.open()
    try:
        linker = ThreadLinker(store, LocalThreadLock(), tokens, clock=clock)
        merges: list[tuple[str, str]] = []

        async def told(into: str, source: str) -> None:
            merges.append((into, source))

        linker.on_merged.append(told)
        web = await store.resolve(Identity("web", "v" * 20), now=clock())
        await store.commit(
            web,
            _state(slots={"size": 42}),
            [ThreadEvent("user", {"text": "a"}, 10.0, "web", "w1")],
            expected_version=0,
            now=10.0,
            wake_at=None,
        )
        psid = Identity("messenger", "123")
        fb = await store.resolve(psid, now=clock())
        await store.commit(
            fb,
            _state(slots={"email": "x@y.z"}),
            [
                ThreadEvent("user", {"text": "b"}, 5.0, "messenger", "m1"),
                ThreadEvent("user", {"text": "c"}, 20.0, "messenger", "m2"),
            ],
            expected_version=0,
            now=20.0,
            wake_at=None,
        )
        token = tokens.issue(web, "to_messenger")
        asked = await linker.redeem(token, "to_messenger", psid)  # they have a conversation: ask them first
        assert asked.needs_confirmation and await store.find(psid) == fb and merges == []
        result = await linker.redeem(token, "to_messenger", psid, confirmed=True)  # the token was not used up
        assert result.thread_id == web and result.merged_from == fb and merges == [(web, fb)]
        assert await store.find(psid) == web and await store.merged_into(fb) == web
        assert await store.load(fb) is None
        events = await store.events(web)
        assert [e.event.data.get("text") for e in events[:3]] == ["b", "a", "c"]
        assert [e.seq for e in events] == [1, 2, 3, 4] and events[-1].event.kind == "merge"
        snapshot = await store.load(web)
        assert snapshot is not None and snapshot.version == 4
        assert snapshot.state["slots"] == {"size": 42, "email": "x@y.z"}
        assert sorted(i.channel for i in await store.identities(web)) == ["messenger", "web"]
        # a token for the merged id leads to the survivor
        other = Identity("messenger_ref", "ref-1")
        again = await linker.redeem(tokens.issue(fb, "to_messenger"), "to_messenger", other)
        assert again.thread_id == web and await store.find(other) == web
        # the thread goes on normally afterwards
        version = await store.commit(
            web,
            snapshot.state,
            [ThreadEvent("bot", {"text": "d"}, 30.0, "web")],
            expected_version=4,
            now=30.0,
            wake_at=snapshot.state.get("wake_at"),
        )
        assert version == 5
    finally:
        await store.close()


async def test_replays_are_refused_unless_the_same_person_follows_the_link_again(
    tokens: LinkTokens, clock: Clock, tmp_path: Path
) -> None:
    store = SQLiteThreadStore(tmp_path / "t.db")
    await store.open()
    try:
        linker = ThreadLinker(store, LocalThreadLock(), tokens, clock=clock)
        thread = await store.resolve(Identity("web", "v" * 20), now=clock())
        await store.commit(
            thread,
            _state(),
            [ThreadEvent("user", {"text": "a"}, 1.0, "web")],
            expected_version=0,
            now=1.0,
            wake_at=None,
        )
        token = tokens.issue(thread, "to_messenger")
        first = await linker.redeem(token, "to_messenger", Identity("messenger", "1"))
        assert first.thread_id == thread and not first.already_linked
        assert (await linker.redeem(token, "to_messenger", Identity("messenger", "1"))).already_linked
        with pytest.raises(LinkRefused) as caught:
            await linker.redeem(token, "to_messenger", Identity("messenger", "2"))
        assert caught.value.reason == "replayed" and await store.find(Identity("messenger", "2")) is None
        with pytest.raises(LinkRefused) as caught:
            await linker.redeem(tokens.issue("t_nothing", "to_messenger"), "to_messenger", Identity("messenger", "3"))
        assert caught.value.reason == "gone"
    finally:
        await store.close()


def test_the_stored_secret_is_made_once_and_an_empty_file_is_replaced(tmp_path: Path) -> None:
    from bots.linking.tokens import stored_secret

    path = tmp_path / "data" / "link-secret"
    first = stored_secret(path)
    assert len(first) >= 32 and stored_secret(path) == first and oct(path.stat().st_mode & 0o777) == "0o600"
    path.write_text("")
    replaced = stored_secret(path)
    assert replaced and replaced != first and list(path.parent.iterdir()) == [path]
