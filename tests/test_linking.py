"""Link tokens between channels: genuine ones work once; forged, expired, replayed or mismatched ones never."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bots.linking.tokens import LinkRefused, LinkTokens, is_link_token
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
        claim = tokens.read(tokens.issue("t_a", "to_messenger"), "to_messenger")
        assert await store.consume_token(claim.nonce, expires_at=claim.expires_at, now=clock.now) is True
        assert await store.consume_token(claim.nonce, expires_at=claim.expires_at, now=clock.now) is False
        # a used token is forgotten only after it would have expired anyway
        later = tokens.read(tokens.issue("t_b", "to_messenger"), "to_messenger")
        assert await store.consume_token(later.nonce, expires_at=later.expires_at, now=claim.expires_at + 1)
        assert await store.consume_token(claim.nonce, expires_at=claim.expires_at, now=claim.expires_at + 1)
    finally:
        await store.close()
