"""LangChain integration for xAI's Grok models.

The public surface is flat: the chat model, the low-level clients, cost tracking, the errors and
the version. Names load on first use (PEP 562), so `import langchain_grok.testing` or
`from langchain_grok import XAIClient` does not pay for LangChain's chat-model machinery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from langchain_grok._version import __version__

if TYPE_CHECKING:
    from langchain_grok._catalog import ModelPrices
    from langchain_grok._client import AsyncXAIClient, XAIClient
    from langchain_grok._client._transport import async_transport
    from langchain_grok.batch import BatchItemError, BatchStatus, GrokBatch
    from langchain_grok.callbacks import GrokCallbackHandler, GrokUsage, get_grok_callback
    from langchain_grok.chat_models import ChatGrok
    from langchain_grok.errors import (
        APIConnectionError,
        APIError,
        APIResponseValidationError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        ContextWindowExceededError,
        DeferredTimeoutError,
        GrokError,
        InternalServerError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        UnprocessableEntityError,
    )

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncXAIClient",
    "AuthenticationError",
    "BadRequestError",
    "BatchItemError",
    "BatchStatus",
    "ChatGrok",
    "ContextWindowExceededError",
    "DeferredTimeoutError",
    "GrokBatch",
    "GrokCallbackHandler",
    "GrokError",
    "GrokUsage",
    "InternalServerError",
    "ModelPrices",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnprocessableEntityError",
    "XAIClient",
    "__version__",
    "async_transport",
    "get_grok_callback",
]

_HOMES = {
    "AsyncXAIClient": "_client",
    "XAIClient": "_client",
    "async_transport": "_client._transport",
    "ChatGrok": "chat_models",
    "GrokCallbackHandler": "callbacks",
    "GrokUsage": "_usage",
    "get_grok_callback": "callbacks",
    "ModelPrices": "_catalog",
    **{name: "errors" for name in __all__ if name.endswith("Error")},
    "BatchItemError": "batch",  # a per-item result of GrokBatch.results, not a raised error
    "BatchStatus": "batch",
    "GrokBatch": "batch",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first access and cache the name here."""
    home = _HOMES.get(name)
    if home is None:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """List the public names, loaded or not."""
    return sorted(__all__)
