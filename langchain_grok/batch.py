"""`GrokBatch`: run many `ChatGrok` calls through xAI's Batch API, resumably.

xAI runs batch requests on its own schedule (typically within 24 hours) at a reduced price and
outside the per-minute rate limits. `GrokBatch` turns the inputs `ChatGrok.batch` takes into
Chat Completions requests built exactly as `ChatGrok` builds them (its parameters, bound tools
and per-model rules), and turns the answers back into the `AIMessage`s `ChatGrok` returns (usage
and cost included), in input order.

Nothing is kept locally: each request's id says which input it answers (see `_batch_plan`), so
`GrokBatch(model).results(batch_id)` works in a brand-new process, and `submit(inputs,
batch_id=...)` finishes a submit that stopped half-way without adding anything twice.

Example:
    >>> batch = GrokBatch(ChatGrok(model="grok-4.3", temperature=0))  # doctest: +SKIP
    >>> batch_id = batch.submit(["Capital of France?", "Capital of Peru?"])  # doctest: +SKIP
    >>> batch.wait(batch_id)  # doctest: +SKIP
    >>> [m.content for m in batch.results(batch_id)]  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Final

from langchain_core.runnables import Runnable, RunnableBinding

from langchain_grok import _paths as paths
from langchain_grok._batch_plan import (
    MAX_REQUEST_BYTES,
    MAX_REQUESTS_PER_CALL,
    BatchItemError,
    BatchStatus,
    assemble_results,
    chunk_requests,
    request_id,
    submitted_indices,
    to_status,
)
from langchain_grok._requests import _has_server_tools
from langchain_grok.chat_models import ChatGrok

if TYPE_CHECKING:
    from langchain_core.language_models import LanguageModelInput
    from langchain_core.messages import AIMessage

    from langchain_grok._client import AsyncXAIClient, XAIClient

__all__ = ["BatchItemError", "BatchStatus", "GrokBatch"]

logger = logging.getLogger("langchain_grok")

DEFAULT_POLL_INTERVAL: Final = 5.0
DEFAULT_WAIT_TIMEOUT: Final = 24 * 3600.0
DEFAULT_PAGE_SIZE: Final = 100
_CONVERSION_ERRORS: Final = (ValueError, TypeError, NotImplementedError)


def _positive(name: str, value: object, *, allow_zero: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):  # type: ignore[operator]
        bound = ">= 0" if allow_zero else "> 0"
        msg = f"{name} must be a finite number {bound}, got {value!r}"
        raise ValueError(msg)
    return float(value)  # type: ignore[arg-type]


class GrokBatch:
    """Submit `ChatGrok` inputs as one xAI batch, poll it, and read the answers in order.

    Args:
        model: The `ChatGrok` whose settings every request uses, or a binding of one
            (`model.bind(...)`, `model.bind_tools([...])`) whose bound arguments are added.
        page_size: Items per page when listing a batch's requests and results.
        max_request_bytes: Upper bound on one add-requests call's JSON (and so on one
            request); xAI documents 25 MB per request.
        max_requests_per_call: Upper bound on requests per add-requests call.

    Raises:
        TypeError: `model` is not a `ChatGrok` or a binding of one.
        ValueError: A size is not a positive integer, or the bound tools include server-side
            tools (Chat Completions batch requests cannot carry them).
    """

    def __init__(
        self,
        model: ChatGrok | Runnable[Any, Any],
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_request_bytes: int = MAX_REQUEST_BYTES,
        max_requests_per_call: int = MAX_REQUESTS_PER_CALL,
    ) -> None:
        kwargs: dict[str, Any] = {}
        if isinstance(model, RunnableBinding) and isinstance(model.bound, ChatGrok):
            kwargs = dict(model.kwargs)
            model = model.bound
        if not isinstance(model, ChatGrok):
            msg = (
                "model must be a ChatGrok or a binding of one (model.bind(...), "
                f"model.bind_tools(...)), got {type(model).__name__}"
            )
            raise TypeError(msg)
        for name, value in (
            ("page_size", page_size),
            ("max_request_bytes", max_request_bytes),
            ("max_requests_per_call", max_requests_per_call),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                msg = f"{name} must be a positive integer, got {value!r}"
                raise ValueError(msg)
        if _has_server_tools({**model._default_params, **kwargs}):  # noqa: SLF001
            msg = (
                "GrokBatch sends Chat Completions requests, which cannot carry server-side tools "
                "(web_search, x_search, code_execution, ...): bind only function tools"
            )
            raise ValueError(msg)
        self.model = model
        self._kwargs = kwargs
        self.page_size = page_size
        self.max_request_bytes = max_request_bytes
        self.max_requests_per_call = max_requests_per_call

    def __repr__(self) -> str:
        return f"GrokBatch(model={self.model.model_name!r})"

    # -- pure steps shared by both twins ----------------------------------------------------

    def _requests(self, inputs: Sequence[LanguageModelInput]) -> list[dict[str, Any]]:
        """Every input as a batch request item; fails on the first input that cannot be sent."""
        if isinstance(inputs, (str, bytes)) or not isinstance(inputs, Sequence):
            msg = (
                "inputs must be a list of model inputs (strings, message lists, PromptValues), "
                f"got {type(inputs).__name__}"
            )
            raise TypeError(msg)
        if not inputs:
            msg = "inputs must not be empty"
            raise ValueError(msg)
        kwargs = {**self._kwargs, "use_responses_api": False}
        items = []
        for index, model_input in enumerate(inputs):
            try:
                messages = self.model._convert_input(model_input).to_messages()  # noqa: SLF001
                plan = self.model._plan(messages, None, kwargs, stream=False)  # noqa: SLF001
            except _CONVERSION_ERRORS as exc:
                msg = f"inputs[{index}]: {exc}"
                raise ValueError(msg) from exc
            body = {k: v for k, v in plan.body.items() if k not in ("stream", "stream_options")}
            items.append(
                {
                    "batch_request_id": request_id(index, len(inputs)),
                    "batch_request": {"chat_get_completion": body},
                }
            )
        return items

    def _chunks(self, items: list[dict[str, Any]], held: set[int]) -> list[list[dict[str, Any]]]:
        missing = [item for index, item in enumerate(items) if index not in held]
        return chunk_requests(
            missing, max_bytes=self.max_request_bytes, max_count=self.max_requests_per_call
        )

    @staticmethod
    def _name(name: str | None, batch_id: str | None) -> str:
        if name is not None and (not isinstance(name, str) or not name.strip()):
            msg = f"name must be a non-empty string, got {name!r}"
            raise ValueError(msg)
        if name is not None and batch_id is not None:
            msg = "name applies to a new batch only; drop it when resuming with batch_id"
            raise ValueError(msg)
        stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return name or f"langchain-grok {stamp}"

    @staticmethod
    def _check_id(batch_id: str) -> str:
        paths.fill(paths.BATCH_ITEM, batch_id, name="batch_id")
        return batch_id

    @staticmethod
    def _resume_hint(exc: BaseException, batch_id: str) -> None:
        hint = (
            f"batch {batch_id} holds the requests added so far: resume with "
            f"submit(inputs, batch_id={batch_id!r})"
        )
        logger.warning("Submitting to %s failed: %s", batch_id, hint)
        add_note = getattr(exc, "add_note", None)  # Python >= 3.11
        if add_note is not None:
            add_note(hint)

    @property
    def _client(self) -> XAIClient:
        return self.model.client

    @property
    def _aclient(self) -> AsyncXAIClient:
        return self.model.async_client

    # -- sync ------------------------------------------------------------------------------

    def create(self, name: str | None = None) -> str:
        """Create an empty batch and return its id (to store it before `submit(batch_id=)`)."""
        return self._client.create_batch(self._name(name, None))["batch_id"]

    def submit(
        self,
        inputs: Sequence[LanguageModelInput],
        *,
        name: str | None = None,
        batch_id: str | None = None,
    ) -> str:
        """Add one request per input to a new batch (or finish adding them to `batch_id`).

        Every input is converted and checked before the first request, so bad input costs
        nothing. With `batch_id`, the requests already in the batch are listed and only the
        missing ones are added, so a submit that died half-way is finished without duplicates.

        Args:
            inputs: What `ChatGrok.batch` takes: strings, message lists, PromptValues.
            name: Name of the new batch (default: `langchain-grok <UTC time>`).
            batch_id: An existing batch to add to (same inputs, same order, when resuming).

        Returns:
            The batch id, all that is needed to poll it and read its results later.

        Raises:
            TypeError: `inputs` is not a list (a single string is refused, not split).
            ValueError: An input, the name or the id cannot be used (the message names it).
        """
        items = self._requests(inputs)
        new_name = self._name(name, batch_id)
        held: set[int] = set()
        if batch_id is None:
            chunks = self._chunks(items, held)
            batch_id = self._client.create_batch(new_name)["batch_id"]
        else:
            self._chunks(items, held)  # size errors before the first request, too
            listed = self._client.iter_batch_requests(
                self._check_id(batch_id), page_size=self.page_size
            )
            ids = [entry.get("batch_request_id") for entry in listed]
            chunks = self._chunks(items, submitted_indices(ids, len(items), batch_id))
        try:
            for chunk in chunks:
                self._client.add_batch_requests(batch_id, chunk)
        except BaseException as exc:
            self._resume_hint(exc, batch_id)
            raise
        return batch_id

    def status(self, batch_id: str) -> BatchStatus:
        """The batch's counters (total, pending, succeeded, failed, cancelled) and `done`."""
        return to_status(self._client.get_batch(self._check_id(batch_id)))

    def results(self, batch_id: str) -> list[AIMessage | BatchItemError]:
        """One entry per input, in input order: its `AIMessage`, or a `BatchItemError`.

        Works from the batch id alone (any process). Items not processed yet come back as
        `BatchItemError(code="pending")`; check `status(batch_id).done` or `wait` first.
        """
        self._check_id(batch_id)
        metadata = list(self._client.iter_batch_requests(batch_id, page_size=self.page_size))
        results = list(self._client.iter_batch_results(batch_id, page_size=self.page_size))
        return assemble_results(batch_id, metadata, results)

    def wait(
        self,
        batch_id: str,
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
    ) -> BatchStatus:
        """Poll until nothing is pending; return the final status.

        Raises:
            TimeoutError: Still pending after `timeout` seconds (the batch keeps running).
        """
        interval = _positive("poll_interval", poll_interval, allow_zero=True)
        limit = None if timeout is None else _positive("timeout", timeout, allow_zero=True)
        self._check_id(batch_id)
        deadline = None if limit is None else time.monotonic() + limit
        while True:
            status = self.status(batch_id)
            pause = _pause(status, deadline, interval, limit)
            if pause is None:
                return status
            time.sleep(pause)

    def cancel(self, batch_id: str) -> BatchStatus:
        """Cancel what is still pending; answers already made stay readable."""
        return to_status(self._client.cancel_batch(self._check_id(batch_id)))

    # -- async twins -----------------------------------------------------------------------

    async def acreate(self, name: str | None = None) -> str:
        """Async `create`."""
        return (await self._aclient.create_batch(self._name(name, None)))["batch_id"]

    async def asubmit(
        self,
        inputs: Sequence[LanguageModelInput],
        *,
        name: str | None = None,
        batch_id: str | None = None,
    ) -> str:
        """Async `submit`."""
        items = self._requests(inputs)
        new_name = self._name(name, batch_id)
        held: set[int] = set()
        if batch_id is None:
            chunks = self._chunks(items, held)
            batch_id = (await self._aclient.create_batch(new_name))["batch_id"]
        else:
            self._chunks(items, held)  # size errors before the first request, too
            listed = self._aclient.iter_batch_requests(
                self._check_id(batch_id), page_size=self.page_size
            )
            ids = [entry.get("batch_request_id") async for entry in listed]
            chunks = self._chunks(items, submitted_indices(ids, len(items), batch_id))
        try:
            for chunk in chunks:
                await self._aclient.add_batch_requests(batch_id, chunk)
        except BaseException as exc:
            self._resume_hint(exc, batch_id)
            raise
        return batch_id

    async def astatus(self, batch_id: str) -> BatchStatus:
        """Async `status`."""
        return to_status(await self._aclient.get_batch(self._check_id(batch_id)))

    async def aresults(self, batch_id: str) -> list[AIMessage | BatchItemError]:
        """Async `results`."""
        self._check_id(batch_id)
        client = self._aclient
        metadata = [m async for m in client.iter_batch_requests(batch_id, page_size=self.page_size)]
        results = [r async for r in client.iter_batch_results(batch_id, page_size=self.page_size)]
        return assemble_results(batch_id, metadata, results)

    async def await_(
        self,
        batch_id: str,
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
    ) -> BatchStatus:
        """Async `wait` (`await` itself is a keyword)."""
        interval = _positive("poll_interval", poll_interval, allow_zero=True)
        limit = None if timeout is None else _positive("timeout", timeout, allow_zero=True)
        self._check_id(batch_id)
        deadline = None if limit is None else time.monotonic() + limit
        while True:
            status = await self.astatus(batch_id)
            pause = _pause(status, deadline, interval, limit)
            if pause is None:
                return status
            await asyncio.sleep(pause)

    async def acancel(self, batch_id: str) -> BatchStatus:
        """Async `cancel`."""
        return to_status(await self._aclient.cancel_batch(self._check_id(batch_id)))


def _pause(
    status: BatchStatus, deadline: float | None, interval: float, limit: float | None
) -> float | None:
    """Seconds to sleep before the next poll; None when done; raises past the deadline."""
    if status.done:
        return None
    if deadline is None:
        return interval
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        msg = (
            f"batch {status.batch_id} still has {status.pending} of {status.total} requests "
            f"pending after {limit} s; it keeps running at xAI: wait again or read results later"
        )
        raise TimeoutError(msg)
    return min(interval, remaining)
