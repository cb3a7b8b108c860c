"""Tool binding arguments and structured-output pipelines (pure; no I/O).

Kept out of `chat_models.py` so the model class stays a thin list of entry points. Everything
here builds request kwargs or LangChain runnables from user schemas.
"""

from __future__ import annotations

from operator import itemgetter
from typing import TYPE_CHECKING, Any, Literal

from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser
from langchain_core.output_parsers.openai_tools import (
    JsonOutputKeyToolsParser,
    PydanticToolsParser,
)
from langchain_core.runnables import RunnableMap, RunnablePassthrough
from langchain_core.utils.function_calling import convert_to_json_schema, convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from langchain_core.runnables import Runnable
    from langchain_core.tools import BaseTool

__all__ = [
    "StructuredMethod",
    "format_tool_choice",
    "format_tools",
    "structured_output_pipeline",
]

StructuredMethod = Literal["json_schema", "function_calling", "json_mode"]
_METHODS: tuple[str, ...] = ("json_schema", "function_calling", "json_mode")


def format_tools(
    tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
    *,
    strict: bool | None = None,
) -> list[dict[str, Any]]:
    """Every tool form LangChain users pass, as xAI `{"type": "function", ...}` dicts.

    Dicts that already name another `type` (server-side tools such as `web_search`) pass
    through unchanged.
    """
    formatted = []
    for tool in tools:
        if isinstance(tool, dict) and tool.get("type") not in (None, "function"):
            formatted.append(dict(tool))
            continue
        formatted.append(convert_to_openai_tool(tool, strict=strict))
    return formatted


def _tool_names(tools: list[dict[str, Any]]) -> list[str]:
    return [t["function"]["name"] for t in tools if t.get("type") == "function"]


def format_tool_choice(
    tool_choice: dict[str, Any] | str | bool | None,  # noqa: FBT001 - True is an API value
    tools: list[dict[str, Any]],
) -> dict[str, Any] | str | None:
    """Normalise every `tool_choice` spelling LangChain users write.

    "any" is LangChain's word for the API's "required"; `True` means "the one tool"; a bare
    tool name forces that tool.

    Raises:
        ValueError: The choice names a tool that is not bound, or `True` with several tools.
    """
    names = _tool_names(tools)
    if tool_choice is None or tool_choice is False:
        return None
    if tool_choice is True:
        if len(names) != 1:
            msg = f"tool_choice=True needs exactly one bound tool, got {len(names)}: {names}"
            raise ValueError(msg)
        return {"type": "function", "function": {"name": names[0]}}
    if isinstance(tool_choice, str):
        if tool_choice in ("auto", "none", "required"):
            return tool_choice
        if tool_choice == "any":
            return "required"
        if tool_choice not in names:
            msg = f"tool_choice={tool_choice!r} names no bound tool; bound tools: {names}"
            raise ValueError(msg)
        return {"type": "function", "function": {"name": tool_choice}}
    if isinstance(tool_choice, dict):
        return tool_choice
    msg = f"tool_choice must be a string, bool or dict, got {type(tool_choice).__name__}"
    raise ValueError(msg)


def _schema_name(schema: dict[str, Any] | type) -> str:
    if isinstance(schema, dict):
        if "function" in schema:
            return str(schema["function"].get("name", "output"))
        return str(schema.get("title") or schema.get("name") or "output")
    return schema.__name__


def _response_format(schema: dict[str, Any] | type, *, strict: bool | None) -> dict[str, Any]:
    if isinstance(schema, dict) and "function" in schema:
        function = schema["function"]
        json_schema = dict(function.get("parameters") or {})
        description = function.get("description")
    else:
        json_schema = convert_to_json_schema(schema)
        description = json_schema.get("description")
    spec: dict[str, Any] = {"name": _schema_name(schema), "schema": json_schema}
    if description:
        spec["description"] = description
    if strict is not None:
        spec["strict"] = strict
    return {"type": "json_schema", "json_schema": spec}


def structured_output_pipeline(
    bind: Callable[..., Runnable[Any, Any]],
    bind_tools: Callable[..., Runnable[Any, Any]],
    schema: dict[str, Any] | type | None,
    *,
    method: str,
    include_raw: bool,
    strict: bool | None,
) -> Runnable[Any, Any]:
    """Build `model | parser` for `with_structured_output`.

    Args:
        bind: The model's `bind`.
        bind_tools: The model's `bind_tools`.
        schema: Pydantic class, TypedDict, JSON schema or OpenAI tool dict.
        method: "json_schema" (native `response_format`), "function_calling" or "json_mode".
        include_raw: Return `{"raw", "parsed", "parsing_error"}` and never raise on a bad reply.
        strict: Passed to the API as the schema's / tool's `strict`.

    Raises:
        ValueError: Unknown method, or a schema missing where the method needs one.
    """
    if method not in _METHODS:
        msg = f"method must be one of {', '.join(_METHODS)}; got {method!r}"
        raise ValueError(msg)
    if schema is None and method != "json_mode":
        msg = f"schema is required for method={method!r}"
        raise ValueError(msg)
    is_pydantic = isinstance(schema, type) and is_basemodel_subclass(schema)
    format_info = {
        "kwargs": {"method": method, **({"strict": strict} if strict is not None else {})},
        "schema": schema,
    }
    parser: Runnable[Any, Any]
    if method == "function_calling":
        assert schema is not None  # noqa: S101 - checked above, narrows for the type checker
        tool_name = convert_to_openai_tool(schema)["function"]["name"]
        model = bind_tools(
            [schema],
            tool_choice=tool_name,
            parallel_tool_calls=False,
            strict=strict,
            ls_structured_output_format=format_info,
        )
        if is_pydantic:
            parser = PydanticToolsParser(tools=[schema], first_tool_only=True)
        else:
            parser = JsonOutputKeyToolsParser(key_name=tool_name, first_tool_only=True)
    elif method == "json_mode":
        model = bind(
            response_format={"type": "json_object"},
            ls_structured_output_format=format_info if schema is not None else None,
        )
        parser = _json_parser(schema, is_pydantic=is_pydantic)
    else:
        assert schema is not None  # noqa: S101
        model = bind(
            response_format=_response_format(schema, strict=strict),
            ls_structured_output_format=format_info,
        )
        parser = _json_parser(schema, is_pydantic=is_pydantic)
    if not include_raw:
        return model | parser
    parsed = RunnablePassthrough.assign(
        parsed=itemgetter("raw") | parser, parsing_error=lambda _: None
    )
    fallback = RunnablePassthrough.assign(parsed=lambda _: None)
    with_fallback = parsed.with_fallbacks([fallback], exception_key="parsing_error")
    return RunnableMap(raw=model) | with_fallback


def _json_parser(schema: dict[str, Any] | type | None, *, is_pydantic: bool) -> Runnable[Any, Any]:
    if is_pydantic:
        return PydanticOutputParser(pydantic_object=schema)
    return JsonOutputParser()
