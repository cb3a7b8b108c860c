"""The two floors ChatGrok is measured against.

- `raw_*`: plain httpx plus `json.loads` per SSE line, no LangChain at all: the cost of the
  HTTP exchange itself.
- `FloorChatModel`: the thinnest chat model that can be written on langchain-core + httpx
  (content only, usage on the last chunk, no retries, no checks). Whatever ChatGrok costs above
  it is ChatGrok's own; whatever it costs above `raw_*` is LangChain's.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool"}


def _usage(raw: dict[str, Any]) -> dict[str, int]:
    i, o = raw.get("prompt_tokens", 0), raw.get("completion_tokens", 0)
    return {"input_tokens": i, "output_tokens": o, "total_tokens": i + o}


class FloorChatModel(BaseChatModel):
    """Minimal xAI chat model: content only; usage on the last chunk."""

    base_url: str
    api_key: str = "bench"
    model: str = "grok-4.3"
    http_client: Any = None  # httpx.Client
    http_async_client: Any = None  # httpx.AsyncClient

    @property
    def _llm_type(self) -> str:
        return "floor"

    def _body(self, messages: list[BaseMessage], stream: bool) -> dict[str, Any]:
        wire = [{"role": _ROLES[m.type], "content": m.content} for m in messages]
        body: dict[str, Any] = {"model": self.model, "messages": wire}
        if stream:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        return body

    def _args(self, messages: list[BaseMessage], stream: bool) -> dict[str, Any]:
        url = self.base_url + "/chat/completions"
        headers = {"authorization": f"Bearer {self.api_key}"}
        return {
            "method": "POST",
            "url": url,
            "json": self._body(messages, stream),
            "headers": headers,
        }

    @staticmethod
    def _result(data: dict[str, Any]) -> ChatResult:
        usage = _usage(data["usage"])
        message = AIMessage(
            content=data["choices"][0]["message"]["content"] or "", usage_metadata=usage
        )  # type: ignore[arg-type]
        return ChatResult(generations=[ChatGeneration(message=message)])

    @staticmethod
    def _chunk(line: str) -> ChatGenerationChunk | None:
        if not line.startswith("data: ") or line == "data: [DONE]":
            return None
        data = json.loads(line[6:])
        if data.get("usage"):
            message = AIMessageChunk(
                content="", usage_metadata=_usage(data["usage"]), chunk_position="last"
            )  # type: ignore[arg-type]
            return ChatGenerationChunk(message=message)
        choices = data["choices"]
        content = choices[0]["delta"].get("content") if choices else None
        return ChatGenerationChunk(message=AIMessageChunk(content=content)) if content else None

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        return self._result(
            self.http_client.request(**self._args(messages, False)).raise_for_status().json()
        )

    async def _agenerate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        response = await self.http_async_client.request(**self._args(messages, False))
        return self._result(response.raise_for_status().json())

    def _stream(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> Iterator[ChatGenerationChunk]:
        with self.http_client.stream(**self._args(messages, True)) as response:
            response.raise_for_status()
            for line in response.iter_lines():
                chunk = self._chunk(line)
                if chunk is not None:
                    yield chunk

    async def _astream(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> AsyncIterator[ChatGenerationChunk]:
        async with self.http_async_client.stream(**self._args(messages, True)) as response:
            response.raise_for_status()
            async for line in response.aiter_lines():
                chunk = self._chunk(line)
                if chunk is not None:
                    yield chunk


# -- raw httpx: no LangChain -----------------------------------------------------------------


def _raw_args(base_url: str, prompt: str, stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "grok-4.3", "messages": [{"role": "user", "content": prompt}]}
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return {
        "method": "POST",
        "url": base_url + "/chat/completions",
        "content": json.dumps(body).encode(),
        "headers": {"authorization": "Bearer bench", "content-type": "application/json"},
    }


def raw_invoke(client: httpx.Client, base_url: str, prompt: str) -> str:
    response = client.request(**_raw_args(base_url, prompt, False))
    response.raise_for_status()
    content: str = json.loads(response.content)["choices"][0]["message"]["content"]
    return content


async def raw_ainvoke(client: httpx.AsyncClient, base_url: str, prompt: str) -> str:
    response = await client.request(**_raw_args(base_url, prompt, False))
    response.raise_for_status()
    content: str = json.loads(response.content)["choices"][0]["message"]["content"]
    return content


def raw_stream(client: httpx.Client, base_url: str, prompt: str) -> Iterator[str]:
    """Yield each content delta (and nothing for the finish and usage chunks)."""
    with client.stream(**_raw_args(base_url, prompt, True)) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                choices = json.loads(line[6:])["choices"]
                if choices and (content := choices[0]["delta"].get("content")):
                    yield content


async def raw_astream(client: httpx.AsyncClient, base_url: str, prompt: str) -> AsyncIterator[str]:
    async with client.stream(**_raw_args(base_url, prompt, True)) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                choices = json.loads(line[6:])["choices"]
                if choices and (content := choices[0]["delta"].get("content")):
                    yield content
