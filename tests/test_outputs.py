"""Recorded xAI replies -> LangChain messages: usage, cost, reasoning, tool calls."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk

from langchain_grok._outputs import ChunkConverter, completion_to_result, usage_to_metadata
from langchain_grok._sse import SSEDecoder

from .recordings import load, names


def stream_payloads(sse: str) -> list[dict[str, Any]]:
    decoder = SSEDecoder()
    events = decoder.feed(sse.encode()) + decoder.flush()
    return [json.loads(e.data) for e in events if e.data != "[DONE]"]


def ai_chunk(chunk: ChatGenerationChunk | None) -> AIMessageChunk:
    assert chunk is not None
    assert isinstance(chunk.message, AIMessageChunk)
    return chunk.message


def merged_stream(prefix: str) -> tuple[AIMessageChunk, list[AIMessageChunk]]:
    converter = ChunkConverter()
    chunks = [
        ai_chunk(converted)
        for payload in stream_payloads(load(prefix)["response"]["sse"])
        if (converted := converter.convert(payload)) is not None
    ]
    chunks.append(ai_chunk(converter.finish()))
    merged = chunks[0]
    for piece in chunks[1:]:
        merged = merged + piece
    return merged, chunks


def check_usage_invariants(usage: Any) -> None:
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert usage["output_tokens"] >= usage["output_token_details"]["reasoning"]
    assert usage["input_tokens"] >= usage["input_token_details"]["cache_read"]
    assert min(usage["input_tokens"], usage["output_tokens"]) >= 0


def test_usage_mapping_counts_reasoning_once() -> None:
    # cc09: total = prompt + completion + reasoning (138 + 7 + 300 = 445).
    usage = usage_to_metadata(load("cc09")["response"]["json"]["usage"])
    assert usage["input_tokens"] == 138
    assert usage["output_tokens"] == 307
    assert usage["total_tokens"] == 445
    assert usage["output_token_details"]["reasoning"] == 300
    # A server that counts reasoning inside completion_tokens must not be double counted.
    legacy = usage_to_metadata(
        {
            "prompt_tokens": 10,
            "completion_tokens": 50,
            "total_tokens": 60,
            "completion_tokens_details": {"reasoning_tokens": 40},
        }
    )
    assert (legacy["output_tokens"], legacy["total_tokens"]) == (50, 60)


@pytest.mark.parametrize("prefix", names("_nonstream_"))
def test_every_recorded_completion(prefix: str) -> None:
    payload = load(prefix)["response"]["json"]
    (generation,) = completion_to_result(payload).generations
    message = generation.message
    assert isinstance(message, AIMessage)
    raw = payload["choices"][0]["message"]
    assert message.response_metadata["model_provider"] == "xai"
    assert message.response_metadata["model_name"] == payload["model"]
    assert message.response_metadata["finish_reason"] == payload["choices"][0]["finish_reason"]
    assert message.id == payload["id"]
    check_usage_invariants(message.usage_metadata)
    ticks = payload["usage"].get("cost_in_usd_ticks")
    if ticks is not None:
        assert message.response_metadata["cost_in_usd_ticks"] == ticks
        assert message.response_metadata["cost_usd"] == pytest.approx(ticks / 1e10)
    else:
        assert "cost_usd" not in message.response_metadata
    assert message.additional_kwargs.get("reasoning_content") == raw.get("reasoning_content")
    assert [c["id"] for c in message.tool_calls] == [c["id"] for c in raw.get("tool_calls", [])]
    for call, raw_call in zip(message.tool_calls, raw.get("tool_calls", []), strict=True):
        assert call["args"] == json.loads(raw_call["function"]["arguments"])


def test_reasoning_becomes_a_standard_block() -> None:
    (generation,) = completion_to_result(load("cc01")["response"]["json"]).generations
    blocks = generation.message.content_blocks
    assert blocks[0]["type"] == "reasoning"
    assert "2 + 2" in blocks[0]["reasoning"]
    assert blocks[1] == {"type": "text", "text": "4"}


@pytest.mark.parametrize("prefix", names("_stream_"))
def test_every_recorded_stream_merges_to_the_right_message(prefix: str) -> None:
    record = load(prefix)
    payloads = stream_payloads(record["response"]["sse"])
    merged, chunks = merged_stream(prefix)
    text = "".join(
        (c.get("delta") or {}).get("content") or "" for p in payloads for c in p["choices"]
    )
    reasoning = "".join(
        (c.get("delta") or {}).get("reasoning_content") or ""
        for p in payloads
        for c in p["choices"]
    )
    assert merged.content == text
    assert merged.additional_kwargs.get("reasoning_content", "") == reasoning
    assert merged.response_metadata["model_provider"] == "xai"
    assert merged.response_metadata["model_name"] == payloads[-1]["model"]
    assert merged.chunk_position == "last"
    # Usage is carried by exactly one chunk, however the server sent it.
    with_usage = [c for c in chunks if c.usage_metadata]
    has_usage = any("usage" in p for p in payloads)
    assert len(with_usage) == (1 if has_usage else 0)
    if has_usage:
        check_usage_invariants(merged.usage_metadata)
    raw_calls = [
        call
        for p in payloads
        for c in p["choices"]
        for call in (c.get("delta") or {}).get("tool_calls") or []
    ]
    assert [c["name"] for c in merged.tool_calls] == [c["function"]["name"] for c in raw_calls]
    assert [c["args"] for c in merged.tool_calls] == [
        json.loads(c["function"]["arguments"]) for c in raw_calls
    ]


def test_legacy_cumulative_usage_is_reported_once_with_the_last_value() -> None:
    merged, _ = merged_stream("cc26")
    assert merged.usage_metadata is not None
    assert merged.usage_metadata["output_tokens"] == 200
    assert merged.usage_metadata["input_tokens"] == 38
    assert merged.response_metadata["finish_reason"] == "length"


def test_heartbeat_chunks_produce_nothing() -> None:
    payloads = stream_payloads(load("cc19")["response"]["sse"])
    converter = ChunkConverter()
    produced = [c for c in map(converter.convert, payloads) if c is not None]
    assert len(produced) < len(payloads) // 4


def test_fragmented_tool_calls_merge_by_index() -> None:
    # xAI sends each call whole, but a proxy or a future model may fragment them by index.
    converter = ChunkConverter()
    parts = [
        {
            "index": 0,
            "id": "call_a",
            "type": "function",
            "function": {"name": "f", "arguments": '{"q": "日'},
        },
        {
            "index": 1,
            "id": "call_b",
            "type": "function",
            "function": {"name": "g", "arguments": "{}"},
        },
        {"index": 0, "function": {"arguments": '本"}'}},
    ]
    merged = AIMessageChunk(content="")
    for part in parts:
        chunk = converter.convert(
            {"id": "s", "choices": [{"index": 0, "delta": {"tool_calls": [part]}}]}
        )
        merged = merged + ai_chunk(chunk)
    merged = merged + ai_chunk(converter.finish())
    assert [(c["id"], c["name"], c["args"]) for c in merged.tool_calls] == [
        ("call_a", "f", {"q": "日本"}),
        ("call_b", "g", {}),
    ]


def test_invalid_arguments_on_invoke_become_invalid_tool_calls() -> None:
    payload = {
        "id": "x",
        "model": "m",
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {
                            "id": "1",
                            "type": "function",
                            "function": {"name": "f", "arguments": "[1]"},
                        },
                        {
                            "id": "2",
                            "type": "function",
                            "function": {"name": "g", "arguments": "{"},
                        },
                        {"id": "3", "type": "function", "function": {"name": "h", "arguments": ""}},
                    ],
                },
            }
        ],
    }
    message = completion_to_result(payload).generations[0].message
    assert isinstance(message, AIMessage)
    assert [c["id"] for c in message.invalid_tool_calls] == ["1", "2"]
    assert message.tool_calls[0]["args"] == {}
    assert message.usage_metadata is None


def test_logprobs_on_invoke_and_stream() -> None:
    logprobs = {
        "content": [{"token": "Hi", "logprob": -0.1, "bytes": [72, 105], "top_logprobs": []}]
    }
    payload = {
        "id": "x",
        "model": "m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hi"},
                "finish_reason": "stop",
                "logprobs": logprobs,
            }
        ],
    }
    (generation,) = completion_to_result(payload).generations
    assert generation.message.response_metadata["logprobs"] == logprobs
    converter = ChunkConverter()
    chunk = converter.convert(
        {"id": "x", "choices": [{"index": 0, "delta": {"content": "Hi"}, "logprobs": logprobs}]}
    )
    assert chunk is not None
    assert chunk.generation_info == {"logprobs": logprobs}
