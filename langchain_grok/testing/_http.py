"""A minimal HTTP/1.1 server on asyncio streams: parse requests, frame responses, keep alive.

Hand-written rather than `http.server` because the emulator needs what that module cannot give:
hundreds of idle keep-alive connections on one thread, responses streamed one chunk per SSE
event with a drain after each (so a vanished client is noticed at the next write), a delay
before the status line that a shutdown can cancel, and connections it can cut on purpose
without the terminating chunk. Only what httpx, `http.client` and `urllib` send is supported:
Content-Length or chunked request bodies, `Expect: 100-continue`, `Connection: close`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from typing import TYPE_CHECKING, Final
from urllib.parse import parse_qsl, urlsplit

if TYPE_CHECKING:
    from collections.abc import Mapping

MAX_LINE_BYTES: Final = 64 * 1024
MAX_HEADERS: Final = 100
MAX_BODY_BYTES: Final = 64 * 1024 * 1024

_TOKEN: Final = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_REQUEST_LINE: Final = re.compile(rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+) (\S+) HTTP/(1\.[01])\r?\n")
_HEX: Final = re.compile(rb"[0-9A-Fa-f]+")
_NO_BODY_STATUSES: Final = frozenset({204, 304})
_MAX_LEADING_BLANK_LINES: Final = 4


class HTTPProtocolError(Exception):
    """The peer did not speak HTTP/1.1; answer `status` with `message` and close."""

    def __init__(self, status: int, message: str) -> None:
        """Keep the status to answer with next to the message."""
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class HTTPRequest:
    """One parsed request; header names are lower case, repeated headers joined by `, `."""

    method: str
    target: str
    path: str
    query: dict[str, str]
    version: str
    headers: dict[str, str]
    body: bytes

    @property
    def keep_alive(self) -> bool:
        """Whether the connection may serve another request after this one."""
        tokens = {t.strip().lower() for t in self.headers.get("connection", "").split(",")}
        if "close" in tokens:
            return False
        return self.version == "1.1" or "keep-alive" in tokens


async def read_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> HTTPRequest | None:
    """Read one request off the connection.

    Args:
        reader: The connection's reader.
        writer: The connection's writer (only to answer `Expect: 100-continue`).

    Returns:
        The request, or None when the peer closed the connection between requests or mid-way.

    Raises:
        HTTPProtocolError: Malformed input; the caller answers and closes.
    """
    try:
        line = await _readline(reader)
        for _ in range(_MAX_LEADING_BLANK_LINES):  # RFC 9112 2.2: ignore stray CRLFs first
            if line.strip():
                break
            line = await _readline(reader)
        match = _REQUEST_LINE.fullmatch(line)
        if match is None:
            raise HTTPProtocolError(400, "malformed request line")
        method, target, version = (g.decode("latin-1") for g in match.groups())
        headers = await _read_headers(reader)
        if headers.get("expect", "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = await _read_body(reader, headers)
    except asyncio.IncompleteReadError:
        return None
    path, query = _split_target(target)
    return HTTPRequest(method, target, path, query, version, headers, body)


async def _readline(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readuntil(b"\n")
    except asyncio.LimitOverrunError as exc:
        raise HTTPProtocolError(431, "header line too long") from exc


async def _read_headers(reader: asyncio.StreamReader) -> dict[str, str]:
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADERS + 1):
        line = (await _readline(reader)).rstrip(b"\r\n")
        if not line:
            return headers
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.fullmatch(name):
            raise HTTPProtocolError(400, "malformed header line")
        key = name.decode("latin-1").lower()
        text = value.strip(b" \t").decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    raise HTTPProtocolError(431, "too many headers")


async def _read_body(reader: asyncio.StreamReader, headers: Mapping[str, str]) -> bytes:
    coding = headers.get("transfer-encoding", "").lower()
    if coding:
        if coding.rsplit(",", 1)[-1].strip() != "chunked":
            raise HTTPProtocolError(400, "unsupported transfer-encoding")
        return await _read_chunked(reader)
    length_text = headers.get("content-length")
    if length_text is None:
        return b""
    lengths = {part.strip() for part in length_text.split(",")}
    length_value = lengths.pop()
    if lengths or not length_value.isdigit():
        raise HTTPProtocolError(400, "invalid content-length")
    length = int(length_value)
    if length > MAX_BODY_BYTES:
        raise HTTPProtocolError(413, "request body too large")
    return await reader.readexactly(length)


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        size_text = (await _readline(reader)).split(b";", 1)[0].strip()
        if not _HEX.fullmatch(size_text):
            raise HTTPProtocolError(400, "malformed chunk size")
        size = int(size_text, 16)
        if size == 0:
            while (await _readline(reader)).strip():  # trailer fields, ignored
                pass
            return b"".join(parts)
        total += size
        if total > MAX_BODY_BYTES:
            raise HTTPProtocolError(413, "request body too large")
        parts.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise HTTPProtocolError(400, "malformed chunk")


def _split_target(target: str) -> tuple[str, dict[str, str]]:
    if target.startswith(("http://", "https://")):  # absolute-form, as sent to proxies
        parts = urlsplit(target)
        path, query = parts.path or "/", parts.query
    elif target.startswith("/"):
        path, _, query = target.partition("?")
    else:
        raise HTTPProtocolError(400, "unsupported request target")
    return path, dict(parse_qsl(query, keep_blank_values=True))


class ResponseWriter:
    """Writes one response: either whole (Content-Length) or as a chunked stream.

    Every write is followed by a drain, so a peer that went away raises `ConnectionError` (an
    `OSError`) at the next write instead of filling a buffer nobody reads.
    """

    def __init__(self, writer: asyncio.StreamWriter, *, keep_alive: bool) -> None:
        """Wrap the connection's writer for one request."""
        self._writer = writer
        self._keep_alive = keep_alive
        self.status: int | None = None
        self.finished = False
        self.aborted = False

    @property
    def reusable(self) -> bool:
        """Whether the connection can carry the next request."""
        return self._keep_alive and self.finished and not self.aborted

    async def send(self, status: int, headers: Mapping[str, str], body: bytes) -> None:
        """Send a complete response with a Content-Length (or no body for 204/304)."""
        framing = {} if status in _NO_BODY_STATUSES else {"content-length": str(len(body))}
        self._writer.write(self._head(status, headers, framing))
        if status not in _NO_BODY_STATUSES:
            self._writer.write(body)
        await self._writer.drain()
        self.finished = True

    async def start_stream(self, status: int, headers: Mapping[str, str]) -> None:
        """Send the status line and headers of a chunked response."""
        self._writer.write(self._head(status, headers, {"transfer-encoding": "chunked"}))
        await self._writer.drain()

    async def send_chunk(self, data: bytes) -> None:
        """Send one chunk (empty data is skipped: it would end the body)."""
        if data:
            self._writer.write(b"%x\r\n%b\r\n" % (len(data), data))
            await self._writer.drain()

    async def end_stream(self) -> None:
        """Send the terminating zero-length chunk."""
        self._writer.write(b"0\r\n\r\n")
        await self._writer.drain()
        self.finished = True

    def abort(self) -> None:
        """Drop the TCP connection now, without finishing the response."""
        self.aborted = True
        self._writer.transport.abort()

    def _head(self, status: int, headers: Mapping[str, str], framing: Mapping[str, str]) -> bytes:
        self.status = status
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = "Unknown"
        given = {name.lower() for name in headers}
        lines = [f"HTTP/1.1 {status} {reason}"]
        if "date" not in given:
            lines.append(f"date: {formatdate(usegmt=True)}")
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines += [f"{name}: {value}" for name, value in framing.items() if name not in given]
        if "connection" not in given:
            lines.append(f"connection: {'keep-alive' if self._keep_alive else 'close'}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


Handler = Callable[[HTTPRequest, ResponseWriter], Awaitable[None]]


async def serve_connection(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, handler: Handler
) -> None:
    """Serve requests on one connection until the peer closes it or it cannot be reused.

    Never raises for a peer's misbehaviour: malformed input gets a 400-class answer and a close,
    a vanished peer just ends the loop. A response left unfinished (cut on purpose, failed
    write, or cancellation at shutdown) aborts the connection instead of closing it cleanly.

    Args:
        reader: The connection's reader.
        writer: The connection's writer.
        handler: Called once per request; it must answer through the `ResponseWriter`.
    """
    graceful = False
    try:
        while True:
            try:
                request = await read_request(reader, writer)
            except HTTPProtocolError as exc:
                await _send_protocol_error(writer, exc)
                graceful = True
                return
            if request is None:
                graceful = True
                return
            response = ResponseWriter(writer, keep_alive=request.keep_alive)
            await handler(request, response)
            if not response.reusable:
                graceful = response.finished and not response.aborted
                return
    except OSError:
        return
    finally:
        _close(writer, abort=not graceful)


async def _send_protocol_error(writer: asyncio.StreamWriter, exc: HTTPProtocolError) -> None:
    response = ResponseWriter(writer, keep_alive=False)
    body = f"{exc}\n".encode()
    with contextlib.suppress(OSError):
        await response.send(exc.status, {"content-type": "text/plain; charset=utf-8"}, body)


def _close(writer: asyncio.StreamWriter, *, abort: bool) -> None:
    """Close the connection: gracefully (flush, FIN) normally, at once when cut or cancelled."""
    if abort:
        writer.transport.abort()
    else:
        writer.close()
