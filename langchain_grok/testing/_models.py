"""The emulator's model catalogue and the one model rule its answers depend on.

Reasoning models behave differently in ways a client must handle (they reject `stop` and the
penalties, they report reasoning tokens and a reasoning summary), so the emulator has to tell
them apart from the name alone, exactly as a client without a live catalogue would.
"""

from __future__ import annotations

from typing import Any, Final

MODEL_IDS: Final = (
    "grok-4.3",
    "grok-4.5",
    "grok-4.20-0309-reasoning",
    "grok-4.20-0309-non-reasoning",
    "grok-4.20-multi-agent-0309",
    "grok-build-0.1",
)
# A fixed date keeps `GET /v1/models` byte-identical between runs.
_CREATED: Final = 1_767_225_600  # 2026-01-01T00:00:00Z
_REASONING_PREFIXES: Final = ("grok-4", "grok-3-mini", "grok-build", "grok-code")


def is_reasoning_model(model: str) -> bool:
    """Tell whether `model` reasons (and so rejects `stop` / penalties), by name.

    Args:
        model: A model id or alias as a client sends it.

    Returns:
        True for every grok-4 family model, grok-3-mini, grok-build and grok-code, unless the
        name says `non-reasoning`.
    """
    return model.startswith(_REASONING_PREFIXES) and "non-reasoning" not in model


def model_entry(model: str) -> dict[str, Any]:
    """Return one model as `GET /v1/models` lists it.

    Args:
        model: The model id.

    Returns:
        The OpenAI-shaped entry `{id, created, object, owned_by}`.
    """
    return {"id": model, "created": _CREATED, "object": "model", "owned_by": "xai"}


def models_list() -> dict[str, Any]:
    """Return the body of `GET /v1/models`.

    Returns:
        `{"object": "list", "data": [...]}` with every model of `MODEL_IDS`.
    """
    return {"object": "list", "data": [model_entry(m) for m in MODEL_IDS]}
