"""The checks xAI's Responses API makes before it answers, in the order it makes them.

Responses requests fail in ways chat requests cannot, and those are the bugs a client sends
when it maps one API onto the other: tools in the nested chat shape, OpenAI-only knobs that
xAI rejects (`search_context_size` is even echoed back by xAI, so replaying echoed tools
fails), penalties, `instructions` next to `previous_response_id`, a `function_call_output`
whose call is not in the conversation, or a reasoning blob that was not replayed byte for byte.
Each check returns a `Rejection` or None, like the chat checks in `_validate`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from langchain_grok.testing._validate import EMPTY_CONTENT, LIVE_SEARCH_GONE, Rejection

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

_DESERIALIZE: Final = "Failed to deserialize the JSON body into the target type"
_PENALTIES: Final = ("frequency_penalty", "presence_penalty")
_ROLES: Final = frozenset({"system", "developer", "user", "assistant"})
_USER_PARTS: Final = frozenset({"input_text", "input_image", "input_file"})
_ASSISTANT_PARTS: Final = frozenset({"output_text", "input_text", "refusal"})
# Output items a client may replay as input exactly as it received them (rs04, rs10).
REPLAYED_SERVER_ITEMS: Final = frozenset(
    {
        "web_search_call",
        "x_search_call",
        "custom_tool_call",
        "code_interpreter_call",
        "code_execution_call",
        "file_search_call",
        "mcp_call",
        "image_generation_call",
        "shell_call",
    }
)
SERVER_TOOL_TYPES: Final = frozenset(
    {
        "web_search",
        "x_search",
        "code_interpreter",
        "code_execution",
        "file_search",
        "collections_search",
        "mcp",
        "image_generation",
        "view_image",
        "view_x_video",
        "shell",
    }
)
# Options of OpenAI's hosted tools that xAI refuses (xai-api.md section 6).
_OPENAI_ONLY: Final[dict[str, tuple[str, ...]]] = {
    "web_search": ("search_context_size", "user_location", "external_web_access"),
    "file_search": ("filters", "ranking_options"),
    "collections_search": ("filters", "ranking_options"),
    "code_interpreter": ("container",),
    "code_execution": ("container",),
}
_TOOL_CHOICES: Final = frozenset({"none", "auto", "required"})
_FORMATS: Final = frozenset({"text", "json_object", "json_schema"})
UNVERIFIED_REASONING: Final = "encrypted reasoning could not be verified"


def check_responses_request(payload: Any) -> Rejection | None:
    """Apply the body checks that need no server state.

    Order: shape and field types (422), Live Search (410), penalties, `instructions` with
    `previous_response_id`, tools, tool choice, text format (400).

    Args:
        payload: The decoded body.

    Returns:
        The first rejection, or None.
    """
    return (
        _check_shape(payload)
        or _check_field_types(payload)
        or _check_live_search(payload)
        or _check_penalties(payload)
        or _check_instructions(payload)
        or _check_tools(payload["tools"] if isinstance(payload.get("tools"), list) else [])
        or _check_tool_choice(payload)
        or _check_text_format(payload.get("text"))
    )


def input_items(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return `input` as a list of items (a string input is one user message)."""
    value = payload["input"]
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    return list(value)


def function_names(payload: Mapping[str, Any]) -> list[str]:
    """List the names of the request's (flat, Responses-shaped) function tools, in order."""
    return [
        tool["name"]
        for tool in payload.get("tools") or []
        if isinstance(tool, dict)
        and tool.get("type") == "function"
        and isinstance(tool.get("name"), str)
    ]


def check_input_items(
    items: list[dict[str, Any]],
    history: list[dict[str, Any]],
    verify: Callable[[object], bool],
) -> Rejection | None:
    """Check the input items against the conversation they continue.

    Args:
        items: This request's input items.
        history: The stored conversation of the `previous_response_id` chain (may be empty).
        verify: Tells whether an `encrypted_content` blob was issued by this server.

    Returns:
        The first rejection, or None.
    """
    call_ids = {
        item["call_id"]
        for item in history
        if item.get("type") == "function_call" and isinstance(item.get("call_id"), str)
    }
    for index, item in enumerate(items):
        kind = item.get("type", "message" if "role" in item else None)
        where = f"input[{index}]"
        if kind == "message":
            rejection = _check_message(where, item)
        elif kind == "function_call":
            rejection = _check_function_call(where, item)
            if rejection is None:
                call_ids.add(item["call_id"])
        elif kind == "function_call_output":
            rejection = _check_function_output(where, item, call_ids)
        elif kind == "reasoning":
            rejection = _check_reasoning(where, item, verify)
        elif kind in REPLAYED_SERVER_ITEMS:
            rejection = None
        else:
            rejection = Rejection(400, f"{where}: unknown input item type {kind!r}")
        if rejection is not None:
            return rejection
    return None


def _check_shape(payload: Any) -> Rejection | None:
    if not isinstance(payload, dict):
        return Rejection(422, f"{_DESERIALIZE}: invalid type: expected a JSON object")
    for name in ("model", "input"):
        if name not in payload:
            return Rejection(422, f"{_DESERIALIZE}: missing field `{name}`")
    if not isinstance(payload["model"], str) or not payload["model"]:
        return Rejection(422, f"{_DESERIALIZE}: `model` must be a non-empty string")
    return None


def _check_field_types(payload: dict[str, Any]) -> Rejection | None:
    value = payload["input"]
    if not isinstance(value, str) and not (isinstance(value, list) and value):
        return Rejection(422, f"{_DESERIALIZE}: `input` must be a string or a non-empty array")
    if isinstance(value, list) and not all(isinstance(item, dict) for item in value):
        return Rejection(422, f"{_DESERIALIZE}: every `input` item must be an object")
    for name in ("previous_response_id", "instructions"):
        if not isinstance(payload.get(name), str | None):
            return Rejection(422, f"{_DESERIALIZE}: `{name}` must be a string")
    if not isinstance(payload.get("tools"), list | None):
        return Rejection(422, f"{_DESERIALIZE}: `tools` must be an array")
    return None


def _check_live_search(payload: dict[str, Any]) -> Rejection | None:
    if payload.get("search_parameters") is not None:
        return Rejection(410, LIVE_SEARCH_GONE)
    return None


def _check_penalties(payload: dict[str, Any]) -> Rejection | None:
    for name in _PENALTIES:
        if payload.get(name) is not None:
            return Rejection(400, f"Argument not supported on the Responses API: {name}")
    return None


def _check_instructions(payload: dict[str, Any]) -> Rejection | None:
    if payload.get("instructions") is not None and payload.get("previous_response_id"):
        return Rejection(400, "`instructions` cannot be used together with `previous_response_id`")
    return None


def _check_tools(tools: list[Any]) -> Rejection | None:
    for index, tool in enumerate(tools):
        kind = tool.get("type") if isinstance(tool, dict) else None
        if kind == "function":
            if not isinstance(tool.get("name"), str) or not tool["name"]:
                return Rejection(
                    400,
                    f"tools[{index}]: a function tool needs a top-level `name` (Responses "
                    "tools are flat: {type, name, description, parameters})",
                )
            continue
        if kind not in SERVER_TOOL_TYPES:
            return Rejection(400, f"tools[{index}]: unknown tool type {kind!r}")
        for field in _OPENAI_ONLY.get(kind, ()):
            if field in tool:
                return Rejection(
                    400, f"tools[{index}].{field} is not supported (an OpenAI-only {kind} option)"
                )
    return None


def _check_tool_choice(payload: dict[str, Any]) -> Rejection | None:
    choice = payload.get("tool_choice")
    tools = payload.get("tools") or []
    if choice is None or isinstance(choice, str):
        return _check_tool_mode(choice, tools)
    if isinstance(choice, dict) and choice.get("type") == "function":
        found = choice.get("name") in function_names(payload)
        message = f"tool_choice names a function not in `tools`: {choice.get('name')!r}"
        return None if found else Rejection(400, message)
    declared = {tool.get("type") for tool in tools if isinstance(tool, dict)}
    found = isinstance(choice, dict) and choice.get("type") in declared
    return None if found else Rejection(400, f"invalid tool_choice: {choice!r}")


def _check_tool_mode(choice: str | None, tools: list[Any]) -> Rejection | None:
    if choice is not None and choice not in _TOOL_CHOICES:
        return Rejection(400, f"tool_choice must be none, auto or required, got {choice!r}")
    if choice == "required" and not tools:
        return Rejection(400, "tool_choice `required` needs at least one tool in `tools`")
    return None


def _check_text_format(text: Any) -> Rejection | None:
    if text is None or (isinstance(text, dict) and text.get("format") is None):
        return None
    fmt = text.get("format") if isinstance(text, dict) else None
    if not isinstance(fmt, dict) or fmt.get("type") not in _FORMATS:
        kind = fmt.get("type") if isinstance(fmt, dict) else None
        return Rejection(400, f"text.format.type must be one of {sorted(_FORMATS)}, got {kind!r}")
    if fmt["type"] == "json_schema" and not isinstance(fmt.get("schema"), dict | bool):
        return Rejection(
            400,
            "text.format.schema is required (Responses puts name, schema and strict directly "
            "in text.format, not under json_schema)",
        )
    return None


def _check_message(where: str, item: dict[str, Any]) -> Rejection | None:
    role = item.get("role")
    if role not in _ROLES:
        return Rejection(400, f"{where}: unknown message role {role!r}")
    content = item.get("content")
    if content is None:
        return Rejection(400, f"{where}: {role} message content must not be null")
    if isinstance(content, str):
        return None
    if not isinstance(content, list) or not content:
        return Rejection(400, f"{EMPTY_CONTENT} ({where})")
    return _check_parts(where, role, content)


def _check_parts(where: str, role: str, content: list[Any]) -> Rejection | None:
    allowed = _ASSISTANT_PARTS if role == "assistant" else _USER_PARTS
    for position, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind not in allowed:
            return Rejection(
                400, f"{where}.content[{position}]: part type {kind!r} not allowed for {role}"
            )
        if not _part_is_complete(part):
            return Rejection(400, f"{where}.content[{position}]: incomplete {kind} part")
    return None


def _part_is_complete(part: dict[str, Any]) -> bool:
    kind = part["type"]
    if kind in {"input_text", "output_text"}:
        return isinstance(part.get("text"), str)
    if kind == "refusal":
        return isinstance(part.get("refusal"), str)
    if kind == "input_image":
        return isinstance(part.get("image_url") or part.get("file_id"), str)
    return isinstance(part.get("file_id") or part.get("file_url") or part.get("file_data"), str)


def _check_function_call(where: str, item: dict[str, Any]) -> Rejection | None:
    for name in ("call_id", "name", "arguments"):
        if not isinstance(item.get(name), str):
            return Rejection(400, f"{where}: function_call needs a string `{name}`")
    return None


def _check_function_output(
    where: str, item: dict[str, Any], call_ids: set[str]
) -> Rejection | None:
    call_id = item.get("call_id")
    if call_id not in call_ids:
        return Rejection(
            400,
            f"{where}: function_call_output call_id {call_id!r} does not match any "
            "function_call earlier in the input or in the previous_response_id chain",
        )
    if not isinstance(item.get("output"), str | list):
        return Rejection(400, f"{where}: function_call_output needs `output` (string or parts)")
    return None


def _check_reasoning(
    where: str, item: dict[str, Any], verify: Callable[[object], bool]
) -> Rejection | None:
    if not isinstance(item.get("summary", []), list):
        return Rejection(400, f"{where}: reasoning `summary` must be an array")
    blob = item.get("encrypted_content")
    if blob is not None and not verify(blob):
        return Rejection(400, f"{where}: {UNVERIFIED_REASONING}")
    return None
