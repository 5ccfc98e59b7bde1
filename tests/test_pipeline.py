"""The pipeline: one thread at a time in arrival order, threads in parallel, redelivery safe."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bots.actions import ActionCall, ActionRegistry, ActionResult, InProcessActionRunner
from bots.flow.engine import Engine
from bots.pipeline import Pipeline
from bots.runtime import Runtime
from bots.store.local_lock import LocalThreadLock
from bots.store.sqlite import SQLiteThreadStore
from bots.types import Identity, Inbound, Text
from nlu_models.char_ngrams import CharNgramInterpreter
from tests.conftest import write_bot, BASE_FILES
from bots.flow.loader import load_bot


def message(sender: str, text: str, message_id: str | None = None, channel: str = "rest") -> Inbound:
    return Inbound(Identity(channel, sender), "message", text=text, message_id=message_id)


async def test_messages_of_one_thread_are_processed_in_arrival_order(demo_runtime: Runtime) -> None:
    texts = [f"/size_help" if i % 2 == 0 else str(38 + i % 8) for i in range(30)]
    outcomes = await asyncio.gather(*(demo_runtime.pipeline.handle(message("ana", t)) for t in texts))
    thread = outcomes[0].thread_id
    assert {o.thread_id for o in outcomes} == {thread}
    events = [e.event for e in await demo_runtime.store.events(thread, limit=10000)]
    users = [e.data["text"] for e in events if e.kind == "user"]
    assert users == texts
    # each turn's events are contiguous: a user event, then only that turn's events
    turns: list[list[str]] = []
    for e in events:
        if e.kind == "user":
            turns.append([])
        else:
            turns[-1].append(e.kind)
    assert len(turns) == 30 and all("bot" in kinds for kinds in turns)
    # and every even turn asked, every odd turn answered with the size it was given
    for i, outcome in enumerate(outcomes):
        first = outcome.outbound[0]
        assert isinstance(first, Text)
        if i % 2 == 1:
            assert str(38 + i % 8) in first.text


async def test_a_slow_thread_does_not_block_others(tmp_path: Path) -> None:
    files = {**BASE_FILES, "slow.yml": """
        flows:
          slow:
            trigger: {payloads: [/slow]}
            steps:
              - action: wait_for_other
              - say: hello
    """}
    bot = load_bot(write_bot(tmp_path / "bot", files), languages=("en", "de"), default_language="en",
                   actions=["wait_for_other"]).bot
    assert bot is not None
    other_done = asyncio.Event()
    registry = ActionRegistry()

    @registry.register("wait_for_other")
    async def wait_for_other(call: ActionCall) -> ActionResult:
        await other_done.wait()  # only finishes once the other thread's turn went through
        return ActionResult()

    store = SQLiteThreadStore(tmp_path / "db.sqlite")
    await store.open()
    try:
        pipeline = Pipeline(bot, Engine(bot), store, LocalThreadLock(),
                            CharNgramInterpreter(bot.examples, bot.languages, "en", 0.3),
                            InProcessActionRunner(registry, timeout_seconds=30))
        slow = asyncio.create_task(pipeline.handle(message("slow-user", "/slow")))
        await asyncio.sleep(0)
        fast = await asyncio.wait_for(pipeline.handle(message("fast-user", "hello")), 10)
        assert [m.text for m in fast.outbound] == ["Hello!"]  # type: ignore[union-attr]
        other_done.set()
        done = await asyncio.wait_for(slow, 10)
        assert [m.text for m in done.outbound] == ["Hello!"]  # type: ignore[union-attr]
    finally:
        await store.close()


async def test_redelivered_message_id_is_processed_once(demo_runtime: Runtime) -> None:
    first = await demo_runtime.pipeline.handle(message("bob", "hello", message_id="mid-1"))
    again = await demo_runtime.pipeline.handle(message("bob", "hello", message_id="mid-1"))
    assert first.outbound and not first.duplicate
    assert again.duplicate and again.outbound == []
    events = await demo_runtime.store.events(first.thread_id)
    assert [e.event.kind for e in events].count("user") == 1


async def test_action_timeout_gives_the_customer_a_polite_message(tmp_path: Path) -> None:
    files = {**BASE_FILES, "slow.yml": """
        flows:
          slow:
            trigger: {payloads: [/slow]}
            steps:
              - action: never_returns
              - say: hello
    """}
    bot = load_bot(write_bot(tmp_path / "bot", files), languages=("en", "de"), default_language="en",
                   actions=["never_returns"]).bot
    assert bot is not None
    registry = ActionRegistry()

    @registry.register("never_returns")
    async def never_returns(call: ActionCall) -> ActionResult:
        await asyncio.Event().wait()
        return ActionResult()

    store = SQLiteThreadStore(tmp_path / "db.sqlite")
    await store.open()
    try:
        pipeline = Pipeline(bot, Engine(bot), store, LocalThreadLock(),
                            CharNgramInterpreter(bot.examples, bot.languages, "en", 0.3),
                            InProcessActionRunner(registry, timeout_seconds=0.2))
        outcome = await pipeline.handle(message("u", "/slow"))
        assert [m.text for m in outcome.outbound] == [  # type: ignore[union-attr]
            "Sorry, something went wrong on our side. Please try again in a moment."]
        events = [e.event for e in await store.events(outcome.thread_id)]
        action = [e.data for e in events if e.kind == "action"]
        assert action == [{"name": "never_returns", "ok": False, "error": "timed out after 0.2s"}]
        assert events[0].kind == "user"  # the customer's message is kept
    finally:
        await store.close()
