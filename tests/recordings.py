"""The real api.x.ai exchanges (copied from the project's shared recordings into
`fixtures/recordings`, so the suite is self-contained): the closest thing to the live API.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RECORDINGS = Path(__file__).resolve().parent / "fixtures" / "recordings"


def load(prefix: str) -> dict[str, Any]:
    """The recording whose file name starts with `prefix` (e.g. "cc02")."""
    (path,) = RECORDINGS.glob(f"{prefix}_*.json")
    record: dict[str, Any] = json.loads(path.read_text())
    return record


def names(kind: str) -> list[str]:
    """Prefixes of recordings whose file name contains `kind` ("_stream_", "_nonstream_")."""
    return sorted(p.name.split("_")[0] for p in RECORDINGS.glob(f"cc*{kind}*.json"))
