"""Pick the backend for the examples: api.x.ai with a key, the bundled emulator without one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from langchain_grok import ChatGrok


@contextmanager
def grok_backend(**model_kwargs: Any) -> Iterator[tuple[ChatGrok, Any]]:
    """Yield `(model, server)`; `server` is the emulator when offline, else None.

    Offline, the emulator's replies are canned ("You said: ..."), and tool calls must be
    scripted: it says so plainly, so nobody mistakes the output for a model's.
    """
    if os.environ.get("XAI_API_KEY"):
        print("[backend] api.x.ai (XAI_API_KEY is set)\n")
        yield ChatGrok(**model_kwargs), None
        return
    from langchain_grok.testing import FakeXAIServer

    with FakeXAIServer() as server:
        print(
            "[backend] OFFLINE: XAI_API_KEY is not set, so this runs against the local xAI "
            f"emulator at {server.base_url}.\n"
            "          Replies are canned by the emulator, not produced by a model.\n"
        )
        yield ChatGrok(api_key=server.api_key, base_url=server.base_url, **model_kwargs), server
