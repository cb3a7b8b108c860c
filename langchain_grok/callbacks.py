"""Cost tracking: `get_grok_callback()`, in the idiom of LangChain's `get_openai_callback()`.

xAI reports the exact billed cost of every reply (`cost_in_usd_ticks`, an integer, 1 USD =
10^10 ticks), so unlike OpenAI's callback no price table is needed and none is guessed: totals
are the sum of what the server billed, kept as an integer so that no float rounding creeps in.

How a handler reaches every run: `get_grok_callback()` puts it in a ContextVar registered once
with `register_configure_hook(..., inheritable=True)`, so every callback manager configured
inside the `with` block (any chain, tool, LangGraph node, `Runnable.batch` thread or asyncio task
created there) attaches it. langchain-core attaches a handler at most once per run (identity
check), so each model run ends in `on_llm_end` once per handler.

Nested `with` blocks: the outer total includes the inner block's requests. A run can reach
both handlers (the inner one from the ContextVar, the outer one inherited from a parent run
started in the outer block), so the handlers of one nesting tree share a ledger of in-flight
runs that credits each handler once per run; an entry lives from the run's start to its end,
so memory does not grow with the number of requests.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from langchain_core.tracers.context import register_configure_hook

from langchain_grok._outputs import PROVIDER
from langchain_grok._usage import GrokUsage, reply_usage

if TYPE_CHECKING:
    from collections.abc import Iterator
    from uuid import UUID

    from langchain_core.messages import BaseMessage
    from langchain_core.messages.ai import UsageMetadata

__all__ = ["GrokCallbackHandler", "GrokUsage", "get_grok_callback"]


UNKNOWN_MODEL = "unknown"


@dataclass
class _Run:
    """One in-flight model run: how many handlers of the tree still await its end."""

    attached: int = 0
    requested_model: str | None = None
    credited: set[int] = field(default_factory=set)


class _Ledger:
    """Shared by the handlers of one nesting tree: one lock, the runs in flight."""

    __slots__ = ("lock", "runs")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs: dict[UUID, _Run] = {}


class GrokCallbackHandler(BaseCallbackHandler):
    """Totals the tokens and the exact billed cost of the xAI replies of the runs it sees.

    Use it through `get_grok_callback()`, or pass it yourself in `config={"callbacks": [cb]}`.
    Only replies whose `response_metadata["model_provider"]` is `"xai"` are counted, so another
    provider's model in the same chain does not change the totals (it is counted in
    `other_provider_requests`, for a user who wonders why a total looks low; track it with
    langchain-core's `get_usage_metadata_callback`). Replies served from a LangChain cache were
    not billed and are counted only in `cache_hits`.

    All counters are read under the lock and safe to read while runs are still going.
    """

    run_inline: bool = True  # no thread hop for async runs: the work is a few additions

    def __init__(self) -> None:
        """Start at zero, with a ledger of its own (a nested block shares its parent's)."""
        super().__init__()
        self._ledger = _Ledger()
        self._parent: GrokCallbackHandler | None = None
        self._total = GrokUsage()
        self._by_model: dict[str, GrokUsage] = {}
        self._other_provider_requests = 0
        self._cache_hits = 0

    # -- reading ------------------------------------------------------------------------------

    @property
    def usage(self) -> GrokUsage:
        """All counted xAI requests."""
        with self._ledger.lock:
            return self._total

    @property
    def by_model(self) -> dict[str, GrokUsage]:
        """Usage per model, keyed by the model the server says it used (`model_name`).

        The served name, not the requested alias, because that is the model that was billed;
        a reply without one is keyed by the requested model, else `"unknown"`.
        """
        with self._ledger.lock:
            return dict(self._by_model)

    @property
    def usage_metadata(self) -> dict[str, UsageMetadata]:
        """Tokens per model in the shape of langchain-core's `UsageMetadataCallbackHandler`."""
        return {model: usage.to_usage_metadata() for model, usage in self.by_model.items()}

    @property
    def successful_requests(self) -> int:
        """Counted xAI replies (get_openai_callback's name)."""
        return self.usage.requests

    @property
    def requests_without_cost(self) -> int:
        """Counted replies that reported no cost; when not 0, the cost is a lower bound."""
        return self.usage.requests_without_cost

    @property
    def input_tokens(self) -> int:
        """Prompt tokens, cached ones included."""
        return self.usage.input_tokens

    @property
    def cached_input_tokens(self) -> int:
        """The cached part of the prompt tokens."""
        return self.usage.cached_input_tokens

    @property
    def output_tokens(self) -> int:
        """Output tokens, reasoning included."""
        return self.usage.output_tokens

    @property
    def reasoning_tokens(self) -> int:
        """The reasoning part of the output tokens."""
        return self.usage.reasoning_tokens

    @property
    def total_tokens(self) -> int:
        """Input plus output tokens."""
        return self.usage.total_tokens

    @property
    def total_cost_in_usd_ticks(self) -> int:
        """Exact billed cost in ticks (1 USD = 1e10 ticks)."""
        return self.usage.cost_in_usd_ticks

    @property
    def total_cost_usd(self) -> float:
        """Billed cost in US dollars."""
        return self.usage.cost_usd

    @property
    def prompt_tokens(self) -> int:
        """Alias of `input_tokens`, for code written against `get_openai_callback`."""
        return self.input_tokens

    @property
    def completion_tokens(self) -> int:
        """Alias of `output_tokens` (reasoning included), as in `get_openai_callback`."""
        return self.output_tokens

    @property
    def total_cost(self) -> float:
        """Alias of `total_cost_usd`, as in `get_openai_callback`."""
        return self.total_cost_usd

    @property
    def other_provider_requests(self) -> int:
        """Replies from other providers' models that these totals leave out."""
        with self._ledger.lock:
            return self._other_provider_requests

    @property
    def cache_hits(self) -> int:
        """Replies served from a LangChain cache: not billed, so not in the totals."""
        with self._ledger.lock:
            return self._cache_hits

    def __repr__(self) -> str:
        """A summary in the layout of get_openai_callback's."""
        usage = self.usage
        lines = [
            f"Tokens Used: {usage.total_tokens}",
            f"\tPrompt Tokens: {usage.input_tokens}",
            f"\t\tPrompt Tokens Cached: {usage.cached_input_tokens}",
            f"\tCompletion Tokens: {usage.output_tokens}",
            f"\t\tReasoning Tokens: {usage.reasoning_tokens}",
            f"Successful Requests: {usage.requests}",
            f"Total Cost (USD): ${usage.cost_usd:.10f}"
            + (
                f" ({usage.requests_without_cost} requests without cost)"
                if usage.requests_without_cost
                else ""
            ),
        ]
        return "\n".join(lines)

    __str__ = __repr__

    # -- callbacks ----------------------------------------------------------------------------

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],  # noqa: ARG002
        messages: list[list[BaseMessage]],  # noqa: ARG002
        *,
        run_id: UUID,
        **kwargs: Any,
    ) -> None:
        """Note the run, so that handlers of the tree can credit its end once each."""
        self._open(run_id, kwargs.get("invocation_params"))

    def on_llm_start(
        self,
        serialized: dict[str, Any],  # noqa: ARG002
        prompts: list[str],  # noqa: ARG002
        *,
        run_id: UUID,
        **kwargs: Any,
    ) -> None:
        """Text-completion runs are noted too, so their end releases their ledger entry."""
        self._open(run_id, kwargs.get("invocation_params"))

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:  # noqa: ARG002
        """Count the reply (a streamed run's generation is the merged message)."""
        self._close(run_id, response)

    def on_llm_error(
        self,
        error: BaseException,  # noqa: ARG002
        *,
        run_id: UUID,
        **kwargs: Any,
    ) -> None:
        """Count a reply that arrived in full before the run failed, else nothing.

        A stream the consumer closed right after the last chunk ends in an error
        (`GeneratorExit`) although the server sent and billed the whole reply: its partial
        message then carries the usage and cost, which xAI sends last. A stream cut earlier
        has no usage and is not counted, as no number says what it cost.
        """
        response = kwargs.get("response")
        self._close(run_id, response if isinstance(response, LLMResult) else None, failed=True)

    # -- bookkeeping --------------------------------------------------------------------------

    def _open(self, run_id: UUID, params: object) -> None:
        requested = None
        if isinstance(params, dict):
            model = params.get("model") or params.get("model_name")
            requested = model if isinstance(model, str) else None
        with self._ledger.lock:
            run = self._ledger.runs.setdefault(run_id, _Run(requested_model=requested))
            run.attached += 1

    def _close(self, run_id: UUID, response: LLMResult | None, *, failed: bool = False) -> None:
        message = _first_message(response)
        if failed and message is not None and message.usage_metadata is None:
            message = None  # cut before the usage, which comes last: nothing says what was billed
        with self._ledger.lock:
            run = self._ledger.runs.pop(run_id, None) or _Run(attached=1)
            run.attached -= 1
            if run.attached > 0:
                self._ledger.runs[run_id] = run
            if message is None:
                return
            for handler in self._lineage():
                if id(handler) not in run.credited:
                    run.credited.add(id(handler))
                    handler._record(message, run.requested_model)  # noqa: SLF001

    def _lineage(self) -> Iterator[GrokCallbackHandler]:
        handler: GrokCallbackHandler | None = self
        while handler is not None:
            yield handler
            handler = handler._parent  # noqa: SLF001

    def _record(self, message: AIMessage, requested_model: str | None) -> None:
        """Add one reply; the caller holds the ledger lock."""
        if message.response_metadata.get("model_provider") != PROVIDER:
            self._other_provider_requests += 1
            return
        usage = message.usage_metadata
        if usage is not None and usage.get("total_cost") == 0:  # langchain-core marks cache hits
            self._cache_hits += 1
            return
        one = reply_usage(message)
        model = message.response_metadata.get("model_name") or requested_model or UNKNOWN_MODEL
        self._total += one
        self._by_model[model] = self._by_model.get(model, GrokUsage()) + one


def _first_message(response: LLMResult | None) -> AIMessage | None:
    """The reply a chat run ended with: one request's usage is on its first generation.

    With `n > 1` every choice carries the same (whole-request) usage, so only the first is read.
    """
    if response is None or not response.generations or not response.generations[0]:
        return None
    generation = response.generations[0][0]
    if isinstance(generation, ChatGeneration) and isinstance(generation.message, AIMessage):
        return generation.message
    return None


_current: ContextVar[GrokCallbackHandler | None] = ContextVar("grok_callback", default=None)
register_configure_hook(_current, inheritable=True)


@contextmanager
def get_grok_callback() -> Iterator[GrokCallbackHandler]:
    """Count the tokens and the exact cost of every xAI request made inside the block.

    Runs started inside the block are counted wherever they run: nested chains, LangGraph
    agents, `Runnable.batch` threads, asyncio tasks created inside the block (`asyncio.gather`,
    `create_task`: a task copies the context when it is created). A plain `threading.Thread`
    does not inherit the context; pass the handler in `config={"callbacks": [cb]}` there.
    Blocks in two threads or two tasks are independent; a nested block's requests also count
    in the enclosing block.

    Yields:
        The handler; read its totals inside or after the block.

    Example:
        ```python
        with get_grok_callback() as cb:
            model.invoke("Hello")
        print(cb.total_cost_in_usd_ticks, cb.by_model)
        ```
    """
    handler = GrokCallbackHandler()
    parent = _current.get()
    if parent is not None:
        handler._parent = parent  # noqa: SLF001
        handler._ledger = parent._ledger  # noqa: SLF001
    token = _current.set(handler)
    try:
        yield handler
    finally:
        _current.reset(token)
