"""The pure half of `GrokBatch`: request ids, chunking, status and result mapping.

Resumability rests on one rule: everything needed to put results back in input order lives on
xAI's side. Each request's `batch_request_id` says which input it is and how many inputs the
submit had (`lc-000042-of-000100`), so a new process holding only the batch id can list the
batch's requests and results and rebuild the answer list, and a submit that died half-way can
be finished by adding just the ids that are not there yet.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from langchain_core.messages import AIMessage

from langchain_grok._outputs import completion_to_result
from langchain_grok._responses import response_to_result
from langchain_grok.errors import GrokError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from langchain_grok._types import Batch, BatchRequestMetadata, BatchResult

__all__ = [
    "MAX_REQUEST_BYTES",
    "BatchItemError",
    "BatchStatus",
    "assemble_results",
    "chunk_requests",
    "parse_request_id",
    "request_id",
    "to_status",
]

# xAI: "Each individual request that can be added to a batch has a maximum payload size of
# 25MB". Bounding each add-requests call by it too is the conservative reading.
MAX_REQUEST_BYTES: Final = 25_000_000
MAX_REQUESTS_PER_CALL: Final = 1000  # our choice: keeps one failed call cheap to resend
_CALL_OVERHEAD: Final = len('{"batch_requests":[]}')
_REQUEST_ID: Final = re.compile(r"lc-(\d{6,})-of-(\d{6,})")


def request_id(index: int, total: int) -> str:
    """The `batch_request_id` of input `index` of a submit of `total` inputs."""
    return f"lc-{index:06d}-of-{total:06d}"


def parse_request_id(value: object) -> tuple[int, int] | None:
    """(index, total) from an id made by `request_id`; None for any other id."""
    match = _REQUEST_ID.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    index, total = int(match[1]), int(match[2])
    return (index, total) if index < total else None


class BatchItemError(GrokError):
    """One input of a batch that has no answer, in the place its answer would be.

    `GrokBatch.results` returns these (it never raises them) so that one failed item neither
    hides the others nor disappears from the list.

    Attributes:
        index: Position of the input in the submitted list.
        batch_request_id: The request's id in the batch.
        code: The server's error code when it sent one, else our label: `"failed"`,
            `"cancelled"`, `"pending"` (not processed yet), `"not_submitted"` (a submit that
            stopped early never added it), `"missing_result"` or `"unreadable"`.
        message: The server's message, or ours.
    """

    def __init__(self, index: int, batch_request_id: str, code: str, message: str) -> None:
        super().__init__(f"inputs[{index}] ({batch_request_id}): {code}: {message}")
        self.index = index
        self.batch_request_id = batch_request_id
        self.code = code
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.index, self.batch_request_id, self.code, self.message))

    def __repr__(self) -> str:
        return (
            f"BatchItemError(index={self.index}, batch_request_id={self.batch_request_id!r}, "
            f"code={self.code!r}, message={self.message!r})"
        )


@dataclass(frozen=True)
class BatchStatus:
    """Where a batch stands, from its server-side counters.

    Attributes:
        batch_id: The batch.
        name: Its name.
        total: Requests added so far.
        pending: Requests not processed yet.
        succeeded: Requests answered.
        failed: Requests that ended in an error.
        cancelled: Requests cancelled before they ran.
        done: Nothing is pending any more (and the batch has requests, or was cancelled).
        cancel_time: When the batch was cancelled, if it was.
        cost_in_usd_ticks: Total cost so far when the server reports it (1 USD = 1e10 ticks).
        raw: The batch object as received.
    """

    batch_id: str
    name: str | None
    total: int
    pending: int
    succeeded: int
    failed: int
    cancelled: int
    done: bool
    cancel_time: str | None = None
    cost_in_usd_ticks: int | None = None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)


def _count(state: Mapping[str, Any], *names: str) -> int:
    for name in names:  # protobuf JSON may write camelCase, and omits zeros
        value = state.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.isdigit():  # int64 as a JSON string
            return int(value)
    return 0


def to_status(batch: Batch) -> BatchStatus:
    """Read a batch object tolerantly (missing counters count as 0)."""
    state: Mapping[str, Any] = batch.get("state") or {}
    total = _count(state, "num_requests", "numRequests")
    pending = _count(state, "num_pending", "numPending")
    cancel_time = batch.get("cancel_time") or None
    ended = bool(cancel_time or batch.get("cancel_by_xai_message"))
    cost = (batch.get("cost_breakdown") or {}).get("total_cost_usd_ticks")
    return BatchStatus(
        batch_id=str(batch.get("batch_id")),
        name=batch.get("name"),
        total=total,
        pending=pending,
        succeeded=_count(state, "num_success", "numSuccess"),
        failed=_count(state, "num_error", "numError"),
        cancelled=_count(state, "num_cancelled", "numCancelled"),
        done=pending == 0 and (total > 0 or ended),
        cancel_time=cancel_time,
        cost_in_usd_ticks=int(cost)
        if isinstance(cost, (int, str)) and str(cost).isdigit()
        else None,
        raw=dict(batch),
    )


def chunk_requests(
    items: Sequence[dict[str, Any]],
    *,
    max_bytes: int = MAX_REQUEST_BYTES,
    max_count: int = MAX_REQUESTS_PER_CALL,
) -> list[list[dict[str, Any]]]:
    """Split request items into add-requests calls of at most `max_bytes` of JSON each.

    Raises:
        ValueError: One item alone is larger than `max_bytes` (names the input).
    """
    chunks: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    size = _CALL_OVERHEAD
    for item in items:
        item_size = len(json.dumps(item, separators=(",", ":"), ensure_ascii=False).encode())
        if item_size + _CALL_OVERHEAD > max_bytes:
            parsed = parse_request_id(item.get("batch_request_id"))
            where = f"inputs[{parsed[0]}]" if parsed else repr(item.get("batch_request_id"))
            msg = (
                f"{where} is {item_size} bytes as a batch request; xAI accepts at most "
                f"{max_bytes} bytes per request"
            )
            raise ValueError(msg)
        if current and (size + item_size + 1 > max_bytes or len(current) >= max_count):
            chunks.append(current)
            current, size = [], _CALL_OVERHEAD
        current.append(item)
        size += item_size + 1
    if current:
        chunks.append(current)
    return chunks


def submitted_indices(ids: Iterable[object], total: int, batch_id: str) -> set[int]:
    """Which inputs a batch already holds, checking they come from a submit of `total` inputs.

    Raises:
        ValueError: The batch holds requests of a submit with another number of inputs.
    """
    held: set[int] = set()
    for value in ids:
        parsed = parse_request_id(value)
        if parsed is None:
            continue  # requests not made by GrokBatch are left alone
        if parsed[1] != total:
            msg = (
                f"inputs has {total} items, but batch {batch_id} holds requests of a submit of "
                f"{parsed[1]} inputs: resume with the same inputs, in the same order"
            )
            raise ValueError(msg)
        held.add(parsed[0])
    return held


def _normal_state(value: object) -> str:
    text = str(value or "").lower()
    return text.removeprefix("state_")


def _item_error(index: int, rid: str, result: Mapping[str, Any]) -> BatchItemError | None:
    """The error a result reports, in any of the three documented spellings, or None."""
    wrapped = result.get("batch_result")
    error = wrapped.get("error") if isinstance(wrapped, dict) else None
    if error is None:
        error = result.get("error")
    if isinstance(error, dict):
        code, message = error.get("code"), error.get("message") or error.get("error")
        if code in (0, "0", None, "") and not message:
            error = None  # protobuf's empty status on a success
        else:
            return BatchItemError(index, rid, str(code or "failed"), str(message or ""))
    if isinstance(error, str) and error:
        return BatchItemError(index, rid, "failed", error)
    message = result.get("error_message")
    if isinstance(message, str) and message:
        return BatchItemError(index, rid, "failed", message)
    return None


def _to_message(index: int, rid: str, result: Mapping[str, Any]) -> AIMessage | BatchItemError:
    error = _item_error(index, rid, result)
    if error is not None:
        return error
    wrapped = result.get("batch_result")
    response = wrapped.get("response") if isinstance(wrapped, dict) else result.get("response")
    chat = response.get("chat_get_completion") if isinstance(response, dict) else None
    generations = []
    if isinstance(chat, dict):
        generations = completion_to_result(chat).generations
    elif isinstance(response, dict) and isinstance(response.get("responses"), dict):
        generations = response_to_result(response["responses"]).generations
    if not generations or not isinstance(generations[0].message, AIMessage):
        return BatchItemError(
            index, rid, "unreadable", f"no chat completion in {str(result)[:200]}"
        )
    message = generations[0].message
    message.response_metadata["batch_request_id"] = rid
    return message


_LABELS: Final = {
    "pending": "not processed yet: wait for the batch to finish",
    "cancelled": "cancelled before it ran",
    "failed": "failed, and the batch lists no result for it",
}


def assemble_results(
    batch_id: str,
    metadata: Iterable[BatchRequestMetadata],
    results: Iterable[BatchResult],
) -> list[AIMessage | BatchItemError]:
    """One entry per input, in input order, from the batch's request list and results.

    Raises:
        ValueError: The batch holds no requests made by `GrokBatch`, or requests of
            submits of different sizes.
    """
    states: dict[int, tuple[str, str]] = {}
    found: dict[int, tuple[str, Mapping[str, Any]]] = {}
    totals: set[int] = set()
    for entry in metadata:
        parsed = parse_request_id(entry.get("batch_request_id"))
        if parsed is not None:
            states[parsed[0]] = (str(entry["batch_request_id"]), _normal_state(entry.get("state")))
            totals.add(parsed[1])
    for result in results:
        parsed = parse_request_id(result.get("batch_request_id"))
        if parsed is not None:
            found[parsed[0]] = (str(result["batch_request_id"]), result)
            totals.add(parsed[1])
    if len(totals) != 1:
        what = "no requests submitted by GrokBatch" if not totals else "requests of several submits"
        msg = f"batch {batch_id} holds {what}; results() reads batches made by GrokBatch.submit"
        raise ValueError(msg)
    total = totals.pop()
    answers: list[AIMessage | BatchItemError] = []
    for index in range(total):
        rid = request_id(index, total)
        if index in found:
            answers.append(_to_message(index, found[index][0], found[index][1]))
        elif index not in states:
            note = (
                "never added (the submit stopped early): resume with submit(inputs, batch_id=...)"
            )
            answers.append(BatchItemError(index, rid, "not_submitted", note))
        else:
            state = states[index][1]
            code = state if state in _LABELS else "missing_result"
            text = _LABELS.get(state, f"state {state!r} but no result")
            answers.append(BatchItemError(index, states[index][0], code, text))
    return answers
