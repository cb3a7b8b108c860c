r"""The emulator's tokenizer: deterministic, documented, and FAKE (it is not Grok's).

xAI publishes no tokenizer, so the emulator cannot give Grok's counts. It gives counts a test
can predict by hand instead: every run of word characters (`\w+`, Unicode-aware), every run of
whitespace, and every other single character is one token. `"Hello, world!"` is five tokens:
`Hello`, `,`, ` `, `world`, `!`. Token ids come from a stable hash of the token's text (the same
in every process and run), `token_bytes` are its UTF-8 bytes.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, Final

__all__ = ["FAKE_VOCABULARY_SIZE", "fake_token_id", "fake_tokenize"]

FAKE_VOCABULARY_SIZE: Final = 131_072
_TOKEN: Final = re.compile(r"\w+|\s+|[^\w\s]")


def fake_token_id(token: str) -> int:
    """The id of one fake token: a stable hash of its text, below `FAKE_VOCABULARY_SIZE`."""
    digest = hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % FAKE_VOCABULARY_SIZE


def fake_tokenize(text: str) -> list[dict[str, Any]]:
    """Split `text` as the emulator's `POST /v1/tokenize-text` does.

    Returns:
        `[{"token_id", "string_token", "token_bytes"}, ...]`, the items of `token_ids`.
    """
    return [
        {
            "token_id": fake_token_id(token),
            "string_token": token,
            "token_bytes": list(token.encode("utf-8", "surrogatepass")),
        }
        for token in _TOKEN.findall(text)
    ]
