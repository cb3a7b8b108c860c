"""Defaults shared by the client, the chat model and the emulator.

They live in one leaf module so that a change of policy (a new default model, a longer read
timeout) is one edit, and so that tests can refer to the same numbers the code uses.
"""

from __future__ import annotations

from typing import Final

DEFAULT_BASE_URL: Final = "https://api.x.ai/v1"
DEFAULT_MODEL: Final = "grok-4.3"

API_KEY_ENV: Final = "XAI_API_KEY"
BASE_URL_ENV: Final = "XAI_API_BASE"

# Reasoning models can think for minutes before the first byte, so the read timeout is long;
# it doubles as the stall timeout between two stream events.
DEFAULT_CONNECT_TIMEOUT: Final = 10.0
DEFAULT_READ_TIMEOUT: Final = 600.0
DEFAULT_WRITE_TIMEOUT: Final = 30.0
DEFAULT_POOL_TIMEOUT: Final = 30.0

DEFAULT_MAX_RETRIES: Final = 2
INITIAL_RETRY_DELAY: Final = 0.5
MAX_RETRY_DELAY: Final = 8.0
# A server-sent retry-after longer than this is not honoured: we give up instead of hanging.
MAX_RETRY_AFTER: Final = 60.0

# One SSE event larger than this is a broken server, not a reply: refuse it before it eats memory.
MAX_SSE_EVENT_BYTES: Final = 8 * 1024 * 1024
# Error bodies are quoted in exception messages; an HTML error page must not flood a log.
MAX_ERROR_MESSAGE_CHARS: Final = 500

REQUEST_ID_HEADERS: Final = ("x-request-id", "request-id", "x-trace-id")

# 1 USD = 10^10 ticks in xAI's `cost_in_usd_ticks`.
TICKS_PER_USD: Final = 10_000_000_000

# Deferred completions: the first wait between two polls, the longest one it grows to, and how
# long a caller waits in all by default (xAI's SDK examples poll every ~10 s for up to 10 min).
DEFAULT_DEFERRED_POLL_INTERVAL: Final = 1.0
MAX_DEFERRED_POLL_INTERVAL: Final = 10.0
DEFAULT_DEFERRED_TIMEOUT: Final = 600.0
# A poll is bounded by the time left before the deadline, but gets at least this long.
MIN_DEFERRED_POLL_TIMEOUT: Final = 2.0
