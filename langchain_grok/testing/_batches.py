"""The emulator's batches: what xAI keeps for each batch, and how its requests get processed.

Shapes follow docs.x.ai's Batch API guide and xAI's TypeScript SDK (batch object with `state`
counters, per-request metadata, results wrapping a `chat.completion` under
`batch_result.response.chat_get_completion`, errors as `batch_result.error` strings). Processing
is deterministic rather than timed: each `GET /v1/batches/{id}` first finishes up to `progress`
pending requests, in the order they were added, each answered by the same reply machinery as a
chat request (the next scripted reply, or the default answer), so usage and cost look exactly
like Chat Completions'. A scripted reply with an error status fails its request instead.

Results are listed newest first, not in the order the requests were added: the real API makes no
order promise, and a client that relied on one would break there.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

from langchain_grok.testing._chat import build_answer, completion_body
from langchain_grok.testing._schema_values import SchemaError

if TYPE_CHECKING:
    from collections.abc import Callable

    from langchain_grok.testing._script import ScriptedReply

__all__ = ["BatchStore", "StoredBatch"]

CHAT_ENDPOINT: Final = "xai_api.Chat/GetCompletion"  # as request metadata names it
_LIFETIME: Final = timedelta(days=1)
_ERROR_STATUS: Final = 400


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class StoredRequest:
    """One request of a batch, as added, and what became of it."""

    batch_request_id: str
    body: dict[str, Any]
    added: dict[str, Any]
    create_time: str
    state: str = "pending"
    finish_time: str | None = None
    result: dict[str, Any] | None = None

    def metadata(self) -> dict[str, Any]:
        """The `batch_request_metadata` entry."""
        return {
            "batch_request_id": self.batch_request_id,
            "endpoint": CHAT_ENDPOINT,
            "model": self.body.get("model"),
            "state": self.state,
            "create_time": self.create_time,
            "finish_time": self.finish_time,
        }


@dataclass
class StoredBatch:
    """One batch: its requests in the order added, and the order they finished in."""

    batch_id: str
    name: str
    api_key_id: str
    create_time: str = field(default_factory=_now)
    cancel_time: str | None = None
    requests: dict[str, StoredRequest] = field(default_factory=dict)
    finished: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The batch object as `GET /v1/batches/{id}` returns it."""
        states = [r.state for r in self.requests.values()]
        cost = sum(
            int(
                ((r.result or {}).get("response", {}).get("chat_get_completion") or {})
                .get("usage", {})
                .get("cost_in_usd_ticks", 0)
            )
            for r in self.requests.values()
            if r.state == "succeeded"
        )
        created = datetime.fromisoformat(self.create_time.replace("Z", "+00:00"))
        expire = (created + _LIFETIME).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {
            "batch_id": self.batch_id,
            "name": self.name,
            "create_time": self.create_time,
            "expire_time": expire,
            "create_api_key_id": self.api_key_id,
            "cancel_time": self.cancel_time,
            "cancel_by_xai_message": None,
            "state": {
                "num_requests": len(states),
                "num_pending": states.count("pending"),
                "num_success": states.count("succeeded"),
                "num_error": states.count("failed"),
                "num_cancelled": states.count("cancelled"),
            },
            "cost_breakdown": {"total_cost_usd_ticks": cost},
        }


def _answer(body: dict[str, Any], reply: ScriptedReply) -> tuple[str, dict[str, Any]]:
    """Run one request through the chat reply machinery: (state, batch_result)."""
    if reply.status >= _ERROR_STATUS:
        message = reply.content
        if isinstance(reply.body, dict) and isinstance(reply.body.get("error"), str):
            message = reply.body["error"]
        return "failed", {"error": message or HTTPStatus(reply.status).phrase}
    if reply.body is not None:
        return "succeeded", {"response": {"chat_get_completion": reply.body}}
    try:
        answer = build_answer(body, reply)
    except SchemaError as exc:
        return "failed", {"error": f"Invalid JSON schema: {exc}"}
    return "succeeded", {"response": {"chat_get_completion": completion_body(answer)}}


class BatchStore:
    """Every batch the emulator holds; safe to read from the test's thread.

    Args:
        progress: Pending requests each `GET` of a batch finishes (at least 1).
    """

    def __init__(self, progress: int) -> None:
        if isinstance(progress, bool) or not isinstance(progress, int) or progress < 1:
            msg = f"batch_progress must be an integer >= 1, got {progress!r}"
            raise ValueError(msg)
        self.progress = progress
        self._lock = threading.Lock()
        self._batches: dict[str, StoredBatch] = {}

    def create(self, name: str, api_key_id: str) -> dict[str, Any]:
        """Create an empty batch and return its JSON."""
        batch = StoredBatch(batch_id=f"batch_{uuid.uuid4()}", name=name, api_key_id=api_key_id)
        with self._lock:
            self._batches[batch.batch_id] = batch
            return batch.to_json()

    def get(self, batch_id: str) -> StoredBatch | None:
        """The batch, or None (callers hold no lock: read it through the methods below)."""
        with self._lock:
            return self._batches.get(batch_id)

    def listing(self) -> list[dict[str, Any]]:
        """Every batch's JSON, newest first."""
        with self._lock:
            return [b.to_json() for b in reversed(self._batches.values())]

    def add(
        self, batch: StoredBatch, items: list[tuple[str, dict[str, Any], dict[str, Any]]]
    ) -> None:
        """Append validated requests `(batch_request_id, chat body, item as added)`."""
        with self._lock:
            for request_id, body, added in items:
                batch.requests[request_id] = StoredRequest(request_id, body, added, _now())

    def advance(
        self, batch: StoredBatch, next_reply: Callable[[], ScriptedReply]
    ) -> dict[str, Any]:
        """Finish up to `progress` pending requests, then return the batch's JSON."""
        with self._lock:
            pending = [r for r in batch.requests.values() if r.state == "pending"]
        for request in pending[: self.progress]:
            state, result = _answer(request.body, next_reply())
            with self._lock:
                if request.state != "pending":  # cancelled meanwhile
                    continue
                request.state, request.result, request.finish_time = state, result, _now()
                batch.finished.append(request.batch_request_id)
        with self._lock:
            return batch.to_json()

    def cancel(self, batch: StoredBatch) -> dict[str, Any]:
        """Cancel the pending requests; finished ones keep their results."""
        with self._lock:
            if batch.cancel_time is None:
                batch.cancel_time = _now()
            for request in batch.requests.values():
                if request.state == "pending":
                    request.state, request.finish_time = "cancelled", _now()
            return batch.to_json()

    def metadata(self, batch: StoredBatch) -> list[dict[str, Any]]:
        """Every request's metadata, in the order added."""
        with self._lock:
            return [r.metadata() for r in batch.requests.values()]

    def results(self, batch: StoredBatch) -> list[dict[str, Any]]:
        """Every finished request's result, newest first."""
        with self._lock:
            return [
                {
                    "batch_request_id": request_id,
                    "batch_result": batch.requests[request_id].result,
                }
                for request_id in reversed(batch.finished)
            ]

    def added_requests(self, batch_id: str) -> list[dict[str, Any]]:
        """The items added to a batch, as the client sent them, in order (for tests)."""
        with self._lock:
            batch = self._batches.get(batch_id)
            if batch is None:
                msg = f"no batch {batch_id!r} in this FakeXAIServer"
                raise KeyError(msg)
            return [dict(r.added) for r in batch.requests.values()]

    def clear(self) -> None:
        """Forget every batch."""
        with self._lock:
            self._batches.clear()
