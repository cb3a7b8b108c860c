"""Measure the bench server alone: pipelined keep-alive requests over raw sockets.

The client side does almost nothing (send a batch of identical requests, count the bytes of the
identical cached replies), so the rate it reports is the server's, and it runs in its own
process. `python bench/loadgen.py PORT [--seconds 1.0]` prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time
from typing import Any

DEPTH = 32  # requests in flight on the connection


def _request(body: dict[str, Any], *, close: bool = False) -> bytes:
    raw = json.dumps(body).encode()
    head = (
        "POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        "content-type: application/json\r\nauthorization: Bearer bench\r\n"
        f"content-length: {len(raw)}\r\n" + ("connection: close\r\n" if close else "") + "\r\n"
    )
    return head.encode() + raw


def _reply_size(port: int, body: dict[str, Any]) -> int:
    """Length of the (always identical) reply to `body`: ask once with Connection: close."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(_request(body, close=True))
        size = 0
        while data := sock.recv(1 << 20):
            size += len(data)
    return size


def run(port: int, body: dict[str, Any], seconds: float) -> dict[str, float]:
    size = _reply_size(port, body)
    batch = _request(body) * DEPTH
    done = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        started = time.perf_counter()
        deadline = started + seconds
        while time.perf_counter() < deadline:
            sock.sendall(batch)
            expected = size * DEPTH
            while expected > 0:
                data = sock.recv(min(expected, 1 << 20))
                if not data:
                    msg = "server closed the connection"
                    raise ConnectionError(msg)
                expected -= len(data)
            done += DEPTH
        elapsed = time.perf_counter() - started
    return {"requests": done, "seconds": elapsed, "rps": done / elapsed, "reply_bytes": size}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("port", type=int)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument(
        "--chunks", type=int, default=2000, help="stream length for the stream test"
    )
    args = parser.parse_args(argv)
    messages = [{"role": "user", "content": f"n={args.chunks}"}]
    invoke = run(args.port, {"model": "grok-4.3", "messages": messages}, args.seconds)
    stream = run(
        args.port, {"model": "grok-4.3", "messages": messages, "stream": True}, args.seconds
    )
    stream["chunks_per_s"] = stream["rps"] * args.chunks
    print(json.dumps({"invoke": invoke, "stream": stream, "chunks": args.chunks}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
