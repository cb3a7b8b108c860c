"""The measurements: each function runs one contender once and returns plain numbers.

The runner (`run.py`) calls them in alternating rounds and takes medians. CPU time is
`time.process_time()` of this process (the server runs in another), wall time is
`time.perf_counter()`.
"""

from __future__ import annotations

import asyncio
import gc
import json
import math
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contenders import Contender, Driver, Transport, http_clients

BENCH_DIR = Path(__file__).resolve().parent


def prompt(chunks: int) -> str:
    return f"Say something. n={chunks}"


class BenchError(RuntimeError):
    """A contender did not behave (wrong reply, short stream): the numbers would be meaningless."""


# -- server process --------------------------------------------------------------------------


class ServerProcess:
    """`bench/server.py` in a subprocess (its own GIL), started and stopped robustly."""

    def __init__(self, python: str = sys.executable, start_timeout: float = 15.0) -> None:
        self._python = python
        self._start_timeout = start_timeout
        self._proc: subprocess.Popen[str] | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> ServerProcess:
        self._proc = subprocess.Popen(
            [self._python, str(BENCH_DIR / "server.py"), "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = _readline_with_timeout(self._proc, self._start_timeout)
        if not line.startswith("READY "):
            self.__exit__(None, None, None)
            msg = f"bench server did not start: {line.strip() or '(no output)'}"
            raise BenchError(msg)
        self.port = int(line.split()[1])
        return self

    def __exit__(self, *exc: object) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)

    def stats(self) -> dict[str, Any]:
        """The server's own counters (requests, chunks, CPU seconds)."""
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/stats", timeout=5) as response:
            return dict(json.loads(response.read()))

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None


def _readline_with_timeout(proc: subprocess.Popen[str], timeout: float) -> str:
    import selectors

    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return ""
    line = proc.stdout.readline()
    if not line and proc.stderr is not None:
        return proc.stderr.read()[-2000:]
    return line


class ServerMeter:
    """Server CPU used during a block, as a share of one core: shows it was not the bottleneck."""

    def __init__(self, server: ServerProcess) -> None:
        self._server = server
        self.busy = 0.0

    def __enter__(self) -> ServerMeter:
        self._cpu = self._server.stats()["cpu_s"]
        self._wall = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            wall = time.perf_counter() - self._wall
            self.busy = (self._server.stats()["cpu_s"] - self._cpu) / wall if wall > 0 else 0.0


def server_capacity(server: ServerProcess, seconds: float, chunks: int) -> dict[str, Any]:
    """Run `loadgen.py` (another process) against the server alone."""
    out = subprocess.run(
        [
            sys.executable,
            str(BENCH_DIR / "loadgen.py"),
            str(server.port),
            "--seconds",
            str(seconds),
            "--chunks",
            str(chunks),
        ],
        capture_output=True,
        text=True,
        timeout=60 + 4 * seconds,
        check=False,
    )
    if out.returncode != 0:
        msg = f"loadgen failed: {out.stderr[-2000:]}"
        raise BenchError(msg)
    return dict(json.loads(out.stdout))


# -- drivers ---------------------------------------------------------------------------------


@dataclass
class SyncSetup:
    contender: Contender
    driver: Driver
    client: Any

    def close(self) -> None:
        self.client.close()


def sync_driver(contender: Contender, base_url: str) -> SyncSetup:
    http = contender.http()
    client, _ = http_clients(http, sync=True, asynchronous=False)
    return SyncSetup(
        contender, contender.make(Transport(base_url, http, sync_client=client)), client
    )


def validate(setup: SyncSetup, chunks: int, expected_text: str) -> None:
    """One invoke and one stream, checked, before anything is timed (also warms up)."""
    name = setup.contender.label
    reply = setup.driver.invoke(prompt(1))
    if reply != "4":
        msg = f"{name}: invoke returned {reply!r}, expected '4'"
        raise BenchError(msg)
    text = "".join(setup.driver.stream(prompt(chunks)))
    if text != expected_text:
        msg = (
            f"{name}: stream returned {len(text)} characters, not the {len(expected_text)} expected"
        )
        raise BenchError(msg)


# -- sequential ------------------------------------------------------------------------------


def measure_invoke(driver: Driver, calls: int) -> dict[str, float]:
    """Microseconds per sequential `invoke`, wall and CPU."""
    text = prompt(1)
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        driver.invoke(text)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {"invoke_wall_us": wall / calls * 1e6, "invoke_cpu_us": cpu / calls * 1e6}


def measure_stream(driver: Driver, chunks: int) -> dict[str, float]:
    """One stream of `chunks` content chunks: µs per chunk (wall, CPU) and time to first chunk."""
    text = prompt(chunks)
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    iterator = iter(driver.stream(text))
    next(iterator)
    first = time.perf_counter() - wall
    count = 1
    for _ in iterator:
        count += 1
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if count != chunks:
        msg = f"stream yielded {count} content chunks, expected {chunks}"
        raise BenchError(msg)
    return {
        "stream_wall_us": wall / chunks * 1e6,
        "stream_cpu_us": cpu / chunks * 1e6,
        "ttfc_ms": first * 1e3,
    }


def measure_invoke_interleaved(
    setups: list[SyncSetup], calls: int, block: int = 10
) -> dict[str, dict[str, float]]:
    """`measure_invoke` for several contenders at once, taking turns every `block` calls.

    On a shared or virtualised machine the CPU can run slow for seconds at a time; contenders
    that take turns every few milliseconds all live through the same spells, so their ratios
    stay true even when the absolute numbers move.
    """
    text = prompt(1)
    cpu = dict.fromkeys((s.contender.key for s in setups), 0.0)
    wall = dict(cpu)
    gc.collect()
    for turn in range(max(1, calls // block)):
        shift = turn % len(setups)
        for setup in setups[shift:] + setups[:shift]:
            started_wall, started_cpu = time.perf_counter(), time.process_time()
            for _ in range(block):
                setup.driver.invoke(text)
            cpu[setup.contender.key] += time.process_time() - started_cpu
            wall[setup.contender.key] += time.perf_counter() - started_wall
    done = max(1, calls // block) * block
    return {
        key: {"invoke_wall_us": wall[key] / done * 1e6, "invoke_cpu_us": cpu[key] / done * 1e6}
        for key in cpu
    }


def measure_stream_interleaved(
    setups: list[SyncSetup], chunks: int, slice_chunks: int = 100
) -> dict[str, dict[str, float]]:
    """`measure_stream` for several contenders at once: all streams open, read in turns of
    `slice_chunks` chunks (see `measure_invoke_interleaved` for why)."""
    text = prompt(chunks)
    keys = [s.contender.key for s in setups]
    cpu = dict.fromkeys(keys, 0.0)
    wall = dict.fromkeys(keys, 0.0)
    first = dict.fromkeys(keys, 0.0)
    count = dict.fromkeys(keys, 0)
    iterators: dict[str, Any] = {}
    gc.collect()
    for setup in setups:
        key = setup.contender.key
        started_wall, started_cpu = time.perf_counter(), time.process_time()
        iterator = iter(setup.driver.stream(text))
        next(iterator)
        first[key] = time.perf_counter() - started_wall
        count[key] = 1
        iterators[key] = iterator
        cpu[key] += time.process_time() - started_cpu
        wall[key] += time.perf_counter() - started_wall
    turn = 0
    while iterators:
        active = list(iterators)
        shift = turn % len(active)
        for key in active[shift:] + active[:shift]:
            iterator = iterators[key]
            started_wall, started_cpu = time.perf_counter(), time.process_time()
            taken = 0
            for _ in iterator:
                taken += 1
                if taken == slice_chunks:
                    break
            else:
                del iterators[key]  # exhausted (its final merge is in this slice)
            count[key] += taken
            cpu[key] += time.process_time() - started_cpu
            wall[key] += time.perf_counter() - started_wall
        turn += 1
    for key, seen in count.items():
        if seen != chunks:
            msg = f"{key}: stream yielded {seen} content chunks, expected {chunks}"
            raise BenchError(msg)
    return {
        key: {
            "stream_wall_us": wall[key] / chunks * 1e6,
            "stream_cpu_us": cpu[key] / chunks * 1e6,
            "ttfc_ms": first[key] * 1e3,
        }
        for key in keys
    }


# -- concurrent ------------------------------------------------------------------------------


@dataclass
class AsyncResult:
    rps: float
    cpu_us: float  # client CPU per request
    requests: int
    errors: Counter[str] = field(default_factory=Counter)
    warm_up: bool = False  # the untimed first wave: only its errors count


def classify(exc: BaseException) -> str:
    """'pool timeout', 'timeout' or the exception's class name (looking through causes)."""
    seen: BaseException | None = exc
    names = []
    while seen is not None and len(names) < 10:
        names.append(type(seen).__name__)
        if "PoolTimeout" in type(seen).__name__ or "free connection in the pool" in str(seen):
            return "pool timeout"
        seen = seen.__cause__ or seen.__context__
    if any("Timeout" in name for name in names):
        return "timeout"
    return names[0]


@dataclass
class _AsyncSetup:
    contender: Contender
    driver: Driver
    client: Any


async def _one(driver: Driver, mode: str, text: str, chunks: int, errors: Counter[str]) -> None:
    try:
        if mode == "ainvoke":
            await driver.ainvoke(text)
        else:
            count = 0
            async for _ in driver.astream(text):
                count += 1
            if count != chunks:
                errors["short stream"] += 1
    except Exception as exc:
        errors[classify(exc)] += 1


async def _timed(
    setup: _AsyncSetup, mode: str, text: str, chunks: int, concurrency: int, total: int
) -> AsyncResult:
    errors: Counter[str] = Counter()
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await _one(setup.driver, mode, text, chunks, errors)

    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return AsyncResult(rps=total / wall, cpu_us=cpu / total * 1e6, requests=total, errors=errors)


async def _async_rounds(
    contenders: list[Contender],
    base_url: str,
    modes: tuple[str, ...],
    concurrency: int,
    total: int,
    rounds: int,
    chunks: int,
    log: Any,
) -> dict[tuple[str, str], list[AsyncResult]]:
    setups = []
    results: dict[tuple[str, str], list[AsyncResult]] = {
        (c.key, mode): [] for c in contenders for mode in modes
    }
    try:
        for contender in contenders:
            http = contender.http()
            transport = contender.async_transport() if contender.async_transport else None
            _, client = http_clients(http, sync=False, asynchronous=True, async_transport=transport)
            setups.append(
                _AsyncSetup(
                    contender,
                    contender.make(Transport(base_url, http, async_client=client)),
                    client,
                )
            )
        for setup in setups:
            # Warm-up: one wave at full concurrency opens the pool's connections (not timed; its
            # errors count, against the first mode).
            warm_errors: Counter[str] = Counter()
            text = prompt(chunks if modes[0] == "astream" else 1)
            await asyncio.gather(
                *(
                    _one(setup.driver, modes[0], text, chunks, warm_errors)
                    for _ in range(concurrency)
                )
            )
            results[setup.contender.key, modes[0]].append(
                AsyncResult(math.nan, math.nan, concurrency, warm_errors, warm_up=True)
            )
        for mode in modes:
            text = prompt(chunks if mode == "astream" else 1)
            for round_no in range(rounds):
                log(f"  {mode} x{concurrency}  round {round_no + 1}/{rounds}")
                order = setups[round_no % len(setups) :] + setups[: round_no % len(setups)]
                for setup in order:
                    results[setup.contender.key, mode].append(
                        await _timed(setup, mode, text, chunks, concurrency, total)
                    )
    finally:
        for setup in setups:
            await setup.client.aclose()
    return results


def measure_async(
    contenders: list[Contender],
    base_url: str,
    modes: tuple[str, ...],
    concurrency: int,
    total: int,
    rounds: int,
    chunks: int,
    timeout: float,
    log: Any,
) -> dict[tuple[str, str], list[AsyncResult]]:
    """Requests/s of each mode with `concurrency` tasks sharing each contender's pool.

    One event loop for all contenders and modes: each contender gets its own pool, warmed up
    once, then the contenders alternate for `rounds` rounds of `total` requests per mode.
    """

    async def bounded() -> dict[tuple[str, str], list[AsyncResult]]:
        return await asyncio.wait_for(
            _async_rounds(contenders, base_url, modes, concurrency, total, rounds, chunks, log),
            timeout,
        )

    try:
        return asyncio.run(bounded())
    except TimeoutError:
        failed = AsyncResult(
            rps=math.nan,
            cpu_us=math.nan,
            requests=0,
            errors=Counter({f"timed out after {timeout:.0f} s": 1}),
        )
        return {(c.key, mode): [failed] for c in contenders for mode in modes}


# -- memory (fresh process per contender) ----------------------------------------------------


def _status_kb(field_name: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    msg = f"{field_name} not in /proc/self/status"
    raise BenchError(msg)


def rss_child(key: str, base_url: str, chunks: int) -> dict[str, Any]:
    """Body of the child process: peak RSS growth over one stream of `chunks` chunks."""
    import resource

    from contenders import by_key

    setup = sync_driver(by_key(key), base_url)
    # Warm-up stream: lazy imports, the connection, first-use caches are not the stream's.
    for _ in setup.driver.stream(prompt(200)):
        pass
    gc.collect()
    try:  # reset the high-water mark so that the peak is the stream's own (Linux >= 4.0)
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
        method = "VmHWM after clear_refs"
    except OSError:
        method = "ru_maxrss"
    before_kb = (
        _status_kb("VmRSS")
        if method.startswith("VmHWM")
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    )
    count = 0
    for _ in setup.driver.stream(prompt(chunks)):
        count += 1
    peak_kb = (
        _status_kb("VmHWM")
        if method.startswith("VmHWM")
        else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    )
    setup.close()
    if count != chunks:
        msg = f"stream yielded {count} chunks, expected {chunks}"
        raise BenchError(msg)
    return {
        "before_kb": before_kb,
        "peak_kb": peak_kb,
        "growth_kb": peak_kb - before_kb,
        "method": method,
    }


def measure_rss(key: str, base_url: str, chunks: int, timeout: float) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(BENCH_DIR / "run.py"), "--rss-child", key, base_url, str(chunks)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if out.returncode != 0:
        msg = f"RSS child for {key} failed: {out.stderr[-2000:]}"
        raise BenchError(msg)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


# -- import time (fresh interpreter) ---------------------------------------------------------


def import_env() -> dict[str, str]:
    """Environment for import timing: bytecode caches on, in a tree of our own.

    The caller's environment may set PYTHONDONTWRITEBYTECODE, which would make every editable
    package recompile on every start; a pycache prefix under bench/.venv keeps all contenders
    on the same (warm-cache) footing without writing into the package directories.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHONDONTWRITEBYTECODE", "LANGCHAIN_", "LANGSMITH_"))
    }
    env["PYTHONPYCACHEPREFIX"] = str(Path(sys.prefix) / "pycache")
    return env


def time_import(statement: str, env: dict[str, str]) -> float:
    """Wall seconds of `python -c statement` in a fresh interpreter."""
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", statement],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if out.returncode != 0:
        msg = f"`python -c {statement!r}` failed: {out.stderr[-1000:]}"
        raise BenchError(msg)
    return elapsed
