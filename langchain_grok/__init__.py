"""LangChain integration for xAI's Grok models.

The public surface is flat: the chat model, the low-level clients, the errors and the version.
Names load on first use (PEP 562), so `import langchain_grok.testing` or
`from langchain_grok import XAIClient` does not pay for LangChain's chat-model machinery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from langchain_grok._version import __version__

if TYPE_CHECKING:
    from langchain_grok._client import AsyncXAIClient, XAIClient
    from langchain_grok._client._transport import async_transport
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
    "ChatGrok",
    "ContextWindowExceededError",
    "GrokError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnprocessableEntityError",
    "XAIClient",
    "__version__",
    "async_transport",
]

_HOMES = {
    "AsyncXAIClient": "_client",
    "XAIClient": "_client",
    "async_transport": "_client._transport",
    "ChatGrok": "chat_models",
    **{name: "errors" for name in __all__ if name.endswith("Error")},
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
