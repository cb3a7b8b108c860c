"""The one-event-per-read fast path on Responses streams (`event:` + `data:` lines).

xAI sends each Responses event as one read, `event: <type>` then `data: <json>`; the parser
decodes those without the line machinery. These tests hold it to the full WHATWG decoder's
results on the recorded streams, and check that anything else still takes the full path.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from langchain_grok._events import EventParser
from langchain_grok._sse import SSEDecoder
from langchain_grok.errors import APIStatusError

RECORDINGS = Path(__file__).resolve().parent / "fixtures" / "recordings"
STREAMS = ["rs02_stream_grok-4.3_event-lines.json", "rs05_stream_grok-4.3_function-call.json"]


def recorded_sse(name: str) -> bytes:
    return str(json.loads((RECORDINGS / name).read_text())["response"]["sse"]).encode()


def started_decoder() -> SSEDecoder:
    decoder = SSEDecoder()
    decoder.feed(b"data: {}\n\n")  # past the BOM check, as in a running stream
    return decoder


@pytest.mark.parametrize("name", STREAMS)
def test_per_event_reads_match_the_whole_body_at_once(name: str) -> None:
    sse = recorded_sse(name)
    per_event = [part + b"\n\n" for part in sse.split(b"\n\n") if part.strip()]
    fast = EventParser(status_code=200, request_id=None, responses=True)
    whole = EventParser(status_code=200, request_id=None, responses=True)
    one_by_one = [payload for chunk in per_event for payload in fast.feed(chunk)]
    at_once = list(whole.feed(sse))
    assert one_by_one == at_once
    assert one_by_one[-1]["type"] == "response.completed"
    assert fast.done
    assert whole.done


def test_event_and_data_lines_take_the_fast_path() -> None:
    decoder = started_decoder()
    chunk = b'event: response.output_text.delta\ndata: {"delta": "hi"}\n\n'
    assert decoder.single_data(chunk) == '{"delta": "hi"}'


@pytest.mark.parametrize(
    "chunk",
    [
        b"event: x\n\n",  # no data line
        b"event: x\nid: 7\ndata: {}\n\n",  # a third field
        b"event: x\ndata: {}\r\n\r\n",  # CR line ends
        b"event: x\ndata: {}\n\ndata: {}\n\n",  # two events
        b": comment\ndata: {}\n\n",
    ],
)
def test_anything_else_takes_the_full_path(chunk: bytes) -> None:
    assert started_decoder().single_data(chunk) is None


def test_a_pending_event_line_keeps_the_full_path() -> None:
    # `event:` in one read and its `data:` in the next: the type belongs to that event, so
    # the second read must not skip the decoder's state.
    decoder = started_decoder()
    assert decoder.feed(b"event: custom\n") == []
    assert decoder.single_data(b"data: {}\n\n") is None
    [event] = decoder.feed(b"data: {}\n\n")
    assert event.event == "custom"


def test_error_event_on_the_fast_path_raises() -> None:
    parser = EventParser(status_code=200, request_id="req-1", responses=True)
    chunk = b'event: error\ndata: {"type": "error", "code": "x", "message": "overloaded"}\n\n'
    with pytest.raises(APIStatusError, match="overloaded") as info:
        list(parser.feed(chunk))
    assert info.value.request_id == "req-1"


def test_terminal_event_on_the_fast_path_is_returned_and_ends_the_stream() -> None:
    parser = EventParser(status_code=200, request_id=None, responses=True)
    chunk = b'event: response.completed\ndata: {"type": "response.completed"}\n\n'
    assert list(parser.feed(chunk)) == [{"type": "response.completed"}]
    assert parser.done
