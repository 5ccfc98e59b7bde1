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
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from typing import Any

from aiohttp import web

from bots.flow.engine import Turn
from bots.flow.state import ThreadState
from bots.followups import Campaign, CampaignError, eligible, parse_campaign
from bots.server.admin import RUNTIME, admin_body, admin_guard
from bots.threads.routing import Route
from bots.types import ThreadEvent

log = logging.getLogger(__name__)
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
        return {
            "campaign": self.campaign.as_json(),
            "dry_run": self.dry_run,
            "status": "done" if self.finished_at is not None else "running",
            "counts": counts,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "targets": [asdict(t) for t in self.targets],
        }


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
            page = await self.runtime.threads.thread_ids(after=after, limit=PAGE)
            for thread_id in page:
                yield thread_id
            if len(page) < PAGE:
                return
            after = page[-1]

    def _tag(self, campaign: Campaign) -> str | None:
        flow = self.runtime.bot.flows.get(campaign.flow) if campaign.flow else None
        return (flow.message_tag if flow else None) or campaign.tag

    async def plan(self, campaign: Campaign) -> list[Target]:
        runtime, now = self.runtime, time.time()
        targets: list[Target] = []
        async for thread_id in self._threads():
            state = await runtime.threads.state(thread_id)
            if state is None:
                continue
            reason = eligible(runtime.pipeline.engine, state, campaign, now)
            if reason is not None:
                targets.append(Target(thread_id, "skipped", None, reason))
                continue
            route = await runtime.threads.plan_route(thread_id, tag=self._tag(campaign))
            if route is None or route.chosen is None:
                targets.append(Target(thread_id, "skipped", None, _refusal(route)))
            else:
                targets.append(Target(thread_id, "would_send", route.chosen.channel, route.chosen.reason))
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

        def make_turn(state: ThreadState, now: float, route: Route) -> tuple[Turn, str] | str:
            reason = eligible(engine, state, campaign, now)
            if reason is not None:
                return reason
            if route.chosen is None:
                return _refusal(route)
            return engine.follow_up(
                state,
                now,
                campaign=campaign.name,
                channel=route.chosen.channel,
                flow=campaign.flow,
                texts=campaign.texts,
            ), route.chosen.channel

        result = await runtime.threads.follow_up(target.thread_id, make_turn, tag=self._tag(campaign))
        if isinstance(result, str):
            target.status, target.channel, target.reason = "skipped", None, result
            return
        _outcome, reach, sent = result
        target.channel = reach.channel
        if sent.ok:
            target.status, target.reason = "sent", reach.reason
        else:
            target.status, target.reason = "failed", f"send_failed: {sent.reason or 'no reply was sent'}"
            # not received: a later run of the campaign may try this thread again
            await runtime.threads.amend(
                target.thread_id, lambda state, now: _unmark(state, campaign.name, now, target.reason)
            )


def _refusal(route: Route | None) -> str:
    """Why nobody can be reached, in the campaign report's words."""
    if route is None:
        return "gone: the thread was merged or deleted since"
    if not route.considered:
        return "no_channel: no channel identity to reach them on"
    return "no_channel: " + "; ".join(f"{r.channel} refused ({r.reason})" for r in route.considered)


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
        return web.json_response(
            {
                "error": f"no campaign {request.match_info['name']} ran since the server "
                "started (each thread's log still records what it got)"
            },
            status=404,
        )
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
