"""``threadline followup``: send a flow or a message to the threads a condition selects, through the server.

A dry run prints every thread with the channel it would go through, or why
it is skipped. A real run is started on the server (which paces it and
re-checks every thread just before sending) and followed here until done.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bots.cli.admin_client import AdminClient, open_session, server_url
from bots.config import load_config
from bots.errors import UserError

POLL_SECONDS = 0.5


def _table(report: dict[str, Any]) -> str:
    rows = [(t["thread_id"], t["status"], t["channel"] or "-", t["reason"]) for t in report["targets"]]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(("thread", "status", "channel"))]
    lines = [f"{'thread':<{widths[0]}}  {'status':<{widths[1]}}  {'channel':<{widths[2]}}  why"]
    lines += [f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}" for r in rows]
    counts = ", ".join(f"{n} {status}" for status, n in sorted(report["counts"].items())) or "no threads"
    lines.append(f"campaign {report['campaign']['name']}{' (dry run)' if report['dry_run'] else ''}: {counts}")
    return "\n".join(lines)


async def _run(url: str, session_args: tuple[Any, Path], body: dict[str, Any]) -> dict[str, Any]:
    config, config_path = session_args
    async with open_session(config, config_path) as session:
        client = AdminClient(session, url, config_path)
        report = await client.call("POST", "/api/followups", body=body)
        while report["status"] == "running":
            await asyncio.sleep(POLL_SECONDS)
            report = await client.call(
                "GET",
                f"/api/followups/{quote(body['name'], safe='')}",
                missing=f"the server no longer knows campaign {body['name']}",
            )
        return report


def followup(
    config_path: Path,
    *,
    name: str,
    when: str,
    flow: str | None,
    text: str | None,
    dry_run: bool,
    rate_per_minute: float,
    limit: int | None,
    tag: str | None,
    server: str | None,
    as_json: bool,
) -> int:
    if (flow is None) == (text is None):
        raise UserError("give --flow NAME or --text TEXT")
    config = load_config(config_path)
    body: dict[str, Any] = {"name": name, "when": when, "dry_run": dry_run, "rate_per_minute": rate_per_minute}
    if flow is not None:
        body["flow"] = flow
    if text is not None:
        try:  # a JSON object gives one text per language
            parsed = json.loads(text)
            body["text"] = parsed if isinstance(parsed, dict) else text
        except ValueError:
            body["text"] = text
    if limit is not None:
        body["limit"] = limit
    if tag is not None:
        body["tag"] = tag
    report = asyncio.run(_run(server_url(config, server), (config, config_path), body))
    sys.stdout.write((json.dumps(report, ensure_ascii=False, indent=2) if as_json else _table(report)) + "\n")
    return 0
