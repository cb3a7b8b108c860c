"""FakeXAIServer's Responses API over real TCP, driven with stdlib HTTP clients only.

The shapes are pinned to the real api.x.ai recordings (rs01-rs15, vendored in
`tests/fixtures/recordings`): key orders of the response object, items, usage and every stream
event are compared with the recorded ones, not with hand-written lists, so a drift from the
real API fails here. Validation, storage, encrypted-reasoning verification, server-side tools
with citations, and every fault option are exercised the way a client meets them.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import time
from typing import Any

import pytest

from langchain_grok.testing import (
    FakeXAIServer,
    ScriptedReply,
    error_reply,
    in_band_error_reply,
    make_schema_value,
    text_reply,
    tool_call_reply,
    web_search_reply,
)

from .recordings import load

RESPONSES = "/v1/responses"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
INCLUDE = ["reasoning.encrypted_content"]
WEATHER_TOOL: dict[str, Any] = load("rs03")["request"]["json"]["tools"][0]
PERSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 3},
        "age": {"type": "integer", "minimum": 18},
    },
    "required": ["name", "age"],
    "additionalProperties": False,
}


# -- helpers -------------------------------------------------------------------------------


@pytest.fixture
def server(fake_xai_server: FakeXAIServer) -> FakeXAIServer:
    return fake_xai_server


def body(prompt: str = "hi there", model: str = "grok-4.3", **extra: Any) -> dict[str, Any]:
    return {"model": model, "input": [{"role": "user", "content": prompt}], **extra}


def auth(server: FakeXAIServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.api_key}", "Content-Type": "application/json"}


def call(
    server: FakeXAIServer,
    method: str,
    path: str,
    payload: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        data = None if payload is None else json.dumps(payload).encode()
        conn.request(method, path, data, auth(server) if headers is None else headers)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def create(server: FakeXAIServer, payload: dict[str, Any]) -> dict[str, Any]:
    """POST a request that must succeed; return the decoded response object."""
    status, _, raw = call(server, "POST", RESPONSES, payload)
    assert status == 200, raw
    result: dict[str, Any] = json.loads(raw)
    return result


def rejected(server: FakeXAIServer, payload: Any, status: int) -> str:
    """POST a request that must fail with `status` and an xAI `{code, error}` body."""
    got, headers, raw = call(server, "POST", RESPONSES, payload)
    assert got == status, raw
    assert headers["content-type"] == "application/json"
    error = json.loads(raw)
    assert list(error) == ["code", "error"]
    return str(error["error"])


def stream_chunks(
    server: FakeXAIServer, payload: dict[str, Any]
) -> tuple[dict[str, str], list[bytes], bool]:
    """Stream over a raw socket, keeping the chunked framing: (headers, chunks, terminated)."""
    data = json.dumps({**payload, "stream": True}).encode()
    head = (
        f"POST {RESPONSES} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {server.api_key}"
        f"\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(head.encode() + data)
        file = sock.makefile("rb")
        assert file.readline().startswith(b"HTTP/1.1 200")
        headers: dict[str, str] = {}
        while (line := file.readline()) not in {b"\r\n", b""}:
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        chunks: list[bytes] = []
        while True:
            try:
                size_line = file.readline()
            except ConnectionResetError:
                return headers, chunks, False
            if not size_line:
                return headers, chunks, False
            size = int(size_line, 16)
            if size == 0:
                return headers, chunks, file.readline() == b"\r\n"
            chunks.append(file.read(size))
            assert file.read(2) == b"\r\n"


def parse_events(chunks: list[bytes]) -> list[tuple[str, dict[str, Any]]]:
    """Each chunk must be exactly one `event: <type>\\ndata: <json>\\n\\n` with data.type = type."""
    out: list[tuple[str, dict[str, Any]]] = []
    for chunk in chunks:
        assert chunk.endswith(b"\n\n")
        assert chunk.count(b"\n\n") == 1, "one SSE event per chunk"
        head, _, data = chunk[:-2].partition(b"\n")
        assert head.startswith(b"event: ")
        assert data.startswith(b"data: ")
        name, payload = head[7:].decode(), json.loads(data[6:])
        assert payload["type"] == name
        out.append((name, payload))
    return out


def stream(server: FakeXAIServer, payload: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    headers, chunks, terminated = stream_chunks(server, payload)
    assert terminated
    assert headers["content-type"] == "text/event-stream"
    return parse_events(chunks)


def recorded_events(prefix: str) -> list[tuple[str, dict[str, Any]]]:
    sse = load(prefix)["response"]["sse"].encode()
    return parse_events([part + b"\n\n" for part in sse.split(b"\n\n") if part])


def collapse(names: list[str]) -> list[str]:
    """Event types with runs of the same type (deltas) collapsed to one."""
    return [name for i, name in enumerate(names) if i == 0 or names[i - 1] != name]


def same_key_orders(
    ours: list[tuple[str, dict[str, Any]]], recorded: list[tuple[str, dict[str, Any]]]
) -> None:
    """Every event both streams have: same payload keys, same nested response/part/item keys.

    Events are matched by type and, for item events, by item type, so the reasoning item's
    `added` is compared with the recorded reasoning `added`, the message's with the message's.
    """

    def key(name: str, payload: dict[str, Any]) -> tuple[str, str]:
        return name, str(payload.get("item", {}).get("type", ""))

    first: dict[tuple[str, str], dict[str, Any]] = {}
    for name, payload in recorded:
        first.setdefault(key(name, payload), payload)
    compared = 0
    for name, payload in ours:
        want = first.get(key(name, payload))
        if want is None:
            continue
        compared += 1
        assert list(payload) == list(want), name
        for nested in ("response", "part", "item"):
            if nested in want:
                assert list(payload[nested]) == list(want[nested]), (name, nested)
    assert compared == len(ours), "every event of ours has a recorded counterpart"


def message(response: dict[str, Any]) -> dict[str, Any]:
    items: list[dict[str, Any]] = [i for i in response["output"] if i["type"] == "message"]
    (item,) = items
    return item


def text_of(response: dict[str, Any]) -> str:
    return str(message(response)["content"][0]["text"])


# -- default answers and wire shapes -------------------------------------------------------


def test_non_stream_shape_and_key_order_match_rs01(server: FakeXAIServer) -> None:
    recorded = load("rs01")["response"]["json"]
    status, headers, raw = call(
        server, "POST", RESPONSES, body("hi there", store=False, include=INCLUDE)
    )
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert headers["x-data-retention"] == "general"
    assert headers["x-request-id"]
    response = json.loads(raw)
    assert list(response) == list(recorded)
    assert list(response["usage"]) == list(recorded["usage"])
    assert re.fullmatch(UUID, response["id"])
    reasoning, msg = response["output"]
    assert list(reasoning) == list(recorded["output"][0])
    assert list(msg) == list(recorded["output"][1])
    assert list(msg["content"][0]) == list(recorded["output"][1]["content"][0])
    assert reasoning["id"] == f"rs_{response['id']}"
    assert msg["id"] == f"msg_{response['id']}"
    assert reasoning["summary"] == [{"text": 'The user said: "hi there"\n', "type": "summary_text"}]
    assert msg["content"][0]["text"] == "You said: hi there"
    assert (response["object"], response["status"], response["store"]) == (
        "response",
        "completed",
        False,
    )
    assert response["reasoning"] == {"effort": "low", "summary": "detailed"}
    assert (response["temperature"], response["top_p"]) == (0.7, 0.95)
    assert response["completed_at"] >= response["created_at"]


def test_encrypted_content_only_with_include(server: FakeXAIServer) -> None:
    without = create(server, body())
    assert "encrypted_content" not in without["output"][0]
    with_it = create(server, body(include=INCLUDE))
    assert isinstance(with_it["output"][0]["encrypted_content"], str)


def test_non_reasoning_model_has_no_reasoning_item(server: FakeXAIServer) -> None:
    response = create(server, body(model="grok-4.20-0309-non-reasoning", include=INCLUDE))
    assert [i["type"] for i in response["output"]] == ["message"]
    assert response["usage"]["output_tokens_details"]["reasoning_tokens"] == 0
    assert response["reasoning"] == {"effort": None, "summary": None}


def test_string_input_and_text_parts_are_echoed(server: FakeXAIServer) -> None:
    assert text_of(create(server, {"model": "grok-4.3", "input": "plain"})) == "You said: plain"
    parts = [
        {"type": "input_text", "text": "a"},
        {"type": "input_image", "image_url": "https://x/i.png"},
        {"type": "input_text", "text": "b"},
    ]
    response = create(
        server,
        {"model": "grok-4.3", "input": [{"role": "user", "content": parts, "type": "message"}]},
    )
    assert text_of(response) == "You said: a b"


def test_stream_framing_order_and_keys_match_rs02(server: FakeXAIServer) -> None:
    headers, chunks, terminated = stream_chunks(
        server, body("Count from 1 to 3", store=False, include=INCLUDE)
    )
    assert terminated
    assert headers["content-type"] == "text/event-stream"
    assert headers["cache-control"] == "no-cache"
    assert headers["x-data-retention"] == "general"
    assert not any(b"[DONE]" in chunk for chunk in chunks)
    events = parse_events(chunks)
    recorded = recorded_events("rs02")
    assert [p["sequence_number"] for _, p in events] == list(range(len(events)))
    assert collapse([n for n, _ in events]) == collapse([n for n, _ in recorded])
    same_key_orders(events, recorded)
    for name in ("response.created", "response.in_progress"):
        opening = dict(events)[name]["response"]
        assert (opening["status"], opening["output"], opening["usage"]) == ("in_progress", [], None)
        assert opening["completed_at"] is None
    for name, payload in events:
        if "encrypted_content" in json.dumps(payload):
            assert name in {"response.output_item.done", "response.completed"}, name
    final = events[-1][1]["response"]
    assert final["status"] == "completed"
    assert "encrypted_content" in final["output"][0]
    deltas = "".join(p["delta"] for n, p in events if n == "response.output_text.delta")
    assert deltas == text_of(final) == "You said: Count from 1 to 3"
    summary = "".join(p["delta"] for n, p in events if n == "response.reasoning_summary_text.delta")
    assert summary == final["output"][0]["summary"][0]["text"]
    # fact 27: streams echo reasoning {null, null} and float32 sampling values
    assert final["reasoning"] == {"effort": None, "summary": None}
    assert (final["temperature"], final["top_p"]) == (0.699999988079071, 0.949999988079071)


def test_chunk_words_groups_stream_deltas(server: FakeXAIServer) -> None:
    server.script(text_reply("one two three four five", chunk_words=2, reasoning_content=""))
    events = stream(server, body())
    deltas = [p["delta"] for n, p in events if n == "response.output_text.delta"]
    assert deltas == ["one two", " three four", " five"]


# -- function calls ------------------------------------------------------------------------


def test_forced_function_call_matches_rs03_and_schema(server: FakeXAIServer) -> None:
    recorded = load("rs03")["response"]["json"]
    tool = {"type": "function", "name": "person", "description": "d", "parameters": PERSON_SCHEMA}
    response = create(server, body(tools=[tool], tool_choice="required"))
    reasoning, fc = response["output"]
    assert reasoning["type"] == "reasoning"
    assert list(fc) == list(recorded["output"][1])
    assert fc["id"] == f"fc_{response['id']}_0"
    assert re.fullmatch(rf"call-{UUID}-0", fc["call_id"])
    assert (fc["name"], fc["status"]) == ("person", "completed")
    assert json.loads(fc["arguments"]) == make_schema_value(PERSON_SCHEMA)
    assert json.loads(fc["arguments"])["age"] >= 18
    # rs03: a flat tool is echoed with description before name
    assert list(response["tools"][0]) == ["type", "description", "name", "parameters"]
    assert list(create(server, body(tools=[WEATHER_TOOL]))["tools"][0]) == list(
        recorded["tools"][0]
    )


def test_tool_choice_names_a_function(server: FakeXAIServer) -> None:
    other = {
        "type": "function",
        "name": "other",
        "parameters": {"type": "object", "properties": {}},
    }
    choice = {"type": "function", "name": "weather"}
    response = create(server, body(tools=[other, WEATHER_TOOL], tool_choice=choice))
    (fc,) = [i for i in response["output"] if i["type"] == "function_call"]
    assert fc["name"] == "weather"
    assert set(json.loads(fc["arguments"])) == {"latitude", "longitude"}
    chat_style = {"type": "function", "function": {"name": "weather"}}
    assert "tool_choice" in rejected(
        server, body(tools=[WEATHER_TOOL], tool_choice=chat_style), 400
    )


def test_scripted_function_calls(server: FakeXAIServer) -> None:
    calls: list[dict[str, Any]] = [
        {"name": "a", "arguments": {"x": 1}},
        {"name": "b", "arguments": "raw", "id": "call_custom"},
    ]
    server.script(ScriptedReply(tool_calls=calls, reasoning_content=""), tool_call_reply("c", {}))
    response = create(server, body())
    assert [(i["name"], i["arguments"]) for i in response["output"]] == [
        ("a", '{"x":1}'),
        ("b", "raw"),
    ]
    assert response["output"][1]["call_id"] == "call_custom"
    assert [i["id"] for i in response["output"]] == [
        f"fc_{response['id']}_0",
        f"fc_{response['id']}_1",
    ]
    assert [i["type"] for i in create(server, body())["output"]] == ["reasoning", "function_call"]


def test_function_call_stream_matches_rs05(server: FakeXAIServer) -> None:
    recorded = recorded_events("rs05")
    events = stream(
        server, body(tools=[WEATHER_TOOL], tool_choice="required", store=False, include=INCLUDE)
    )
    assert collapse([n for n, _ in events]) == collapse([n for n, _ in recorded])
    same_key_orders(events, recorded)
    added = [p["item"] for n, p in events if n == "response.output_item.added"][1]
    assert (added["type"], added["arguments"], added["status"]) == (
        "function_call",
        "",
        "in_progress",
    )
    (delta,) = [p["delta"] for n, p in events if n == "response.function_call_arguments.delta"]
    done = [p["item"] for n, p in events if n == "response.output_item.done"][1]
    assert delta == done["arguments"]
    assert done["status"] == "completed"
    assert events[-1][1]["response"]["output"][1] == done


def test_function_call_output_pairing_in_input(server: FakeXAIServer) -> None:
    fc = {"type": "function_call", "call_id": "call-1", "name": "weather", "arguments": "{}"}
    out = {"type": "function_call_output", "call_id": "call-1", "output": "15°C"}
    response = create(server, {"model": "grok-4.3", "input": [body()["input"][0], fc, out]})
    assert text_of(response) == "Tool result: 15°C"
    assert response["output"][0]["summary"][0]["text"] == 'The tool returned: "15°C"\n'
    error = rejected(
        server,
        {"model": "grok-4.3", "input": [body()["input"][0], fc, {**out, "call_id": "call-2"}]},
        400,
    )
    assert "call-2" in error
    # the call must come *before* its output
    rejected(server, {"model": "grok-4.3", "input": [out, fc]}, 400)


# -- store, previous_response_id, GET, DELETE ----------------------------------------------


def test_store_chain_get_and_delete(server: FakeXAIServer) -> None:
    first = create(server, body("weather?", tools=[WEATHER_TOOL], tool_choice="required"))
    call_id = first["output"][1]["call_id"]
    assert first["store"] is True
    assert server.stored_responses[first["id"]] == first
    status, _, raw = call(server, "GET", f"{RESPONSES}/{first['id']}")
    assert (status, json.loads(raw)) == (200, first)
    # the follow-up sends only the tool result: the call is found in the stored chain
    output = {"type": "function_call_output", "call_id": call_id, "output": "sunny"}
    follow = create(
        server, {"model": "grok-4.3", "previous_response_id": first["id"], "input": [output]}
    )
    assert text_of(follow) == "Tool result: sunny"
    assert follow["previous_response_id"] == first["id"]
    assert follow["usage"]["input_tokens"] > first["usage"]["input_tokens"]
    third = create(
        server, {"model": "grok-4.3", "previous_response_id": follow["id"], "input": "and now?"}
    )
    assert text_of(third) == "You said: and now?"
    status, _, raw = call(server, "DELETE", f"{RESPONSES}/{first['id']}")
    assert (status, json.loads(raw)) == (
        200,
        {"id": first["id"], "object": "response", "deleted": True},
    )
    assert first["id"] not in server.stored_responses
    for method in ("GET", "DELETE"):
        status, _, raw = call(server, method, f"{RESPONSES}/{first['id']}")
        assert status == 404
        assert json.loads(raw)["code"] == "Some requested entity was not found"
    rejected(
        server, {"model": "grok-4.3", "previous_response_id": first["id"], "input": [output]}, 404
    )


def test_store_false_is_not_stored(server: FakeXAIServer) -> None:
    response = create(server, body(store=False))
    assert response["id"] not in server.stored_responses
    assert call(server, "GET", f"{RESPONSES}/{response['id']}")[0] == 404
    rejected(server, body(previous_response_id=response["id"]), 404)
    rejected(server, body(previous_response_id="no-such-id"), 404)


def test_streamed_response_is_stored_as_completed(server: FakeXAIServer) -> None:
    final = stream(server, body())[-1][1]["response"]
    assert server.stored_responses[final["id"]] == final


def test_stored_responses_is_a_read_only_snapshot(server: FakeXAIServer) -> None:
    response = create(server, body())
    view = server.stored_responses
    with pytest.raises(TypeError):
        view["x"] = {}  # type: ignore[index]
    view[response["id"]]["status"] = "tampered"
    assert server.stored_responses[response["id"]]["status"] == "completed"
    server.reset()
    assert dict(server.stored_responses) == {}


def test_instructions_with_previous_response_id_is_400(server: FakeXAIServer) -> None:
    first = create(server, body())
    response = create(server, body(instructions="Be brief."))
    assert response["instructions"] == "Be brief."
    error = rejected(server, body(instructions="x", previous_response_id=first["id"]), 400)
    assert "instructions" in error


# -- encrypted reasoning -------------------------------------------------------------------


def _alter(blob: str, position: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    char = blob[position]
    return (
        blob[:position]
        + (alphabet[(alphabet.index(char) + 1) % 64] if char in alphabet else "A")
        + blob[position + 1 :]
    )


def test_encrypted_reasoning_replay_is_byte_exact(server: FakeXAIServer) -> None:
    first = create(
        server,
        body("2 + 2?", store=False, include=INCLUDE, tools=[WEATHER_TOOL], tool_choice="required"),
    )
    reasoning, fc = first["output"]
    replay = [
        body("2 + 2?")["input"][0],
        reasoning,
        fc,
        {"type": "function_call_output", "call_id": fc["call_id"], "output": "4"},
    ]
    assert (
        text_of(create(server, {"model": "grok-4.3", "input": replay, "store": False}))
        == "Tool result: 4"
    )
    # rs04 replays without id/status: accepted too
    bare = {
        "type": "reasoning",
        "summary": reasoning["summary"],
        "encrypted_content": reasoning["encrypted_content"],
    }
    create(server, {"model": "grok-4.3", "input": [replay[0], bare]})
    blob = reasoning["encrypted_content"]
    padded = blob.rstrip("=")
    for position in (0, len(blob) // 2, len(padded) - 1):  # last data char: padding bits too
        altered = {**reasoning, "encrypted_content": _alter(blob, position)}
        assert altered["encrypted_content"] != blob
        error = rejected(server, {"model": "grok-4.3", "input": [replay[0], altered]}, 400)
        assert "encrypted reasoning could not be verified" in error
    for other in (
        blob + "=",
        blob[:-1],
        " " + blob,
        load("rs04")["request"]["json"]["input"][1]["encrypted_content"],
    ):
        rejected(
            server,
            {"model": "grok-4.3", "input": [replay[0], {**reasoning, "encrypted_content": other}]},
            400,
        )
    with FakeXAIServer() as another:
        rejected(another, {"model": "grok-4.3", "input": [replay[0], reasoning]}, 400)


# -- server-side tools and citations -------------------------------------------------------


def test_web_search_and_citations_match_rs09(server: FakeXAIServer) -> None:
    recorded = load("rs09")["response"]["json"]
    text = "Ruby 4.0.6 is the latest 🎉 née stable. It shipped in July! Details follow"
    sources = ["https://ruby-lang.org/", "https://github.com/ruby/ruby/releases"]
    cites = [
        {"url": sources[0], "title": None},
        {"url": sources[1], "title": None},
        {"url": sources[0], "title": "again"},
    ]
    server.script(web_search_reply(text, query="latest ruby", sources=sources, citations=cites))
    response = create(server, body(tools=[{"type": "web_search"}], include=INCLUDE, store=False))
    rid = response["id"]
    kinds = [(i["type"], i["id"].split("_")[0]) for i in response["output"]]
    assert kinds == [
        ("reasoning", "rs"),
        ("web_search_call", "ws"),
        ("reasoning", "tco"),
        ("reasoning", "rs"),
        ("message", "msg"),
    ]
    ws = response["output"][1]
    assert list(ws) == list(recorded["output"][1])
    assert re.fullmatch(rf"ws_{rid}_call-{UUID}-0", ws["id"])
    assert ws["action"] == {
        "type": "search",
        "query": "latest ruby",
        "sources": [{"type": "url", "url": u} for u in sources],
    }
    assert response["output"][2]["id"] == "tco_" + ws["id"].removeprefix("ws_")
    assert response["output"][2]["encrypted_content"].startswith(response["output"][2]["id"] + "_")
    assert response["tools"] == [{"type": "web_search", "search_context_size": "medium"}]
    part = message(response)["content"][0]
    annotations = part["annotations"]
    assert [list(a) for a in annotations] == [
        list(recorded["output"][-1]["content"][0]["annotations"][0])
    ] * 3
    markers = [f"[[1]]({sources[0]})", f"[[2]]({sources[1]})", f"[[1]]({sources[0]})"]
    for annotation, marker in zip(annotations, markers, strict=True):
        assert part["text"][annotation["start_index"] : annotation["end_index"]] == marker
    assert [a["title"] for a in annotations] == ["1", "2", "again"]
    # after each sentence end, the overflow at the end; indices count code points ("🎉" is 1, not 2 UTF-16 units)
    assert part["text"] == (
        f"Ruby 4.0.6 is the latest 🎉 née stable.{markers[0]} It shipped in July!{markers[1]}"
        f" Details follow{markers[2]}"
    )
    usage = response["usage"]
    assert list(usage) == list(recorded["usage"])
    assert list(usage["server_side_tool_usage_details"]) == list(
        recorded["usage"]["server_side_tool_usage_details"]
    )
    assert (
        usage["num_server_side_tools_used"]
        == usage["server_side_tool_usage_details"]["web_search_calls"]
        == 1
    )
    plain = create(server, body(tools=[{"type": "web_search"}]))
    assert "server_side_tool_usage_details" not in plain["usage"]
    assert usage["cost_in_usd_ticks"] - 50_000_000 == (
        usage["input_tokens"] * 12_500 + usage["output_tokens"] * 25_000
    )


def test_web_search_stream_emits_items_and_annotations(server: FakeXAIServer) -> None:
    server.script(web_search_reply("Found it. Done.", query="q", sources=["https://a.example/"]))
    events = stream(server, body(tools=[{"type": "web_search"}]))
    items = [(n, p["item"]) for n, p in events if n.startswith("response.output_item.")]
    # no encrypted reasoning asked: no tco_ items; the search comes whole, before the message
    assert [i["type"] for n, i in items if n.endswith(".added")] == [
        "reasoning",
        "web_search_call",
        "message",
    ]
    searches = [(n, i["status"]) for n, i in items if i["type"] == "web_search_call"]
    assert searches == [
        ("response.output_item.added", "completed"),
        ("response.output_item.done", "completed"),
    ]
    order = [n for n, _ in events]
    last_delta = max(i for i, n in enumerate(order) if n == "response.output_text.delta")
    (annotation_at,) = [
        i for i, n in enumerate(order) if n == "response.output_text.annotation.added"
    ]
    assert last_delta < annotation_at < order.index("response.output_text.done")
    payload = events[annotation_at][1]
    assert list(payload) == [
        "sequence_number",
        "type",
        "annotation",
        "annotation_index",
        "content_index",
        "item_id",
        "output_index",
    ]
    text = text_of(events[-1][1]["response"])
    assert (
        text[payload["annotation"]["start_index"] : payload["annotation"]["end_index"]]
        == "[[1]](https://a.example/)"
    )


def test_x_search_and_code_interpreter_items(server: FakeXAIServer) -> None:
    x_item = load("rs13")["response"]["sse_data_lines"][5]
    code_item = load("rs15")["response"]["json"]["output"][0]
    calls: list[dict[str, Any]] = [
        {"type": "x_search", "query": "from:xai"},
        {"type": "code_interpreter", "code": "print(1)"},
    ]
    server.script(ScriptedReply(server_tool_calls=calls, content="ok", repeat=2))
    tools = [{"type": "x_search"}, {"type": "code_interpreter"}]
    response = create(server, body(tools=tools))
    rid = response["id"]
    _, xs, ci, _ = response["output"]
    assert list(xs) == list(json.loads(x_item)["item"])
    assert re.fullmatch(rf"ctc_{rid}_xs_call_\d{{8}}", xs["id"])
    assert xs["id"] == f"ctc_{rid}_{xs['call_id']}"
    assert (xs["type"], xs["name"], json.loads(xs["input"])["query"]) == (
        "custom_tool_call",
        "x_keyword_search",
        "from:xai",
    )
    assert list(ci) == list(code_item)
    assert (ci["type"], ci["name"], ci["id"]) == (
        "code_interpreter_call",
        "code_execution",
        f"fc_{rid}_1",
    )
    assert json.loads(ci["arguments"]) == {"code": "print(1)"}
    details = response["usage"]["server_side_tool_usage_details"]
    assert (
        details["x_search_calls"],
        details["code_interpreter_calls"],
        details["web_search_calls"],
    ) == (1, 1, 0)
    events = stream(server, body(tools=tools))
    order = collapse([n for n, _ in events])
    start = order.index("response.custom_tool_call_input.delta") - 1
    assert order[start : start + 4] == [
        "response.output_item.added",
        "response.custom_tool_call_input.delta",
        "response.custom_tool_call_input.done",
        "response.output_item.done",
    ]
    added = [
        p["item"]
        for n, p in events
        if n == "response.output_item.added" and p["item"]["type"] == "custom_tool_call"
    ]
    assert (added[0]["input"], added[0]["status"]) == ("", "in_progress")


def test_undeclared_server_tools_are_not_run_or_cited(server: FakeXAIServer) -> None:
    server.script(web_search_reply("A. B.", query="q", sources=["https://a.example/"]))
    response = create(server, body())
    assert [i["type"] for i in response["output"]] == ["reasoning", "message"]
    assert message(response)["content"][0] == {
        "type": "output_text",
        "text": "A. B.",
        "logprobs": [],
        "annotations": [],
    }
    assert response["usage"]["num_server_side_tools_used"] == 0


# -- usage ---------------------------------------------------------------------------------


@pytest.mark.parametrize("stream_it", [False, True])
def test_usage_invariants(server: FakeXAIServer, stream_it: bool) -> None:
    server.script(text_reply("four visible tokens here", reasoning_content="two words"))
    payload = body("count these words please")
    response = stream(server, payload)[-1][1]["response"] if stream_it else create(server, payload)
    usage = response["usage"]
    reasoning = usage["output_tokens_details"]["reasoning_tokens"]
    assert reasoning == 2
    assert usage["output_tokens"] == 4 + reasoning  # output INCLUDES reasoning (fact 25)
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert usage["context_details"] == {
        "input_tokens": usage["input_tokens"],
        "output_tokens": usage["output_tokens"],
    }
    assert (
        usage["cost_in_usd_ticks"]
        == usage["input_tokens"] * 12_500 + usage["output_tokens"] * 25_000
    )


def test_scripted_usage_and_model_override(server: FakeXAIServer) -> None:
    server.script(text_reply("x", usage={"input_tokens": 1}, model="grok-4.3-latest"))
    response = create(server, body())
    assert (response["usage"], response["model"]) == ({"input_tokens": 1}, "grok-4.3-latest")


# -- structured output ---------------------------------------------------------------------


def test_text_formats(server: FakeXAIServer) -> None:
    recorded = load("rs06")
    response = create(
        server,
        body(
            text={
                "format": {
                    "type": "json_schema",
                    "name": "p",
                    "schema": PERSON_SCHEMA,
                    "strict": True,
                }
            }
        ),
    )
    assert json.loads(text_of(response)) == make_schema_value(PERSON_SCHEMA)
    assert response["text"] == {"format": {"type": "json_schema", "schema": PERSON_SCHEMA}}
    assert list(recorded["response"]["json"]["text"]["format"]) == list(response["text"]["format"])
    response = create(server, body("hey", text={"format": {"type": "json_object"}}))
    assert json.loads(text_of(response)) == {"answer": "You said: hey"}
    error = rejected(
        server,
        body(text={"format": {"type": "json_schema", "json_schema": {"schema": PERSON_SCHEMA}}}),
        400,
    )
    assert "text.format.schema" in error
    assert rejected(
        server, body(text={"format": {"type": "json_schema", "schema": {"$ref": "#/nope"}}}), 400
    ).startswith("Invalid JSON schema")


# -- validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tool", "field"),
    [
        ({"type": "web_search", "search_context_size": "high"}, "search_context_size"),
        ({"type": "web_search", "user_location": {"type": "approximate"}}, "user_location"),
        ({"type": "web_search", "external_web_access": True}, "external_web_access"),
        ({"type": "file_search", "vector_store_ids": ["c"], "filters": {}}, "filters"),
        (
            {"type": "file_search", "vector_store_ids": ["c"], "ranking_options": {}},
            "ranking_options",
        ),
        ({"type": "code_interpreter", "container": {"type": "auto"}}, "container"),
    ],
)
def test_openai_only_tool_knobs_are_rejected(
    server: FakeXAIServer, tool: dict[str, Any], field: str
) -> None:
    assert field in rejected(server, body(tools=[tool]), 400)


def test_echoed_web_search_tool_cannot_be_replayed(server: FakeXAIServer) -> None:
    echoed = create(server, body(tools=[{"type": "web_search"}]))["tools"]
    assert "search_context_size" in rejected(server, body(tools=echoed), 400)


@pytest.mark.parametrize("name", ["frequency_penalty", "presence_penalty"])
@pytest.mark.parametrize("model", ["grok-4.3", "grok-4.20-0309-non-reasoning"])
def test_penalties_are_rejected(server: FakeXAIServer, name: str, model: str) -> None:
    assert name in rejected(server, {**body(model=model), name: 0.5}, 400)


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"model": "grok-4.3"},
        {"input": "x"},
        {"model": "", "input": "x"},
        {"model": "grok-4.3", "input": []},
        {"model": "grok-4.3", "input": 3},
        {"model": "grok-4.3", "input": ["x"]},
    ],
)
def test_malformed_body_is_422(server: FakeXAIServer, payload: Any) -> None:
    rejected(server, payload, 422)


@pytest.mark.parametrize(
    ("item", "needle"),
    [
        ({"role": "assistant", "content": None}, "null"),
        ({"role": "user", "content": []}, "content element"),
        ({"role": "tool", "content": "x"}, "role"),
        ({"type": "item_reference", "id": "x"}, "item_reference"),
        ({"role": "user", "content": [{"type": "output_text", "text": "x"}]}, "output_text"),
        ({"role": "user", "content": [{"type": "input_image"}]}, "input_image"),
        ({"type": "function_call", "call_id": "c", "name": "f"}, "arguments"),
        (
            {"type": "reasoning", "summary": [], "encrypted_content": "bm90IG91cnM="},
            "could not be verified",
        ),
    ],
)
def test_bad_input_items_are_400(server: FakeXAIServer, item: dict[str, Any], needle: str) -> None:
    assert needle in rejected(
        server, {"model": "grok-4.3", "input": [{"role": "user", "content": "hi"}, item]}, 400
    )


def test_replayed_output_items_are_accepted(server: FakeXAIServer) -> None:
    replay = load("rs10")["request"]["json"]["input"]
    # rs10's items as-is, minus the reasoning blobs only xAI can verify
    items = [i for i in replay if i.get("type") != "reasoning"]
    items += [
        {"type": "x_search_call", "id": "x"},
        {"type": "custom_tool_call", "call_id": "c", "input": "{}", "name": "n"},
    ]
    response = create(
        server, {"model": "grok-4.3", "input": items, "tools": [{"type": "web_search"}]}
    )
    assert text_of(response) == "You said: Thanks. Now just say OK."


@pytest.mark.parametrize(
    "extra",
    [
        {"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]},
        {"tools": [{"type": "web_search_preview"}]},
        {"tool_choice": "required"},
        {"tool_choice": "sometimes", "tools": [WEATHER_TOOL]},
        {"tool_choice": {"type": "function", "name": "missing"}, "tools": [WEATHER_TOOL]},
    ],
)
def test_bad_tools_and_tool_choice_are_400(server: FakeXAIServer, extra: dict[str, Any]) -> None:
    rejected(server, body(**extra), 400)


def test_search_parameters_auth_and_content_type(server: FakeXAIServer) -> None:
    assert rejected(server, body(search_parameters={"mode": "auto"}), 410).startswith(
        "Live search is deprecated"
    )
    status, _, raw = call(
        server,
        "POST",
        RESPONSES,
        body(),
        {"Authorization": "Bearer wrong", "Content-Type": "application/json"},
    )
    assert (status, json.loads(raw)["code"]) == (400, "Client specified an invalid argument")
    assert call(server, "POST", RESPONSES, body(), {"Content-Type": "application/json"})[0] == 401
    assert (
        call(server, "POST", RESPONSES, body(), {"Authorization": f"Bearer {server.api_key}"})[0]
        == 415
    )
    assert call(server, "GET", f"{RESPONSES}/x", headers={})[0] == 401


def test_wrong_methods_are_405(server: FakeXAIServer) -> None:
    status, headers, _ = call(server, "GET", RESPONSES)
    assert (status, headers["allow"]) == (405, "POST")
    status, headers, _ = call(server, "PUT", f"{RESPONSES}/abc", {})
    assert (status, headers["allow"]) == (405, "GET, DELETE")


def test_validation_runs_before_a_reply_is_consumed_and_one_queue_serves_both(
    server: FakeXAIServer,
) -> None:
    server.script(text_reply("first"), text_reply("second"))
    rejected(server, body(presence_penalty=1), 400)
    assert server.pending_replies == 2
    chat = {"model": "grok-4.3", "messages": [{"role": "user", "content": "x"}]}
    status, _, raw = call(server, "POST", "/v1/chat/completions", chat)
    assert (status, json.loads(raw)["choices"][0]["message"]["content"]) == (200, "first")
    assert text_of(create(server, body())) == "second"
    records = server.wait_for_requests(3)
    assert [r.path for r in records] == [RESPONSES, "/v1/chat/completions", RESPONSES]
    assert records[2].json == body()
    assert [r.status for r in records] == [400, 200, 200]


def test_scripted_reply_checks_new_fields() -> None:
    with pytest.raises(ValueError, match="server tool"):
        ScriptedReply(server_tool_calls=[{"type": "mcp", "query": "x"}])
    with pytest.raises(TypeError):
        ScriptedReply(server_tool_calls=[{"type": "web_search"}])
    with pytest.raises(TypeError):
        ScriptedReply(citations=[{"title": "no url"}])
    with pytest.raises(ValueError, match="fail"):
        ScriptedReply(failed=True, incomplete_reason="max_output_tokens")


# -- faults on Responses -------------------------------------------------------------------


def test_cut_after_events(server: FakeXAIServer) -> None:
    server.script(text_reply("a b c", cut_after_events=3))
    _, chunks, terminated = stream_chunks(server, body())
    assert not terminated
    assert [n for n, _ in parse_events(chunks)] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
    ]
    assert server.wait_for_requests(1)[0].outcome == "cut"


def test_malformed_event_keeps_its_event_line(server: FakeXAIServer) -> None:
    server.script(text_reply("a b c", malformed_at_event=1))
    _, chunks, terminated = stream_chunks(server, body())
    assert terminated
    assert chunks[1] == b"event: response.in_progress\ndata: {not json\n\n"
    assert parse_events(chunks[2:])[-1][0] == "response.completed"


def test_error_event_ends_the_stream(server: FakeXAIServer) -> None:
    custom = {"type": "error", "code": "overloaded", "message": "try later"}
    server.script(
        text_reply("a", error_event_at=2), text_reply("a", error_event_at=0, error_event=custom)
    )
    _, chunks, terminated = stream_chunks(server, body())
    assert terminated
    events = parse_events(chunks)
    assert [n for n, _ in events] == ["response.created", "response.in_progress", "error"]
    assert list(events[2][1]) == ["type", "code", "message"]
    _, chunks, _ = stream_chunks(server, body())
    assert parse_events(chunks) == [("error", custom)]


def test_failed_response(server: FakeXAIServer) -> None:
    server.script(
        text_reply("partial", failed=True),
        ScriptedReply(failed=True, error_event={"code": "c", "message": "m"}),
    )
    events = stream(server, body())
    assert events[-1][0] == "response.failed"
    assert "response.completed" not in [n for n, _ in events]
    final = events[-1][1]["response"]
    assert (final["status"], final["completed_at"], set(final["error"])) == (
        "failed",
        None,
        {"code", "message"},
    )
    response = create(server, body())
    assert (response["status"], response["error"]) == ("failed", {"code": "c", "message": "m"})


def test_incomplete_response(server: FakeXAIServer) -> None:
    server.script(text_reply("cut sh", incomplete_reason="max_output_tokens", repeat=2))
    response = create(server, body(max_output_tokens=5))
    assert (response["status"], response["incomplete_details"]) == (
        "incomplete",
        {"reason": "max_output_tokens"},
    )
    assert (message(response)["status"], response["max_output_tokens"]) == ("incomplete", 5)
    events = stream(server, body())
    assert events[-1][0] == "response.incomplete"
    assert events[-1][1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}


def test_in_band_error_on_a_stream_request(server: FakeXAIServer) -> None:
    server.script(in_band_error_reply("Timed out waiting for first token"))
    status, headers, raw = call(server, "POST", RESPONSES, body(stream=True))
    assert (status, headers["content-type"]) == (200, "application/json")
    assert json.loads(raw) == {
        "code": "The service is currently unavailable",
        "error": "Timed out waiting for first token",
    }


def test_error_status_with_headers_and_repeat(server: FakeXAIServer) -> None:
    server.script(
        error_reply(429, "slow down", headers={"Retry-After": "2"}, repeat=2),
        ScriptedReply(status=503),
    )
    for _ in range(2):
        status, headers, raw = call(server, "POST", RESPONSES, body(stream=True))
        assert (status, headers["retry-after"], json.loads(raw)["error"]) == (429, "2", "slow down")
        assert "x-request-id" not in headers
    status, _, raw = call(server, "POST", RESPONSES, body())
    assert (status, json.loads(raw)["code"]) == (503, "The service is currently unavailable")
    assert server.stored_responses == {}


def test_delay_and_event_delay(server: FakeXAIServer) -> None:
    server.script(text_reply("a b", delay=0.2, event_delay=0.02, reasoning_content=""))
    started = time.monotonic()
    events = stream(server, body())
    assert time.monotonic() - started >= 0.2 + 0.02 * (len(events) - 1) - 0.01


def test_recorded_rs02_stream_replays_byte_exact(server: FakeXAIServer) -> None:
    raw = load("rs02")["response"]["sse"].encode()
    server.script(
        ScriptedReply(raw_body=raw, content_type="text/event-stream"),
        ScriptedReply(raw_body=raw, content_type="text/event-stream", error_event_at=3),
    )
    headers, chunks, terminated = stream_chunks(server, body())
    assert terminated
    assert b"".join(chunks) == raw
    assert len(chunks) == raw.count(b"\n\n") == 34
    assert headers["content-type"] == "text/event-stream"
    parse_events(chunks)
    _, chunks, _ = stream_chunks(server, body())
    assert chunks[:3] == [part + b"\n\n" for part in raw.split(b"\n\n")[:3]]
    assert parse_events(chunks[3:])[0][0] == "error"
