"""Static types for the JSON the xAI API sends back.

These are `TypedDict`s, not models: the client returns the decoded JSON as-is (validating every
stream chunk with pydantic would cost more CPU than the rest of the pipeline), and the types
only tell the type checker and the reader which keys to expect. Every key is optional because
the recordings show fields appearing and disappearing across model generations.
"""

from __future__ import annotations

from typing import Any, TypedDict

__all__ = [
    "Batch",
    "BatchList",
    "BatchRequestList",
    "BatchRequestMetadata",
    "BatchResult",
    "BatchResultList",
    "BatchState",
    "ChatCompletion",
    "ChatCompletionChunk",
    "ChatMessageDict",
    "LanguageModel",
    "LanguageModelList",
    "ModelInfo",
    "ModelList",
    "TokenDict",
    "TokenizeTextResponse",
    "ToolCallDict",
    "UsageDict",
]


class FunctionCallDict(TypedDict, total=False):
    """The function part of a tool call; `arguments` is a JSON string."""

    name: str
    arguments: str


class ToolCallDict(TypedDict, total=False):
    """A tool call; in streams it also has `index` (calls usually arrive whole)."""

    index: int
    id: str
    type: str
    function: FunctionCallDict


class ChatMessageDict(TypedDict, total=False):
    """An assistant message (`message`) or a stream `delta`."""

    role: str
    content: str | None
    reasoning_content: str
    tool_calls: list[ToolCallDict]
    refusal: str | None


class ChoiceDict(TypedDict, total=False):
    """One choice; `delta` in streams, `message` otherwise."""

    index: int
    message: ChatMessageDict
    delta: ChatMessageDict
    finish_reason: str | None
    logprobs: dict[str, Any] | None


class UsageDict(TypedDict, total=False):
    """Token usage; `completion_tokens` excludes reasoning tokens on Chat Completions."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: dict[str, int]
    completion_tokens_details: dict[str, int]
    num_sources_used: int
    cost_in_usd_ticks: int


class ChatCompletion(TypedDict, total=False):
    """A non-streaming `chat.completion` body."""

    id: str
    object: str
    created: int
    model: str
    choices: list[ChoiceDict]
    usage: UsageDict
    system_fingerprint: str
    service_tier: str
    citations: list[str]


class ChatCompletionChunk(ChatCompletion, total=False):
    """One `chat.completion.chunk` stream event: the same fields, `delta` in the choices."""


class ModelInfo(TypedDict, total=False):
    """One entry of `GET /v1/models`."""

    id: str
    created: int
    object: str
    owned_by: str


class ModelList(TypedDict, total=False):
    """The `GET /v1/models` body."""

    object: str
    data: list[ModelInfo]


# -- Batch API (docs.x.ai Batch API guide; xai-org/xai-sdk-ts `src/types.ts`) -----------------


class BatchState(TypedDict, total=False):
    """A batch's counters; `num_pending == 0` (with requests) means it has finished."""

    num_requests: int
    num_pending: int
    num_success: int
    num_error: int
    num_cancelled: int


class Batch(TypedDict, total=False):
    """A batch (`POST /v1/batches`, `GET /v1/batches/{id}`, `:cancel`); times are RFC 3339."""

    batch_id: str
    name: str
    create_time: str
    expire_time: str | None
    create_api_key_id: str
    cancel_time: str | None
    cancel_by_xai_message: str | None
    state: BatchState
    cost_breakdown: dict[str, Any]
    input_file_id: str


class BatchList(TypedDict, total=False):
    """One page of `GET /v1/batches`; no (or an empty) `pagination_token` ends the list."""

    batches: list[Batch]
    pagination_token: str | None


class BatchRequestMetadata(TypedDict, total=False):
    """One request of a batch: `state` is pending, succeeded, failed, cancelled or unknown."""

    batch_request_id: str
    endpoint: str
    model: str
    state: str
    create_time: str
    finish_time: str | None


class BatchRequestList(TypedDict, total=False):
    """One page of `GET /v1/batches/{id}/requests`."""

    batch_request_metadata: list[BatchRequestMetadata]
    pagination_token: str | None


class BatchResult(TypedDict, total=False):
    """One finished request: `batch_result` holds `{"response": {...}}` or `{"error": ...}`.

    A success carries `{"response": {"chat_get_completion": <chat.completion>}}` for a Chat
    Completions request. xAI documents `error` as a string; the gRPC form is a status object
    (`{code, message}`) and the guide's JavaScript reads a top-level `error_message`, so readers
    accept all three.
    """

    batch_request_id: str
    batch_result: dict[str, Any]
    error_message: str


class BatchResultList(TypedDict, total=False):
    """One page of `GET /v1/batches/{id}/results`."""

    results: list[BatchResult]
    pagination_token: str | None


class LanguageModel(TypedDict, total=False):
    """One entry of `GET /v1/language-models` (or the body of `GET /v1/language-models/{id}`).

    Prices are integers in USD cents per 100 million tokens (divide by 10,000 for dollars per
    million; `search_price` is per 100 million sources, so divide by 1e10 for dollars per
    source). The catalog publishes no context window; the offline profile table keeps that.
    """

    id: str
    fingerprint: str
    created: int
    object: str
    owned_by: str
    version: str
    input_modalities: list[str]
    output_modalities: list[str]
    prompt_text_token_price: int
    cached_prompt_text_token_price: int
    prompt_image_token_price: int
    completion_text_token_price: int
    search_price: int
    aliases: list[str]


class LanguageModelList(TypedDict, total=False):
    """The `GET /v1/language-models` body."""

    models: list[LanguageModel]


class TokenDict(TypedDict, total=False):
    """One token of a `POST /v1/tokenize-text` answer."""

    token_id: int
    string_token: str
    token_bytes: list[int]


class TokenizeTextResponse(TypedDict, total=False):
    """The `POST /v1/tokenize-text` body: the text's tokens in order (the model's tokenizer)."""

    token_ids: list[TokenDict]
