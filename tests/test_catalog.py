"""The model catalog: client methods, prices, `ChatGrok.refresh_profile`, and the emulator's
catalog and tokenize-text validation.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from langchain_grok import ChatGrok, ModelPrices, XAIClient
from langchain_grok._catalog import merge_profile
from langchain_grok._client import AsyncXAIClient
from langchain_grok.errors import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    UnprocessableEntityError,
)
from langchain_grok.testing._models import MODEL_IDS

if TYPE_CHECKING:
    from langchain_grok.testing import FakeXAIServer

ENTRY_KEYS = {
    "id",
    "fingerprint",
    "created",
    "object",
    "owned_by",
    "version",
    "input_modalities",
    "output_modalities",
    "aliases",
}
PRICE_KEYS = {
    "prompt_text_token_price",
    "cached_prompt_text_token_price",
    "prompt_image_token_price",
    "completion_text_token_price",
    "search_price",
}


def client_for(server: FakeXAIServer) -> XAIClient:
    return XAIClient(api_key=server.api_key, base_url=server.base_url)


def grok(server: FakeXAIServer, **kwargs: Any) -> ChatGrok:
    kwargs.setdefault("model", "grok-4.3")
    return ChatGrok(api_key=server.api_key, base_url=server.base_url, **kwargs)


# -- client ----------------------------------------------------------------------------------


def test_list_language_models(fake_xai_server: FakeXAIServer) -> None:
    with client_for(fake_xai_server) as client:
        listed = client.list_language_models()
    assert [m["id"] for m in listed["models"]] == list(MODEL_IDS)
    for entry in listed["models"]:
        assert set(entry) >= ENTRY_KEYS
        assert entry["object"] == "model"
        assert entry["owned_by"] == "xai"
    assert fake_xai_server.requests[0].path == "/v1/language-models"
    assert fake_xai_server.requests[0].method == "GET"


async def test_list_language_models_async(fake_xai_server: FakeXAIServer) -> None:
    async with AsyncXAIClient(
        api_key=fake_xai_server.api_key, base_url=fake_xai_server.base_url
    ) as client:
        listed = await client.list_language_models()
        entry = await client.retrieve_language_model("grok-4.5")
        model = await client.retrieve_model("grok-4.5")
        with pytest.raises(NotFoundError):
            await client.retrieve_language_model("grok-99")
        with pytest.raises(NotFoundError):
            await client.retrieve_model("grok-99")
    assert len(listed["models"]) == len(MODEL_IDS)
    assert entry["prompt_text_token_price"] == 20_000
    assert model == {
        "id": "grok-4.5",
        "created": model["created"],
        "object": "model",
        "owned_by": "xai",
    }


def test_retrieve_language_model_by_id_and_alias(fake_xai_server: FakeXAIServer) -> None:
    with client_for(fake_xai_server) as client:
        entry = client.retrieve_language_model("grok-4.3")
        by_alias = client.retrieve_language_model("grok-4.3-latest")
    assert entry == by_alias
    assert entry["aliases"] == ["grok-4.3-latest"]
    assert entry["input_modalities"] == ["text", "image"]
    assert set(entry) == ENTRY_KEYS | PRICE_KEYS
    assert [r.path for r in fake_xai_server.requests] == [
        "/v1/language-models/grok-4.3",
        "/v1/language-models/grok-4.3-latest",
    ]


def test_unknown_models_are_404(fake_xai_server: FakeXAIServer) -> None:
    with client_for(fake_xai_server) as client:
        with pytest.raises(NotFoundError, match="grok-99") as caught:
            client.retrieve_language_model("grok-99")
        assert caught.value.status_code == 404
        assert isinstance(caught.value.body, dict)
        assert set(caught.value.body) == {"code", "error"}
        with pytest.raises(NotFoundError):
            client.retrieve_model("grok-99")
        assert client.retrieve_model("grok-4.3")["id"] == "grok-4.3"
        assert [m["id"] for m in client.list_models()["data"]] == list(MODEL_IDS)


def test_model_ids_that_would_change_the_path_fail_before_sending(
    fake_xai_server: FakeXAIServer,
) -> None:
    with client_for(fake_xai_server) as client:
        for bad in ("", "a/b", "x?y"):
            with pytest.raises(ValueError, match="model_id"):
                client.retrieve_language_model(bad)
            with pytest.raises(ValueError, match="model_id"):
                client.retrieve_model(bad)
    assert fake_xai_server.requests == []


# -- prices ----------------------------------------------------------------------------------


def test_prices_convert_cents_per_100m_tokens_to_dollars_per_million() -> None:
    prices = ModelPrices.from_catalog(
        {
            "id": "grok-3",
            "prompt_text_token_price": 30_000,
            "cached_prompt_text_token_price": 7_500,
            "prompt_image_token_price": 30_000,
            "completion_text_token_price": 150_000,
            "search_price": 250_000_000,
        }
    )
    assert prices == ModelPrices(
        model="grok-3",
        input=3.0,
        cached_input=0.75,
        image_input=3.0,
        output=15.0,
        search_per_source=0.025,
    )


def test_prices_tolerate_missing_and_malformed_fields() -> None:
    assert ModelPrices.from_catalog({}) == ModelPrices(model="")
    odd = ModelPrices.from_catalog(
        {
            "id": "m",
            "prompt_text_token_price": "30000",
            "completion_text_token_price": -1,
            "cached_prompt_text_token_price": True,
            "prompt_image_token_price": None,
        }
    )
    assert odd == ModelPrices(model="m")


def test_estimate_uses_list_prices() -> None:
    prices = ModelPrices(model="m", input=2.0, cached_input=0.5, output=6.0)
    assert prices.estimate(1_000_000) == pytest.approx(2.0)
    assert prices.estimate(1_000, 500) == pytest.approx(0.002 + 0.003)
    assert prices.estimate(1_000, 0, cached_input_tokens=400) == pytest.approx(
        600 * 2e-6 + 400 * 0.5e-6
    )
    # No cached price published: cache hits are estimated at the full input price.
    assert ModelPrices(model="m", input=1.0).estimate(10, cached_input_tokens=5) == pytest.approx(
        1e-5
    )
    with pytest.raises(ValueError, match="output price"):
        ModelPrices(model="m", input=1.0).estimate(10, 10)
    with pytest.raises(ValueError, match="cannot exceed"):
        prices.estimate(1, cached_input_tokens=2)
    with pytest.raises(ValueError, match=">= 0"):
        prices.estimate(-1)


# -- ChatGrok.refresh_profile ----------------------------------------------------------------


def test_prices_are_none_before_a_refresh(fake_xai_server: FakeXAIServer) -> None:
    model = grok(fake_xai_server)
    assert model.prices is None
    assert model.catalog_entry is None
    assert fake_xai_server.requests == []  # the offline profile needs no request


def test_refresh_profile_merges_live_over_offline(fake_xai_server: FakeXAIServer) -> None:
    model = grok(fake_xai_server, model="grok-4.3-latest")
    offline = dict(model.profile or {})
    profile = model.refresh_profile()
    assert model.profile == profile
    # Offline keeps what REST does not publish.
    assert profile["max_input_tokens"] == offline["max_input_tokens"] == 1_000_000
    assert profile["reasoning_effort_levels"] == ["none", "low", "medium", "high"]
    assert profile["reasoning_effort_default"] == "low"
    # Live wins for what it publishes.
    assert profile["name"] == "grok-4.3"
    assert profile["image_inputs"] is True
    assert profile["text_outputs"] is True
    assert model.catalog_entry is not None
    assert model.catalog_entry["aliases"] == ["grok-4.3-latest"]
    assert model.prices == ModelPrices(
        model="grok-4.3",
        input=1.25,
        cached_input=0.2,
        image_input=1.25,
        output=2.5,
        search_per_source=0.025,
    )
    assert [r.path for r in fake_xai_server.requests] == ["/v1/language-models/grok-4.3-latest"]


async def test_arefresh_profile(fake_xai_server: FakeXAIServer) -> None:
    model = grok(fake_xai_server, model="grok-build-0.1")
    profile = await model.arefresh_profile()
    assert profile["image_inputs"] is False
    assert profile["max_input_tokens"] == 256_000
    # The emulator publishes no price for grok-build-0.1: every price is None.
    assert model.prices == ModelPrices(model="grok-build-0.1")
    with pytest.raises(ValueError, match="no input price"):
        model.prices.estimate(10)


def test_refresh_of_an_unknown_model_leaves_the_profile(fake_xai_server: FakeXAIServer) -> None:
    model = grok(fake_xai_server, model="grok-99")
    assert model.profile is None
    with pytest.raises(NotFoundError):
        model.refresh_profile()
    assert model.profile is None
    assert model.prices is None
    model = ChatGrok(api_key="xai-wrong", base_url=fake_xai_server.base_url, model="grok-4.3")
    before = dict(model.profile or {})
    with pytest.raises(AuthenticationError):
        model.refresh_profile()
    assert model.profile == before
    assert model.catalog_entry is None


def _catalog_transport(entry: dict[str, Any]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/language-models/grok-5-preview"
        return httpx.Response(200, json=entry)

    return httpx.MockTransport(handler)


def test_refresh_gives_a_model_unknown_offline_a_live_profile() -> None:
    entry = {
        "id": "grok-5-preview",
        "input_modalities": ["text", "image", "audio"],
        "output_modalities": ["text"],
        "aliases": [],
        "prompt_text_token_price": 40_000,
    }
    model = ChatGrok(
        api_key="k",
        model="grok-5-preview",
        http_client=httpx.Client(transport=_catalog_transport(entry)),
    )
    assert model.profile is None
    profile = model.refresh_profile()
    assert profile == {
        "name": "grok-5-preview",
        "text_inputs": True,
        "image_inputs": True,
        "image_url_inputs": True,
        "audio_inputs": True,
        "video_inputs": False,
        "text_outputs": True,
        "image_outputs": False,
        "audio_outputs": False,
        "video_outputs": False,
    }
    assert model.prices is not None
    assert model.prices.input == 4.0
    assert model.prices.output is None


async def test_arefresh_finds_the_offline_profile_through_an_alias() -> None:
    # A new alias of a known model: the offline context window and efforts still apply.
    entry = {"id": "grok-4.5", "aliases": ["grok-5-preview"], "input_modalities": ["text"]}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=entry)

    model = ChatGrok(
        api_key="k",
        model="grok-5-preview",
        http_async_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )
    profile = await model.arefresh_profile()
    assert profile["name"] == "grok-4.5"
    assert profile["max_input_tokens"] == 500_000
    assert profile["reasoning_effort_levels"] == ["low", "medium", "high"]
    assert profile["image_inputs"] is False  # live wins over offline's True


def test_merge_profile_keeps_offline_where_the_catalog_is_silent() -> None:
    current = {"name": "grok-4.3", "image_inputs": True, "max_input_tokens": 1_000_000}
    merged = merge_profile(current, "grok-4.3", {"input_modalities": "garbage"})
    assert merged == current
    assert merge_profile(None, "unknown", {}) == {}


# -- the emulator's tokenize-text validation -------------------------------------------------


def _post(server: FakeXAIServer, body: Any, **kwargs: Any) -> httpx.Response:
    headers = {"authorization": f"Bearer {server.api_key}", **kwargs.pop("headers", {})}
    return httpx.post(server.base_url + "/tokenize-text", json=body, headers=headers, **kwargs)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"text": "hi"}, 422),
        ({"model": "grok-4.3"}, 422),
        ({"text": 5, "model": "grok-4.3"}, 422),
        ({"text": "hi", "model": 5}, 422),
        ({"text": "hi", "model": "grok-4.3", "user": 1}, 422),
        (["text"], 422),
        ({"text": "hi", "model": ""}, 400),
        ({"text": "hi", "model": "grok-99"}, 404),
    ],
)
def test_emulator_tokenize_rejects_bad_bodies(
    fake_xai_server: FakeXAIServer, body: Any, status: int
) -> None:
    response = _post(fake_xai_server, body)
    assert response.status_code == status
    assert set(response.json()) == {"code", "error"}


def test_emulator_tokenize_checks_auth_content_type_and_method(
    fake_xai_server: FakeXAIServer,
) -> None:
    body = {"text": "hi", "model": "grok-4.3"}
    assert _post(fake_xai_server, body).status_code == 200
    assert _post(fake_xai_server, body, headers={"authorization": ""}).status_code == 401
    wrong_key = _post(fake_xai_server, body, headers={"authorization": "Bearer xai-nope"})
    assert wrong_key.status_code == 400
    assert "Incorrect API key" in wrong_key.json()["error"]
    plain = httpx.post(
        fake_xai_server.base_url + "/tokenize-text",
        content=b'{"text": "hi", "model": "grok-4.3"}',
        headers={
            "authorization": f"Bearer {fake_xai_server.api_key}",
            "content-type": "text/plain",
        },
    )
    assert plain.status_code == 415
    auth = {"authorization": f"Bearer {fake_xai_server.api_key}"}
    got = httpx.get(fake_xai_server.base_url + "/tokenize-text", headers=auth)
    assert got.status_code == 405
    assert got.headers["allow"] == "POST"
    posted = httpx.post(fake_xai_server.base_url + "/language-models", headers=auth, json={})
    assert posted.status_code == 405
    assert posted.headers["allow"] == "GET"


def test_client_maps_emulator_rejections_to_typed_errors(fake_xai_server: FakeXAIServer) -> None:
    with client_for(fake_xai_server) as client:
        with pytest.raises(UnprocessableEntityError):
            client.request("POST", "/tokenize-text", {"text": "hi"})
        with pytest.raises(BadRequestError):
            client.request("POST", "/tokenize-text", {"text": "hi", "model": ""})


# -- README ----------------------------------------------------------------------------------


def test_readme_snippet_runs_against_the_emulator(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme.split("## Token counting and the model catalog", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None
    monkeypatch.delenv("XAI_API_KEY", raising=False)
    exec(compile(code.group(1), "README.md", "exec"), {})  # noqa: S102 - our own README
    out = capsys.readouterr().out
    assert "1000000 True ['grok-4.3-latest']" in out
    assert "input=1.25" in out
