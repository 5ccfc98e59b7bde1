"""HTTP/1.1 spoken byte by byte, so a fuzzed request can carry what no HTTP client library would send
(undecodable header bytes, odd paths), and a response is checked by the standard library's strict parser."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import io
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RawRequest:
    method: str
    target: bytes  # the path and query exactly as sent
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""

    def encode(self) -> bytes:
        lines = [self.method.encode() + b" " + self.target + b" HTTP/1.1", b"Host: fuzz.example"]
        lines += [name + b": " + value for name, value in self.headers]
        lines += [b"Connection: close", b"Content-Length: " + str(len(self.body)).encode()]
        return b"\r\n".join(lines) + b"\r\n\r\n" + self.body


@dataclass(frozen=True)
class RawResponse:
    status: int
    content_type: str
    body: bytes


class _Replay:
    """What ``http.client.HTTPResponse`` reads from: the bytes the server sent."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def makefile(self, mode: str) -> io.BytesIO:
        return io.BytesIO(self.data)


async def exchange(host: str, port: int, request: RawRequest) -> RawResponse:
    """Send one request on a new connection and read the answer until the server closes it."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request.encode())
        with contextlib.suppress(ConnectionError):  # the server may answer (413, 400) before it read the body
            await writer.drain()
        chunks = []
        try:
            while chunk := await reader.read(65536):
                chunks.append(chunk)
        except ConnectionError:
            pass  # a reset after the answer: what came before it is the answer
    finally:
        writer.close()
    return parse(b"".join(chunks), request.method)


def parse(raw: bytes, method: str) -> RawResponse:
    """The status, content type and body; raises if the bytes are not one well-formed HTTP/1.1 response."""
    response = http.client.HTTPResponse(_Replay(raw), method=method)  # type: ignore[arg-type]
    response.begin()
    body = response.read()  # checks Content-Length or the chunked framing
    return RawResponse(response.status, response.headers.get_content_type(), body)
