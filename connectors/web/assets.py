"""The widget's files as a page's script tag loads them: compressed once, cached by browsers, revalidated.

``widget.js``, ``widget.css`` and the widget's texts are read and gzipped when the server starts (they do not
change while it runs), served with an ``ETag`` so a browser's revalidation is a 304 without a body, and gzipped to every
client that accepts it.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    etag: str
    content_type: str

    @classmethod
    def read(cls, path: Path, content_type: str) -> Asset:
        return cls.of(path.read_bytes(), content_type)

    @classmethod
    def of(cls, body: bytes, content_type: str) -> Asset:
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        return cls(body, gzip.compress(body, compresslevel=9, mtime=0), etag, content_type)

    def handler(self) -> Handler:
        async def serve(request: web.Request) -> web.StreamResponse:
            headers = {
                "ETag": self.etag,
                "Cache-Control": "public, max-age=300, must-revalidate",
                "Vary": "Accept-Encoding",
                "Access-Control-Allow-Origin": "*",
            }
            if self.etag in request.headers.get("If-None-Match", ""):
                return web.Response(status=304, headers=headers)
            if "gzip" in request.headers.get("Accept-Encoding", ""):
                headers["Content-Encoding"] = "gzip"
                return web.Response(body=self.gzipped, headers=headers, content_type=self.content_type, charset="utf-8")
            return web.Response(body=self.body, headers=headers, content_type=self.content_type, charset="utf-8")

        return serve
