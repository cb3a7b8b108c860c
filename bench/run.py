"""Benchmark ChatGrok against ChatXAI and two floors; write bench/RESULTS.md; check the targets.

    make bench                    # builds bench/.venv (langchain-xai lives only there), runs this
    bench/.venv/bin/python bench/run.py --quick      # smaller sizes, while developing

All contenders run in this one process, in alternating rounds (the order rotates each round;
within a round the sequential measurements interleave the contenders every few milliseconds),
against `server.py` running in a separate process; the tables report medians over rounds.
Memory is measured in a fresh subprocess per contender, import time in fresh interpreters.
Exit status: 0 when every target is met, 1 when one is missed, 2 when the bench could not run.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

# Tracing would add a network exporter to every contender's calls: switch it off first.
for _name in (
    "LANGCHAIN_TRACING_V2",
    "LANGCHAIN_TRACING",
    "LANGSMITH_TRACING",
    "LANGSMITH_TRACING_V2",
):
    os.environ.pop(_name, None)

from contenders import CONTENDERS, FLOOR, INCUMBENT, PATHS, RATIOS, Contender
from measure import (
    BENCH_DIR,
    AsyncResult,
    BenchError,
    ServerMeter,
    ServerProcess,
    import_env,
    measure_async,
    measure_invoke_interleaved,
    measure_rss,
    measure_stream_interleaved,
    rss_child,
    server_capacity,
    sync_driver,
    time_import,
    validate,
)
from server import expected_text


@dataclass(frozen=True)
class Sizes:
    rounds: int = 9  # sequential rounds (invoke and stream); short rounds, many of them
    invoke_calls: int = 150  # per contender per round
    stream_chunks: int = 2000
    streams_per_round: int = 2
    # (concurrency, requests per round, rounds); each contender's pool is warmed up by one
    # untimed wave first.
    # At 500 concurrent httpx 0.28's pool is slow (O(connections^2) per request), so one timed
    # wave of 500 per contender is what fits the five-minute budget.
    # Six contenders (both API paths) since the Responses pair joined the default run: 200
    # requests per round at 50 concurrent and one RSS repeat keep it under five minutes.
    async_plan: tuple[tuple[int, int, int], ...] = ((50, 200, 2), (500, 500, 1))
    async_stream_chunks: int = 20
    async_timeout_s: float = 240.0  # per (mode, concurrency), all contenders
    rss_chunks: int = 20_000
    rss_repeats: int = 1
    import_rounds: int = 5
    server_seconds: float = 1.0


QUICK = Sizes(
    rounds=3,
    invoke_calls=50,
    streams_per_round=1,
    async_plan=((50, 100, 1), (200, 200, 1)),
    rss_chunks=5000,
    rss_repeats=1,
    import_rounds=3,
    server_seconds=0.3,
)

IMPORTS: tuple[tuple[str, str, str], ...] = (
    # (key, label, statement)
    (
        "floor",
        "floor: `import langchain_core.language_models, httpx`",
        "import langchain_core.language_models, httpx",
    ),
    # langchain_core.language_models loads BaseChatModel lazily, so the floor above does not
    # include it; this one is what any chat model on langchain-core + httpx pays.
    (
        "chat_floor",
        "chat-model floor: `from langchain_core.language_models import BaseChatModel; import httpx`",
        "from langchain_core.language_models import BaseChatModel; import httpx",
    ),
    ("grok_pkg", "`import langchain_grok`", "import langchain_grok"),
    ("grok_chat", "`from langchain_grok import ChatGrok`", "from langchain_grok import ChatGrok"),
    ("xai", "`import langchain_xai`", "import langchain_xai"),
)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def rotate(items: list[Any], by: int) -> list[Any]:
    by %= max(1, len(items))
    return items[by:] + items[:by]


def median(values: Iterable[float]) -> float:
    values = [v for v in values if not math.isnan(v)]
    return statistics.median(values) if values else math.nan


# -- what else is running (noise report) -----------------------------------------------------


def _machine_cpu_s() -> float:
    """CPU seconds used by everything on the machine since boot (/proc/stat)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = stat.readline().split()[1:]
    busy = sum(int(v) for v in fields[:8]) - int(fields[3]) - int(fields[4])  # minus idle, iowait
    return busy / os.sysconf("SC_CLK_TCK")


def _own_cpu_s() -> float:
    """CPU seconds of this process and of the children it has waited for (server, subprocesses)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


class OtherLoad:
    """CPU used by everything that is not this bench while it ran: the noise in the numbers."""

    def __init__(self) -> None:
        self.machine = _machine_cpu_s()
        self.own = _own_cpu_s()
        self.started = time.perf_counter()
        self.loadavg_start = os.getloadavg()

    def report(self) -> dict[str, Any]:
        wall = time.perf_counter() - self.started
        others = max(0.0, (_machine_cpu_s() - self.machine) - (_own_cpu_s() - self.own))
        cores = os.cpu_count() or 1
        return {
            "wall_s": wall,
            "others_cpu_s": others,
            "share": others / (wall * cores) if wall else 0.0,
            "loadavg": (self.loadavg_start, os.getloadavg()),
        }


# -- phases ----------------------------------------------------------------------------------


@dataclass
class Results:
    seq: dict[str, dict[str, list[float]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    asyncs: dict[tuple[str, str, int], list[AsyncResult]] = field(
        default_factory=lambda: defaultdict(list)
    )
    rss: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    imports: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    server: dict[str, Any] = field(default_factory=dict)
    server_busy: dict[str, float] = field(default_factory=dict)

    def value(self, key: str, metric: str) -> float:
        return median(self.seq[key][metric])


def run_sequential(
    contenders: list[Contender], server: ServerProcess, sizes: Sizes, results: Results
) -> None:
    setups = []
    try:
        for contender in contenders:
            setup = sync_driver(contender, server.base_url)
            setups.append(setup)
            validate(setup, sizes.stream_chunks, expected_text(sizes.stream_chunks))
            for _ in range(20):
                setup.driver.invoke("warm-up n=1")
        with ServerMeter(server) as meter:
            for round_no in range(sizes.rounds):
                log(f"  invoke  round {round_no + 1}/{sizes.rounds}")
                measured = measure_invoke_interleaved(rotate(setups, round_no), sizes.invoke_calls)
                for key, values in measured.items():
                    for metric, value in values.items():
                        results.seq[key][metric].append(value)
        results.server_busy["invoke"] = meter.busy
        with ServerMeter(server) as meter:
            for round_no in range(sizes.rounds):
                log(f"  stream  round {round_no + 1}/{sizes.rounds}")
                for _ in range(sizes.streams_per_round):
                    measured = measure_stream_interleaved(
                        rotate(setups, round_no), sizes.stream_chunks
                    )
                    for key, values in measured.items():
                        for metric, value in values.items():
                            results.seq[key][metric].append(value)
        results.server_busy["stream"] = meter.busy
    finally:
        for setup in setups:
            setup.close()


def run_async(
    contenders: list[Contender], server: ServerProcess, sizes: Sizes, results: Results
) -> None:
    # One event loop per (mode, concurrency), each pool warmed up with the same mode: with
    # httpx 0.28 the pool's cost depends on how many connections sit idle, so a loop whose
    # pools were warmed by another mode gives different (not comparable) numbers.
    top = max(c for c, _, _ in sizes.async_plan)
    for mode in ("ainvoke", "astream"):
        for concurrency, total, rounds in sizes.async_plan:
            # At the top concurrency raw httpx, on httpx's own pool, is as slow as the floor and
            # a quarter of the phase's time, and no target reads it: it is measured below that.
            wanted = [c for c in contenders if concurrency < top or c.role != "raw"]
            with ServerMeter(server) as meter:
                measured = measure_async(
                    wanted,
                    server.base_url,
                    (mode,),
                    concurrency,
                    total,
                    rounds,
                    sizes.async_stream_chunks,
                    sizes.async_timeout_s,
                    log,
                )
            for (key, _), runs in measured.items():
                results.asyncs[key, mode, concurrency].extend(runs)
            results.server_busy[f"{mode} x{concurrency}"] = meter.busy


def run_rss(
    contenders: list[Contender], server: ServerProcess, sizes: Sizes, results: Results
) -> None:
    for repeat in range(sizes.rss_repeats):
        log(f"  rss  repeat {repeat + 1}/{sizes.rss_repeats}")
        for contender in rotate(contenders, repeat):
            results.rss[contender.key].append(
                measure_rss(contender.key, server.base_url, sizes.rss_chunks, timeout=180)
            )


def run_imports(sizes: Sizes, results: Results, wanted: set[str]) -> None:
    env = import_env()
    statements = [(key, stmt) for key, _, stmt in IMPORTS if key in wanted]
    for _, stmt in statements:  # fill the bytecode cache (not timed)
        time_import(stmt, env)
    time_import("pass", env)
    for round_no in range(sizes.import_rounds):
        log(f"  import  round {round_no + 1}/{sizes.import_rounds}")
        bare = time_import("pass", env)
        for key, stmt in rotate(statements, round_no):
            results.imports[key].append(time_import(stmt, env) - bare)


# -- report ----------------------------------------------------------------------------------


@dataclass
class Row:
    label: str
    values: dict[str, float]
    fmt: str
    higher_is_better: bool = False
    note: dict[str, str] = field(default_factory=dict)
    # Per-round samples, aligned across contenders (sequential rows only): ratios are then
    # medians of per-round ratios, so that a slow spell on the machine, which hits the
    # contenders of the same round alike, cancels out.
    samples: dict[str, list[float]] = field(default_factory=dict)

    def cost(self, key: str) -> float:
        value = self.values.get(key, math.nan)
        if self.higher_is_better:
            return 1 / value if value else math.nan
        return value

    def cost_ratio(self, a: str, b: str) -> float:
        """Cost of `a` over cost of `b`: paired per round when possible."""
        left, right = self.samples.get(a), self.samples.get(b)
        if left and right and len(left) == len(right):
            return median(x / y for x, y in zip(left, right, strict=True) if y)
        return ratio(self.cost(a), self.cost(b))


def ratio(a: float, b: float) -> float:
    return a / b if b and not math.isnan(a) and not math.isnan(b) else math.nan


def fmt_ratio(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.2f}x"


def errors_text(results: list[AsyncResult]) -> str:
    errors: Counter[str] = Counter()
    for result in results:
        errors.update(result.errors)
    if not errors:
        return ""
    return ", ".join(f"{count} {name}" for name, count in errors.most_common())


def build_rows(contenders: list[Contender], results: Results, sizes: Sizes) -> list[Row]:
    keys = [c.key for c in contenders]
    rows = [
        Row(
            "invoke: CPU µs per call",
            {k: results.value(k, "invoke_cpu_us") for k in keys},
            "{:.0f}",
            samples={k: results.seq[k]["invoke_cpu_us"] for k in keys},
        ),
        Row(
            "invoke: wall µs per call",
            {k: results.value(k, "invoke_wall_us") for k in keys},
            "{:.0f}",
            samples={k: results.seq[k]["invoke_wall_us"] for k in keys},
        ),
        Row(
            f"stream: CPU µs per chunk ({sizes.stream_chunks:,}-chunk reply)",
            {k: results.value(k, "stream_cpu_us") for k in keys},
            "{:.1f}",
            samples={k: results.seq[k]["stream_cpu_us"] for k in keys},
        ),
        Row(
            "stream: wall µs per chunk",
            {k: results.value(k, "stream_wall_us") for k in keys},
            "{:.1f}",
            samples={k: results.seq[k]["stream_wall_us"] for k in keys},
        ),
        Row(
            "stream: time to first chunk, ms",
            {k: results.value(k, "ttfc_ms") for k in keys},
            "{:.2f}",
            samples={k: results.seq[k]["ttfc_ms"] for k in keys},
        ),
    ]
    for mode in ("ainvoke", "astream"):
        for concurrency, _, _ in sizes.async_plan:
            runs = {k: results.asyncs.get((k, mode, concurrency), []) for k in keys}
            timed = {k: [r for r in v if not r.warm_up] for k, v in runs.items()}
            what = f"{mode} ({sizes.async_stream_chunks} chunks)" if mode == "astream" else mode
            rows.append(
                Row(
                    f"{what}: req/s at {concurrency} concurrent (higher is better)",
                    {k: median(r.rps for r in v) for k, v in timed.items() if v},
                    "{:.0f}",
                    higher_is_better=True,
                    note={k: errors_text(v) for k, v in runs.items() if errors_text(v)},
                )
            )
            rows.append(
                Row(
                    f"{what}: client CPU µs per request at {concurrency} concurrent",
                    {k: median(r.cpu_us for r in v) for k, v in timed.items() if v},
                    "{:.0f}",
                )
            )
    if results.rss:
        rows.append(
            Row(
                f"peak RSS growth over a {sizes.rss_chunks:,}-chunk stream, MiB",
                {k: median(r["growth_kb"] / 1024 for r in v) for k, v in results.rss.items()},
                "{:.1f}",
            )
        )
    return rows


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


@dataclass
class Target:
    label: str
    measured: str
    ok: bool | None  # None: could not be evaluated (a contender is missing)


def evaluate(rows: list[Row], results: Results, sizes: Sizes) -> list[Target]:
    """The targets, checked for every API path whose subject ran (Chat Completions, Responses)."""

    def find(prefix: str, contains: str = "") -> Row:
        return next(row for row in rows if row.label.startswith(prefix) and contains in row.label)

    targets: list[Target] = []

    def check(label: str, value: float, limit: float, *, at_most: bool) -> None:
        if math.isnan(value):
            targets.append(Target(label, "n/a", None))
            return
        ok = value <= limit if at_most else value >= limit
        targets.append(Target(label, f"{value:.2f}x", ok))

    stream = find("stream: CPU")
    invoke = find("invoke: CPU")
    top = max(c for c, _, _ in sizes.async_plan)
    rss_row = next((r for r in rows if r.label.startswith("peak RSS")), None)
    ran = {key for row in rows for key in row.values}
    for subject, incumbent, path in PATHS:
        if subject not in ran:
            continue
        check(
            f"{path}: stream CPU per chunk <= 1.25x the BaseChatModel floor",
            stream.cost_ratio(subject, FLOOR),
            1.25,
            at_most=True,
        )
        check(
            f"{path}: stream CPU per chunk >= 4x cheaper than ChatXAI",
            stream.cost_ratio(incumbent, subject),
            4.0,
            at_most=False,
        )
        check(
            f"{path}: invoke CPU per call <= 1.15x the BaseChatModel floor",
            invoke.cost_ratio(subject, FLOOR),
            1.15,
            at_most=True,
        )
        check(
            f"{path}: invoke CPU per call >= 2x cheaper than ChatXAI",
            invoke.cost_ratio(incumbent, subject),
            2.0,
            at_most=False,
        )
        for mode in ("ainvoke", "astream"):
            row = find(mode, f"at {top} concurrent (higher")
            check(
                f"{path}: {mode} req/s at {top} concurrent >= 2x ChatXAI",
                ratio(row.values.get(subject, math.nan), row.values.get(incumbent, math.nan)),
                2.0,
                at_most=False,
            )
        subject_runs = {k: v for k, v in results.asyncs.items() if k[0] == subject}
        failed = False
        for (_, mode, concurrency), runs in sorted(subject_runs.items()):
            if errors_text(runs):
                failed = True
                targets.append(
                    Target(
                        f"{path}: {mode} at {concurrency} concurrent without errors or pool timeouts",
                        errors_text(runs),
                        False,
                    )
                )
        if subject_runs and not failed:
            targets.append(
                Target(f"{path}: async runs without errors or pool timeouts", "0 errors", True)
            )
        if rss_row is not None:
            mine = rss_row.values.get(subject, math.nan)
            theirs = rss_row.values.get(incumbent, math.nan)
            ok = None if math.isnan(mine) or math.isnan(theirs) else mine <= theirs
            targets.append(
                Target(
                    f"{path}: peak RSS growth over the long stream <= ChatXAI's",
                    f"{mine:.1f} vs {theirs:.1f} MiB",
                    ok,
                )
            )
    grok, floor = (
        median(results.imports.get("grok_pkg", [])),
        median(results.imports.get("floor", [])),
    )
    check(
        "`import langchain_grok` <= 1.1x `import langchain_core.language_models, httpx`",
        ratio(grok, floor),
        1.1,
        at_most=True,
    )
    return targets


def versions() -> str:
    names = (
        "langchain-core",
        "httpx",
        "httpx2",
        "pydantic",
        "langchain-xai",
        "langchain-openai",
        "openai",
        "langchain-grok",
    )
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return ", ".join(found)


def render(
    contenders: list[Contender],
    results: Results,
    sizes: Sizes,
    targets: list[Target],
    env: dict[str, Any],
    argv: list[str],
) -> str:
    keys = [c.key for c in contenders]
    labels = {c.key: c.label for c in contenders}
    rows = build_rows(contenders, results, sizes)
    ratios = [(a, b, title) for a, b, title in RATIOS if a in keys and b in keys]
    header = (
        ["Metric (cost: lower is better)"]
        + [labels[k] for k in keys]
        + [title for _, _, title in ratios]
    )
    table_rows = []
    for row in rows:
        if all(math.isnan(row.values.get(key, math.nan)) for key in keys):
            continue  # a phase that was skipped
        cells = [row.label]
        for key in keys:
            value = row.values.get(key, math.nan)
            cell = "n/a" if math.isnan(value) else row.fmt.format(value)
            if key in row.note:
                cell += f" ({row.note[key]})"
            cells.append(cell)
        cells += [fmt_ratio(row.cost_ratio(a, b)) for a, b, _ in ratios]
        table_rows.append(cells)

    out = [
        "# Benchmark results",
        "",
        f"`{' '.join(['bench/run.py', *argv])}` on {time.strftime('%Y-%m-%d %H:%M %Z')}; "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}; {versions()}.",
        "",
        "Medians over alternating rounds (order rotated each round), all contenders in one process; the server in another. "
        "Sequential rows interleave the contenders within each round (turns of 10 calls, or of 100 chunks with all streams open), "
        "and their ratios are medians of per-round ratios, so that a slow spell of the machine hits all contenders alike. "
        "Ratio columns compare costs (for req/s rows the cost is 1/(req/s)): `ChatGrok ÷ floor` below 1.25 means "
        "within 25 % of the minimal BaseChatModel; `ChatXAI ÷ ChatGrok` is how many times cheaper ChatGrok is. "
        "CPU is this process's `time.process_time()`; the server's CPU is not in it.",
        "",
        "Contenders: "
        + "; ".join(f"**{c.label}**: {c.description}" for c in contenders if c.description)
        + ".",
        "",
        markdown_table(header, table_rows),
        "",
    ]
    if results.imports:
        floor = median(results.imports.get("floor", []))
        chat_floor = median(results.imports.get("chat_floor", []))
        import_rows = []
        for key, label, _ in IMPORTS:
            if key in results.imports:
                value = median(results.imports[key])
                spread = (
                    f"{min(results.imports[key]) * 1e3:.0f}–{max(results.imports[key]) * 1e3:.0f}"
                )
                import_rows.append(
                    [
                        label,
                        f"{value * 1e3:.0f}",
                        spread,
                        fmt_ratio(ratio(value, floor)),
                        fmt_ratio(ratio(value, chat_floor)),
                    ]
                )
        out += [
            f"Import time in a fresh interpreter (wall ms of `python -c STMT` minus `python -c pass` in the same round; "
            f"median of {sizes.import_rounds}; warm bytecode caches):",
            "",
            markdown_table(["Import", "ms", "range", "÷ floor", "÷ chat-model floor"], import_rows),
            "",
        ]
    out += [
        "## Targets",
        "",
        markdown_table(
            ["Target", "Measured", "Result"],
            [
                [t.label, t.measured, {True: "pass", False: "**MISS**", None: "not run"}[t.ok]]
                for t in targets
            ],
        ),
        "",
    ]

    server = results.server
    busy = ", ".join(f"{phase} {share:.0%}" for phase, share in results.server_busy.items())
    out += [
        "## Server",
        "",
        f"`bench/server.py` alone (separate process, measured by `bench/loadgen.py`, pipelined keep-alive): "
        f"{server['invoke']['rps']:,.0f} non-streaming req/s, {server['stream']['rps']:,.0f} streams/s of "
        f"{server['chunks']:,} chunks = {server['stream']['chunks_per_s'] / 1e6:,.1f} M chunks/s. "
        f"Its CPU use during each phase, as a share of one core: {busy}.",
        "",
        "## Conditions",
        "",
        f"Sizes: {sizes}. Raw httpx is left out of the async phase at the highest concurrency "
        "(no target reads it, and on httpx's pool it is as slow there as the floor).",
        "",
        f"Other processes (not this bench, its server or its subprocesses) used {env['others_cpu_s']:.0f} CPU-seconds, "
        f"{env['share']:.0%} of the machine's {os.cpu_count()} CPUs, during the run; load average "
        f"{env['loadavg'][0][0]:.2f} at start, {env['loadavg'][1][0]:.2f} at end. Run time {env['wall_s']:.0f} s ("
        + ", ".join(f"{name} {secs:.0f} s" for name, secs in env["phases"].items())
        + ").",
        "",
        "Spread (min–max over rounds):",
        "",
    ]
    spread_rows = []
    for metric, label in (
        ("invoke_cpu_us", "invoke CPU µs"),
        ("stream_cpu_us", "stream CPU µs/chunk"),
        ("ttfc_ms", "TTFC ms"),
    ):
        cells = [label]
        for key in keys:
            values = results.seq[key][metric]
            cells.append(f"{min(values):.1f}–{max(values):.1f}" if values else "n/a")
        spread_rows.append(cells)
    out += [markdown_table(["Metric"] + [labels[k] for k in keys], spread_rows), ""]
    return "\n".join(out)


# -- main ------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes, for development")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated contender keys, from: " + ",".join(c.key for c in CONTENDERS),
    )
    parser.add_argument(
        "--with",
        dest="extra",
        default="",
        help="add contenders that are not in the default run (e.g. chatgrok_responses,chatxai_responses)",
    )
    parser.add_argument(
        "--skip", default="", help="comma-separated phases to skip: sequential,async,rss,imports"
    )
    parser.add_argument(
        "--out", default=str(BENCH_DIR / "RESULTS.md"), help="where to write the markdown report"
    )
    parser.add_argument(
        "--rss-child", nargs=3, metavar=("KEY", "BASE_URL", "CHUNKS"), help=argparse.SUPPRESS
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.rss_child:
        import json

        key, base_url, chunks = args.rss_child
        print(json.dumps(rss_child(key, base_url, int(chunks))))
        return 0

    sizes = QUICK if args.quick else Sizes()
    only, extra = set(filter(None, args.only.split(","))), set(filter(None, args.extra.split(",")))
    unknown = (only | extra) - {c.key for c in CONTENDERS}
    if unknown:
        log(f"error: unknown contender(s) {sorted(unknown)}; known: {[c.key for c in CONTENDERS]}")
        return 2
    wanted = [c for c in CONTENDERS if (c.key in only if only else c.default or c.key in extra)]
    missing = {c.key: c.missing() for c in wanted if c.missing()}
    if missing:
        for key, modules in missing.items():
            log(
                f"error: contender {key!r} needs {', '.join(modules)}, which is not installed in {sys.prefix}."
            )
        log(
            "Run `make bench` (it builds bench/.venv with langchain-xai), or pass --only to leave contenders out."
        )
        return 2
    skip = set(filter(None, args.skip.split(",")))
    load = OtherLoad()
    results = Results()
    started = time.perf_counter()
    phases: dict[str, float] = {}

    def phase(name: str, run: Callable[[], None]) -> None:
        begun = time.perf_counter()
        run()
        phases[name] = time.perf_counter() - begun

    try:
        with ServerProcess() as server:
            log(f"server on {server.base_url}")
            if "sequential" not in skip:
                log("sequential invoke and stream ...")
                phase("sequential", lambda: run_sequential(wanted, server, sizes, results))
            if "async" not in skip:
                log("concurrent ainvoke and astream ...")
                phase("async", lambda: run_async(wanted, server, sizes, results))
            if "rss" not in skip:
                log(f"peak RSS over a {sizes.rss_chunks:,}-chunk stream, fresh process each ...")
                phase("rss", lambda: run_rss(wanted, server, sizes, results))
            if not server.alive():
                msg = "the bench server died during the run"
                raise BenchError(msg)
            # Last: its gigabytes through loopback leave the machine sluggish for a while, which
            # showed up as slow first rounds when it ran first.
            log("the server alone ...")
            results.server = server_capacity(server, sizes.server_seconds, sizes.stream_chunks)
            log(
                f"server alone: {results.server['invoke']['rps']:,.0f} req/s non-streaming, "
                f"{results.server['stream']['chunks_per_s'] / 1e6:,.1f} M chunks/s streaming"
            )
        if "imports" not in skip:
            log("import times ...")
            wanted_imports = {"floor", "chat_floor", "grok_pkg", "grok_chat"} | (
                {"xai"} if any(c.key == INCUMBENT for c in wanted) else set()
            )
            phase("imports", lambda: run_imports(sizes, results, wanted_imports))
    except BenchError as exc:
        log(f"bench failed: {exc}")
        return 2
    except Exception as exc:  # a contender or the server broke mid-run: say so, exit 2
        import traceback

        traceback.print_exc()
        log(f"bench failed: {type(exc).__name__}: {exc}")
        return 2
    env = load.report()
    env["phases"] = phases
    rows = build_rows(wanted, results, sizes)
    targets = evaluate(rows, results, sizes) if "sequential" not in skip else []
    report = render(wanted, results, sizes, targets, env, argv)
    Path(args.out).write_text(report + "\n", encoding="utf-8")
    print(report)
    log(f"\nwrote {args.out} in {time.perf_counter() - started:.0f} s")
    missed = [t for t in targets if t.ok is False]
    for target in missed:
        log(f"MISSED: {target.label} (measured {target.measured})")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
