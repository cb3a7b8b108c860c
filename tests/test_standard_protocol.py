"""LangChain's standard integration suite, protocol-level tests, against the local emulator.

Everything the emulator can answer honestly runs here: invoke, streaming in both output versions,
v3 stream events, batch, conversations, names, usage, stop sequences, tool-message histories,
error status, forced tool choice (the emulator fills arguments from the schema), structured
output in every schema-driven method. The five tests that judge what a model decided unforced,
or which values it copied from the prompt, run against the real API in `integration_tests/`;
here they are deselected at collection (see `conftest.py`), listed in `NEEDS_A_REAL_MODEL`,
rather than skipped or overridden.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest
from langchain_tests.integration_tests import ChatModelIntegrationTests

from langchain_grok import ChatGrok
from langchain_grok.testing import FakeXAIServer

if TYPE_CHECKING:
    from collections.abc import Iterator

    from langchain_core.language_models import BaseChatModel

NEEDS_A_REAL_MODEL = (
    "test_tool_calling",  # asserts the model picked the argument 3 from the prompt
    "test_tool_calling_async",
    "test_agent_loop",  # asserts the model chose, unforced, to call the tool
    "test_unicode_tool_call_integration",  # asserts CJK text the model copied from the prompt
    "test_json_mode",  # JSON mode has no schema: the keys come from the prompt's instructions
)


@pytest.fixture(scope="module")
def emulator() -> Iterator[FakeXAIServer]:
    saved = {k: os.environ.get(k) for k in ("XAI_API_KEY", "XAI_API_BASE")}
    with FakeXAIServer() as server:
        os.environ["XAI_API_KEY"] = server.api_key
        os.environ["XAI_API_BASE"] = server.base_url
        try:
            yield server
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@pytest.mark.usefixtures("emulator")
class TestChatGrokProtocol(ChatModelIntegrationTests):
    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return ChatGrok

    @property
    def chat_model_params(self) -> dict[str, Any]:
        # A non-reasoning model, so that `stop` is sent rather than dropped with a warning.
        return {
            "model": "grok-4.20-0309-non-reasoning",
            "max_retries": 0,
            "use_responses_api": False,
        }

    @property
    def model_override_value(self) -> str:
        return "grok-4.5"

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True

    needs_a_real_model = NEEDS_A_REAL_MODEL


@pytest.mark.usefixtures("emulator")
# test_stop_sequence passes `stop`, which ChatGrok drops for this model with a warning
# (asserted in test_chat_model.py); the emulator would answer a sent `stop` with a 400.
@pytest.mark.filterwarnings("ignore:grok-4.3 rejects stop:UserWarning")
class TestChatGrokProtocolReasoningModel(TestChatGrokProtocol):
    """The same suite on a reasoning model: reasoning content in every reply, `stop` dropped."""

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "grok-4.3", "max_retries": 0, "use_responses_api": False}


@pytest.mark.usefixtures("emulator")
# The Responses API has no `stop`; ChatGrok drops it with a warning (test_stop_sequence).
@pytest.mark.filterwarnings("ignore:grok-4.3 rejects stop:UserWarning")
class TestChatGrokProtocolResponsesAPI(TestChatGrokProtocol):
    """The same suite on xAI's Responses API (typed events, encrypted reasoning replayed)."""

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "grok-4.3", "max_retries": 0, "use_responses_api": True}
