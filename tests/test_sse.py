"""The SSE decoder against the WHATWG rules, fed in every way a network can split a body."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from langchain_grok._sse import ServerSentEvent, SSEDecodeError, SSEDecoder

RECORDINGS = Path(__file__).resolve().parent / "fixtures" / "recordings"


def decode(*chunks: bytes, cap: int = 1 << 20) -> list[ServerSentEvent]:
    decoder = SSEDecoder(max_event_size=cap)
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(decoder.feed(chunk))
    events.extend(decoder.flush())
    return events


def test_data_only_events() -> None:
    events = decode(b'data: {"a":1}\n\ndata: [DONE]\n\n')
    assert [e.data for e in events] == ['{"a":1}', "[DONE]"]
    assert all(e.event == "message" for e in events)


@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b"\r"])
def test_every_line_ending(eol: bytes) -> None:
    body = b"event: x" + eol + b"data: 1" + eol + eol + b"data: 2" + eol + eol
    assert [(e.event, e.data) for e in decode(body)] == [("x", "1"), ("message", "2")]


def test_crlf_split_across_chunks_is_one_line_end() -> None:
    # A CR at the end of one chunk and the LF at the start of the next must not count twice,
    # or the decoder would see a blank line and dispatch an event too early.
    events = decode(b"data: a\r", b"\ndata: b\r\n\r\n")
    assert [e.data for e in events] == ["a\nb"]


def test_lone_cr_at_chunk_end_is_a_line_end() -> None:
    events = decode(b"data: a\r", b"\rdata: b\n\n")
    assert [e.data for e in events] == ["a", "b"]


def test_comments_and_unknown_fields_are_ignored() -> None:
    events = decode(b": keep-alive\nfoo: bar\ndata: x\n\n:\n\n")
    assert [e.data for e in events] == ["x"]


def test_multiline_data_joined_with_newlines() -> None:
    assert [e.data for e in decode(b"data: a\ndata:b\ndata:  c\n\n")] == ["a\nb\n c"]


def test_field_without_colon_and_empty_data() -> None:
    # "data" alone is a data field with an empty value: the event exists and is empty.
    assert [e.data for e in decode(b"data\n\n")] == [""]


def test_blank_lines_without_data_dispatch_nothing() -> None:
    assert decode(b"\n\n\nevent: ping\n\n") == []


def test_id_persists_and_retry_is_read() -> None:
    events = decode(b"id: 7\nretry: 1500\ndata: a\n\ndata: b\n\nid\ndata: c\n\n")
    assert [(e.id, e.retry) for e in events] == [("7", 1500), ("7", None), ("", None)]


def test_id_with_nul_is_ignored_and_bad_retry_too() -> None:
    events = decode(b"id: a\x00b\nretry: 1.5\ndata: a\n\n")
    assert (events[0].id, events[0].retry) == (None, None)


def test_final_event_without_trailing_blank_line() -> None:
    assert [e.data for e in decode(b"data: a\n\ndata: last")] == ["a", "last"]
    assert [e.data for e in decode(b"data: last\n")] == ["last"]


def test_bom_is_stripped_once() -> None:
    assert [e.data for e in decode(b"\xef\xbb\xbfdata: a\n\n")] == ["a"]


def test_utf8_split_inside_a_character() -> None:
    raw = "data: héllo ✓\n\n".encode()
    split = raw.index(b"\xe2") + 1
    assert [e.data for e in decode(raw[:split], raw[split:])] == ["héllo ✓"]


def test_event_over_the_cap_raises() -> None:
    with pytest.raises(SSEDecodeError, match="size cap"):
        decode(b"data: " + b"x" * 100 + b"\n\n", cap=50)


def test_unterminated_line_over_the_cap_raises_without_waiting_for_its_end() -> None:
    decoder = SSEDecoder(max_event_size=50)
    decoder.feed(b"data: " + b"y" * 20)
    decoder.feed(b"y" * 20)
    with pytest.raises(SSEDecodeError):
        decoder.feed(b"y" * 20)


def test_events_before_an_oversize_one_are_not_lost() -> None:
    decoder = SSEDecoder(max_event_size=50)
    first = decoder.feed(b"data: ok\n\ndata: " + b"z" * 100)
    assert [e.data for e in first] == ["ok"]
    with pytest.raises(SSEDecodeError):
        decoder.feed(b"\n\n")


def test_recorded_streams_decode_to_their_json_lines() -> None:
    # Every recorded chat stream, byte-exact: each event is one JSON object or [DONE].
    files = sorted(RECORDINGS.glob("*stream*.json"))
    seen = 0
    for path in files:
        record = json.loads(path.read_text())
        sse = record["response"].get("sse")
        if sse is None:
            continue
        events = decode(sse.encode())
        datas = [e.data for e in events]
        expected = [line[len("data: ") :] for line in sse.splitlines() if line.startswith("data: ")]
        assert datas == expected, path.name
        seen += 1
    assert seen >= 10


# -- property-based: any chunking of any well-formed stream gives the same events ----------

_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\r\n\x00"),
    max_size=30,
)
_event = st.tuples(
    st.one_of(st.none(), _text.filter(lambda s: s.strip() == s and s != "")),
    st.lists(_text, min_size=1, max_size=3),
)


def _serialise(events: list[tuple[str | None, list[str]]], eol: str) -> bytes:
    out = []
    for name, lines in events:
        if name is not None:
            out.append(f"event: {name}{eol}")
        out.extend(f"data: {line}{eol}" for line in lines)
        out.append(eol)
    return "".join(out).encode()


@settings(max_examples=300, deadline=None)
@given(
    events=st.lists(_event, max_size=6),
    eol=st.sampled_from(["\n", "\r\n", "\r"]),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=8),
)
def test_any_chunking_gives_the_same_events(
    events: list[tuple[str | None, list[str]]], eol: str, cuts: list[int]
) -> None:
    body = _serialise(events, eol)
    points = sorted({c % (len(body) + 1) for c in cuts})
    chunks = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
    decoded = decode(*chunks)
    expected = [(name or "message", "\n".join(lines)) for name, lines in events]
    assert [(e.event, e.data) for e in decoded] == expected


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=2000), cuts=st.lists(st.integers(0, 2000), max_size=10))
def test_arbitrary_bytes_never_raise_anything_but_our_error(data: bytes, cuts: list[int]) -> None:
    points = sorted({c % (len(data) + 1) for c in cuts})
    chunks = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    try:
        events = decode(*chunks, cap=256)
    except SSEDecodeError:
        return
    assert all(len(e.data) <= 256 for e in events)


def test_event_parser_fast_path_matches_the_full_decoder() -> None:
    from langchain_grok._events import EventParser

    sse = json.loads((RECORDINGS / "cc02_stream_grok-4.3_reasoning-content.json").read_text())[
        "response"
    ]["sse"].encode()
    per_event = [part + b"\n\n" for part in sse.split(b"\n\n") if part]
    fast = EventParser(status_code=200, request_id=None)
    whole = EventParser(status_code=200, request_id=None)
    one_by_one = [payload for chunk in per_event for payload in fast.feed(chunk)]
    at_once = list(whole.feed(sse))
    assert one_by_one == at_once
    assert fast.done
    assert whole.done
    # Non-UTF-8 bytes and CR line ends leave the fast path for the full one.
    odd = EventParser(status_code=200, request_id=None)
    list(odd.feed(b'data: {"a": 1}\n\n'))
    assert list(odd.feed(b'data: {"b": 2}\r\n\r\n')) == [{"b": 2}]
