"""A sans-I/O decoder for `text/event-stream` bodies.

It follows the WHATWG "event stream interpretation" rules rather than the shape xAI happens to
send today, because the recordings show the framing has already changed once (Chat Completions
is data-only, Responses adds `event:` lines) and proxies re-chunk bodies at arbitrary byte
boundaries. Keeping it free of I/O lets the sync and async clients share it, and lets the tests
throw arbitrary chunkings at it.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from langchain_grok._constants import MAX_SSE_EVENT_BYTES

__all__ = ["SSEDecodeError", "SSEDecoder", "ServerSentEvent"]


class SSEDecodeError(ValueError):
    """The byte stream cannot be a sane event stream (an event over the size cap)."""


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One dispatched event.

    Attributes:
        data: The `data` lines joined with newlines (the last newline removed, per the spec).
        event: The `event` field; "message" when the server sent none.
        id: The last event id seen so far in the stream, if any.
        retry: The reconnection time in milliseconds from a `retry` field of this event.
    """

    data: str
    event: str = "message"
    id: str | None = None
    retry: int | None = None


class SSEDecoder:
    """Turns body chunks into events; feed it bytes in whatever pieces the network delivers.

    A line may be terminated by CRLF, LF or CR. A CR at the very end of a chunk is ambiguous
    until the next chunk shows whether an LF follows, which is why `_pending_cr` exists.

    The unfinished line is kept as a list of pieces and joined only once a line end arrives:
    re-joining it on every chunk made a long line fed in small pieces cost quadratic time
    (a server trickling one 8 MiB line in 1 KiB chunks kept a core busy for tens of seconds).
    """

    __slots__ = (
        "_data",
        "_data_size",
        "_event",
        "_failure",
        "_last_id",
        "_line_parts",
        "_line_size",
        "_max_event_size",
        "_pending_cr",
        "_retry",
        "_started",
        "_text_decoder",
    )

    def __init__(self, max_event_size: int = MAX_SSE_EVENT_BYTES) -> None:
        """Create a decoder.

        Args:
            max_event_size: Upper bound, in characters, on one event's data plus any line still
                being received. A server (or a proxy) that never ends a line would otherwise
                grow the buffer without limit.
        """
        self._max_event_size = max_event_size
        self._text_decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._line_parts: list[str] = []
        self._line_size = 0
        self._pending_cr = False
        self._started = False
        self._data: list[str] = []
        self._data_size = 0
        self._event = ""
        self._last_id: str | None = None
        self._retry: int | None = None
        self._failure: str | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode one network chunk.

        Returns:
            The events completed by this chunk, in order (often none, often several).

        Raises:
            SSEDecodeError: An event, or a line still being received, exceeds the size cap.
                Events completed before the oversize one are returned first; the error is
                raised by the next call, so nothing already received is lost.
        """
        return self._feed_text(self._text_decoder.decode(chunk))

    def single_data(self, chunk: bytes) -> str | None:
        """The data of `chunk` when it is exactly one event and nothing is pending.

        That is how xAI sends its streams (one event per network read): `data: ...` alone on
        Chat Completions, `event: <type>` then `data: ...` on the Responses API, whose JSON
        repeats the type (so the `event` field is not returned). This skips the line machinery
        for the common case; anything else returns None and must go through `feed`. The stream
        state is unchanged either way.
        """
        if (
            not self._started
            or self._pending_cr
            or self._line_parts
            or self._data
            or self._event
            or self._failure is not None
            or not chunk.endswith(b"\n\n")
            or b"\r" in chunk
            or len(chunk) > self._max_event_size
        ):
            return None
        if chunk.startswith(b"data: "):
            start, lines = 6, 2  # the event's own line end and the blank line
        elif chunk.startswith(b"event: "):
            start = chunk.find(b"\n") + 1
            if not chunk.startswith(b"data: ", start):
                return None
            start, lines = start + 6, 3
        else:
            return None
        if chunk.count(b"\n") != lines:
            return None
        try:
            return chunk[start:-2].decode()
        except UnicodeDecodeError:
            return None  # the full path decodes with replacement characters

    def flush(self) -> list[ServerSentEvent]:
        """Signal the end of the body.

        A final event that lacks its trailing blank line is still dispatched: some servers and
        proxies drop the last newline, and losing the last event would look like a truncated
        answer.
        """
        events = self._feed_text(self._text_decoder.decode(b"", final=True))
        if self._failure is not None:
            if events:
                return events
            raise SSEDecodeError(self._failure)
        if self._line_parts:
            self._process_line(self._take_line(), events)
        self._dispatch(events)
        return events

    def _normalise_start(self, text: str) -> str:
        """Drop a leading BOM, and an LF that completes a CRLF split across two chunks."""
        if not self._started and text:
            self._started = True
            if text[0] == "\ufeff":
                text = text[1:]
        if self._pending_cr and text:
            self._pending_cr = False
            if text[0] == "\n":
                text = text[1:]
        return text

    def _feed_text(self, text: str) -> list[ServerSentEvent]:
        if self._failure is not None:
            raise SSEDecodeError(self._failure)
        text = self._normalise_start(text)
        if not text:
            return []
        if text[-1] == "\r":
            self._pending_cr = True
        if "\n" not in text and "\r" not in text:
            self._extend_line(text)
            return []
        events: list[ServerSentEvent] = []
        for line in self._complete_lines(text):
            self._process_line(line, events)
            if self._failure is not None:
                break
        if self._data_size + self._line_size > self._max_event_size:
            self._failure = self._too_large_message()
        if self._failure is not None and not events:
            raise SSEDecodeError(self._failure)
        return events

    def _complete_lines(self, text: str) -> list[str]:
        """The lines `text` completes; its unfinished last line becomes the new buffer."""
        if self._line_parts:
            text = self._take_line() + text
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.split("\n")
        rest = lines.pop()
        if rest:
            self._line_parts.append(rest)
            self._line_size = len(rest)
        return lines

    def _extend_line(self, text: str) -> None:
        """Still inside one line: keep the piece without re-scanning what came before."""
        self._line_parts.append(text)
        self._line_size += len(text)
        if self._data_size + self._line_size > self._max_event_size:
            self._failure = self._too_large_message()
            raise SSEDecodeError(self._failure)

    def _take_line(self) -> str:
        """The unfinished line received so far, as one string; the buffer is emptied."""
        line = "".join(self._line_parts)
        self._line_parts = []
        self._line_size = 0
        return line

    def _process_line(self, line: str, events: list[ServerSentEvent]) -> None:
        if not line:
            self._dispatch(events)
            return
        if line[0] == ":":
            return
        name, sep, value = line.partition(":")
        if sep and value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
            self._data_size += len(value) + 1
            if self._data_size > self._max_event_size:
                self._failure = self._too_large_message()
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self._last_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)

    def _dispatch(self, events: list[ServerSentEvent]) -> None:
        if self._data:
            events.append(
                ServerSentEvent(
                    data="\n".join(self._data),
                    event=self._event or "message",
                    id=self._last_id,
                    retry=self._retry,
                )
            )
        self._data = []
        self._data_size = 0
        self._event = ""
        self._retry = None

    def _too_large_message(self) -> str:
        return f"Server-sent event exceeds the size cap of {self._max_event_size} characters"
