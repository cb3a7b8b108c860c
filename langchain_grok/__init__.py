"""LangChain integration for xAI's Grok models.

The public surface is flat: the chat model, the low-level clients, the errors and the version.
The emulator lives in `langchain_grok.testing` and is imported only when asked for, so that
`import langchain_grok` stays cheap.
"""

from __future__ import annotations

from langchain_grok._client import AsyncXAIClient, XAIClient
from langchain_grok._version import __version__
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
]
