"""What the emulator saw: one record per HTTP request, with how its response ended.

Tests assert on what the client *sent* (headers, JSON body, which TCP connection) and on how the
exchange *ended* (fully written, the client hung up, or the emulator cut it on purpose). The end is
only known later than the request itself, on the server's thread, so each record carries a
`threading.Event` that a test can wait on instead of sleeping.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Final, Literal

Outcome = Literal["pending", "completed", "client_disconnected", "cut"]

PENDING: Final = "pending"
COMPLETED: Final = "completed"
CLIENT_DISCONNECTED: Final = "client_disconnected"
CUT: Final = "cut"


@dataclass(eq=False)
class RecordedRequest:
    """One HTTP request received by `FakeXAIServer`, in the order it arrived.

    The request fields never change after the record is created. `outcome` and `status` are
    filled in by the server thread when the response ends, and then `finished` is set, so read
    them after `finished.wait(...)` (or after `FakeXAIServer.wait_for_requests`).

    Attributes:
        method: HTTP method, upper case as sent.
        path: Request path without the query string, e.g. `/v1/chat/completions`.
        query: Query parameters (last value wins for repeated names).
        headers: Request headers with lower-cased names; repeated headers are joined by `, `.
        body: The raw request body (de-chunked if the client sent it chunked).
        json: The body parsed as JSON, or None when it is empty or not JSON.
        connection_id: Number of the TCP connection the request came on (1 for the first
            connection the server accepted). Equal ids prove that a client reused a connection.
        outcome: `"pending"` until the response ends; then `"completed"` (fully written),
            `"client_disconnected"` (a write failed: the peer went away mid-response) or `"cut"`
            (the emulator closed the connection on purpose: `cut_after_events`, or `stop()`
            with the response still in flight).
        status: The HTTP status the emulator answered with, None until the status line is out.
        finished: Set once `outcome` is final.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any
    connection_id: int
    outcome: Outcome = PENDING
    status: int | None = None
    finished: threading.Event = field(default_factory=threading.Event, repr=False)
