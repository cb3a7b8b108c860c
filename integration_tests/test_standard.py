"""LangChain's full standard integration suite against api.x.ai."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from langchain_core.rate_limiters import InMemoryRateLimiter
from langchain_tests.integration_tests import ChatModelIntegrationTests

from langchain_grok import ChatGrok

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessage

_RATE_LIMITER = InMemoryRateLimiter(requests_per_second=2, max_bucket_size=4)
# Long and stable so that the second call finds it in xAI's prompt cache.
_CACHE_PROMPT = "You are a meticulous assistant. " + " ".join(
    f"Rule {i}: answer precisely and briefly." for i in range(400)
)


# grok-4.3 rejects `stop`; ChatGrok drops it with a warning (test_stop_sequence passes it).
@pytest.mark.filterwarnings("ignore:grok-4.3 rejects stop:UserWarning")
class TestChatGrokLive(ChatModelIntegrationTests):
    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return ChatGrok

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "grok-4.3", "rate_limiter": _RATE_LIMITER, "conversation_id": None}

    @property
    def model_override_value(self) -> str:
        return "grok-4.20-0309-non-reasoning"

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_image_urls(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def supported_usage_metadata_details(self) -> dict[Any, list[Any]]:
        return {
            "invoke": ["reasoning_output", "cache_read_input"],
            "stream": ["reasoning_output", "cache_read_input"],
        }

    def invoke_with_reasoning_output(self, *, stream: bool = False) -> AIMessage:
        model = ChatGrok(model="grok-4.3", reasoning_effort="high", rate_limiter=_RATE_LIMITER)
        prompt = "What is 17 * 23 - 11? Think it through."
        return _run(model, prompt, stream=stream)

    def invoke_with_cache_read_input(self, *, stream: bool = False) -> AIMessage:
        model = ChatGrok(model="grok-4.3", conversation_id="langchain-grok-cache-test")
        messages = [("system", _CACHE_PROMPT), ("human", "Say OK.")]
        _run(model, messages, stream=False)  # warm the cache on the server
        return _run(model, messages, stream=stream)


def _run(model: ChatGrok, prompt: Any, *, stream: bool) -> AIMessage:
    if not stream:
        return model.invoke(prompt)
    full: Any = None
    for chunk in model.stream(prompt):
        full = chunk if full is None else full + chunk
    return full  # type: ignore[no-any-return]


@pytest.mark.filterwarnings("ignore:grok-4.3 rejects stop:UserWarning")
class TestChatGrokLiveResponsesAPI(TestChatGrokLive):
    """The full suite again, on xAI's Responses API."""

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {**super().chat_model_params, "use_responses_api": True}

    def invoke_with_reasoning_output(self, *, stream: bool = False) -> AIMessage:
        model = ChatGrok(
            model="grok-4.3",
            reasoning_effort="high",
            rate_limiter=_RATE_LIMITER,
            use_responses_api=True,
        )
        return _run(model, "What is 17 * 23 - 11? Think it through.", stream=stream)

    def invoke_with_cache_read_input(self, *, stream: bool = False) -> AIMessage:
        model = ChatGrok(
            model="grok-4.3", conversation_id="langchain-grok-cache-test-rs", use_responses_api=True
        )
        messages = [("system", _CACHE_PROMPT), ("human", "Say OK.")]
        _run(model, messages, stream=False)
        return _run(model, messages, stream=stream)
