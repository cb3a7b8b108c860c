"""What each Grok model accepts, so that requests it would reject are fixed before sending.

The table is the offline default (xai-api.md section 8, checked 2026-09); unknown model ids get
no rules at all and are sent as the user wrote them, so a model released tomorrow works today.
Profiles are keyed by the id the user requested, not the id the server echoes (aliases and
retired slugs resolve server-side to other ids).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from langchain_core.language_models import ModelProfile

__all__ = ["GrokModel", "lookup", "to_langchain_profile"]


@dataclass(frozen=True, slots=True)
class GrokModel:
    """Capabilities of one model id.

    Attributes:
        id: Canonical id.
        reasoning: Always reasons; the API then rejects `stop`, `presence_penalty` and
            `frequency_penalty` with a 400.
        efforts: Accepted `reasoning_effort` values; `()` when the model rejects the parameter
            for every value; `None` when unknown (sent unchecked).
        effort_default: The documented default effort, when known.
        max_input_tokens: Context window, when known.
        image_inputs: Accepts images in user messages.
        accepts_stop: Accepts `stop` (only some non-reasoning models).
        retired: The id is a retired slug that xAI now serves with another model.
    """

    id: str
    reasoning: bool
    efforts: tuple[str, ...] | None
    effort_default: str | None = None
    max_input_tokens: int | None = None
    image_inputs: bool = True
    accepts_stop: bool = False
    retired: bool = False


_FOUR_LEVELS: Final = ("low", "medium", "high", "xhigh")


def _model(
    model_id: str,
    efforts: tuple[str, ...] | None,
    *,
    default: str | None = None,
    context: int | None = None,
    reasoning: bool = True,
    **extra: bool,
) -> GrokModel:
    return GrokModel(model_id, reasoning, efforts, default, context, **extra)


_MODELS: Final[tuple[tuple[GrokModel, tuple[str, ...]], ...]] = (
    (_model("grok-4.7", _FOUR_LEVELS, default="high", context=500_000), ()),
    (_model("grok-4.6", _FOUR_LEVELS, default="high"), ()),
    (
        _model("grok-4.5", ("low", "medium", "high"), default="high", context=500_000),
        ("grok-4.5-latest",),
    ),
    (
        _model("grok-4.3", ("none", "low", "medium", "high"), default="low", context=1_000_000),
        ("grok-4.3-latest",),
    ),
    (
        _model("grok-4.20-0309-reasoning", (), context=2_000_000),
        ("grok-4.20", "grok-4.20-reasoning", "grok-4.20-reasoning-latest"),
    ),
    (
        _model(
            "grok-4.20-0309-non-reasoning",
            (),
            context=2_000_000,
            reasoning=False,
            accepts_stop=True,
        ),
        ("grok-4.20-non-reasoning", "grok-4.20-non-reasoning-latest"),
    ),
    (
        _model("grok-4.20-multi-agent-0309", _FOUR_LEVELS, context=2_000_000),
        ("grok-4.20-multi-agent", "grok-4.20-multi-agent-latest"),
    ),
    (_model("grok-build-0.1", None, context=256_000, image_inputs=False), ()),
    (
        _model("grok-3-mini", ("low", "high"), context=131_072, image_inputs=False),
        ("grok-3-mini-latest",),
    ),
)

# Retired 2026-05-15 and now served by grok-4.3. Their old rules still apply on our side
# (reasoning ones rejected `stop`), and whether grok-4.3 accepts an effort through the old slug
# is unknown, so efforts go unchecked.
_RETIRED: Final = (
    "grok-4",
    "grok-4-0709",
    "grok-4-fast",
    "grok-4-fast-reasoning",
    "grok-4-fast-non-reasoning",
    "grok-4-1-fast",
    "grok-4-1-fast-reasoning",
    "grok-4-1-fast-non-reasoning",
    "grok-code-fast-1",
    "grok-3",
)


def _build_table() -> dict[str, GrokModel]:
    table: dict[str, GrokModel] = {}
    for model, aliases in _MODELS:
        for name in (model.id, *aliases):
            table[name] = model
    for name in _RETIRED:
        # Even the "-non-reasoning" slugs rejected `stop` (xai-api.md section 2), and the
        # server now answers them with a reasoning model.
        table[name] = _model(name, None, context=1_000_000, retired=True)
    return table


_TABLE: Final = _build_table()


def lookup(model: str) -> GrokModel | None:
    """The profile of a requested model id or alias; None for an unknown id."""
    return _TABLE.get(model)


def to_langchain_profile(model: GrokModel) -> ModelProfile:
    """The profile in the shape `BaseChatModel.profile` documents."""
    profile: ModelProfile = {
        "name": model.id,
        "status": "deprecated" if model.retired else "active",
        "text_inputs": True,
        "image_inputs": model.image_inputs,
        "image_url_inputs": model.image_inputs,
        "pdf_inputs": False,
        "audio_inputs": False,
        "video_inputs": False,
        "text_outputs": True,
        "image_outputs": False,
        "audio_outputs": False,
        "video_outputs": False,
        "reasoning_output": model.reasoning,
        "tool_calling": True,
        "tool_choice": True,
        "tool_call_streaming": True,
        "structured_output": True,
        "temperature": True,
    }
    if model.max_input_tokens is not None:
        profile["max_input_tokens"] = model.max_input_tokens
    if model.efforts:
        profile["reasoning_effort_levels"] = list(model.efforts)
    if model.effort_default is not None:
        profile["reasoning_effort_default"] = model.effort_default
    return profile
