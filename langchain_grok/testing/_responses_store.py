"""Server-side state of the Responses API: stored responses and sealed reasoning blobs.

Two things a Responses client depends on live on the server. `store: true` (the default) keeps
the response and the conversation it ends, so a follow-up can send only `previous_response_id`
plus its new items; the store must forget a deleted response and never hold a `store: false`
one, or a client that relies on an id it must not rely on would pass. And `encrypted_content`
is an opaque blob the server issued and only that server accepts back, byte for byte: a client
that re-serialises, trims or mixes up reasoning items must fail the way it fails against xAI
("could not be verified"). Blobs are sealed with an HMAC under a per-server secret instead of
being remembered, so verification needs no memory and blobs of another server instance fail
like another account's.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import hmac
import json
import secrets
import threading
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Mapping

_SECRET_BYTES: Final = 32
_TAG_BYTES: Final = hashlib.sha256().digest_size
# Tool-output reasoning items (`tco_…`) carry their own item id as a prefix of the blob (rs09):
# `tco_<response-id>_<call-id>_<base64>`. Standard base64 has no `_`, so the last `_` ends it.
TCO_PREFIX: Final = "tco_"


@dataclass(frozen=True)
class StoredResponse:
    """One stored response: the body `GET` returns and the conversation it concludes.

    Attributes:
        body: The response object exactly as it was answered.
        conversation: Every item a follow-up with `previous_response_id` continues from: the
            earlier chain, this request's input items, then this response's output items.
    """

    body: dict[str, Any]
    conversation: tuple[dict[str, Any], ...]


class ResponseStore:
    """Stored responses of one `FakeXAIServer`, plus its sealing secret.

    The event-loop thread writes and the test's thread reads, so every access takes a lock and
    what leaves the store is a copy.
    """

    def __init__(self) -> None:
        """Start empty, with a fresh secret (blobs never verify across server instances)."""
        self._lock = threading.Lock()
        self._responses: dict[str, StoredResponse] = {}
        self._secret = secrets.token_bytes(_SECRET_BYTES)

    def put(self, body: Mapping[str, Any], conversation: list[dict[str, Any]]) -> None:
        """Store a response under its `id` (a deep copy: later edits by callers do not leak in).

        Args:
            body: The response object.
            conversation: The conversation it concludes (see `StoredResponse`).
        """
        stored = StoredResponse(copy.deepcopy(dict(body)), tuple(copy.deepcopy(conversation)))
        with self._lock:
            self._responses[str(body["id"])] = stored

    def get(self, response_id: str) -> StoredResponse | None:
        """Return the stored response, or None when unknown, deleted or never stored."""
        with self._lock:
            stored = self._responses.get(response_id)
        return copy.deepcopy(stored)

    def delete(self, response_id: str) -> bool:
        """Forget a response; returns whether it was stored."""
        with self._lock:
            return self._responses.pop(response_id, None) is not None

    def clear(self) -> None:
        """Forget every stored response (the secret stays: issued blobs remain valid)."""
        with self._lock:
            self._responses.clear()

    def snapshot(self) -> Mapping[str, dict[str, Any]]:
        """Return a read-only id -> response body view, detached from the live store."""
        with self._lock:
            bodies = {key: copy.deepcopy(value.body) for key, value in self._responses.items()}
        return MappingProxyType(bodies)

    def seal(self, payload: Mapping[str, Any], *, label: str = "") -> str:
        """Issue an `encrypted_content` blob: `label + base64(json + HMAC-SHA256 tag)`.

        Args:
            payload: What the blob stands for (ids, summary); also makes every blob distinct.
            label: A visible prefix covered by the tag, e.g. `tco_<id>_<call>_` (rs09 shape).

        Returns:
            The blob; `verify` accepts exactly this string and nothing else.
        """
        data = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
        return label + base64.b64encode(data + self._tag(label, data)).decode("ascii")

    def verify(self, blob: object) -> bool:
        """Tell whether `blob` is, byte for byte, a blob this server issued.

        Non-canonical base64 (which decodes to the same bytes with other padding bits) is
        refused too, so altering any single character of a blob always fails.
        """
        if not isinstance(blob, str):
            return False
        label = blob[: blob.rfind("_") + 1] if blob.startswith(TCO_PREFIX) else ""
        encoded = blob[len(label) :]
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            return False
        if base64.b64encode(raw).decode("ascii") != encoded or len(raw) <= _TAG_BYTES:
            return False
        data, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
        return hmac.compare_digest(tag, self._tag(label, data))

    def _tag(self, label: str, data: bytes) -> bytes:
        return hmac.new(self._secret, label.encode() + b"\0" + data, hashlib.sha256).digest()
