"""The button-payload grammar, and that a turn reads a message's payload once."""

from __future__ import annotations

from typing import Any

import pytest

import bots.payload
from bots.payload import parse_payload
from bots.runtime import Runtime
from bots.types import Identity, Inbound, Payload


def test_a_bare_payload_names_a_flow_or_intent() -> None:
    assert parse_payload("/size_help") == Payload("/size_help", {}, "/size_help")


def test_entities_in_braces_and_the_text_kept_without_surrounding_spaces() -> None:
    payload = parse_payload(' \n/buy{"sku": "A-1", "qty": 2, "gift": {"wrap": true}}  ')
    assert payload == Payload(
        "/buy", {"sku": "A-1", "qty": 2, "gift": {"wrap": True}}, '/buy{"sku": "A-1", "qty": 2, "gift": {"wrap": true}}'
    )


def test_entities_may_span_lines() -> None:
    assert parse_payload('/buy{"sku":\n "A-1"}') == Payload("/buy", {"sku": "A-1"}, '/buy{"sku":\n "A-1"}')


def test_unicode_names_and_values() -> None:
    payload = parse_payload('/größe{"größe": "42 ½", "城市": "北京"}')
    assert payload is not None
    assert payload.name == "/größe"
    assert payload.entities == {"größe": "42 ½", "城市": "北京"}


@pytest.mark.parametrize(
    "text",
    [
        '/buy{"sku": }',  # malformed JSON
        "/buy{sku: 'A-1'}",  # not JSON (Python's quotes, bare key)
        "/buy{1: 2}",  # JSON keys are strings
        '/buy{"a": 1}{"b": 2}',  # two objects, not one
        '/buy{"a": 1',  # unclosed
        '/buy{"a": 1} please',  # more after the entities
    ],
)
def test_entities_that_are_not_one_json_object_make_no_payload(text: str) -> None:
    assert parse_payload(text) is None


@pytest.mark.parametrize("text", ["hello", "/", "/size help", "size/help", "", "  ", "{}", '{"a": 1}'])
def test_texts_that_are_not_payloads(text: str) -> None:
    assert parse_payload(text) is None


def test_empty_braces_are_no_entities() -> None:
    assert parse_payload("/buy{}") == Payload("/buy", {}, "/buy{}")


async def test_a_turn_reads_its_payload_once(demo_runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """The pipeline reads it for the NLU result; the engine takes it from there instead of reading it again."""
    read: list[Payload] = []

    class Counted(Payload):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            read.append(self)

    monkeypatch.setattr(bots.payload, "Payload", Counted)
    outcome = await demo_runtime.threads.turn(
        Inbound(Identity("rest", "ana"), "message", text='/size_help{"shoe_size": 42}')
    )
    assert len(read) == 1
    snapshot = await demo_runtime.store.load(outcome.thread_id)
    assert snapshot is not None
    assert snapshot.state["slots"]["shoe_size"] == 42  # the payload's entity, through the NLU result
    assert [frame["flow"] for frame in snapshot.state["stack"]] == ["size_help"]  # and the flow it names
