"""The HTTP clients: the only package in langchain-grok that does network I/O."""

from __future__ import annotations

from langchain_grok._client._async import AsyncXAIClient
from langchain_grok._client._sync import XAIClient

__all__ = ["AsyncXAIClient", "XAIClient"]
