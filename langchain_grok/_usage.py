"""What xAI billed for a set of requests: `GrokUsage`, and reading it off one reply (pure).

Kept apart from the callback plumbing of `callbacks.py` so that the arithmetic (integer ticks,
reasoning inside output tokens, a reply without cost) can be read and tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from langchain_grok._constants import TICKS_PER_USD

if TYPE_CHECKING:
    from langchain_core.messages import AIMessage
    from langchain_core.messages.ai import UsageMetadata

__all__ = ["GrokUsage", "reply_usage"]


@dataclass(frozen=True)
class GrokUsage:
    """Usage and billed cost of a set of xAI requests (all of them, or one model's).

    Attributes:
        requests: Replies counted (each billed once by xAI).
        requests_without_cost: Replies whose server reported no `cost_in_usd_ticks`; their
            tokens are counted but no price is guessed, so `cost_in_usd_ticks` is a lower
            bound whenever this is not 0.
        input_tokens: Prompt tokens, cached ones included.
        cached_input_tokens: The cached part of `input_tokens` (`input_token_details.cache_read`).
        output_tokens: Output tokens, reasoning included (LangChain's convention).
        reasoning_tokens: The reasoning part of `output_tokens`.
        total_tokens: `input_tokens + output_tokens`.
        cost_in_usd_ticks: Exact billed cost, in xAI's integer ticks.
    """

    requests: int = 0
    requests_without_cost: int = 0
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    total_tokens: int = 0
    cost_in_usd_ticks: int = 0

    @property
    def cost_usd(self) -> float:
        """The cost in US dollars (ticks / 1e10); use `cost_in_usd_ticks` for exact sums."""
        return self.cost_in_usd_ticks / TICKS_PER_USD

    def __add__(self, other: GrokUsage) -> GrokUsage:
        """Field-wise sum, so per-model usages add up to the total."""
        if not isinstance(other, GrokUsage):
            return NotImplemented
        return GrokUsage(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )

    def to_usage_metadata(self) -> UsageMetadata:
        """These tokens in the shape `get_usage_metadata_callback` reports."""
        return {
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": self.total_tokens,
            "input_token_details": {"cache_read": self.cached_input_tokens},
            "output_token_details": {"reasoning": self.reasoning_tokens},
        }


def reply_usage(message: AIMessage) -> GrokUsage:
    """The usage and cost of one xAI reply, as the server reported them.

    Args:
        message: The reply (for a stream, the merged message).

    Returns:
        One request's usage; without `cost_in_usd_ticks`, a request without cost.
    """
    usage: UsageMetadata | dict[str, Any] = message.usage_metadata or {}
    ticks = message.response_metadata.get("cost_in_usd_ticks")
    cost = ticks if isinstance(ticks, int) and not isinstance(ticks, bool) else None
    return GrokUsage(
        requests=1,
        requests_without_cost=int(cost is None),
        input_tokens=usage.get("input_tokens", 0),
        cached_input_tokens=(usage.get("input_token_details") or {}).get("cache_read", 0) or 0,
        output_tokens=usage.get("output_tokens", 0),
        reasoning_tokens=(usage.get("output_token_details") or {}).get("reasoning", 0) or 0,
        total_tokens=usage.get("total_tokens", 0),
        cost_in_usd_ticks=cost or 0,
    )
