"""The catalog and tokenizer methods of `XAIClient` and `AsyncXAIClient` (one request each).

Kept out of `_sync` / `_async`, which are about transport; like `_batches`, the two mixins are
twins whose bodies differ only by `await`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from langchain_grok import _paths as paths
from langchain_grok._client._bodies import tokenize_body
from langchain_grok._constants import DEFAULT_MODEL

if TYPE_CHECKING:
    from langchain_grok._client._requesters import AsyncRequester, SyncRequester
    from langchain_grok._types import (
        LanguageModel,
        LanguageModelList,
        ModelInfo,
        ModelList,
        TokenizeTextResponse,
    )

__all__ = ["AsyncPlatformMethods", "SyncPlatformMethods"]


class SyncPlatformMethods:
    """`GET /v1/models`, `/v1/language-models` and `POST /v1/tokenize-text`, sync."""

    def list_models(self: SyncRequester) -> ModelList:
        """List the models the key may use (`GET /v1/models`)."""
        return cast("ModelList", self.request("GET", paths.MODELS))

    def retrieve_model(self: SyncRequester, model_id: str) -> ModelInfo:
        """Fetch one model's `{id, created, object, owned_by}` (`GET /v1/models/{id}`).

        Raises:
            NotFoundError: The id is unknown, or the key's team may not use it.
        """
        path = paths.fill(paths.MODEL, model_id, name="model_id")
        return cast("ModelInfo", self.request("GET", path))

    def list_language_models(self: SyncRequester) -> LanguageModelList:
        """List the language models with modalities, prices and aliases (`GET /v1/language-models`).

        Prices are integer USD cents per 100M tokens; `ModelPrices.from_catalog` converts an
        entry to dollars per million tokens.
        """
        return cast("LanguageModelList", self.request("GET", paths.LANGUAGE_MODELS))

    def retrieve_language_model(self: SyncRequester, model_id: str) -> LanguageModel:
        """Fetch one language model's catalog entry (`GET /v1/language-models/{id}`).

        Raises:
            NotFoundError: The id is unknown, or the key's team may not use it.
        """
        path = paths.fill(paths.LANGUAGE_MODEL, model_id, name="model_id")
        return cast("LanguageModel", self.request("GET", path))

    def tokenize_text(
        self: SyncRequester, text: str, model: str = DEFAULT_MODEL, *, user: str | None = None
    ) -> TokenizeTextResponse:
        """Split `text` into the model's own tokens (`POST /v1/tokenize-text`).

        Args:
            text: The text; sent as given (no chat template is applied).
            model: Model id or alias; tokenizers differ between models.
            user: Optional end-user id, as on other requests.

        Returns:
            `{"token_ids": [{"token_id", "string_token", "token_bytes"}, ...]}`.

        Raises:
            ValueError: `text` is not a string or `model` is empty (before any request).
        """
        body = tokenize_body(text, model, user)
        return cast("TokenizeTextResponse", self.request("POST", paths.TOKENIZE_TEXT, body))


class AsyncPlatformMethods:
    """The awaitable twins of `SyncPlatformMethods`."""

    async def list_models(self: AsyncRequester) -> ModelList:
        """List the models the key may use (`GET /v1/models`)."""
        return cast("ModelList", await self.request("GET", paths.MODELS))

    async def retrieve_model(self: AsyncRequester, model_id: str) -> ModelInfo:
        """Fetch one model's `{id, created, object, owned_by}` (`GET /v1/models/{id}`).

        Raises:
            NotFoundError: The id is unknown, or the key's team may not use it.
        """
        path = paths.fill(paths.MODEL, model_id, name="model_id")
        return cast("ModelInfo", await self.request("GET", path))

    async def list_language_models(self: AsyncRequester) -> LanguageModelList:
        """List the language models with modalities, prices and aliases (`GET /v1/language-models`).

        Prices are integer USD cents per 100M tokens; `ModelPrices.from_catalog` converts an
        entry to dollars per million tokens.
        """
        return cast("LanguageModelList", await self.request("GET", paths.LANGUAGE_MODELS))

    async def retrieve_language_model(self: AsyncRequester, model_id: str) -> LanguageModel:
        """Fetch one language model's catalog entry (`GET /v1/language-models/{id}`).

        Raises:
            NotFoundError: The id is unknown, or the key's team may not use it.
        """
        path = paths.fill(paths.LANGUAGE_MODEL, model_id, name="model_id")
        return cast("LanguageModel", await self.request("GET", path))

    async def tokenize_text(
        self: AsyncRequester, text: str, model: str = DEFAULT_MODEL, *, user: str | None = None
    ) -> TokenizeTextResponse:
        """Split `text` into the model's own tokens (`POST /v1/tokenize-text`).

        Args:
            text: The text; sent as given (no chat template is applied).
            model: Model id or alias; tokenizers differ between models.
            user: Optional end-user id, as on other requests.

        Returns:
            `{"token_ids": [{"token_id", "string_token", "token_bytes"}, ...]}`.

        Raises:
            ValueError: `text` is not a string or `model` is empty (before any request).
        """
        body = tokenize_body(text, model, user)
        return cast("TokenizeTextResponse", await self.request("POST", paths.TOKENIZE_TEXT, body))
