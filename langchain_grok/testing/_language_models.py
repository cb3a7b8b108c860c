"""The emulator's language-model catalog (`GET /v1/language-models[/{id}]`).

One entry per `MODEL_IDS` model, in the shape of xai-api.md section 8, with the documented list
prices in xAI's unit (integer USD cents per 100 million tokens, so $1.25 per million is
`12500`) and the aliases the offline profile table knows. xAI has published no price for
`grok-build-0.1`, so its entry leaves the price fields out, as a catalog entry may: clients must
cope with that.
"""

from __future__ import annotations

import hashlib
from typing import Any, Final

from langchain_grok.testing._models import MODEL_IDS

__all__ = ["find_language_model", "language_model_entry", "language_models_list"]

_CREATED: Final = 1_767_225_600  # 2026-01-01T00:00:00Z, as in `GET /v1/models`
_SEARCH_PRICE: Final = 250_000_000  # $25 per 1,000 sources
# model id -> (prompt, cached prompt, completion) in cents per 100M tokens, or None (unpublished)
_PRICES: Final[dict[str, tuple[int, int, int] | None]] = {
    "grok-4.3": (12_500, 2_000, 25_000),
    "grok-4.5": (20_000, 5_000, 60_000),
    "grok-4.20-0309-reasoning": (20_000, 2_000, 60_000),
    "grok-4.20-0309-non-reasoning": (20_000, 2_000, 60_000),
    "grok-4.20-multi-agent-0309": (20_000, 2_000, 60_000),
    "grok-build-0.1": None,
}
_ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "grok-4.3": ("grok-4.3-latest",),
    "grok-4.5": ("grok-4.5-latest",),
    "grok-4.20-0309-reasoning": ("grok-4.20", "grok-4.20-reasoning", "grok-4.20-reasoning-latest"),
    "grok-4.20-0309-non-reasoning": ("grok-4.20-non-reasoning", "grok-4.20-non-reasoning-latest"),
    "grok-4.20-multi-agent-0309": ("grok-4.20-multi-agent", "grok-4.20-multi-agent-latest"),
}
_TEXT_ONLY: Final = frozenset({"grok-build-0.1"})


def language_model_entry(model: str) -> dict[str, Any]:
    """Return one `MODEL_IDS` model as `GET /v1/language-models/{id}` describes it."""
    fingerprint = hashlib.blake2b(model.encode(), digest_size=5).hexdigest()
    entry: dict[str, Any] = {
        "id": model,
        "fingerprint": f"fp_{fingerprint}",
        "created": _CREATED,
        "object": "model",
        "owned_by": "xai",
        "version": "1.0",
        "input_modalities": ["text"] if model in _TEXT_ONLY else ["text", "image"],
        "output_modalities": ["text"],
    }
    prices = _PRICES.get(model)
    if prices is not None:
        prompt, cached, completion = prices
        entry.update(
            prompt_text_token_price=prompt,
            cached_prompt_text_token_price=cached,
            prompt_image_token_price=prompt,
            completion_text_token_price=completion,
            search_price=_SEARCH_PRICE,
        )
    entry["aliases"] = list(_ALIASES.get(model, ()))
    return entry


def find_language_model(name: str) -> str | None:
    """The `MODEL_IDS` id that `name` is, or is an alias of; None for an unknown name."""
    if name in MODEL_IDS:
        return name
    return next((model for model, aliases in _ALIASES.items() if name in aliases), None)


def language_models_list() -> dict[str, Any]:
    """Return the body of `GET /v1/language-models`: `{"models": [...]}`."""
    return {"models": [language_model_entry(model) for model in MODEL_IDS]}
