"""Follow-up campaigns on a running server: plan (dry run), send at a steady pace, report per thread.

``POST /api/followups`` with ``"dry_run": true`` lists every thread with
what it would get and through which channel, or why it is skipped. Without
it the campaign runs in the background at ``rate_per_minute``; ``GET
/api/followups/{name}`` reports progress. One campaign runs at a time.

The channel is the one allowed right now: Messenger inside the 24-hour
window or with an allowed message tag, otherwise the website, live in an
open chat window or waiting for the visitor's next visit. Each send is
decided again under the thread's lock, so an opt-out that arrives mid-run
is honoured.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any, AsyncIterator

from aiohttp import web

from bots.flow.engine import Turn
from bots.flow.state import ThreadState
from bots.followups import MESSENGER_CHANNELS, Campaign, CampaignError, eligible, parse_campaign
from bots.pipeline import TurnOutcome
from bots.server.admin import MESSENGER, RUNTIME, WEB, admin_body, admin_guard
from bots.types import Identity, ThreadEvent
from connectors.messenger.policy import decide

log = logging.getLogger(__name__)
WEB_CHANNELS = ("web", "customer")
PAGE = 500


@dataclass
class Target:
    thread_id: str
    status: str  # would_send / skipped (dry run); sent / skipped / failed / pending (real run)
    channel: str | None = None
    reason: str = ""


@dataclass
class CampaignRun:
    campaign: Campaign
    dry_run: bool
    started_at: float
    targets: list[Target] = field(default_factory=list)
    finished_at: float | None = None

    def report(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for target in self.targets:
            counts[target.status] = counts.get(target.status, 0) + 1
        return {"campaign": self.campaign.as_json(), "dry_run": self.dry_run,
                "status": "done" if self.finished_at is not None else "running", "counts": counts,
                "started_at": self.started_at, "finished_at": self.finished_at,
                "targets": [asdict(t) for t in self.targets]}


class FollowupRunner:
    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.runs: dict[str, CampaignRun] = {}
        self.task: asyncio.Task[None] | None = None
        self.sleep = asyncio.sleep  # the pacing's wait (tests record it instead of waiting)
        self.starting = False

    @property
    def runtime(self):  # type: ignore[no-untyped-def]
        return self.app[RUNTIME]

    async def _threads(self) -> AsyncIterator[str]:
        after = ""
        while True:
            page = await self.runtime.store.thread_ids(after=after, limit=PAGE)
            for thread_id in page:
                yield thread_id
            if len(page) < PAGE:
                return
            after = page[-1]

    def _tag(self, campaign: Campaign) -> str | None:
        flow = self.runtime.bot.flows.get(campaign.flow) if campaign.flow else None
        return (flow.message_tag if flow else None) or campaign.tag

    def route(self, state: ThreadState, identities: list[Identity], campaign: Campaign, now: float,
              live_tabs: int) -> tuple[str | None, str]:
        """The channel allowed right now, and why; (None, reason) when there is none."""
        refusal = ""
        if MESSENGER in self.app and any(i.channel in MESSENGER_CHANNELS for i in identities):
            seen = [state.last_inbound_by_channel[c] for c in MESSENGER_CHANNELS if c in state.last_inbound_by_channel]
            decision = decide(max(seen, default=None), now, tag=self._tag(campaign))
            if decision.allowed:
                return "messenger", ("messenger_window: within 24 hours of their last Messenger message"
                                     if decision.tag is None else f"messenger_tag: message tag {decision.tag}")
            refusal = decision.reason
        if WEB in self.app and any(i.channel in WEB_CHANNELS for i in identities):
            if live_tabs:
                return "web", "web_online: shown live in their open chat window"
            return "web", "web_queued: shown when they next open the chat on the website" + (
                f" (Messenger: {refusal.split(':')[0]})" if refusal else "")
        return None, f"no_channel: Messenger refused ({refusal})" if refusal else (
            "no_channel: no Messenger or website identity to reach them on")

    async def _live_tabs(self, thread_id: str) -> int:
        return await self.app[WEB].hub.online(thread_id) if WEB in self.app else 0

    async def plan(self, campaign: Campaign) -> list[Target]:
        runtime, now = self.runtime, time.time()
        targets: list[Target] = []
        async for thread_id in self._threads():
            snapshot = await runtime.store.load(thread_id)
            if snapshot is None:
                continue
            state = ThreadState.from_json(snapshot.state)
            reason = eligible(runtime.pipeline.engine, state, campaign, now)
            if reason is not None:
                targets.append(Target(thread_id, "skipped", None, reason))
                continue
            channel, why = self.route(state, await runtime.store.identities(thread_id), campaign, now,
                                      await self._live_tabs(thread_id))
            targets.append(Target(thread_id, "would_send" if channel else "skipped", channel, why))
        return targets

    async def start(self, campaign: Campaign) -> CampaignRun:
        if self.starting or (self.task is not None and not self.task.done()):
            raise CampaignError("another campaign is running; wait for it to finish")
        self.starting = True  # taken before the first await: two requests cannot both pass the check
        try:
            run = CampaignRun(campaign, dry_run=False, started_at=time.time())
            run.targets = await self.plan(campaign)
        except BaseException:
            self.starting = False
            raise
        for target in run.targets:
            if target.status == "would_send":
                target.status = "pending"
        self.runs[campaign.name] = run
        self.task = asyncio.create_task(self._send_all(run))
        self.starting = False
        return run

    async def _send_all(self, run: CampaignRun) -> None:
        interval = 60.0 / run.campaign.rate_per_minute
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        sent = 0
        try:
            for target in run.targets:
                if target.status != "pending":
                    continue
                if run.campaign.limit is not None and sent >= run.campaign.limit:
                    target.status, target.reason = "skipped", "over_limit: the campaign's limit was reached"
                    continue
                await self.sleep(max(0.0, next_at - loop.time()))  # the pace: rate_per_minute at most
                next_at = loop.time() + interval
                try:
                    await self._send(run.campaign, target)
                except Exception as exc:  # one thread's failure must not stop the campaign
                    log.exception("follow-up %s to %s failed", run.campaign.name, target.thread_id)
                    target.status, target.reason = "failed", f"error: {type(exc).__name__}: {exc}"
                if target.status == "sent":
                    sent += 1
        finally:
            run.finished_at = time.time()
            counts = run.report()["counts"]
            log.info("follow-up campaign %s done: %s", run.campaign.name, counts)

    async def _send(self, campaign: Campaign, target: Target) -> None:
        runtime = self.runtime
        engine = runtime.pipeline.engine
        identities = await runtime.store.identities(target.thread_id)
        live_tabs = await self._live_tabs(target.thread_id)
        chosen: dict[str, str | None] = {}

        def make_turn(state: ThreadState, now: float) -> tuple[Turn, str] | str:
            reason = eligible(engine, state, campaign, now)
            if reason is not None:
                return reason
            channel, why = self.route(state, identities, campaign, now, live_tabs)
            if channel is None:
                return why
            chosen.update(channel=channel, why=why)
            return engine.follow_up(state, now, campaign=campaign.name, channel=channel, flow=campaign.flow,
                                    texts=campaign.texts), channel

        delivery: dict[str, Any] = {}

        async def deliver(outcome: TurnOutcome) -> list[ThreadEvent] | None:
            if chosen.get("channel") == "messenger":
                snapshot = await runtime.store.load(outcome.thread_id)
                state = snapshot.state if snapshot else {}
                result, events = await self.app[MESSENGER].send_outside_turn(
                    outcome.thread_id, state, outcome.outbound, tag=outcome.message_tag or campaign.tag)
                delivery.update(result)
                return events
            await self.app[WEB].deliver(outcome)
            delivery["sent"] = True
            return None

        result = await runtime.pipeline.follow_up(target.thread_id, make_turn, deliver)
        if isinstance(result, str):
            target.status, target.channel, target.reason = "skipped", None, result
        elif delivery.get("sent"):
            target.status, target.channel, target.reason = "sent", chosen["channel"], str(chosen["why"])
        else:
            target.status, target.channel = "failed", chosen.get("channel")
            target.reason = f"send_failed: {delivery.get('reason', 'no reply was sent')}"
            # not received: a later run of the campaign may try this thread again
            await runtime.pipeline.amend(target.thread_id, lambda state, now: _unmark(state, campaign.name, now,
                                                                                      target.reason))


def _unmark(state: ThreadState, campaign: str, now: float, reason: str) -> list[ThreadEvent]:
    state.followups.pop(campaign, None)
    return [ThreadEvent("followup", {"campaign": campaign, "status": "failed", "reason": reason}, now)]


FOLLOWUPS = web.AppKey("followups", FollowupRunner)


async def create(request: web.Request) -> web.Response:
    body, refused = await admin_body(request)
    if refused is not None:
        return refused
    runner = request.app[FOLLOWUPS]
    try:
        campaign = parse_campaign(body, request.app[RUNTIME].bot)
        dry_run = body.get("dry_run", False)
        if not isinstance(dry_run, bool):
            raise CampaignError("'dry_run' must be true or false")
        if dry_run:
            run = CampaignRun(campaign, dry_run=True, started_at=time.time())
            run.targets = await runner.plan(campaign)
            run.finished_at = time.time()
            return web.json_response(run.report())
        run = await runner.start(campaign)
    except CampaignError as exc:
        status = 409 if "running" in str(exc) else 400
        return web.json_response({"error": str(exc)}, status=status)
    return web.json_response(run.report(), status=202)


async def show(request: web.Request) -> web.Response:
    if (refused := admin_guard(request)) is not None:
        return refused
    run = request.app[FOLLOWUPS].runs.get(request.match_info["name"])
    if run is None:
        return web.json_response({"error": f"no campaign {request.match_info['name']} ran since the server "
                                           "started (each thread's log still records what it got)"}, status=404)
    return web.json_response(run.report())


def install(app: web.Application) -> None:
    app[FOLLOWUPS] = FollowupRunner(app)
    app.router.add_post("/api/followups", create)
    app.router.add_get("/api/followups/{name}", show)

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        yield
        task = app[FOLLOWUPS].task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    app.cleanup_ctx.append(lifetime)
