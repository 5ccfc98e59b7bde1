"""The pipeline: one thread at a time in arrival order, threads in parallel, redelivery safe."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from rasa_sdk.executor import ActionExecutor

from bots.actions import ActionRunner
from bots.actions.in_process import InProcessActionServer
from bots.flow.engine import Engine
from bots.flow.loader import load_bot
from bots.linking.merge import MergeInput, merge_threads
from bots.linking.tokens import LinkTokens
from bots.pipeline import Pipeline
from bots.runtime import Runtime
from bots.store.factory import open_store
from bots.store.local_lock import LocalThreadLock
from bots.store.sqlite import SQLiteThreadStore
from bots.threads.access import Threads
from bots.threads.linking import ThreadLinker
from bots.types import Identity, Inbound, Text, TurnOutcome
from nlu_models.char_ngrams import CharNgramInterpreter
from tests.conftest import BASE_FILES, write_bot


def message(sender: str, text: str, message_id: str | None = None, channel: str = "rest") -> Inbound:
    return Inbound(Identity(channel, sender), "message", text=text, message_id=message_id)


async def test_messages_of_one_thread_are_processed_in_arrival_order(demo_runtime: Runtime) -> None:
    texts = ["/size_help" if i % 2 == 0 else str(38 + i % 8) for i in range(30)]
    outcomes = await asyncio.gather(*(demo_runtime.threads.turn(message("ana", t)) for t in texts))
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


@asynccontextmanager
async def pipeline_with_action(
    tmp_path: Path,
    action: Callable[..., Awaitable[Any]],
    timeout: float,
    store_type: type[SQLiteThreadStore] = SQLiteThreadStore,
    store_url: str | None = None,
) -> AsyncIterator[Threads]:
    """The base test bot plus a flow `/slow` that runs ``action``, on a real SQLite store (of ``store_type``), or
    on the store of ``store_url`` with its own thread lock."""
    files = {
        **BASE_FILES,
        "slow.yml": """
        flows:
          slow:
            trigger: {payloads: [/slow]}
            steps:
              - action: the_action
              - say: hello
    """,
    }
    bot = load_bot(
        write_bot(tmp_path / "bot", files), languages=("en", "de"), default_language="en", actions=["the_action"]
    ).bot
    assert bot is not None
    executor = ActionExecutor()
    executor.register_function("the_action", action)  # rasa-sdk's (dispatcher, tracker, domain) form
    server = InProcessActionServer(tmp_path, "actions", executor=executor)
    store = open_store(store_url, tmp_path) if store_url else store_type(tmp_path / "db.sqlite")
    await store.open()
    try:
        locks = store.thread_lock() if store_url else LocalThreadLock()
        pipeline = Pipeline(
            bot, Engine(bot), CharNgramInterpreter.for_bot(bot), ActionRunner(server, bot, timeout_seconds=timeout)
        )
        yield Threads(store, locks, pipeline, ThreadLinker(store, locks, LinkTokens("secret", 60)))
    finally:
        await store.close()


async def test_a_slow_thread_does_not_block_others(tmp_path: Path) -> None:
    other_done = asyncio.Event()

    async def wait_for_other(dispatcher: Any, tracker: Any, domain: Any) -> list[Any]:
        await other_done.wait()  # only finishes once the other thread's turn went through
        return []

    async with pipeline_with_action(tmp_path, wait_for_other, timeout=120) as threads:  # only a hang reaches it
        slow = asyncio.create_task(threads.turn(message("slow-user", "/slow")))
        await asyncio.sleep(0)
        fast = await asyncio.wait_for(threads.turn(message("fast-user", "hello")), 60)  # a ceiling, not a wait
        assert [m.text for m in fast.outbound] == ["Hello!"]  # type: ignore[union-attr]
        other_done.set()
        done = await asyncio.wait_for(slow, 60)
        assert [m.text for m in done.outbound] == ["Hello!"]  # type: ignore[union-attr]


class ReadCountingStore(SQLiteThreadStore):
    """The real SQLite store, counting the reads of one thread a turn makes (a round trip each on a server)."""

    reads: list[str]

    async def open(self) -> None:
        self.reads = []
        await super().open()

    async def find(self, identity: Identity) -> str | None:
        self.reads.append("find")
        return await super().find(identity)

    async def load(self, thread_id: str) -> Any:
        self.reads.append("load")
        return await super().load(thread_id)

    async def tail(self, thread_id: str, kinds: tuple[str, ...], limit: int) -> Any:
        self.reads.append("tail")
        return await super().tail(thread_id, kinds, limit)

    async def has_message(self, thread_id: str, message_id: str) -> bool:
        self.reads.append("has_message")
        return await super().has_message(thread_id, message_id)


async def test_a_new_customers_first_turn_reads_nothing_of_the_thread_made_for_it(tmp_path: Path) -> None:
    async def nothing(dispatcher: Any, tracker: Any, domain: Any) -> list[Any]:
        return []

    async with pipeline_with_action(tmp_path, nothing, timeout=60, store_type=ReadCountingStore) as threads:
        store = threads.store
        assert isinstance(store, ReadCountingStore)
        first = await threads.turn(message("new-user", "hello", message_id="m-1"))
        assert [m.text for m in first.outbound] == ["Hello!"]  # type: ignore[union-attr]
        assert store.reads == []
        # the next turn reads the thread as stored, and a redelivery of the first message is still recognised
        again = await threads.turn(message("new-user", "hello", message_id="m-1"))
        assert again.duplicate and again.outbound == first.outbound
        assert store.reads == ["find", "has_message"]
        await threads.turn(message("new-user", "hello", message_id="m-2"))
        assert "load" in store.reads
        # a customer whose identity is stored but who is not known to this process is read as usual
        await store.resolve(Identity("rest", "known-user"), now=time.time())
        store.reads.clear()
        await threads.turn(message("known-user", "hello"))
        assert store.reads[:2] == ["find", "load"]


async def test_a_new_customers_message_lands_in_the_thread_a_merge_took_theirs_into(
    store_url: str, tmp_path: Path
) -> None:
    """The race the new-thread shortcut leaves: a customer's thread is made, and before its first turn commits,
    a merge folds it into the customer's older thread (only a worker that outlived its lock's lease could: the
    linker waits for the lock and never folds in an empty thread, so the store's merge is called directly). The
    first commit is refused, and the turn follows the identity there: the message and its one answer are in
    that thread, and nowhere else."""

    async def nothing(dispatcher: Any, tracker: Any, domain: Any) -> list[Any]:
        return []

    async with pipeline_with_action(tmp_path, nothing, timeout=60, store_url=store_url) as threads:
        store = threads.store
        older = await threads.turn(message("psid-1", "hi", "m-1", channel="messenger"))
        visitor = Identity("web", "visitor-1")
        made: list[str] = []
        resolve_or_create = store.resolve_or_create

        async def made_then_merged_away(identity: Identity, *, now: float) -> tuple[str, bool]:
            thread_id, created = await resolve_or_create(identity, now=now)
            if created and identity == visitor:  # a merge between resolving and locking
                made.append(thread_id)
                into = await store.load(older.thread_id)
                assert into is not None
                log = [stored.event for stored in await store.events(older.thread_id)]
                merged = merge_threads(
                    MergeInput(older.thread_id, into.state, log), MergeInput(thread_id, {}, []), reason="test", now=now
                )
                await store.merge_threads(
                    older.thread_id,
                    thread_id,
                    merged.events,
                    merged.state,
                    expected_versions=(into.version, 0),
                    now=now,
                    wake_at=merged.state.get("wake_at"),
                )
            return thread_id, created

        store.resolve_or_create = made_then_merged_away  # type: ignore[method-assign]
        delivered: list[TurnOutcome] = []

        async def deliver(outcome: TurnOutcome) -> list[Any]:
            delivered.append(outcome)
            return []

        outcome = await threads.turn(message("visitor-1", "hello", "w-1", channel="web"), deliver)
        assert made and outcome.thread_id == older.thread_id and not outcome.duplicate
        assert [m.text for m in outcome.outbound] == ["Hello!"]  # type: ignore[union-attr]
        assert [d.thread_id for d in delivered] == [older.thread_id] and delivered[0].outbound == outcome.outbound
        log = [stored.event for stored in await store.events(older.thread_id)]
        assert [(e.kind, e.data.get("text")) for e in log if e.kind in ("user", "bot")] == [
            ("user", "hi"),
            ("bot", "Hello!"),
            ("user", "hello"),
            ("bot", "Hello!"),
        ]
        assert [e.message_id for e in log if e.kind == "user"] == ["m-1", "w-1"]
        assert await store.load(made[0]) is None and await store.events(made[0]) == []
        assert await store.thread_ids() == [older.thread_id]
        assert await store.find(visitor) == older.thread_id
        # the visitor's next message goes straight there
        again = await threads.turn(message("visitor-1", "bye", "w-2", channel="web"))
        assert again.thread_id == older.thread_id and len(made) == 1


async def test_redelivered_message_id_is_processed_once(demo_runtime: Runtime) -> None:
    first = await demo_runtime.threads.turn(message("bob", "hello", message_id="mid-1"))
    again = await demo_runtime.threads.turn(message("bob", "hello", message_id="mid-1"))
    assert first.outbound and not first.duplicate
    # the earlier turn's replies, not a new turn: a client retrying after a lost answer gets the same answer
    assert again.duplicate and again.outbound == first.outbound
    events = await demo_runtime.store.events(first.thread_id)
    assert [e.event.kind for e in events].count("user") == 1
    assert [e.event.kind for e in events].count("bot") == len(first.outbound)


async def test_a_turn_follows_an_identity_another_worker_moved_to_another_thread(demo_runtime: Runtime) -> None:
    first = await demo_runtime.threads.turn(message("cleo", "hello"))
    # another worker links cleo to another thread (a merge): what this process remembers of cleo is out of date
    other = await demo_runtime.store.resolve(Identity("rest", "dan"), now=time.time())
    await demo_runtime.store.link(Identity("rest", "cleo"), other, now=time.time())
    moved = await demo_runtime.threads.turn(message("cleo", "thanks"))
    assert moved.thread_id == other != first.thread_id
    left = [e.event.data["text"] for e in await demo_runtime.store.events(first.thread_id) if e.event.kind == "user"]
    assert left == ["hello"]
    arrived = [e.event.data["text"] for e in await demo_runtime.store.events(other) if e.event.kind == "user"]
    assert arrived == ["thanks"]


async def test_action_timeout_gives_the_customer_a_polite_message(tmp_path: Path) -> None:
    async def never_returns(dispatcher: Any, tracker: Any, domain: Any) -> list[Any]:
        await asyncio.Event().wait()
        return []

    async with pipeline_with_action(tmp_path, never_returns, timeout=0.2) as threads:
        outcome = await threads.turn(message("u", "/slow"))
        assert [m.text for m in outcome.outbound] == [  # type: ignore[union-attr]
            "Sorry, something went wrong on our side. Please try again in a moment."
        ]
        events = [e.event for e in await threads.store.events(outcome.thread_id)]
        action = [e.data for e in events if e.kind == "action"]
        assert action == [{"name": "the_action", "ok": False, "error": "timed out after 0.2s"}]
        assert events[0].kind == "user"  # the customer's message is kept


async def test_an_action_that_raises_is_contained(tmp_path: Path) -> None:
    async def broken(dispatcher: Any, tracker: Any, domain: Any) -> list[Any]:
        raise KeyError("order_table")

    async with pipeline_with_action(tmp_path, broken, timeout=5) as threads:
        outcome = await threads.turn(message("u", "/slow"))
        assert len(outcome.outbound) == 1 and "went wrong" in outcome.outbound[0].text  # type: ignore[union-attr]
        events = [e.event for e in await threads.store.events(outcome.thread_id)]
        assert [e.data["error"] for e in events if e.kind == "action"] == ["KeyError: 'order_table'"]
        again = await threads.turn(message("u", "hello"))  # the thread goes on normally
        assert [m.text for m in again.outbound] == ["Hello!"]  # type: ignore[union-attr]


async def test_a_turn_is_done_again_when_a_worker_that_lost_the_lock_wrote_meanwhile(demo_runtime: Runtime) -> None:
    """A frozen worker wakes past its lease and commits while this one holds the lock: the version check
    refuses this turn's commit, and the turn is done again, so the customer still gets an answer."""
    store, threads = demo_runtime.store, demo_runtime.threads
    first = await threads.turn(message("ana", "hi", "m1"))
    real_load = store.load
    intruded: list[int] = []

    async def load_then_intrude(thread_id: str) -> Any:
        snapshot = await real_load(thread_id)
        if not intruded and snapshot is not None:  # the stale worker's write lands after our load
            from bots.types import ThreadEvent

            intruded.append(
                await store.commit(
                    thread_id,
                    snapshot.state,
                    [ThreadEvent("user", {"text": "from the stale worker"}, 2.0, "rest", "stale-1")],
                    expected_version=snapshot.version,
                    now=2.0,
                    wake_at=snapshot.state.get("wake_at"),
                )
            )
        return snapshot

    store.load = load_then_intrude  # type: ignore[method-assign]
    try:
        outcome = await threads.turn(message("ana", "where is my order?", "m2"))
    finally:
        store.load = real_load  # type: ignore[method-assign]
    assert intruded and outcome.outbound  # answered, on the second try
    texts = [e.event.data.get("text") for e in await store.events(first.thread_id) if e.event.kind == "user"]
    assert texts == ["hi", "from the stale worker", "where is my order?"]


async def test_replies_sent_when_a_stale_worker_wrote_meanwhile_are_sent_once_and_their_delivery_recorded(
    demo_runtime: Runtime,
) -> None:
    """A frozen worker wakes past its lease and commits between this turn's commit and the record of its
    replies' delivery: the replies are out already, so the turn is not done again (which would send them twice);
    the delivery is recorded after the stale worker's write, and the turn is shown like any other."""
    from bots.types import ThreadEvent

    store, threads = demo_runtime.store, demo_runtime.threads
    first = await threads.turn(message("ana", "hi", "m1"))
    sent: list[TurnOutcome] = []
    shown: list[TurnOutcome] = []

    async def observe(outcome: TurnOutcome) -> None:
        shown.append(outcome)

    async def deliver_while_a_stale_worker_writes(outcome: TurnOutcome) -> list[ThreadEvent]:
        sent.append(outcome)
        snapshot = await store.load(outcome.thread_id)
        assert snapshot is not None
        await store.commit(
            outcome.thread_id,
            snapshot.state,
            [ThreadEvent("user", {"text": "from the stale worker"}, 2.0, "rest", "stale-1")],
            expected_version=snapshot.version,
            now=2.0,
            wake_at=snapshot.state.get("wake_at"),
        )
        return [ThreadEvent("delivered", {"channel": "rest"}, 3.0, "rest")]

    threads.observers.append(observe)
    outcome = await threads.turn(message("ana", "where is my order?", "m2"), deliver_while_a_stale_worker_writes)
    assert len(sent) == 1 and outcome.outbound and not outcome.duplicate
    assert [o.thread_id for o in shown] == [first.thread_id]
    kinds_and_texts = [(e.event.kind, e.event.data.get("text")) for e in await store.events(first.thread_id)]
    assert kinds_and_texts[-2:] == [("user", "from the stale worker"), ("delivered", None)]
    assert [t for k, t in kinds_and_texts if k == "user"] == ["hi", "where is my order?", "from the stale worker"]
