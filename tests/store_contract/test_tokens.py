"""TokenLedger: a link token is used once, except by the same person again."""

from __future__ import annotations

import asyncio

from bots.store.base import TOKEN_GRACE_SECONDS, TokenLedger


async def test_a_token_is_used_once_except_by_the_same_person(store: TokenLedger) -> None:
    assert await store.consume_token("n1", expires_at=100.0, now=50.0, by="a") is True
    assert await store.consume_token("n1", expires_at=100.0, now=51.0, by="b") is False
    assert await store.consume_token("n1", expires_at=100.0, now=52.0, by="a") is True
    assert await store.consume_token("n1", expires_at=100.0, now=100.9, by="b") is False  # grace past expiry
    assert await store.consume_token("n2", expires_at=100.0, now=60.0) is True
    assert await store.consume_token("n2", expires_at=100.0, now=61.0) is False  # nobody named: never a retry
    far = 100.0 + TOKEN_GRACE_SECONDS + 1
    assert await store.consume_token("n3", expires_at=far + 100, now=far, by="c") is True
    assert await store.consume_token("n1", expires_at=100.0, now=far, by="b") is True  # forgotten by now


async def test_concurrent_uses_of_one_token_let_exactly_one_through(store: TokenLedger) -> None:
    results = await asyncio.gather(
        *(store.consume_token("race", expires_at=100.0, now=1.0, by=f"p{i}") for i in range(20))
    )
    assert results.count(True) == 1
