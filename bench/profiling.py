"""Where ChatGrok's time goes, per call and per chunk; the data behind bench/PROFILE.md.

    bench/.venv/bin/python bench/profiling.py               # cProfile split + experiments
    bench/.venv/bin/python bench/profiling.py --pyinstrument  # also pyinstrument call trees

1. cProfile of the stream path (`model.stream`, 2,000-chunk replies) and the invoke path
   (`model.invoke`), for ChatGrok and the minimal BaseChatModel floor. Self time is split by
   where the code lives: langchain_grok, langchain-core, pydantic, httpx (with httpcore and h11),
   json, other. C builtins are charged to the category of their caller. The profiler inflates
   call-heavy code, so shares are scaled onto the unprofiled CPU cost measured alongside.
2. Experiments without the profiler, one per proposal in PROFILE.md: each times the current
   piece of ChatGrok and a leaner equivalent written here, on the same inputs.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import pstats
import sys
import time
import timeit
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import httpx
from contenders import Contender, by_key
from measure import (
    ServerProcess,
    measure_async,
    measure_invoke,
    measure_stream,
    prompt,
    sync_driver,
    validate,
)
from server import completion_json, expected_text, stream_events

CATEGORIES = ("langchain_grok", "langchain-core", "pydantic", "httpx/httpcore/h11", "json", "other")
_IO_FILES = ("/socket.py", "/selectors.py", "/ssl.py")
_JSON_BUILTINS = (
    "_json",
    "scanstring",
    "scan_once",
    "encode_basestring",
    "c_make_encoder",
    "'raw_decode'",
)
_IO_BUILTINS = ("recv", "send", "poll", "select", "'_socket.", "getpeername", "settimeout")

Func = tuple[str, int, str]


def category_of_file(filename: str) -> str | None:
    if filename == "~":
        return None
    if "/langchain_grok/" in filename:
        return "langchain_grok"
    if "/langchain_core/" in filename or "/langsmith/" in filename:
        return "langchain-core"
    if "/pydantic" in filename:
        return "pydantic"
    if any(
        part in filename
        for part in ("/httpx/", "/httpcore/", "/h11/", "/anyio/", "/httpx2/", "/httpcore2/")
    ) or filename.endswith(_IO_FILES):
        return "httpx/httpcore/h11"
    if "/json/" in filename:
        return "json"
    return "other"


class Split:
    """Self time per category from a cProfile run, builtins charged to their callers."""

    def __init__(self, profile: cProfile.Profile) -> None:
        self.stats = pstats.Stats(profile)
        self.raw: dict[
            Func, tuple[int, int, float, float, dict[Func, tuple[int, int, float, float]]]
        ] = self.stats.stats  # type: ignore[attr-defined]
        self.total = sum(entry[2] for entry in self.raw.values())
        self.by_category: dict[str, float] = defaultdict(float)
        for func, (_, _, tottime, _, callers) in self.raw.items():
            for name, seconds in self._charge(func, tottime, callers, depth=0):
                self.by_category[name] += seconds

    def _charge(
        self, func: Func, seconds: float, callers: dict[Func, Any], depth: int
    ) -> list[tuple[str, float]]:
        own = category_of_file(func[0])
        if own is not None:
            return [(own, seconds)]
        name = func[2]
        if any(mark in name for mark in _JSON_BUILTINS):
            return [("json", seconds)]
        if any(mark in name for mark in _IO_BUILTINS):
            return [("httpx/httpcore/h11", seconds)]
        caller_time = sum(entry[2] for entry in callers.values())
        if not callers or caller_time <= 0 or depth > 3:
            return [("other", seconds)]
        charged: list[tuple[str, float]] = []
        for caller, entry in callers.items():
            share = seconds * entry[2] / caller_time
            parent = self.raw.get(caller)
            charged += self._charge(caller, share, parent[4] if parent else {}, depth + 1)
        return charged

    def functions(self, where: str, *, inclusive: bool, top: int) -> list[tuple[str, float, int]]:
        """(name, seconds, calls) of the functions in `where` (a path fragment), biggest first."""
        rows = []
        for (filename, line, name), (_, calls, tottime, cumtime, _) in self.raw.items():
            if where in filename:
                short = filename.split(where, 1)[1]
                rows.append((f"{short}:{line}({name})", cumtime if inclusive else tottime, calls))
        rows.sort(key=lambda row: -row[1])
        return rows[:top]

    def cumulative(self, predicate: Callable[[Func], bool]) -> tuple[float, int]:
        """Inclusive time and calls of the functions matching `predicate` (outermost ones only)."""
        seconds, calls = 0.0, 0
        for func, (_, ncalls, _, cumtime, _) in self.raw.items():
            if predicate(func):
                seconds += cumtime
                calls += ncalls
        return seconds, calls


def profiled(run: Callable[[], None]) -> cProfile.Profile:
    profile = cProfile.Profile()
    profile.enable()
    run()
    profile.disable()
    return profile


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# -- part 1: profiles ------------------------------------------------------------------------


KEY_FUNCTIONS: dict[str, Callable[[Func], bool]] = {
    "ChunkConverter.convert (incl. message objects)": lambda f: (
        "langchain_grok/_outputs.py" in f[0] and f[2] == "convert"
    ),
    "EventParser.feed (SSE + json + checks)": lambda f: (
        "langchain_grok/_events.py" in f[0] and f[2] == "feed"
    ),
    "SSEDecoder.feed": lambda f: "langchain_grok/_sse.py" in f[0] and f[2] == "feed",
    "json.loads": lambda f: f[0].endswith("json/__init__.py") and f[2] == "loads",
    "json.dumps": lambda f: f[0].endswith("json/__init__.py") and f[2] == "dumps",
    "AIMessageChunk.__init__": lambda f: (
        "langchain_core/messages/ai.py" in f[0] and f[2] == "__init__"
    ),
    "ChatGenerationChunk.__init__": lambda f: (
        "langchain_core/outputs/chat_generation.py" in f[0] and f[2] == "__init__"
    ),
    "run_manager.on_llm_new_token": lambda f: (
        "langchain_core/callbacks/manager.py" in f[0] and f[2] == "on_llm_new_token"
    ),
    "_gen_info_and_msg_metadata": lambda f: f[2] == "_gen_info_and_msg_metadata",
    "merge_chat_generation_chunks": lambda f: f[2] == "merge_chat_generation_chunks",
    "CallbackManager.configure": lambda f: (
        "langchain_core/callbacks/manager.py" in f[0] and f[2] == "configure"
    ),
    "on_chat_model_start": lambda f: (
        "langchain_core/callbacks/manager.py" in f[0] and f[2] == "on_chat_model_start"
    ),
    "on_llm_end": lambda f: "langchain_core/callbacks/manager.py" in f[0] and f[2] == "on_llm_end",
    "_get_invocation_params (model.dict())": lambda f: f[2] == "_get_invocation_params",
    "_get_ls_params(_with_defaults)": lambda f: f[2] in ("_get_ls_params_with_defaults",),
    "ChatGrok._plan / _prepare": lambda f: (
        "langchain_grok/chat_models.py" in f[0] and f[2] in ("_plan", "_prepare")
    ),
    "convert_messages": lambda f: (
        "langchain_grok/_messages.py" in f[0] and f[2] == "convert_messages"
    ),
    "build_chat_body": lambda f: "langchain_grok/_payload.py" in f[0] and f[2] == "build_chat_body",
    "BaseClient._build_request": lambda f: (
        "langchain_grok/_client" in f[0] and f[2] == "_build_request"
    ),
    "completion_to_result": lambda f: (
        "langchain_grok/_outputs.py" in f[0] and f[2] == "completion_to_result"
    ),
    "httpx (Async)Client.send": lambda f: f[0].endswith("httpx/_client.py") and f[2] == "send",
    "httpx Client.build_request": lambda f: (
        f[0].endswith("httpx/_client.py") and f[2] == "build_request"
    ),
    "BaseClient._parse_json": lambda f: "langchain_grok/_client" in f[0] and f[2] == "_parse_json",
    "forget_key": lambda f: "langchain_grok/_client" in f[0] and f[2] == "forget_key",
}


def profile_path(
    contender: Contender, base_url: str, *, stream: bool, chunks: int, repeats: int
) -> dict[str, Any]:
    setup = sync_driver(contender, base_url)
    try:
        validate(setup, chunks, expected_text(chunks))
        unit = chunks if stream else 1
        if stream:
            clean = sorted(
                measure_stream(setup.driver, chunks)["stream_cpu_us"]
                for _ in range(max(3, repeats))
            )
        else:
            clean = sorted(measure_invoke(setup.driver, repeats)["invoke_cpu_us"] for _ in range(3))
        unprofiled_us = clean[len(clean) // 2]

        def run() -> None:
            if stream:
                for _ in range(repeats):
                    for _ in setup.driver.stream(prompt(chunks)):
                        pass
            else:
                for _ in range(repeats):
                    setup.driver.invoke(prompt(1))

        split = Split(profiled(run))
        units = unit * repeats
        scale = unprofiled_us / (split.total / units * 1e6)
        return {"split": split, "units": units, "unprofiled_us": unprofiled_us, "scale": scale}
    finally:
        setup.close()


def render_profile(title: str, unit: str, mine: dict[str, Any], floor: dict[str, Any]) -> str:
    out = [f"### {title}", ""]
    rows = []
    for name in CATEGORIES:
        cells = [name]
        for result in (mine, floor):
            split: Split = result["split"]
            seconds = split.by_category.get(name, 0.0)
            share = seconds / split.total if split.total else 0.0
            cells.append(f"{share * result['unprofiled_us']:.1f} ({share:.0%})")
        rows.append(cells)
    rows.append(
        [
            "**total (unprofiled CPU)**",
            f"**{mine['unprofiled_us']:.1f}**",
            f"**{floor['unprofiled_us']:.1f}**",
        ]
    )
    out += [table(["Category", f"ChatGrok µs per {unit}", f"floor µs per {unit}"], rows), ""]

    split = mine["split"]
    units = mine["units"]
    scale = mine["scale"]
    key_rows = []
    for label, predicate in KEY_FUNCTIONS.items():
        seconds, calls = split.cumulative(predicate)
        if calls:
            key_rows.append([label, f"{seconds / units * 1e6 * scale:.2f}", f"{calls / units:.2f}"])
    out += [
        f"Inclusive time of named functions in ChatGrok's {unit} path (µs per {unit}, scaled like the table):",
        "",
        table(["Function", f"µs per {unit}", f"calls per {unit}"], key_rows),
        "",
        "ChatGrok's own functions by self time:",
        "",
        table(
            ["langchain_grok function", f"self µs per {unit}", f"calls per {unit}"],
            [
                [name, f"{s / units * 1e6 * scale:.2f}", f"{c / units:.2f}"]
                for name, s, c in split.functions("/langchain_grok/", inclusive=False, top=12)
            ],
        ),
        "",
    ]
    return "\n".join(out)


# -- part 2: experiments ---------------------------------------------------------------------


def per_call_us(fn: Callable[[], object], number: int = 2000, repeat: int = 7) -> float:
    """Median µs per call of `fn` (timeit, GC on as in real use)."""
    timer = timeit.Timer(fn)
    runs = sorted(timer.repeat(repeat=repeat, number=number))
    return runs[len(runs) // 2] / number * 1e6


def experiment(
    name: str,
    current: Callable[[], object],
    lean: Callable[[], object],
    note: str,
    number: int = 2000,
) -> list[str]:
    try:
        now = per_call_us(current, number)
        then = per_call_us(lean, number)
    except Exception as exc:  # the library is being edited: report, don't crash
        return [name, "n/a", "n/a", "n/a", f"failed: {type(exc).__name__}: {exc}"]
    return [name, f"{now:.2f}", f"{then:.2f}", f"{now - then:.2f}", note]


def stream_experiments() -> list[list[str]]:
    from langchain_core.messages import AIMessageChunk
    from proposals import FastEventParser, LeanChunkConverter

    from langchain_grok._events import EventParser
    from langchain_grok._outputs import ChunkConverter

    events = stream_events(40)[:40]  # one network read per event, as httpx yields them
    payloads = [json.loads(event[6:]) for event in events]

    def parse_all(parser_class: type[EventParser]) -> Callable[[], None]:
        def run() -> None:
            parser = parser_class(status_code=200, request_id=None)
            for chunk in events:
                for _ in parser.feed(chunk):
                    pass

        return run

    def convert_all(converter_class: type[ChunkConverter]) -> Callable[[], None]:
        def run() -> None:
            converter = converter_class()
            for payload in payloads:
                converter.convert(payload)

        return run

    rows = [
        experiment(
            "B. SSE decode + EventParser per event (bytes -> dict)",
            parse_all(EventParser),
            parse_all(FastEventParser),
            "bench/proposals.py FastEventParser: a read that is exactly one `data: {...}\\n\\n` event is json.loads-ed from bytes; anything else takes the full decoder",
            number=200,
        ),
        experiment(
            "C. ChunkConverter.convert per chunk (dict -> ChatGenerationChunk)",
            convert_all(ChunkConverter),
            convert_all(LeanChunkConverter),
            "bench/proposals.py LeanChunkConverter: text-only deltas skip the empty additional_kwargs / tool_call_chunks and share one id string",
            number=200,
        ),
    ]
    for row in rows:  # the two above time 40 events per call
        if row[1] != "n/a":
            row[1:4] = [f"{float(value) / 40:.2f}" for value in row[1:4]]
    rows.append(
        experiment(
            "C'. AIMessageChunk alone: ChatGrok's kwargs vs content+id",
            lambda: AIMessageChunk(
                content=" sky",
                additional_kwargs={},
                tool_call_chunks=[],
                id="x",
                response_metadata={"model_provider": "xai"},
            ),
            lambda: AIMessageChunk(content=" sky", id="x"),
            "the part of C that is pydantic/langchain-core construction",
        )
    )
    return rows


def end_to_end_stream(base_url: str, chunks: int, rounds: int) -> list[list[str]]:
    """ChatGrok's stream with B, C, B+C applied in-process vs as is vs the floor (alternating)."""
    from proposals import applied

    grok = sync_driver(by_key("chatgrok"), base_url)
    floor = sync_driver(by_key("floor"), base_url)
    variants = {
        "ChatGrok as is": (grok, None),
        "+ B (SSE fast path)": (grok, {"sse_fast_path": True, "lean_chunks": False}),
        "+ C (lean chunks)": (grok, {"sse_fast_path": False, "lean_chunks": True}),
        "+ B + C": (grok, {"sse_fast_path": True, "lean_chunks": True}),
        "floor": (floor, None),
    }
    try:
        with applied():  # the prototypes must give the same answer
            validate(grok, chunks, expected_text(chunks))
            merged = None
            for chunk in grok.driver.model.stream(prompt(chunks)):  # type: ignore[attr-defined]
                merged = chunk if merged is None else merged + chunk
            assert (
                merged is not None
                and merged.usage_metadata
                and merged.response_metadata.get("model_provider") == "xai"
            )
        samples: dict[str, list[float]] = {name: [] for name in variants}
        names = list(variants)
        for round_no in range(rounds):
            for name in names[round_no % len(names) :] + names[: round_no % len(names)]:
                setup, patch = variants[name]
                with applied(**patch) if patch else contextlib.nullcontext():
                    samples[name].append(measure_stream(setup.driver, chunks)["stream_cpu_us"])
    finally:
        grok.close()
        floor.close()
    medians = {name: sorted(values)[len(values) // 2] for name, values in samples.items()}
    base = medians["floor"]
    return [[name, f"{value:.1f}", f"{value / base:.2f}x"] for name, value in medians.items()]


def end_to_end_invoke(base_url: str, calls: int, rounds: int) -> list[list[str]]:
    """ChatGrok's invoke with E and I applied in-process vs as is vs the floor (alternating)."""
    from contenders import Transport, _chatgrok, _langchain
    from measure import SyncSetup
    from proposals import URLCachingClient, cached_default_params

    plain = sync_driver(by_key("chatgrok"), base_url)
    caching_client = URLCachingClient(
        limits=httpx.Limits(max_connections=1000, max_keepalive_connections=1000), timeout=30.0
    )
    with_url = SyncSetup(
        by_key("chatgrok"),
        _langchain(lambda t: _chatgrok(t, use_responses_api=False))(
            Transport(base_url, httpx, sync_client=caching_client)
        ),
        caching_client,
    )
    floor = sync_driver(by_key("floor"), base_url)
    variants: dict[str, tuple[SyncSetup, Callable[[], Any]]] = {
        "ChatGrok as is": (plain, contextlib.nullcontext),
        "+ E (default params once)": (plain, cached_default_params),
        "+ I (pre-parsed URL)": (with_url, contextlib.nullcontext),
        "+ E + I": (with_url, cached_default_params),
        "floor": (floor, contextlib.nullcontext),
    }
    samples: dict[str, list[float]] = {name: [] for name in variants}
    names = list(variants)
    try:
        for setup, patch in variants.values():
            with patch():
                validate(setup, 20, expected_text(20))
        for round_no in range(rounds):
            for name in names[round_no % len(names) :] + names[: round_no % len(names)]:
                setup, patch = variants[name]
                with patch():
                    samples[name].append(measure_invoke(setup.driver, calls)["invoke_cpu_us"])
    finally:
        for setup, _ in variants.values():
            setup.close()
    medians = {name: sorted(values)[len(values) // 2] for name, values in samples.items()}
    base = medians["floor"]
    return [[name, f"{value:.0f}", f"{value / base:.2f}x"] for name, value in medians.items()]


def memory_experiment(chunks: int = 5000) -> list[list[str]]:
    """Bytes each streamed chunk keeps alive until the stream ends.

    `BaseChatModel.stream` keeps every ChatGenerationChunk in a list to merge them at the end,
    so the per-chunk object size is the slope of the peak-RSS row of RESULTS.md.
    """
    import tracemalloc

    from langchain_core.language_models.chat_models import _gen_info_and_msg_metadata
    from langchain_core.messages import AIMessageChunk
    from langchain_core.outputs import ChatGenerationChunk

    from langchain_grok._outputs import ChunkConverter

    raw = [event[6:] for event in stream_events(chunks)[:chunks]]

    def as_langchain_core_keeps(
        make: Callable[[dict[str, Any]], ChatGenerationChunk | None],
    ) -> float:
        kept = []
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for data in raw:
            chunk = make(json.loads(data))
            if chunk is None:
                continue
            if chunk.message.id is None:
                chunk.message.id = "lc_run--0199a8f2-5b9a-7c3e-8d2f-3c1b2a0e9f11"
            chunk.message.response_metadata = _gen_info_and_msg_metadata(chunk)
            kept.append(chunk)
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        return (after - before) / len(kept)

    from proposals import LeanChunkConverter

    def floor(payload: dict[str, Any]) -> ChatGenerationChunk | None:
        content = payload["choices"][0]["delta"].get("content")
        return ChatGenerationChunk(message=AIMessageChunk(content=content)) if content else None

    try:
        now = as_langchain_core_keeps(ChunkConverter().convert)
        then = as_langchain_core_keeps(LeanChunkConverter().convert)
        bare = as_langchain_core_keeps(LeanChunkConverter(provider_per_chunk=False).convert)
        base = as_langchain_core_keeps(floor)
    except Exception as exc:
        return [["M. bytes kept per streamed chunk", "n/a", "n/a", "n/a", f"failed: {exc}"]]
    return [
        [
            "M. bytes kept alive per streamed chunk until the stream ends",
            f"{now:.0f} B",
            f"{then:.0f} B",
            f"{now - then:.0f} B",
            f"LeanChunkConverter (C); {bare:.0f} B if chunks also drop the per-chunk model_provider; the floor's chunk is {base:.0f} B",
        ]
    ]


def invoke_experiments(base_url: str) -> list[list[str]]:
    from langchain_core.messages import HumanMessage

    from langchain_grok import ChatGrok
    from langchain_grok._outputs import completion_to_result

    rows = []
    client = httpx.Client()
    model = ChatGrok(
        model="grok-4.3",
        api_key="xai-bench",
        base_url=base_url,
        http_client=client,
        max_retries=0,
        use_responses_api=False,
    )
    messages = [HumanMessage("Say something. n=1")]
    plan = getattr(model, "_plan", None) or model._prepare  # type: ignore[attr-defined]

    def grok_plan() -> object:
        return plan(messages, None, {}, stream=False)

    body = {"model": "grok-4.3", "messages": [{"role": "user", "content": "Say something. n=1"}]}

    def lean_plan() -> object:
        # What a cached per-instance body prefix would leave per call: convert the messages,
        # copy the prefix, no re-validation of unchanged model fields.
        wire = [{"role": "user", "content": m.content} for m in messages]
        return {**body, "messages": wire}

    rows.append(
        experiment(
            "D. request planning per call (_plan/_prepare)",
            grok_plan,
            lean_plan,
            "cache the validated default params per instance; re-check only per-call kwargs",
        )
    )
    rows.append(
        experiment(
            "E. model._default_params (also behind model.dict() each call)",
            lambda: model._default_params,
            lambda: body,
            "compute once per instance (fields are immutable in practice)",
        )
    )
    rows.append(
        experiment(
            "F. json.dumps(body, ensure_ascii=False).encode() vs json.dumps(body).encode()",
            lambda: json.dumps(body, ensure_ascii=False).encode(),
            lambda: json.dumps(body).encode(),
            "ensure_ascii=False takes the pure-Python encoder path for non-ASCII only; small either way",
        )
    )
    reply = json.loads(completion_json())  # the bench server's non-streaming body
    from langchain_core.messages import AIMessage
    from langchain_core.outputs import ChatGeneration, ChatResult

    rows.append(
        experiment(
            "G. completion_to_result per reply",
            lambda: completion_to_result(reply),
            lambda: ChatResult(
                generations=[
                    ChatGeneration(
                        message=AIMessage(content=reply["choices"][0]["message"]["content"])
                    )
                ]
            ),
            "floor-equivalent result (content + usage); difference is metadata ChatGrok rightly adds",
        )
    )
    request = client.build_request(
        "POST",
        base_url + "/chat/completions",
        headers={"authorization": "Bearer x", "accept": "text/event-stream"},
    )

    def grok_forget() -> None:
        request.headers["authorization"] = "Bearer x"

    rows.append(
        experiment(
            "H. redacting the key on the sent request (httpx.Headers __setitem__)",
            grok_forget,
            lambda: None,
            "keep the key out of the request via an httpx Auth / header built once; or skip when logging is off",
        )
    )
    url_text = base_url + "/chat/completions"
    url = httpx.URL(url_text)
    headers = {
        "accept": "application/json",
        "content-type": "application/json",
        "authorization": "Bearer x",
        "user-agent": "bench",
    }
    content = json.dumps(body).encode()
    rows.append(
        experiment(
            "I. http.build_request with the URL as text vs a pre-parsed httpx.URL",
            lambda: client.build_request("POST", url_text, content=content, headers=headers),
            lambda: client.build_request("POST", url, content=content, headers=headers),
            "parse base_url + path once per client (httpx re-parses and re-validates a str URL every call)",
        )
    )
    client.close()
    return rows


def async_experiments(
    base_url: str, concurrency: tuple[int, ...], total: dict[int, int]
) -> list[list[str]]:
    from contenders import API_KEY, MODEL, LangChainDriver, _chatgrok, _langchain

    from langchain_grok import async_transport

    def lean() -> Any:
        return async_transport(
            limits=httpx.Limits(max_connections=1000, max_keepalive_connections=1000)
        )

    def own_pool(t: Any) -> Any:
        # No http_async_client: ChatGrok's own per-loop pool, with httpx's default limits.
        from langchain_grok import ChatGrok

        return LangChainDriver(
            ChatGrok(
                model=MODEL,
                api_key=API_KEY,
                base_url=t.base_url,
                max_retries=0,
                use_responses_api=False,
            )
        )

    trial = [
        Contender("chatgrok_own_pool", "ChatGrok, own default pool", "subject", own_pool),
        by_key("chatgrok"),
        Contender(
            "chatgrok_lean_pool",
            "ChatGrok + lean pool",
            "subject",
            _langchain(lambda t: _chatgrok(t, use_responses_api=False)),
            async_transport=lean,
        ),
        by_key("raw"),
        Contender(
            "raw_lean_pool",
            "raw httpx + lean pool",
            "raw",
            by_key("raw").make,
            async_transport=lean,
        ),
        by_key("chatxai"),
    ]
    rows = []
    for mode in ("ainvoke", "astream"):
        for level in concurrency:
            results = measure_async(
                trial, base_url, (mode,), level, total[level], 1, 20, 600.0, lambda _: None
            )
            cells = [f"{mode} x{level}"]
            for contender in trial:
                runs = results[contender.key, mode]
                timed = [r for r in runs if not r.warm_up]
                errors = sum(sum(r.errors.values()) for r in runs)
                cells.append(f"{timed[0].rps:.0f}" + (f" ({errors} errors)" if errors else ""))
            rows.append(cells)
    return [["Run", *[c.label for c in trial]], *rows]


def profile_async(
    contender: Contender, base_url: str, mode: str, concurrency: int, total: int, chunks: int
) -> dict[str, Any]:
    """cProfile of `total` async requests at `concurrency`, through the lean pool (so that the
    pool's own O(n^2) does not drown everything else)."""
    import asyncio
    from collections import Counter

    from contenders import Transport, http_clients
    from measure import _one

    from langchain_grok import async_transport

    async def run() -> dict[str, Any]:
        transport = async_transport(
            limits=httpx.Limits(max_connections=1000, max_keepalive_connections=1000)
        )
        _, client = http_clients(httpx, sync=False, asynchronous=True, async_transport=transport)
        driver = contender.make(Transport(base_url, httpx, async_client=client))
        text = prompt(chunks if mode == "astream" else 1)
        errors: Counter[str] = Counter()
        try:
            await asyncio.gather(
                *(_one(driver, mode, text, chunks, errors) for _ in range(concurrency))
            )

            async def batch() -> None:
                remaining = total

                async def worker() -> None:
                    nonlocal remaining
                    while remaining > 0:
                        remaining -= 1
                        await _one(driver, mode, text, chunks, errors)

                await asyncio.gather(*(worker() for _ in range(concurrency)))

            cpu = time.process_time()
            await batch()
            unprofiled_us = (time.process_time() - cpu) / total * 1e6
            profile = cProfile.Profile()
            profile.enable()
            await batch()
            profile.disable()
        finally:
            await client.aclose()
        if errors:
            raise RuntimeError(f"errors in async profile: {dict(errors)}")
        split = Split(profile)
        return {
            "split": split,
            "units": total,
            "unprofiled_us": unprofiled_us,
            "scale": unprofiled_us / (split.total / total * 1e6),
        }

    return asyncio.run(run())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--chunks", type=int, default=2000)
    parser.add_argument("--streams", type=int, default=5)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--pyinstrument", action="store_true")
    parser.add_argument(
        "--no-async",
        action="store_true",
        help="skip the async profiles and the connection-pool experiment",
    )
    parser.add_argument(
        "--out", default="", help="also write the markdown here (e.g. bench/PROFILE_DATA.md)"
    )
    args = parser.parse_args(argv)
    out: list[str] = []
    started = time.perf_counter()
    with ServerProcess() as server:
        grok, floor = by_key("chatgrok"), by_key("floor")
        for stream, unit, title, repeats in (
            (True, "chunk", "Stream path", args.streams),
            (False, "call", "Invoke path", args.calls),
        ):
            print(f"profiling the {unit} path ...", file=sys.stderr)
            mine = profile_path(
                grok, server.base_url, stream=stream, chunks=args.chunks, repeats=repeats
            )
            theirs = profile_path(
                floor, server.base_url, stream=stream, chunks=args.chunks, repeats=repeats
            )
            out.append(
                render_profile(
                    f"{title} ({'model.stream, %d-chunk replies' % args.chunks if stream else 'model.invoke'})",
                    unit,
                    mine,
                    theirs,
                )
            )
        if not args.no_async:
            for mode in ("ainvoke", "astream"):
                print(f"profiling {mode} (lean pool, 50 concurrent) ...", file=sys.stderr)
                mine = profile_async(grok, server.base_url, mode, 50, 600, 20)
                theirs = profile_async(floor, server.base_url, mode, 50, 600, 20)
                title = f"Async {mode} path ({'20-chunk replies, ' if mode == 'astream' else ''}50 concurrent, through the package's O(1) pool, async_transport)"
                out.append(render_profile(title, "request", mine, theirs))
        print("experiments ...", file=sys.stderr)
        header = ["Experiment", "current µs", "lean µs", "saving µs", "how"]
        experiments = (
            stream_experiments() + memory_experiment() + invoke_experiments(server.base_url)
        )
        out += [
            "### Experiments (no profiler; µs per chunk for B and C, per call otherwise)",
            "",
            table(header, experiments),
            "",
        ]
        print("end-to-end stream with proposals B and C ...", file=sys.stderr)
        rows = end_to_end_stream(server.base_url, args.chunks, rounds=7)
        out += [
            f"### B and C end to end: model.stream of {args.chunks:,} chunks, CPU µs per chunk (median of 7 alternating rounds)",
            "",
            table(["Variant", "µs per chunk", "÷ floor"], rows),
            "",
        ]
        print("end-to-end invoke with proposals E and I ...", file=sys.stderr)
        rows = end_to_end_invoke(server.base_url, args.calls, rounds=7)
        out += [
            f"### E and I end to end: model.invoke, CPU µs per call (median of 7 alternating rounds of {args.calls})",
            "",
            table(["Variant", "µs per call", "÷ floor"], rows),
            "",
        ]
        if not args.no_async:
            print("connection-pool experiment ...", file=sys.stderr)
            rows = async_experiments(server.base_url, (50, 500), {50: 300, 500: 500})
            out += [
                "### A. Async req/s with a lean connection pool (the package's async_transport; one timed wave after warm-up)",
                "",
                table(rows[0], rows[1:]),
                "",
            ]
        if args.pyinstrument:
            out += pyinstrument_trees(grok, server.base_url, args.chunks)
    header = [
        "# Profile data (generated by bench/profiling.py; read PROFILE.md first)",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}; `bench/profiling.py {' '.join(argv if argv is not None else sys.argv[1:])}`. "
        "µs are unprofiled CPU per unit, split in the proportions cProfile measured.",
        "",
    ]
    report = "\n".join(header + out)
    print(report)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(report + "\n")
    print(f"\n({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    return 0


def pyinstrument_trees(contender: Contender, base_url: str, chunks: int) -> list[str]:
    try:
        from pyinstrument import Profiler
    except ImportError:
        return ["(pyinstrument is not installed in this venv)"]
    setup = sync_driver(contender, base_url)
    out = []
    try:
        for label, run in (
            ("stream", lambda: [None for _ in setup.driver.stream(prompt(chunks))]),
            ("invoke", lambda: [setup.driver.invoke(prompt(1)) for _ in range(300)]),
        ):
            run()
            profiler = Profiler(interval=0.0002)
            profiler.start()
            for _ in range(3):
                run()
            profiler.stop()
            out += [
                f"### pyinstrument: {label}",
                "",
                "```",
                profiler.output_text(unicode=True, color=False, show_all=False),
                "```",
                "",
            ]
    finally:
        setup.close()
    return out


if __name__ == "__main__":
    sys.exit(main())
