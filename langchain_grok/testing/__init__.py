"""A local xAI API emulator for tests and offline demos.

```python
from langchain_grok.testing import FakeXAIServer, text_reply

with FakeXAIServer() as server:
    server.script(text_reply("Hello!"))
    ...  # point a client at server.base_url with server.api_key
    assert server.requests[0].json["model"] == "grok-4.3"
```

Names are loaded on first use, so `import langchain_grok.testing` costs nothing until a test
actually starts a server (asyncio alone takes tens of milliseconds to import). Opt-in pytest
fixtures live in `langchain_grok.testing.pytest_plugin`. Besides Chat Completions it serves the
Responses API (`POST /v1/responses`, `GET`/`DELETE /v1/responses/{id}`) from the same script
queue; `web_search_reply` scripts a searched, cited answer there. The Batch API
(`/v1/batches...`) is served too: each poll of a batch finishes `batch_progress` requests,
answered from the same queue (an `error_reply` fails that item). `POST /v1/tokenize-text` uses
a FAKE tokenizer (not Grok's): each run of word characters, each run of whitespace and each
other character is one token, so tests can predict counts by hand. Deferred chat completions
(`deferred: true`, then polls of `/v1/chat/deferred-completion/{id}`) are steered through
`server.deferred` (a `DeferredJobs`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langchain_grok.testing._deferred import DeferredJobs
    from langchain_grok.testing._records import RecordedRequest
    from langchain_grok.testing._schema_values import make_schema_value
    from langchain_grok.testing._script import (
        ScriptedReply,
        error_reply,
        in_band_error_reply,
        text_reply,
        tool_call_reply,
        web_search_reply,
    )
    from langchain_grok.testing._server import FakeXAIServer

__all__ = [
    "DeferredJobs",
    "FakeXAIServer",
    "RecordedRequest",
    "ScriptedReply",
    "error_reply",
    "in_band_error_reply",
    "make_schema_value",
    "text_reply",
    "tool_call_reply",
    "web_search_reply",
]

_HOMES: dict[str, str] = {
    "DeferredJobs": "_deferred",
    "FakeXAIServer": "_server",
    "RecordedRequest": "_records",
    "ScriptedReply": "_script",
    "error_reply": "_script",
    "in_band_error_reply": "_script",
    "make_schema_value": "_schema_values",
    "text_reply": "_script",
    "tool_call_reply": "_script",
    "web_search_reply": "_script",
}


def __getattr__(name: str) -> Any:
    """Import a public name's module on first access (PEP 562) and cache the name here."""
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
