"""LangChain's own standard unit suite for chat models, run against ChatGrok."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.load import dumpd, load
from langchain_tests.unit_tests import ChatModelUnitTests

from langchain_grok import ChatGrok


class TestChatGrokStandard(ChatModelUnitTests):
    @property
    def chat_model_class(self) -> type[BaseChatModel]:
        return ChatGrok

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "grok-4.3"}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return (
            {"XAI_API_KEY": "api_key", "XAI_API_BASE": "https://eu-west-1.api.x.ai/v1/"},
            {"model": "grok-4.3"},
            {"xai_api_key": "api_key", "xai_api_base": "https://eu-west-1.api.x.ai/v1/"},
        )

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_image_urls(self) -> bool:
        return True

    @property
    def supports_json_mode(self) -> bool:
        return True

    @pytest.mark.xfail(
        reason=(
            "langchain-tests 1.1.9 loads with allowed_objects='all', which admits only classes "
            "in langchain-core's own serialization mapping, so no new package can pass the load "
            "step; the snapshot is still checked, and test_serdes_round_trip proves the load."
        ),
        strict=True,
    )
    def test_serdes(self, model: BaseChatModel, snapshot: Any) -> None:
        super().test_serdes(model, snapshot)


@pytest.mark.filterwarnings("ignore::langchain_core._api.beta_decorator.LangChainBetaWarning")
def test_serdes_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XAI_API_KEY", "xai-from-env")
    model = ChatGrok(model="grok-4.5", temperature=0.3, api_key="xai-original-secret", stop=["x"])
    dumped = dumpd(model)
    assert "xai-original-secret" not in str(dumped)
    assert dumped["kwargs"]["xai_api_key"] == {"lc": 1, "type": "secret", "id": ["XAI_API_KEY"]}
    loaded = load(
        dumped,
        allowed_objects=[ChatGrok],
        valid_namespaces=["langchain_grok"],
        secrets_from_env=True,
    )
    assert isinstance(loaded, ChatGrok)
    assert (loaded.model_name, loaded.temperature, loaded.stop) == ("grok-4.5", 0.3, ["x"])
    assert loaded.xai_api_key is not None
    assert loaded.xai_api_key.get_secret_value() == "xai-from-env"
