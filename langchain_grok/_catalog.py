"""The live model catalog (`GET /v1/language-models`) as prices and profiles (pure).

`_profiles` is the offline default: it knows what REST does not publish (context windows,
reasoning efforts, which parameters a model rejects). The catalog knows what changes without a
release of this package: aliases, modalities and prices. This module merges the two, the live
entry winning for what it publishes, and converts xAI's price unit (integer USD cents per
100 million tokens) to dollars per million tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, cast

from langchain_grok._profiles import lookup, to_langchain_profile

if TYPE_CHECKING:
    from collections.abc import Mapping

    from langchain_core.language_models import ModelProfile

    from langchain_grok._types import LanguageModel

__all__ = ["ModelPrices", "merge_profile"]

# Catalog prices are USD cents per 100M tokens: /100 for dollars, /100 for per-1M.
_PER_MILLION_TOKENS: Final = 10_000
# `search_price` is in the same unit per source: /100 for dollars, /1e8 for one source.
_PER_SOURCE: Final = 10_000_000_000
_INPUTS: Final = {
    "text": ("text_inputs",),
    "image": ("image_inputs", "image_url_inputs"),
    "audio": ("audio_inputs",),
    "video": ("video_inputs",),
}
_OUTPUTS: Final = {
    "text": ("text_outputs",),
    "image": ("image_outputs",),
    "audio": ("audio_outputs",),
    "video": ("video_outputs",),
}


def _price(entry: Mapping[str, Any], field: str, divisor: int) -> float | None:
    value = entry.get(field)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return value / divisor


@dataclass(frozen=True, slots=True)
class ModelPrices:
    """A model's list prices in US dollars, from the live catalog; None where it gives none.

    Attributes:
        model: The catalog id the prices belong to.
        input: Per million prompt text tokens.
        cached_input: Per million prompt tokens served from the prompt cache.
        image_input: Per million prompt image tokens.
        output: Per million completion tokens (reasoning tokens are billed as completion).
        search_per_source: Per search source used by server-side search tools.

    The catalog lists one price per kind; xAI charges more for prompts above a size threshold
    (200K tokens for several models, xai-api.md section 8), which it does not publish here.
    """

    model: str
    input: float | None = None
    cached_input: float | None = None
    image_input: float | None = None
    output: float | None = None
    search_per_source: float | None = None

    @classmethod
    def from_catalog(cls, entry: LanguageModel | Mapping[str, Any]) -> ModelPrices:
        """Convert a `GET /v1/language-models` entry; missing or malformed prices become None.

        Example:
            >>> ModelPrices.from_catalog({"id": "grok-3", "prompt_text_token_price": 30000}).input
            3.0
        """
        return cls(
            model=str(entry.get("id") or ""),
            input=_price(entry, "prompt_text_token_price", _PER_MILLION_TOKENS),
            cached_input=_price(entry, "cached_prompt_text_token_price", _PER_MILLION_TOKENS),
            image_input=_price(entry, "prompt_image_token_price", _PER_MILLION_TOKENS),
            output=_price(entry, "completion_text_token_price", _PER_MILLION_TOKENS),
            search_per_source=_price(entry, "search_price", _PER_SOURCE),
        )

    def estimate(
        self, input_tokens: int, output_tokens: int = 0, *, cached_input_tokens: int = 0
    ) -> float:
        """Estimate a call's cost in dollars from token counts, at list prices.

        Args:
            input_tokens: Prompt tokens, including the cached ones (as `usage_metadata`
                counts them), e.g. from `ChatGrok.get_num_tokens_from_messages`.
            output_tokens: Completion tokens you expect (visible plus reasoning).
            cached_input_tokens: Of `input_tokens`, how many you expect to be cache hits.

        Raises:
            ValueError: A count is negative, or more cached than input tokens, or the catalog
                lacks a price the estimate needs.
        """
        if min(input_tokens, output_tokens, cached_input_tokens) < 0:
            msg = "token counts must be >= 0"
            raise ValueError(msg)
        if cached_input_tokens > input_tokens:
            msg = "cached_input_tokens cannot exceed input_tokens"
            raise ValueError(msg)
        cached_price = self.cached_input if self.cached_input is not None else self.input
        needed = {
            "input": (input_tokens - cached_input_tokens, self.input),
            "cached_input": (cached_input_tokens, cached_price),
            "output": (output_tokens, self.output),
        }
        total = 0.0
        for name, (tokens, price) in needed.items():
            if not tokens:
                continue
            if price is None:
                msg = f"the catalog gives no {name} price for {self.model or 'this model'}"
                raise ValueError(msg)
            total += tokens * price / 1_000_000
        return total


def _modalities(profile: dict[str, Any], listed: Any, table: Mapping[str, tuple[str, ...]]) -> None:
    if not isinstance(listed, list) or not all(isinstance(m, str) for m in listed):
        return  # absent or malformed: keep what the offline profile says
    for modality, keys in table.items():
        for key in keys:
            profile[key] = modality in listed


def _offline(requested: str, entry: Mapping[str, Any]) -> ModelProfile | None:
    """The offline profile for the requested id, else for the catalog's id or an alias of it."""
    aliases = entry.get("aliases")
    names = [requested, entry.get("id"), *(aliases if isinstance(aliases, list) else ())]
    for name in names:
        known = lookup(name) if isinstance(name, str) else None
        if known is not None:
            return to_langchain_profile(known)
    return None


def merge_profile(
    current: Mapping[str, Any] | None, requested: str, entry: LanguageModel | Mapping[str, Any]
) -> ModelProfile:
    """The profile after a catalog refresh.

    Starts from `current` (the model's profile, by default the offline one), else the offline
    profile of the catalog id or one of its aliases (so a new alias of a known model gets the
    known context window and efforts), else nothing; then the catalog's id and modalities win.

    Args:
        current: The profile in use, or None when the requested id is unknown offline.
        requested: The model id the user configured.
        entry: The catalog entry for it.
    """
    base = dict(current) if current else dict(_offline(requested, entry) or {})
    if isinstance(entry.get("id"), str) and entry["id"]:
        base["name"] = entry["id"]
    _modalities(base, entry.get("input_modalities"), _INPUTS)
    _modalities(base, entry.get("output_modalities"), _OUTPUTS)
    return cast("ModelProfile", base)
