"""``threadline migrate-store``: copy every thread from one store to another, then check the copy.

The way from the embedded SQLite to PostgreSQL or Redis when a business
outgrows one process (and between any two stores). Each thread is copied
whole and atomically (snapshot, event log, identities, merge records), so
an interrupted run can simply be started again: threads already copied are
recognised and skipped. Webhook items received but not processed yet are
copied too, so nothing a customer sent is lost in the move, and so are the agent inbox's accounts and
conversation records (agents sign in again: sessions are signed with a key of each store). Link tokens
already used are not: links live 30 minutes, so move between visits.

Run it with the servers stopped: a thread written during the copy may be
copied as it was before that write.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from bots.config import load_config
from bots.errors import UserError
from bots.handoff.notify import OUTBOX
from bots.inbox.accounts import AGENT
from bots.store.base import ConflictError, ThreadDump, ThreadStore
from bots.store.factory import open_store, parse_store_url, sqlite_file
from bots.store.urls import redacted
from bots.threads.desk import CONVERSATION
from bots.types import InboxItem
from connectors.registry import channel_names

PAGE = 500
RECORD_KINDS = {AGENT: "agent accounts", CONVERSATION: "inbox conversations"}


@dataclass
class MigrationReport:
    copied: int = 0
    already_there: int = 0
    events: int = 0
    identities: int = 0
    inbox_items: int = 0
    records: dict[str, int] = field(default_factory=dict)  # per kind: copied, or the same already there
    mismatches: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        lines = [
            f"threads: {self.copied} copied, {self.already_there} already there",
            f"events: {self.events}; identities: {self.identities}; unprocessed webhook items: {self.inbox_items}",
            "; ".join(f"{what}: {self.records.get(kind, 0)}" for kind, what in RECORD_KINDS.items()),
        ]
        if self.mismatches:
            lines += [f"MISMATCH {m}" for m in self.mismatches[:50]]
            if len(self.mismatches) > 50:
                lines.append(f"... and {len(self.mismatches) - 50} more mismatches")
        else:
            lines.append(
                f"verified: every one of the {self.copied + self.already_there} threads has the same "
                "state, events, identities and merge records in both stores"
            )
        return lines


async def _thread_ids(store: ThreadStore) -> list[str]:
    ids: list[str] = []
    while page := await store.thread_ids(after=ids[-1] if ids else "", limit=PAGE):
        ids.extend(page)
    return ids


async def _differences(dump: ThreadDump, target: ThreadStore) -> str | None:
    """What differs between a source thread and its copy, None when they are the same.

    Everything is compared, not only counts: the snapshot (state, version, times), every event's content,
    the identities in order and the merge records.
    """
    thread_id = dump.snapshot.thread_id
    copy = await target.export_thread(thread_id)
    if copy is None:
        return f"{thread_id}: missing in the target"
    if len(copy.events) != len(dump.events) or copy.snapshot.version != dump.snapshot.version:
        return (
            f"{thread_id}: {len(dump.events)} events in the source, version {copy.snapshot.version} with "
            f"{len(copy.events)} events in the target"
        )
    if copy.events != dump.events:
        first = next(i for i, (a, b) in enumerate(zip(dump.events, copy.events, strict=False)) if a != b)
        return f"{thread_id}: event {first + 1} differs"
    if copy.snapshot != dump.snapshot:
        return f"{thread_id}: the state differs"
    if copy.wake_at != dump.wake_at:
        return f"{thread_id}: the wake-up time differs"
    if copy.identities != dump.identities:
        return f"{thread_id}: the identities differ"
    if sorted(copy.merged_from) != sorted(dump.merged_from):
        return f"{thread_id}: the merge records differ"
    return None


async def migrate(source: ThreadStore, target: ThreadStore, *, progress: bool = False) -> MigrationReport:
    """Copy every thread, unprocessed webhook item and inbox record from ``source`` to ``target``, then verify."""
    report = MigrationReport()
    ids = await _thread_ids(source)
    for thread_id in tqdm(ids, desc="copying threads", unit="thread", disable=not progress, file=sys.stderr):
        dump = await source.export_thread(thread_id)
        if dump is None:  # deleted since it was listed
            continue
        try:
            await target.import_thread(dump)
            report.copied += 1
        except ConflictError:  # copied by an earlier, interrupted run: checked below like the others
            report.already_there += 1
        report.events += len(dump.events)
        report.identities += len(dump.identities)
        difference = await _differences(dump, target)
        if difference is not None:
            report.mismatches.append(difference)
    # every channel's webhook inbox (the stores key items by channel), and the unsent hand-off notifications
    for channel in (*channel_names(), OUTBOX):
        pending = await source.pending_inbound(channel, limit=10_000_000)
        if pending:
            # keyed by the source's id: a second run stores them once; each keeps the person it concerns
            copies = [InboxItem(f"migrated:{item.id}", item.payload, item.person) for item in pending]
            stored = await target.enqueue_inbound(channel, copies, now=0.0)
            report.inbox_items += sum(1 for s in stored if s is not None)
    await _copy_records(source, target, report)
    copied = set(await _thread_ids(target))
    report.mismatches += [f"{thread_id}: missing in the target" for thread_id in ids if thread_id not in copied]
    return report


async def _copy_records(source: ThreadStore, target: ThreadStore, report: MigrationReport) -> None:
    """The inbox's agent accounts and conversation records; one the target has already must be the same."""
    for kind in RECORD_KINDS:
        for key, value in (await source.records(kind)).items():
            if await target.add_record(kind, key, value) == value:
                report.records[kind] = report.records.get(kind, 0) + 1
            else:
                report.mismatches.append(f"{kind} {key}: the target has another record")


def migrate_store(config_path: Path, *, source_url: str | None, target_url: str) -> int:
    config = load_config(config_path)
    source_url = source_url or config.store
    if source_url == target_url:
        raise UserError("--from and --to name the same store")
    if source_url.startswith("sqlite:"):
        # opening a SQLite file that is not there creates an empty one, whose "copy" would verify
        location = sqlite_file(parse_store_url(source_url)[0], config.data_dir)
        if not location.is_file():
            raise UserError(f"the source store {location} does not exist (is THREADLINE_DATA_DIR right?)")

    async def main() -> MigrationReport:
        source = open_store(source_url, config.data_dir)
        target = open_store(target_url, config.data_dir)
        await source.open()
        try:
            await target.open()
            try:
                return await migrate(source, target, progress=sys.stderr.isatty())
            finally:
                await target.close()
        finally:
            await source.close()

    print(f"copying {redacted(source_url)} -> {redacted(target_url)} (servers must be stopped)", file=sys.stderr)
    report = asyncio.run(main())
    for line in report.lines():
        print(line)
    if report.mismatches:
        print(
            "threadline: the copy does not match the source (see MISMATCH lines); the source is unchanged",
            file=sys.stderr,
        )
        return 1
    return 0
