"""Process resources the soak compares before and after: descriptors, sockets, memory, objects."""

from __future__ import annotations

import gc
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import httpx


@dataclass(frozen=True)
class Snapshot:
    """Resources of this process at one moment (after a full garbage collection)."""

    fds: int
    sockets: int
    threads: int
    rss_kib: int
    open_responses: int  # httpx.Response objects alive and not closed: a leaked stream
    gc_objects: int
    blocks: int  # memory blocks Python has allocated: objects gc does not track count too

    def row(self) -> list[str]:
        return [
            str(self.fds),
            str(self.sockets),
            str(self.threads),
            f"{self.rss_kib / 1024:.1f}",
            str(self.open_responses),
            str(self.gc_objects),
            str(self.blocks),
        ]


def _descriptors() -> tuple[int, int]:
    fds = sockets = 0
    for entry in Path("/proc/self/fd").iterdir():
        try:
            target = str(entry.readlink())
        except OSError:  # closed between listing and reading (the listing's own descriptor)
            continue
        fds += 1
        sockets += target.startswith("socket:")
    return fds, sockets


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def snapshot() -> Snapshot:
    gc.collect()
    objects = gc.get_objects()
    open_responses = sum(
        1 for obj in objects if isinstance(obj, httpx.Response) and not obj.is_closed
    )
    fds, sockets = _descriptors()
    return Snapshot(
        fds=fds,
        sockets=sockets,
        threads=threading.active_count(),
        rss_kib=_rss_kib(),
        open_responses=open_responses,
        gc_objects=len(objects),
        blocks=sys.getallocatedblocks(),
    )
