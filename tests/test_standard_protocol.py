"""LangChain's standard integration suite, protocol-level tests, against the local emulator.

These are the tests that need no model intelligence (any well-formed reply passes): invoke,
streaming in both output versions, v3 stream events, batch, conversations, names, usage,
stop sequences, tool-message histories, error status. The tests that judge what a model decides
(which tool, which arguments, schema adherence) run against the real API in
`integration_tests/`; here they are deselected at collection (see `conftest.py`), listed in
`NEEDS_A_REAL_MODEL`, rather than skipped or overridden.
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
    "test_tool_calling",
    "test_tool_calling_async",
    "test_bind_runnables_as_tools",
    "test_tool_choice",
    "test_tool_calling_with_no_arguments",
    "test_structured_output",
    "test_structured_output_async",
    "test_structured_output_pydantic_2_v1",
    "test_structured_output_optional_param",
    "test_json_mode",
    "test_agent_loop",
    "test_unicode_tool_call_integration",
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
        return {"model": "grok-4.20-0309-non-reasoning", "max_retries": 0}

    @property
    def model_override_value(self) -> str:
        return "grok-4.5"

    @property
    def has_tool_choice(self) -> bool:
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
        return {"model": "grok-4.3", "max_retries": 0}
