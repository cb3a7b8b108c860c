"""Output items of a Responses answer, with the recordings' shapes, key orders and ids.

Ids derive from the bare-UUID response id (fact 24): `rs_<id>` reasoning, `msg_<id>` message,
`fc_<id>_<n>` function call with `call_id` `call-<uuid>-<n>`, `ws_<id>_call-<uuid>-<n>` web
search (rs09), `ctc_<id>_xs_call_<8 digits>` X search (rs13), `fc_<id>_<n>` code interpreter
(rs15), `tco_<id>_<call>` tool-output reasoning (rs09). One counter `n` numbers every tool call of
a response, server-side or not, so ids never collide.

Citations: the k-th scripted citation is cited by a `[[n]](url)` marker inserted right after
the k-th sentence end of the text (a `.`, `!` or `?` followed by whitespace or the end); those
beyond the last sentence go at the end. `n` numbers distinct URLs in order of first citation,
and the annotation's `title` is `str(n)` unless the script gives one (rs09, rs10). `start_index`
and `end_index` are Python `str` indices (Unicode code points) of the marker, so
`text[start_index:end_index]` is the marker. xAI's recordings with citations are all ASCII, where
code points, UTF-16 units and bytes agree; a client slicing in other units fails here only on
non-ASCII text.
"""

from __future__ import annotations

import json
import re
import uuid
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from collections.abc import Mapping

    from langchain_grok.testing._responses_store import ResponseStore

_SENTENCE_END: Final = re.compile(r"[.!?](?=\s|$)")
_X_CALL_MODULUS: Final = 100_000_000
# rs13: the X search tool's input as the model sent it.
_X_LIMIT: Final = 20
# Which request tool types let the model run a scripted server tool call of each kind.
TOOL_OF_KIND: Final[dict[str, frozenset[str]]] = {
    "web_search": frozenset({"web_search"}),
    "x_search": frozenset({"x_search"}),
    "code_interpreter": frozenset({"code_interpreter", "code_execution"}),
    "code_execution": frozenset({"code_interpreter", "code_execution"}),
}


@dataclass
class ItemIds:
    """Id source of one response."""

    response_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    call_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    next_index: int = 0

    def index(self) -> int:
        """Return the next tool-call number of this response (0, 1, ...)."""
        self.next_index += 1
        return self.next_index - 1


def dumps(value: Any) -> str:
    """Compact JSON, as xAI writes arguments and tool inputs."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def content_text(content: Any) -> str:
    """The text of a message content: a string, or its text parts joined by a space."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") in {"input_text", "output_text"}
        )
    return ""


def item_text(item: Mapping[str, Any]) -> str:
    """The text an item contributes to the model's context (what the fake tokenizer counts)."""
    kind = item.get("type", "message")
    if kind == "message":
        return content_text(item.get("content"))
    if kind == "function_call":
        return f"{item.get('name', '')} {item.get('arguments', '')}"
    if kind == "function_call_output":
        return content_text(item.get("output"))
    if kind == "reasoning":
        return " ".join(str(part.get("text", "")) for part in item.get("summary") or [])
    return ""


def reasoning_item(
    item_id: str, summaries: list[str], store: ResponseStore | None
) -> dict[str, Any]:
    """A reasoning item (rs01 key order), sealed by `store` when encrypted content is asked."""
    item: dict[str, Any] = {
        "id": item_id,
        "summary": [{"text": text, "type": "summary_text"} for text in summaries],
        "type": "reasoning",
        "status": "completed",
    }
    if store is not None:
        label = f"{item_id}_" if item_id.startswith("tco_") else ""
        sealed = {"id": item_id, "summary": summaries, "nonce": uuid.uuid4().hex}
        item["encrypted_content"] = store.seal(sealed, label=label)
    return item


def tco_id(call_item_id: str) -> str:
    """`ws_<id>_call-…` -> `tco_<id>_call-…` (rs09); the same rule for `ctc_` and `fc_` ids."""
    return "tco_" + call_item_id.split("_", 1)[1]


def server_item(call: Mapping[str, Any], ids: ItemIds) -> dict[str, Any]:
    """The output item of one scripted server-side tool call (2026-08 / rs13 / rs15 shapes)."""
    kind = call["type"]
    index = ids.index()
    rid = ids.response_id
    if kind == "web_search":
        sources = [{"type": "url", "url": url} for url in call.get("sources", [])]
        return {
            "id": f"ws_{rid}_call-{ids.call_uuid}-{index}",
            "type": "web_search_call",
            "status": "completed",
            "action": {"type": "search", "query": call["query"], "sources": sources},
        }
    if kind == "x_search":
        digits = zlib.crc32(f"{rid}:{index}".encode()) % _X_CALL_MODULUS
        call_id = f"xs_call_{digits:08d}"
        arguments = {"query": call["query"], "limit": _X_LIMIT, "mode": "Latest"}
        return {
            "call_id": call_id,
            "input": dumps(arguments),
            "name": "x_keyword_search",
            "type": "custom_tool_call",
            "id": f"ctc_{rid}_{call_id}",
            "status": "completed",
        }
    return {
        "arguments": dumps({"code": call.get("code", call.get("query"))}),
        "call_id": "",
        "name": "code_execution",
        "type": "code_interpreter_call",
        "id": f"fc_{rid}_{index}",
        "status": "completed",
    }


def function_call_item(
    ids: ItemIds, name: str, arguments: str, call_id: str | None = None
) -> dict[str, Any]:
    """A `function_call` item (rs03 key order); `call_id` defaults to `call-<uuid>-<n>`."""
    index = ids.index()
    return {
        "arguments": arguments,
        "call_id": call_id or f"call-{ids.call_uuid}-{index}",
        "name": name,
        "type": "function_call",
        "id": f"fc_{ids.response_id}_{index}",
        "status": "completed",
    }


def cite(text: str, citations: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Insert `[[n]](url)` markers (rule in the module docstring) and build the annotations.

    Args:
        text: The answer without markers.
        citations: Scripted `{"url", "title"?}` citations, in citing order.

    Returns:
        The text with markers, and its `url_citation` annotations in text order.
    """
    ends = [match.end() for match in _SENTENCE_END.finditer(text)]
    numbers: dict[str, int] = {}
    out, cursor = "", 0
    annotations: list[dict[str, Any]] = []
    for position, citation in enumerate(citations):
        url = str(citation["url"])
        number = numbers.setdefault(url, len(numbers) + 1)
        at = ends[position] if position < len(ends) else len(text)
        out += text[cursor:at]
        cursor = at
        start = len(out)
        out += f"[[{number}]]({url})"
        title = citation.get("title")
        annotations.append(
            {
                "type": "url_citation",
                "url": url,
                "start_index": start,
                "end_index": len(out),
                "title": title if title is not None else str(number),
            }
        )
    return out + text[cursor:], annotations


def message_item(
    rid: str, content: str, citations: list[dict[str, Any]] | None, *, incomplete: bool
) -> dict[str, Any]:
    """The assistant message item (rs01 key order), with citation markers and annotations."""
    text, annotations = cite(content, citations) if citations else (content, [])
    part = {"type": "output_text", "text": text, "logprobs": [], "annotations": annotations}
    return {
        "content": [part],
        "id": f"msg_{rid}",
        "role": "assistant",
        "type": "message",
        "status": "incomplete" if incomplete else "completed",
    }
