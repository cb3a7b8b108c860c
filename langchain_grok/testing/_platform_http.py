"""The emulator's platform endpoints: the model catalogs and `POST /v1/tokenize-text`.

`GET /v1/models[/{id}]`, `GET /v1/language-models[/{id}]` and tokenizing, kept apart from
`_server` so the server only routes. Tokenizing checks what the real endpoint checks, in its
order: the key (401/400), the content type (415), the body's shape (422 for a missing or
mistyped field, 400 for an empty model id), then the model (404, worded as the catalogs word
it). The tokens come from `_fake_tokenizer`, which is not Grok's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from langchain_grok import _paths as paths
from langchain_grok.testing._fake_tokenizer import fake_tokenize
from langchain_grok.testing._language_models import (
    find_language_model,
    language_model_entry,
    language_models_list,
)
from langchain_grok.testing._models import MODEL_IDS, model_entry, models_list
from langchain_grok.testing._respond import send_json, send_rejection, success_headers
from langchain_grok.testing._responses_http import API_ROOT
from langchain_grok.testing._validate import Rejection, check_auth, parse_json_body

if TYPE_CHECKING:
    from langchain_grok.testing._http import HTTPRequest, ResponseWriter
    from langchain_grok.testing._records import Outcome

__all__ = ["is_platform_path", "serve_platform"]

TOKENIZE_PATH: Final = API_ROOT + paths.TOKENIZE_TEXT
MODELS_PATH: Final = API_ROOT + paths.MODELS
LANGUAGE_MODELS_PATH: Final = API_ROOT + paths.LANGUAGE_MODELS
_CATALOGS: Final = (MODELS_PATH, LANGUAGE_MODELS_PATH)
_DESERIALIZE: Final = "Failed to deserialize the JSON body into the target type"


def is_platform_path(path: str) -> bool:
    """Whether `serve_platform` answers `path` (without a trailing slash)."""
    return path == TOKENIZE_PATH or any(
        path == catalog or path.startswith(catalog + "/") for catalog in _CATALOGS
    )


def unknown_model(model: str) -> Rejection:
    """The 404 xAI sends for a model id it does not know (or the key's team may not use)."""
    return Rejection(
        404, f"The model {model} does not exist or your team does not have access to it."
    )


async def serve_platform(
    request: HTTPRequest, response: ResponseWriter, path: str, *, api_key: str
) -> Outcome:
    """Answer a catalog or tokenize-text request.

    Args:
        request: The request.
        response: Where to write.
        path: The request path without a trailing slash (one `is_platform_path` accepts).
        api_key: The key the server accepts.

    Returns:
        How the response ended.
    """
    allowed = "POST" if path == TOKENIZE_PATH else "GET"
    if request.method != allowed:
        refused = Rejection(405, f"Method {request.method} is not allowed on {request.path}")
        return await send_rejection(response, refused, {"allow": allowed})
    rejection = check_auth(request.headers, api_key)
    if rejection is not None:
        return await send_rejection(response, rejection)
    if path == TOKENIZE_PATH:
        return await _tokenize(request, response)
    body = _catalog_body(path)
    if body is None:
        return await send_rejection(response, unknown_model(path.rsplit("/", 1)[-1]))
    return await send_json(response, 200, body, success_headers(stream=False))


def _catalog_body(path: str) -> dict[str, Any] | None:
    """The body for a catalog path, or None for an unknown model id."""
    if path == MODELS_PATH:
        return models_list()
    if path == LANGUAGE_MODELS_PATH:
        return language_models_list()
    if path.startswith(MODELS_PATH + "/"):
        name = path.removeprefix(MODELS_PATH + "/")
        return model_entry(name) if name in MODEL_IDS else None
    model = find_language_model(path.removeprefix(LANGUAGE_MODELS_PATH + "/"))
    return None if model is None else language_model_entry(model)


def check_tokenize_request(payload: Any) -> Rejection | None:
    """The body checks of `POST /v1/tokenize-text`, after the JSON is decoded.

    Returns:
        The first rejection, or None when the request would be served.
    """
    if not isinstance(payload, dict):
        return Rejection(422, f"{_DESERIALIZE}: invalid type: expected a JSON object")
    for name, required in (("text", True), ("model", True), ("user", False)):
        if name not in payload:
            if required:
                return Rejection(422, f"{_DESERIALIZE}: missing field `{name}`")
        elif not isinstance(payload[name], str):
            return Rejection(422, f"{_DESERIALIZE}: `{name}` must be a string")
    if not payload["model"]:
        return Rejection(400, "Model name must not be empty")
    if find_language_model(payload["model"]) is None:
        return unknown_model(payload["model"])
    return None


async def _tokenize(request: HTTPRequest, response: ResponseWriter) -> Outcome:
    payload, rejection = parse_json_body(request.headers, request.body)
    if rejection is None:
        rejection = check_tokenize_request(payload)
    if rejection is not None:
        return await send_rejection(response, rejection)
    body = {"token_ids": fake_tokenize(payload["text"])}
    return await send_json(response, 200, body, success_headers(stream=False))
