"""A client's own mistakes and departures are one line in the log, not an ERROR with a traceback.

aiohttp logs a malformed or over-long request line, or a bad header, as "Error handling request" with the
parser's traceback, although it answers the client with a 400 and nothing on our side failed. A client that
disconnects while its body is read surfaces in a handler as a connection error. Both say something about the
client, so they are logged once, as a warning or info line, and real failures stay ERRORs.
"""

from __future__ import annotations

import logging

from aiohttp import http_exceptions

CLIENT_ERRORS = (http_exceptions.HttpProcessingError,)


class ClientErrorLines(logging.Filter):
    """On ``aiohttp.server``: a request the parser refused becomes a one-line warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, CLIENT_ERRORS):
            message = str(getattr(error, "message", "") or error).splitlines()[0][:200]
            record.msg, record.args = (
                "%s: refused a malformed request (%s: %s)",
                (record.getMessage(), type(error).__name__, message),
            )
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True


def quiet_client_errors() -> None:
    """Install the filter once (every application of this process shares aiohttp's logger)."""
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, ClientErrorLines) for f in server_log.filters):
        server_log.addFilter(ClientErrorLines())
