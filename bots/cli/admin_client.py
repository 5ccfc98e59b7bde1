"""The running server's admin API from the command line (``forget``, ``followup``).

Commands that change threads go through the server: it is the only writer
of its store and caches what it serves, so a second writer would be
overwritten or would bring deleted data back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp

from bots.config import Config
from bots.errors import UserError

TIMEOUT_SECONDS = 60


def open_session(config: Config, config_path: Path) -> aiohttp.ClientSession:
    token = config.server.admin_token
    if not token:
        raise UserError(f"server.admin_token is empty in {config_path}: the admin API needs it")
    return aiohttp.ClientSession(
        headers={"Authorization": f"Bearer {token}"}, timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS)
    )


def server_url(config: Config, server: str | None) -> str:
    if server:
        return server.rstrip("/")
    host = config.server.host
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{config.server.port}"


class AdminClient:
    """The running server's admin API, every failure turned into one line for the user."""

    def __init__(self, session: aiohttp.ClientSession, url: str, config_path: Path) -> None:
        self.session, self.url, self.config_path = session, url, config_path

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        missing: str = "not found",
    ) -> dict[str, Any]:
        try:
            async with self.session.request(method, f"{self.url}{path}", params=params, json=body) as response:
                try:
                    answer = await response.json(content_type=None)
                except (ValueError, aiohttp.ContentTypeError):
                    answer = None
                status = response.status
        except aiohttp.InvalidURL:
            raise UserError(f"{self.url} is not a server URL (e.g. http://127.0.0.1:8080)") from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            reason = str(exc) or type(exc).__name__
            raise UserError(
                f"cannot reach the server at {self.url} ({reason}); is `threadline run` running? "
                "(with the server stopped, use --direct)"
            ) from None
        error = answer.get("error") if isinstance(answer, dict) else None
        if status in (200, 202) and isinstance(answer, dict):
            return answer
        if status == 401:
            raise UserError(
                f"the server at {self.url} refused the admin token: server.admin_token in "
                f"{self.config_path} is not the running server's"
            )
        if status == 403:
            raise UserError(f"the server at {self.url} has its admin API off ({error or 'no admin token'})")
        if status == 404 and isinstance(answer, dict) and error:
            raise UserError(missing)
        raise UserError(
            f"the server at {self.url} answered {status}" + (f": {error}" if error else "; is it a Threadline server?")
        )
