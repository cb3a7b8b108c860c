"""The soak's emulator, in its own process: `FakeXAIServer` driven over a pipe.

A separate process keeps the emulator's CPU time and sockets out of the client's: the client
process then owns only its own file descriptors (so a leak shows as a number, not as noise), and
the two sides do not share one GIL on a two-core machine. The parent scripts replies, resets,
and reads back what the emulator recorded as plain tuples.
"""

from __future__ import annotations

import multiprocessing
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langchain_grok.testing import FakeXAIServer

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess

    from langchain_grok.testing import ScriptedReply

API_KEY = "xai-soak-key"


@dataclass(frozen=True)
class Seen:
    """One request as the emulator recorded it (order = arrival order = reply order)."""

    path: str
    prompt: str
    stream: bool
    outcome: str
    status: int | None
    connection_id: int


def _prompt(body: Any) -> str:
    try:
        return str(body["messages"][-1]["content"])
    except (TypeError, KeyError, IndexError):
        return ""


def _serve(conn: Connection) -> None:  # pragma: no cover - runs in the child process
    with FakeXAIServer(api_key=API_KEY) as server:
        conn.send(server.base_url)
        while True:
            command, argument = conn.recv()
            if command == "script":
                server.script(*argument)
                conn.send(None)
            elif command == "reset":
                server.reset()
                conn.send(None)
            elif command == "records":
                deadline = time.monotonic() + float(argument)
                while time.monotonic() < deadline:
                    if all(r.outcome != "pending" for r in server.requests):
                        break
                    time.sleep(0.02)
                conn.send(
                    [
                        Seen(
                            r.path,
                            _prompt(r.json),
                            bool(isinstance(r.json, dict) and r.json.get("stream")),
                            r.outcome,
                            r.status,
                            r.connection_id,
                        )
                        for r in server.requests
                    ]
                )
            elif command == "pending":
                conn.send(server.pending_replies)
            else:
                conn.send(None)
                return


class EmulatorProcess:
    """Start the emulator in a spawned process; talk to it with the methods below."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process: BaseProcess = context.Process(target=_serve, args=(child,), daemon=True)
        self._process.start()
        child.close()
        self.base_url: str = self._conn.recv()
        self.api_key = API_KEY
        self.pid = self._process.pid

    def _ask(self, command: str, argument: Any = None) -> Any:
        self._conn.send((command, argument))
        return self._conn.recv()

    def script(self, replies: list[ScriptedReply]) -> None:
        self._ask("script", replies)

    def reset(self) -> None:
        self._ask("reset")

    def records(self, settle: float = 10.0) -> list[Seen]:
        """Every request so far, once all have finished (or `settle` seconds have passed)."""
        seen: list[Seen] = self._ask("records", settle)
        return seen

    def pending(self) -> int:
        count: int = self._ask("pending")
        return count

    def stop(self) -> None:
        if self._process.is_alive():
            self._ask("stop")
            self._process.join(5)
        self._conn.close()
