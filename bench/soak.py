"""Soak and chaos run: thousands of ChatGrok calls through the emulator, with faults injected.

    make soak                          # the default size, about a minute on two cores
    python bench/soak.py --calls 500   # smaller, while developing

Loopback only. The emulator runs in its own process (see soak_server.py), so this process owns
only the client's sockets. Three phases, each on one shared ChatGrok instance:

1. chaos: `--calls` calls, a seeded random mix of invoke / stream / ainvoke / astream from
   `--threads` threads and `--concurrency` asyncio tasks at once, against a queue of scripted
   replies of which `--fault-rate` are faults (429 with retry-after(-ms), 5xx, resets before
   headers, read timeouts, cuts and stalls mid-stream, malformed and error frames, HTTP 200 with
   an error body, truncated JSON). The emulator answers in arrival order and records which
   request got which reply, so each call's outcome is checked exactly (soak_faults.predict):
   its text (no lost, duplicated or reordered token), or its error class, and its attempt count.
2. concurrency: `--streams` concurrent `astream` calls (on a model with the default timeouts:
   the chaos model's 1 s timeout also bounds the wait for a pooled connection).
3. cancellation: `--cancels` streams abandoned mid-way (task.cancel, aclose, async break, sync
   break); each must close its HTTP response (the emulator sees the client disconnect).

Before and after, the process's descriptors, sockets, threads, RSS, live unclosed
`httpx.Response` objects, gc-tracked objects and allocated memory blocks are compared. Exit
status 1 on any lost, duplicated, untyped or mispredicted outcome, any leak, or the time limit;
0 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import queue
import random
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from soak_faults import FAULT_WEIGHTS, Planned, Planner, predict
from soak_metrics import Snapshot, snapshot
from soak_server import EmulatorProcess, Seen

from langchain_grok import ChatGrok, XAIClient
from langchain_grok._client._pools import _close_process_pools
from langchain_grok.errors import GrokError
from langchain_grok.testing import ScriptedReply

READ_TIMEOUT = 1.0  # ChatGrok(timeout=...): every phase, and the longest silence in a stream
STALL = 2.5  # how long a stalled reply stays silent: well beyond the read timeout
MAX_RETRIES = 2
KEEPALIVE = 20  # httpx's default max_keepalive_connections
BLOCKS_PER_CALL = 3
MODES = ("invoke", "stream", "ainvoke", "astream")
CHAT_PATH = "/v1/chat/completions"
LONG = ScriptedReply(content=" ".join(f"w{i}" for i in range(400)), event_delay=0.01)


@dataclass
class Outcome:
    """What one call did, as seen by the caller."""

    mode: str
    prompt: str
    ok: bool
    text: str | None = None
    error: str | None = None  # exception class name
    typed: bool = True
    message: str = ""
    seconds: float = 0.0
    usage_chunks: int = 0
    last_chunks: int = 0
    finish: str | None = None


# -- calls -----------------------------------------------------------------------------------


def _failed(mode: str, prompt: str, exc: BaseException, started: float) -> Outcome:
    return Outcome(
        mode,
        prompt,
        ok=False,
        error=type(exc).__name__,
        typed=isinstance(exc, GrokError),
        message=str(exc)[:300],
        seconds=time.monotonic() - started,
    )


def _streamed(mode: str, prompt: str, chunks: list[Any], started: float) -> Outcome:
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    return Outcome(
        mode,
        prompt,
        ok=True,
        text="".join(str(c.content) for c in chunks),
        seconds=time.monotonic() - started,
        usage_chunks=sum(1 for c in chunks if c.usage_metadata),
        last_chunks=sum(1 for c in chunks if c.chunk_position == "last"),
        finish=merged.response_metadata.get("finish_reason"),
    )


def _invoked(mode: str, prompt: str, message: Any, started: float) -> Outcome:
    return Outcome(
        mode,
        prompt,
        ok=True,
        text=str(message.content),
        seconds=time.monotonic() - started,
        usage_chunks=1 if message.usage_metadata else 0,
        last_chunks=1,
        finish=message.response_metadata.get("finish_reason"),
    )


def call_sync(model: ChatGrok, mode: str, prompt: str) -> Outcome:
    started = time.monotonic()
    try:
        if mode == "invoke":
            return _invoked(mode, prompt, model.invoke(prompt), started)
        return _streamed(mode, prompt, list(model.stream(prompt)), started)
    except Exception as exc:
        return _failed(mode, prompt, exc, started)


async def call_async(model: ChatGrok, mode: str, prompt: str) -> Outcome:
    started = time.monotonic()
    try:
        if mode == "ainvoke":
            return _invoked(mode, prompt, await model.ainvoke(prompt), started)
        chunks = [chunk async for chunk in model.astream(prompt)]
        return _streamed(mode, prompt, chunks, started)
    except Exception as exc:
        return _failed(mode, prompt, exc, started)


# -- phase 1: chaos --------------------------------------------------------------------------


@dataclass
class Chaos:
    planned: list[Planned]
    outcomes: dict[str, Outcome]
    seen: list[Seen]
    not_run: int
    seconds: float


def run_chaos(model: ChatGrok, emulator: EmulatorProcess, args: argparse.Namespace) -> Chaos:
    rng = random.Random(args.seed)
    planner = Planner(rng, fault_rate=args.fault_rate, stall=STALL)
    # Enough replies for every call to use all its attempts: the queue never runs dry.
    planned = [planner.plan(i) for i in range(args.calls * (MAX_RETRIES + 1))]
    emulator.reset()
    emulator.script([p.reply for p in planned])
    jobs = [(rng.choice(MODES), f"soak-{i:05d}") for i in range(args.calls)]
    outcomes: dict[str, Outcome] = {}
    started = time.monotonic()
    deadline = started + args.time_limit

    sync_jobs: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
    for job in jobs:
        if not job[0].startswith("a"):
            sync_jobs.put(job)

    def sync_worker() -> None:
        while time.monotonic() < deadline:
            try:
                mode, prompt = sync_jobs.get_nowait()
            except queue.Empty:
                return
            outcomes[prompt] = call_sync(model, mode, prompt)

    async def async_part() -> None:
        pending = [job for job in jobs if job[0].startswith("a")]
        pending.reverse()

        async def worker() -> None:
            while pending and time.monotonic() < deadline:
                mode, prompt = pending.pop()
                outcomes[prompt] = await call_async(model, mode, prompt)

        await asyncio.gather(*(worker() for _ in range(args.concurrency)))

    threads = [threading.Thread(target=sync_worker, daemon=True) for _ in range(args.threads)]
    for thread in threads:
        thread.start()
    asyncio.run(async_part())
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    seen = [s for s in emulator.records(settle=STALL * 3) if s.path == CHAT_PATH]
    return Chaos(planned, outcomes, seen, args.calls - len(outcomes), seconds)


@dataclass
class ChaosReport:
    """The verdict on a chaos phase, in numbers (the calls themselves are not kept)."""

    calls: int
    not_run: int
    seconds: float
    exact: int
    succeeded: int
    typed: Counter[str]
    untyped: Counter[str]
    modes: Counter[str]
    kinds: Counter[str]
    requests: int
    problems: Counter[str]
    failures: list[str]
    durations: list[float]


def judge_chaos(chaos: Chaos) -> ChaosReport:
    """Check each call against the oracle, using the replies the emulator says it received."""
    problems: Counter[str] = Counter()
    failures: list[str] = []
    received: dict[str, list[Planned]] = defaultdict(list)
    streamed: dict[str, set[bool]] = defaultdict(set)
    if len(chaos.seen) > len(chaos.planned):
        problems["queue ran dry"] += 1
    for position, seen in enumerate(chaos.seen[: len(chaos.planned)]):
        received[seen.prompt].append(chaos.planned[position])
        streamed[seen.prompt].add(seen.stream)
    exact = 0
    for prompt, outcome in sorted(chaos.outcomes.items()):
        replies = received.get(prompt, [])
        stream = outcome.mode in ("stream", "astream")
        problem = _judge_one(outcome, replies, stream=stream, streamed=streamed.get(prompt, set()))
        if problem is None:
            exact += 1
            continue
        problems[problem] += 1
        if len(failures) < 20:
            kinds = [p.kind for p in replies]
            failures.append(
                f"{prompt} {outcome.mode}: {problem}; replies {kinds}; got "
                f"{outcome.error or 'ok'} {outcome.message or (outcome.text or '')[:80]!r}"
            )
    outcomes = list(chaos.outcomes.values())
    return ChaosReport(
        calls=len(outcomes),
        not_run=chaos.not_run,
        seconds=chaos.seconds,
        exact=exact,
        succeeded=sum(1 for o in outcomes if o.ok),
        typed=Counter(str(o.error) for o in outcomes if not o.ok and o.typed),
        untyped=Counter(str(o.error) for o in outcomes if not o.typed),
        modes=Counter(o.mode for o in outcomes),
        kinds=Counter(p.kind for p in chaos.planned[: len(chaos.seen)]),
        requests=len(chaos.seen),
        problems=problems,
        failures=failures,
        durations=sorted(o.seconds for o in outcomes) or [0.0],
    )


def _judge_one(
    outcome: Outcome, replies: list[Planned], *, stream: bool, streamed: set[bool]
) -> str | None:
    if not outcome.typed:
        return "untyped exception"
    if not replies:
        return "no request reached the emulator"
    if streamed != {stream}:
        return "request sent with the wrong stream flag"
    verdict = predict(replies, stream=stream, max_retries=MAX_RETRIES)
    if not verdict.complete:
        return "gave up while a retry was due (lost outcome)"
    if verdict.attempts != len(replies):
        return f"{len(replies)} attempts where the policy makes {verdict.attempts}"
    if verdict.ok and not outcome.ok:
        return "lost: expected a reply, got an error"
    if not verdict.ok and outcome.ok:
        return "ended without raising (silently short)" if stream else "error swallowed"
    if verdict.ok:
        if outcome.text != verdict.text:
            return "text differs (lost, duplicated or reordered tokens)"
        if outcome.usage_chunks != 1 or outcome.last_chunks != 1 or outcome.finish != "stop":
            return "usage / last chunk / finish_reason not exactly once"
        return None
    expected = verdict.error.__name__ if verdict.error is not None else "?"
    if outcome.error != expected:
        return f"wrong error class (expected {expected})"
    return None


# -- phase 2: concurrent streams -------------------------------------------------------------


def run_streams(model: ChatGrok, emulator: EmulatorProcess, count: int) -> tuple[int, list[str]]:
    emulator.reset()  # nothing scripted: the emulator echoes each prompt

    async def main() -> list[Outcome]:
        return await asyncio.gather(
            *(call_async(model, "astream", f"stream-{i:04d}") for i in range(count))
        )

    outcomes = asyncio.run(main())
    problems = [
        f"{outcome.prompt}: {outcome.error} {outcome.message}"
        for outcome in outcomes
        if not (
            outcome.ok
            and outcome.text == f"You said: {outcome.prompt}"
            and outcome.usage_chunks == 1
            and outcome.last_chunks == 1
        )
    ]
    seen = emulator.records()
    if len(seen) != count or {s.outcome for s in seen} != {"completed"}:
        problems.append(
            f"emulator saw {len(seen)} requests, outcomes {Counter(s.outcome for s in seen)}"
        )
    return count - len(problems), problems


# -- phase 3: cancellation -------------------------------------------------------------------

CANCEL_KINDS = ("task.cancel", "aclose", "async break", "sync break")


def run_cancels(
    model: ChatGrok, emulator: EmulatorProcess, count: int
) -> tuple[Counter[str], list[str]]:
    emulator.reset()
    emulator.script([ScriptedReply(**{**LONG.__dict__, "repeat": count})])
    kinds = [CANCEL_KINDS[i % len(CANCEL_KINDS)] for i in range(count)]
    problems: list[str] = []

    async def one(kind: str) -> None:
        if kind == "task.cancel":
            first = asyncio.Event()

            async def consume() -> None:
                async for _ in model.astream("cancel me"):
                    first.set()

            task = asyncio.create_task(consume())
            await asyncio.wait_for(first.wait(), 10)
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                return
            problems.append("a cancelled task finished normally")
        elif kind == "aclose":
            stream = model.astream("close me")
            await anext(stream)
            await stream.aclose()  # type: ignore[attr-defined]
        else:
            async for _ in model.astream("abandon me"):
                break

    async def main() -> None:
        await asyncio.gather(*(one(k) for k in kinds if k != "sync break"))

    asyncio.run(main())
    for kind in kinds:
        if kind == "sync break":
            for index, _ in enumerate(model.stream("break me")):
                if index == 2:
                    break
    seen = emulator.records(settle=10)
    outcomes = Counter(s.outcome for s in seen)
    if outcomes != Counter({"client_disconnected": count}):
        problems.append(f"emulator outcomes {dict(outcomes)}, expected {count} client_disconnected")
    # The model still works afterwards, on every path.
    after = [call_sync(model, "invoke", "after"), call_sync(model, "stream", "after")]
    after += asyncio.run(_both_async(model))
    problems.extend(
        f"{outcome.mode} after cancellations: {outcome.error} {outcome.message}"
        for outcome in after
        if outcome.text != "You said: after"
    )
    return outcomes, problems


async def _both_async(model: ChatGrok) -> list[Outcome]:
    return [
        await call_async(model, "ainvoke", "after"),
        await call_async(model, "astream", "after"),
    ]


# -- checks and report -----------------------------------------------------------------------


def check_emulator_framing(emulator: EmulatorProcess) -> None:
    """The oracle counts SSE events with a formula; confirm it against the emulator once."""
    planner = Planner(random.Random(7), fault_rate=0.0, stall=STALL)
    samples = [planner.plan(i) for i in range(12)]
    emulator.reset()
    emulator.script([p.reply for p in samples])
    with XAIClient(api_key=emulator.api_key, base_url=emulator.base_url) as client:
        for planned in samples:
            chunks = list(
                client.stream_chat_completion(
                    [{"role": "user", "content": "x"}], stream_options={"include_usage": True}
                )
            )
            if len(chunks) + 1 != planned.events:  # + 1: [DONE] is not a chunk
                msg = (
                    f"emulator framing changed: {len(chunks) + 1} events where soak_faults "
                    f"expects {planned.events}; update stream_event_count"
                )
                raise SystemExit(msg)
    emulator.reset()


def close_shared_pools() -> None:
    """Close ChatGrok's process-wide sync pool, as its atexit hook does at interpreter exit."""
    _close_process_pools()


def table(rows: list[list[str]], indent: str = "  ") -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append(indent + "  ".join(cells).rstrip())
    return "\n".join(lines)


def print_chaos(title: str, report: ChaosReport) -> list[str]:
    """Print a chaos phase; return what failed."""
    problems = report.problems
    silent = problems["ended without raising (silently short)"]
    text_bad = problems["text differs (lost, duplicated or reordered tokens)"]
    lost = problems["lost: expected a reply, got an error"]
    other = sum(problems.values()) - silent - text_bad - lost
    durations = report.durations
    retries = report.requests - report.calls
    print(f"{title} ({report.seconds:.1f} s)")
    modes = ", ".join(f"{m} {report.modes[m]}" for m in MODES)
    print(f"  calls              {report.calls:6d}   {modes}")
    print(f"  succeeded          {report.succeeded:6d}")
    print(f"  typed errors       {sum(report.typed.values()):6d}")
    for name, count in report.typed.most_common():
        print(f"    {name:28s} {count:4d}")
    untyped = f"   {dict(report.untyped)}" if report.untyped else ""
    print(f"  untyped errors     {sum(report.untyped.values()):6d}{untyped}")
    print(
        f"  requests seen      {report.requests:6d}   -> retries {retries} "
        f"({retries / max(report.calls, 1):.2f} per call)"
    )
    served = ", ".join(f"{k} {report.kinds[k]}" for k in ["ok", *FAULT_WEIGHTS] if report.kinds[k])
    print(f"  replies served     {served}")
    print(f"  exact verdicts     {report.exact:6d} / {report.calls}")
    print(
        f"  lost {lost}, duplicated/reordered {text_bad}, streams ended early without "
        f"raising {silent}, other mismatches {other}"
    )
    p99 = durations[max(int(len(durations) * 0.99) - 1, 0)]
    print(
        f"  call seconds       p50 {statistics.median(durations):.3f}  p99 {p99:.3f}  "
        f"max {durations[-1]:.3f}"
    )
    for line in report.failures:
        print(f"    ! {line}")
    failed = []
    if report.not_run:
        failed.append(f"time limit reached: {report.not_run} calls not run")
    if report.exact != report.calls or report.untyped:
        failed.append(f"{report.calls - report.exact} chaos calls did not end as predicted")
    return failed


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n", maxsplit=1)[0])
    parser.add_argument("--calls", type=int, default=3000, help="chaos calls (default 3000)")
    parser.add_argument("--warmup", type=int, default=300, help="chaos calls before 'before'")
    parser.add_argument("--streams", type=int, default=500, help="concurrent astreams (500)")
    parser.add_argument("--cancels", type=int, default=200, help="abandoned streams (200)")
    parser.add_argument("--concurrency", type=int, default=48, help="asyncio tasks (48)")
    parser.add_argument("--threads", type=int, default=8, help="sync threads (8)")
    parser.add_argument("--fault-rate", type=float, default=0.35, help="faulty replies (0.35)")
    parser.add_argument("--seed", type=int, default=20260801)
    parser.add_argument("--time-limit", type=float, default=240.0, help="seconds for phase 1")
    parser.add_argument(
        "--rss-limit-mib",
        type=float,
        default=None,
        help="allowed RSS growth (default 32 MiB + 4 KiB per chaos call: the bookkeeping)",
    )
    parser.add_argument(
        "--object-limit", type=int, default=5000, help="allowed growth of gc-tracked objects"
    )
    args = parser.parse_args()

    # Tracing would add a network exporter to every call.
    for name in ("LANGCHAIN_TRACING_V2", "LANGCHAIN_TRACING", "LANGSMITH_TRACING"):
        os.environ.pop(name, None)
    started = time.monotonic()
    emulator = EmulatorProcess()
    timings: dict[str, float] = {}
    try:
        check_emulator_framing(emulator)
        # One model for the chaos: short timeouts make stalls cheap. Timeout, pool included,
        # is 1 s, so the concurrent-streams phase uses a model with the default timeouts.
        # The oracle models Chat Completions framing, so the soak pins that API (the Responses
        # path's faults are covered by tests/test_responses_e2e.py and the emulator's tests).
        model = ChatGrok(
            api_key=emulator.api_key,
            base_url=emulator.base_url,
            timeout=READ_TIMEOUT,
            max_retries=MAX_RETRIES,
            use_responses_api=False,
        )
        baseline = snapshot()  # no connection pool exists yet
        warm = judge_chaos(
            run_chaos(
                model,
                emulator,
                argparse.Namespace(**{**vars(args), "calls": args.warmup, "seed": args.seed + 1}),
            )
        )
        before = snapshot()
        report = judge_chaos(run_chaos(model, emulator, args))
        mark = time.monotonic()
        streams_model = ChatGrok(
            api_key=emulator.api_key, base_url=emulator.base_url, use_responses_api=False
        )
        streams_ok, stream_problems = run_streams(streams_model, emulator, args.streams)
        timings["streams"] = time.monotonic() - mark
        mark = time.monotonic()
        cancel_outcomes, cancel_problems = run_cancels(model, emulator, args.cancels)
        timings["cancels"] = time.monotonic() - mark
        del model, streams_model
        pools_open = snapshot()
        close_shared_pools()
        after = snapshot()
    finally:
        emulator.stop()
    elapsed = time.monotonic() - started

    print(
        f"langchain-grok soak: {args.calls} chaos calls (seed {args.seed}, fault rate "
        f"{args.fault_rate:.0%}, {args.concurrency} asyncio tasks + {args.threads} threads "
        f"at once), {args.streams} concurrent streams, {args.cancels} cancellations"
    )
    print(
        f"emulator in its own process (pid {emulator.pid}) at {emulator.base_url}; "
        f"ChatGrok timeout={READ_TIMEOUT} s, stalls {STALL} s, max_retries={MAX_RETRIES}"
    )
    print(
        f"warm-up before measuring: {warm.calls} chaos calls, {warm.exact} exact, "
        f"{sum(warm.untyped.values())} untyped"
    )
    print()
    failed = print_chaos("phase 1, chaos", report)
    if warm.exact != warm.calls or warm.untyped:
        failed.append(f"{warm.calls - warm.exact} warm-up calls did not end as predicted")
    print()
    print(
        f"phase 2, {args.streams} concurrent astreams on one ChatGrok ({timings['streams']:.1f} s):"
        f" {streams_ok} exact (text, one usage chunk, one last chunk; emulator: all completed)"
    )
    for line in stream_problems[:10]:
        print(f"    ! {line}")
    if stream_problems:
        failed.append(f"{len(stream_problems)} concurrent stream problems")
    print()
    print(
        f"phase 3, {args.cancels} cancellations ({', '.join(CANCEL_KINDS)}; "
        f"{timings['cancels']:.1f} s): emulator outcomes {dict(cancel_outcomes)}; "
        "next call on each of the four paths " + ("ok" if not cancel_problems else "FAILED")
    )
    for line in cancel_problems[:10]:
        print(f"    ! {line}")
    if cancel_problems:
        failed.append("cancellation problems")
    print()
    print("resources of this process (the client only), after gc")
    rows = [
        ["", "fds", "sockets", "threads", "RSS MiB", "open responses", "gc objects", "blocks"],
        ["before any pool", *baseline.row()],
        ["before (after warm-up)", *before.row()],
        ["after, pools open", *pools_open.row()],
        ["after, pools closed", *after.row()],
    ]
    print(table(rows))
    failed.extend(leaks(baseline, before, pools_open, after, args))
    print()
    print(f"total {elapsed:.1f} s")
    if failed:
        print("RESULT: FAIL - " + "; ".join(failed))
        return 1
    print("RESULT: PASS - every outcome exact and typed, no leak")
    return 0


def leaks(
    baseline: Snapshot,
    before: Snapshot,
    pools_open: Snapshot,
    after: Snapshot,
    args: argparse.Namespace,
) -> list[str]:
    """Compare the snapshots; `before` is taken after the warm-up, so caches are full."""
    found = []
    if pools_open.open_responses or after.open_responses:
        found.append(f"{pools_open.open_responses} httpx responses left open")
    # With the shared sync pool still open, at most its keep-alive connections (httpx keeps 20).
    extra = pools_open.sockets - baseline.sockets
    if extra > KEEPALIVE:
        found.append(f"{extra} sockets open beyond the pool's {KEEPALIVE} keep-alive connections")
    if after.fds != baseline.fds or after.sockets != baseline.sockets:
        found.append(
            f"descriptors {baseline.fds} -> {after.fds}, sockets {baseline.sockets} -> "
            f"{after.sockets} once every pool is closed"
        )
    if after.threads > baseline.threads:
        found.append(f"threads {baseline.threads} -> {after.threads}")
    objects = after.gc_objects - before.gc_objects
    if objects > args.object_limit:
        found.append(f"{objects} more gc-tracked objects (limit {args.object_limit})")
    # Allocated blocks also count what gc does not track (strings, bytes): a leak of even one
    # small object per call shows here; caches and free lists stay well under this.
    calls = args.calls + args.streams + args.cancels
    blocks = after.blocks - before.blocks
    if blocks > BLOCKS_PER_CALL * calls:
        found.append(f"{blocks} more allocated blocks (limit {BLOCKS_PER_CALL} per call)")
    # RSS also holds the high-water mark of this script's own bookkeeping (the scripted replies
    # and outcomes, a few KiB per call), which the allocator keeps: a coarse bound only.
    growth = (after.rss_kib - before.rss_kib) / 1024
    limit = args.rss_limit_mib if args.rss_limit_mib is not None else 32 + args.calls * 4 / 1024
    if growth > limit:
        found.append(f"RSS grew {growth:.1f} MiB (limit {limit:.0f} MiB)")
    return found


if __name__ == "__main__":
    sys.exit(main())
