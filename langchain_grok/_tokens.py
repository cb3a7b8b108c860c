"""Token counting with the model's own tokenizer: what to count, and a cache of answers (pure).

xAI publishes no tokenizer, only `POST /v1/tokenize-text`, so every count is a request. This
module decides which texts of a conversation the model reads (after the same conversion the
chat request uses), keeps the answers in a bounded, thread-safe cache, and turns an unreachable
endpoint into an error that says what token counting needs. The requests themselves are made by
`ChatGrok` through `_client`; nothing here does I/O.

Each text (a message's content, a replayed reasoning summary, a tool call's arguments, a tool
result) is tokenized on its own rather than joined into one string: in the chat template each
of them sits between special tokens, which no token merges across, and a growing conversation
then costs one request per new text, the rest coming from the cache.
"""

from __future__ import annotations

import hashlib
import json
import threading
from array import array
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlsplit, urlunsplit

from langchain_grok import _paths as paths
from langchain_grok._messages import convert_messages
from langchain_grok._structured import format_tools
from langchain_grok.errors import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    NotFoundError,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from langchain_core.messages import BaseMessage

__all__ = [
    "TOKEN_CACHE",
    "TokenCache",
    "explain_failure",
    "message_texts",
    "token_ids_from_payload",
    "tool_texts",
]

# A few thousand distinct texts and a million token ids (8 MB as int64) cover the working set
# of an agent loop re-counting its history, without letting a long-running process grow.
_MAX_ENTRIES: Final = 4096
_MAX_IDS: Final = 1_000_000


class TokenCache:
    """A bounded LRU map from (base URL, model, text) to the text's token ids; thread-safe.

    Texts are keyed by a digest, so the cache holds no copies of prompts; ids are stored as
    int64 arrays (8 bytes each, not a Python int object each). Only successful answers are
    stored: a failure is never remembered.

    Args:
        max_entries: Most texts kept.
        max_ids: Most token ids kept over all texts; a text longer than this is not cached.
    """

    def __init__(self, max_entries: int = _MAX_ENTRIES, max_ids: int = _MAX_IDS) -> None:
        self.max_entries = max_entries
        self.max_ids = max_ids
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str, bytes], array[int]] = OrderedDict()
        self._ids = 0

    @staticmethod
    def key(base_url: str, model: str, text: str) -> tuple[str, str, bytes]:
        """The cache key; the base URL keeps an emulator's answers apart from xAI's."""
        digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=20).digest()
        return (base_url, model, digest)

    def get(self, key: tuple[str, str, bytes]) -> list[int] | None:
        """The cached ids for `key` (marking it recently used), or None."""
        with self._lock:
            ids = self._entries.get(key)
            if ids is None:
                return None
            self._entries.move_to_end(key)
            return ids.tolist()

    def put(self, key: tuple[str, str, bytes], ids: Sequence[int]) -> None:
        """Remember `ids` for `key`, evicting the least recently used texts to stay in bounds."""
        if len(ids) > self.max_ids or self.max_entries <= 0:
            return
        stored = array("q", ids)
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._ids -= len(previous)
            self._entries[key] = stored
            self._ids += len(stored)
            while len(self._entries) > self.max_entries or self._ids > self.max_ids:
                _, evicted = self._entries.popitem(last=False)
                self._ids -= len(evicted)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()
            self._ids = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


TOKEN_CACHE: Final = TokenCache()


def token_ids_from_payload(payload: Any) -> list[int]:
    """The token ids of a `tokenize-text` answer, in order.

    Raises:
        APIResponseValidationError: The body is not `{"token_ids": [{"token_id": int}, ...]}`.
    """
    tokens = payload.get("token_ids") if isinstance(payload, dict) else None
    if not isinstance(tokens, list):
        msg = f"tokenize-text answer has no `token_ids` list: {str(payload)[:200]}"
        raise APIResponseValidationError(msg, body=payload)
    ids: list[int] = []
    for token in tokens:
        token_id = token.get("token_id") if isinstance(token, dict) else None
        if isinstance(token_id, bool) or not isinstance(token_id, int):
            msg = f"tokenize-text answer has a token without an integer `token_id`: {token!r}"
            raise APIResponseValidationError(msg, body=payload)
        ids.append(token_id)
    return ids


def explain_failure(error: APIError, base_url: str) -> APIError | None:
    """The same kind of error, saying that token counting needs the tokenize-text endpoint.

    Only for failures whose cause a user would not guess: the endpoint could not be reached,
    or it (or the model) is unknown at `base_url`, e.g. a gateway that only forwards chat.

    Returns:
        The new error to raise from `error`, or None to raise `error` unchanged.
    """
    where = f"POST {_without_userinfo(base_url)}{paths.TOKENIZE_TEXT}"
    if isinstance(error, APIConnectionError):
        msg = (
            f"Token counting needs xAI's tokenize-text endpoint ({where}), which could not be "
            f"reached; there is no offline tokenizer to fall back on: {error.message}"
        )
        return type(error)(msg, body=error.body, code=error.code, request_id=error.request_id)
    if isinstance(error, NotFoundError):
        msg = (
            f"Token counting needs xAI's tokenize-text endpoint ({where}) and a model it knows; "
            f"the server answered 404: {error.message}"
        )
        return NotFoundError(
            msg,
            status_code=error.status_code,
            response=error.response,
            request_id=error.request_id,
            body=error.body,
            code=error.code,
        )
    return None


def _without_userinfo(url: str) -> str:
    # A base URL may carry proxy credentials (`https://user:secret@host/v1`): never quote them.
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def message_texts(messages: Sequence[BaseMessage]) -> list[str]:
    """The texts of a conversation that the model reads, in order, empty ones left out.

    The messages go through `convert_messages`, the conversion a Chat Completions request uses,
    so that what is counted is what is sent: system prompts, user text, assistant text and its
    replayed `reasoning_content`, each tool call's name and JSON arguments, tool results
    (including the `Error:` prefix a failed tool gets). Not included: images and files (the
    endpoint takes text only), roles, names, tool-call ids and the template tokens around them.

    Raises:
        ValueError: A message cannot be sent (the same error the request would raise).
    """
    if not messages:
        return []
    texts: list[str] = []
    for message in convert_messages(messages):
        texts.extend(_content_texts(message.get("content")))
        reasoning = message.get("reasoning_content")
        if isinstance(reasoning, str):
            texts.append(reasoning)
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            texts.extend((str(function.get("name") or ""), str(function.get("arguments") or "")))
    return [text for text in texts if text]


def _content_texts(content: Any) -> Iterable[str]:
    if isinstance(content, str):
        return (content,)
    if isinstance(content, list):
        return (
            str(part.get("text") or "")
            for part in content
            if isinstance(part, dict) and part.get("type") == "text"
        )
    return ()


def tool_texts(tools: Sequence[Any] | None) -> list[str]:
    """Each function tool's definition as the request carries it: compact JSON of its `function`.

    xAI renders tool schemas into its own prompt format, which it does not publish, so this
    counts the schema text rather than the exact rendering. Server-side tools (`web_search`,
    ...) carry no schema in the request and count nothing.

    Raises:
        ValueError: Something that is not a tool (the error `bind_tools` would raise).
    """
    if not tools:
        return []
    return [
        _compact(tool["function"])
        for tool in format_tools(tools)
        if tool.get("type") == "function" and isinstance(tool.get("function"), dict)
    ]


def _compact(value: Mapping[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
