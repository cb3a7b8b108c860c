"""Every REST path the package calls, relative to the base URL (which ends in `/v1`).

One table, so that a path learnt to be wrong is one edit, and so that the emulator serves
exactly the paths the client calls.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "BATCHES",
    "BATCH_CANCEL",
    "BATCH_ITEM",
    "BATCH_REQUESTS",
    "BATCH_RESULTS",
    "CHAT_COMPLETIONS",
    "DEFERRED_COMPLETION",
    "LANGUAGE_MODEL",
    "LANGUAGE_MODELS",
    "MODEL",
    "MODELS",
    "RESPONSE",
    "RESPONSES",
    "TOKENIZE_TEXT",
    "fill",
]

CHAT_COMPLETIONS: Final = "/chat/completions"
DEFERRED_COMPLETION: Final = "/chat/deferred-completion/{id}"
RESPONSES: Final = "/responses"
RESPONSE: Final = "/responses/{id}"
MODELS: Final = "/models"
MODEL: Final = "/models/{id}"
LANGUAGE_MODELS: Final = "/language-models"
LANGUAGE_MODEL: Final = "/language-models/{id}"
TOKENIZE_TEXT: Final = "/tokenize-text"
# Batch API. First taken from a third-party description; confirmed (2026-12) against xAI's own
# material: the curl examples of docs.x.ai/developers/advanced-api-usage/batch-api (create,
# add requests, get, results with `limit` / `pagination_token`, `:cancel`, list, per-request
# metadata) and the REST client of xAI's TypeScript SDK (xai-org/xai-sdk-ts
# `src/resources/batches.ts`, which sends the same paths and the same `:cancel` suffix).
BATCHES: Final = "/batches"
BATCH_ITEM: Final = "/batches/{id}"
BATCH_REQUESTS: Final = "/batches/{id}/requests"
BATCH_RESULTS: Final = "/batches/{id}/results"
BATCH_CANCEL: Final = "/batches/{id}:cancel"


def fill(template: str, identifier: str, *, name: str = "id") -> str:
    """Put an id into a path template, refusing ids that would change the path.

    Args:
        template: One of this module's templates, with an `{id}` placeholder.
        identifier: The id (response id, request id, batch id, model id).
        name: The parameter's name, for the error message.

    Returns:
        The path.

    Raises:
        ValueError: The id is empty, not a string, or holds `/`, `?` or `#`.
    """
    if not isinstance(identifier, str) or not identifier or any(c in identifier for c in "/?#"):
        msg = f"{name} must be a non-empty id without '/', '?' or '#', got {identifier!r}"
        raise ValueError(msg)
    return template.format(id=identifier)
