"""A lean xAI-compatible HTTP/1.1 server for benchmarks (stdlib only, one asyncio loop).

It is built for speed, not fidelity (that is `langchain_grok.testing.FakeXAIServer`'s job):
every reply is serialised once and cached as bytes, so serving a request costs one small
`json.loads` of the request body and one `transport.write`. It speaks:

- `POST /v1/chat/completions` with `"stream": false`: the `chat.completion` body of recording
  cc01 (grok-4.3, with `reasoning_content` and the full usage object);
- the same with `"stream": true`: an SSE stream in the exact chunk shape of recording cc02
  (`chat.completion.chunk` with id/object/created/model/choices/system_fingerprint/service_tier,
  role on the first delta, `finish_reason` only on the finish chunk, usage in a last
  `choices: []` chunk, then `data: [DONE]`), sent with chunked transfer encoding, one event per
  HTTP chunk as api.x.ai does. The number of content chunks is read from the last user
  message, `"n=2000"` (default 20);
- `POST /v1/responses` (Responses API), plain and streamed, in the shapes of recordings rs01
  and rs02 (`event:` lines; `response.created` ... `response.output_text.delta` x n ...
  `response.completed` with the usage; no `[DONE]`), for the Responses-API contenders;
- `GET /stats`: requests served, chunks streamed and this process's CPU time, so the runner can
  show that the server was never the bottleneck.

HTTP/1.1 keep-alive and pipelining are supported; request bodies must carry Content-Length.
Run `python bench/server.py [--port 0]`; it prints `READY <port>` once listening.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from typing import Any, Final

MODEL: Final = "grok-4.3"
FINGERPRINT: Final = "fp_eb3c003fc66c14ed"
COMPLETION_ID: Final = "90807bcd-2c53-997c-a49c-32249e695133"
STREAM_ID: Final = "3a946c8f-98f8-9c0e-85e9-a4bdcd618381"
CREATED: Final = 1780935029
DEFAULT_CHUNKS: Final = 20
MAX_CHUNKS: Final = 1_000_000
MAX_HEAD: Final = 64 * 1024
MAX_BODY: Final = 16 * 1024 * 1024
# Short, token-like pieces; the reply of n chunks is WORDS cycled.
WORDS: Final = (
    " The",
    " sky",
    " is",
    " blue",
    " because",
    " of",
    " Rayleigh",
    " scattering",
    ",",
    " and",
    " 42",
    ".",
)

USAGE: Final[dict[str, Any]] = {
    "prompt_tokens": 137,
    "completion_tokens": 7,
    "total_tokens": 270,
    "prompt_tokens_details": {
        "text_tokens": 137,
        "audio_tokens": 0,
        "image_tokens": 0,
        "cached_tokens": 128,
    },
    "completion_tokens_details": {
        "reasoning_tokens": 126,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
    "num_sources_used": 0,
    "cost_in_usd_ticks": 3693500,
}


def _dumps(obj: Any) -> bytes:
    # Compact separators, as api.x.ai sends.
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def expected_text(n: int) -> str:
    """The content a stream of `n` chunks carries (clients check it)."""
    return "".join(WORDS[i % len(WORDS)] for i in range(n))


def completion_json() -> bytes:
    """The non-streaming reply: recording cc01's shape."""
    usage = dict(USAGE, completion_tokens=1, total_tokens=254, cost_in_usd_ticks=3293500)
    usage["completion_tokens_details"] = dict(
        USAGE["completion_tokens_details"], reasoning_tokens=116
    )
    return _dumps(
        {
            "id": COMPLETION_ID,
            "object": "chat.completion",
            "created": CREATED + 1,
            "model": MODEL,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": "4",
                        "reasoning_content": 'The question is "What\'s 2 + 2?" This is a '
                        "straightforward math question. The answer is 4.\n",
                        "refusal": None,
                    },
                    "finish_reason": "stop",
                }
            ],
            "usage": usage,
            "system_fingerprint": FINGERPRINT,
            "service_tier": "default",
        }
    )


def _chunk(choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    chunk: dict[str, Any] = {
        "id": STREAM_ID,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": MODEL,
        "choices": choices,
    }
    chunk.update(extra)
    chunk["system_fingerprint"] = FINGERPRINT
    chunk["service_tier"] = "default"
    return chunk


def stream_events(n: int) -> list[bytes]:
    """The SSE events of a reply of `n` content chunks (recording cc02's shape)."""
    events: list[dict[str, Any]] = []
    for i in range(n):
        delta: dict[str, Any] = {"content": WORDS[i % len(WORDS)]}
        if i == 0:
            delta["role"] = "assistant"
        events.append(_chunk([{"index": 0, "delta": delta}]))
    events.append(_chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}]))
    reasoning = USAGE["completion_tokens_details"]["reasoning_tokens"]
    usage = dict(USAGE, completion_tokens=n, total_tokens=USAGE["prompt_tokens"] + n + reasoning)
    events.append(_chunk([], usage=usage))
    out = [b"data: " + _dumps(event) + b"\n\n" for event in events]
    out.append(b"data: [DONE]\n\n")
    return out


RESPONSE_ID: Final = "006cb394-e479-972b-b41e-422dbefebb96"
RESPONSES_USAGE: Final[dict[str, Any]] = {
    "input_tokens": 199,
    "input_tokens_details": {"cached_tokens": 128},
    "output_tokens": 160,
    "output_tokens_details": {"reasoning_tokens": 152},
    "total_tokens": 359,
    "num_sources_used": 0,
    "num_server_side_tools_used": 0,
    "cost_in_usd_ticks": 5143500,
}


def _response_object(
    status: str, output: list[dict[str, Any]], usage: dict[str, Any] | None
) -> dict[str, Any]:
    """A Responses-API `response` object with recording rs02's fields, in its order."""
    return {
        "created_at": CREATED,
        "completed_at": CREATED + 1 if status == "completed" else None,
        "id": RESPONSE_ID,
        "max_output_tokens": None,
        "model": MODEL,
        "object": "response",
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "temperature": 0.7,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 0.95,
        "usage": usage,
        "user": None,
        "incomplete_details": None,
        "status": status,
        "store": False,
        "metadata": {"system_fingerprint": FINGERPRINT},
        "background": False,
        "service_tier": "default",
        "truncation": "disabled",
        "top_logprobs": 0,
        "presence_penalty": 0.0,
        "frequency_penalty": 0.0,
        "prompt_cache_key": None,
        "max_tool_calls": None,
        "safety_identifier": None,
        "error": None,
        "instructions": None,
    }


def _message_item(text: str, status: str) -> dict[str, Any]:
    content = (
        [{"type": "output_text", "text": text, "logprobs": [], "annotations": []}]
        if status == "completed"
        else []
    )
    return {
        "content": content,
        "id": "msg_" + RESPONSE_ID,
        "role": "assistant",
        "type": "message",
        "status": status,
    }


def response_json() -> bytes:
    """The non-streaming Responses reply (recording rs01's shape, without encrypted reasoning)."""
    return _dumps(_response_object("completed", [_message_item("4", "completed")], RESPONSES_USAGE))


def response_events(n: int) -> list[bytes]:
    """The SSE events of a Responses stream of `n` text deltas (recording rs02's shape)."""
    item_id = "msg_" + RESPONSE_ID
    text = expected_text(n)
    part = {"type": "output_text", "text": "", "logprobs": [], "annotations": []}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": _response_object("in_progress", [], None)},
        {"type": "response.in_progress", "response": _response_object("in_progress", [], None)},
        {
            "type": "response.output_item.added",
            "item": _message_item("", "in_progress"),
            "output_index": 0,
        },
        {
            "type": "response.content_part.added",
            "content_index": 0,
            "item_id": item_id,
            "output_index": 0,
            "part": part,
        },
    ]
    events += [
        {
            "type": "response.output_text.delta",
            "content_index": 0,
            "delta": WORDS[i % len(WORDS)],
            "item_id": item_id,
            "output_index": 0,
            "logprobs": [],
        }
        for i in range(n)
    ]
    events += [
        {
            "type": "response.output_text.done",
            "content_index": 0,
            "item_id": item_id,
            "output_index": 0,
            "text": text,
            "logprobs": [],
        },
        {
            "type": "response.content_part.done",
            "content_index": 0,
            "item_id": item_id,
            "output_index": 0,
            "part": dict(part, text=text),
        },
        {
            "type": "response.output_item.done",
            "item": _message_item(text, "completed"),
            "output_index": 0,
        },
        {
            "type": "response.completed",
            "response": _response_object(
                "completed", [_message_item(text, "completed")], RESPONSES_USAGE
            ),
        },
    ]
    out = []
    for number, event in enumerate(events):
        body = {"sequence_number": number, **event}
        out.append(b"event: " + event["type"].encode() + b"\ndata: " + _dumps(body) + b"\n\n")
    return out


def _head(status: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status}"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


_COMMON: Final = [
    ("date", "Mon, 08 Jun 2026 16:10:29 GMT"),
    ("x-request-id", "bench-0000-0000"),
    ("cache-control", "no-cache"),
    ("vary", "origin, access-control-request-method, access-control-request-headers"),
]


def json_response(body: bytes, status: str = "200 OK") -> bytes:
    headers = [("content-type", "application/json"), ("content-length", str(len(body)))]
    return _head(status, headers + _COMMON) + body


def sse_response(events: list[bytes]) -> bytes:
    headers = [("content-type", "text/event-stream"), ("transfer-encoding", "chunked")]
    parts = [_head("200 OK", headers + _COMMON)]
    for event in events:
        parts.append(f"{len(event):x}\r\n".encode() + event + b"\r\n")
    parts.append(b"0\r\n\r\n")
    return b"".join(parts)


def chunk_count(body: dict[str, Any]) -> int:
    """Read `n=<count>` from the last message's text; DEFAULT_CHUNKS when absent."""
    messages = body.get("messages") or body.get("input") or [{}]
    if isinstance(messages, str):
        messages = [{"content": messages}]
    content = messages[-1].get("content") if isinstance(messages[-1], dict) else None
    if isinstance(content, list):  # content blocks
        content = " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    if isinstance(content, str):
        for word in content.split():
            if word.startswith("n=") and word[2:].isdigit():
                return max(1, min(int(word[2:]), MAX_CHUNKS))
    return DEFAULT_CHUNKS


class Stats:
    __slots__ = ("chunks", "requests", "started")

    def __init__(self) -> None:
        self.requests = 0
        self.chunks = 0
        self.started = time.monotonic()

    def as_json(self) -> bytes:
        return _dumps(
            {
                "pid": os.getpid(),
                "requests": self.requests,
                "chunks": self.chunks,
                "cpu_s": time.process_time(),
                "uptime_s": time.monotonic() - self.started,
            }
        )


class Replies:
    """Every reply, serialised once."""

    def __init__(self) -> None:
        self.stats = Stats()
        self._completion = json_response(completion_json())
        self._response = json_response(response_json())
        self._streams: dict[tuple[bool, int], bytes] = {}
        self._not_found = json_response(
            _dumps({"code": "not_found", "error": "no such route"}), "404 Not Found"
        )

    def stream(self, n: int, *, responses: bool = False) -> bytes:
        cached = self._streams.get((responses, n))
        if cached is None:
            if len(self._streams) > 64:
                self._streams.clear()
            events = response_events(n) if responses else stream_events(n)
            cached = self._streams[responses, n] = sse_response(events)
        return cached

    def respond(self, method: bytes, target: bytes, body: bytes) -> bytes:
        self.stats.requests += 1
        responses = target.endswith(b"/responses")
        if method == b"POST" and (responses or target.endswith(b"/chat/completions")):
            try:
                request = json.loads(body)
            except ValueError:
                return json_response(
                    _dumps({"code": "bad_request", "error": "body is not JSON"}), "400 Bad Request"
                )
            if request.get("stream"):
                n = chunk_count(request)
                self.stats.chunks += n
                return self.stream(n, responses=responses)
            return self._response if responses else self._completion
        if method == b"GET" and target == b"/stats":
            return json_response(self.stats.as_json())
        return self._not_found


class BenchProtocol(asyncio.Protocol):
    """One keep-alive connection: parse pipelined requests, answer with cached bytes."""

    def __init__(self, replies: Replies) -> None:
        self._replies = replies
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        transport = self._transport
        while transport is not None:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(buffer) > MAX_HEAD:
                    self._fail(b"431 Request Header Fields Too Large")
                return
            head = bytes(buffer[:end])
            request_line, _, header_block = head.partition(b"\r\n")
            parts = request_line.split(b" ")
            if len(parts) != 3:
                self._fail(b"400 Bad Request")
                return
            length = 0
            close = False
            for line in header_block.split(b"\r\n"):
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value.strip() or b"0")
                elif name == b"transfer-encoding":
                    self._fail(b"411 Length Required")
                    return
                elif name == b"connection" and value.strip().lower() == b"close":
                    close = True
            if length > MAX_BODY:
                self._fail(b"413 Content Too Large")
                return
            total = end + 4 + length
            if len(buffer) < total:
                return
            body = bytes(buffer[end + 4 : total])
            del buffer[:total]
            transport.write(self._replies.respond(parts[0], parts[1], body))
            if close:
                transport.close()
                return

    def _fail(self, status: bytes) -> None:
        if self._transport is not None:
            self._transport.write(
                b"HTTP/1.1 " + status + b"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            )
            self._transport.close()


async def serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    replies = Replies()
    replies.stream(DEFAULT_CHUNKS)
    server = await loop.create_server(
        lambda: BenchProtocol(replies), host, port, backlog=4096, reuse_address=True
    )
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    bound = server.sockets[0].getsockname()[1]
    print(f"READY {bound}", flush=True)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        parser.error("the bench server listens on loopback only")
    asyncio.run(serve(args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
