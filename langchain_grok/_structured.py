"""Tool binding arguments and structured-output pipelines (pure; no I/O).

Kept out of `chat_models.py` so the model class stays a thin list of entry points. Everything
here builds request kwargs or LangChain runnables from user schemas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, cast

from langchain_core.exceptions import OutputParserException
from langchain_core.output_parsers import JsonOutputParser
from langchain_core.output_parsers.openai_tools import (
    JsonOutputKeyToolsParser,
    PydanticToolsParser,
)
from langchain_core.output_parsers.transform import BaseCumulativeTransformOutputParser
from langchain_core.outputs import ChatGeneration, Generation
from langchain_core.runnables import RunnableGenerator, RunnableLambda
from langchain_core.runnables.utils import AddableDict
from langchain_core.utils.function_calling import convert_to_json_schema, convert_to_openai_tool
from langchain_core.utils.pydantic import is_basemodel_subclass

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator, Sequence

    from langchain_core.messages import BaseMessage
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

# Tools xAI runs itself (xai-api.md section 6); they exist only on the Responses API.
SERVER_TOOL_TYPES = frozenset(
    {
        "web_search",
        "x_search",
        "code_execution",
        "code_interpreter",
        "collections_search",
        "file_search",
        "mcp",
        "image_generation",
        "view_image",
        "view_x_video",
        "shell",
    }
)


def format_tools(
    tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
    *,
    strict: bool | None = None,
) -> list[dict[str, Any]]:
    """Every tool form LangChain users pass, as xAI `{"type": "function", ...}` dicts.

    Accepts `BaseTool`s, `@tool` and plain functions, pydantic models (v1 and v2), TypedDicts,
    JSON schemas, OpenAI-format dicts and `Runnable.as_tool()`.

    Server-side tools (`{"type": "web_search"}`, `x_search`, `code_execution` /
    `code_interpreter`, `collections_search` / `file_search`, `mcp`, ...) pass through with
    xAI's names; binding one sends the call to the Responses API.

    Raises:
        ValueError: Something that is not a tool, named by its position.
    """
    formatted = []
    for position, tool in enumerate(tools):
        if isinstance(tool, dict) and tool.get("type") in SERVER_TOOL_TYPES:
            formatted.append(_server_tool(tool))
            continue
        try:
            converted = convert_to_openai_tool(tool, strict=strict)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            msg = f"tool {position} ({type(tool).__name__}) cannot be used as a tool: {exc}"
            raise ValueError(msg) from exc
        _check_function_tool(position, tool, converted)
        formatted.append(converted)
    return formatted


def _check_function_tool(position: int, tool: object, converted: dict[str, Any]) -> None:
    # convert_to_openai_tool passes OpenAI-format dicts through unchecked; the API would 400.
    function = converted.get("function")
    if not isinstance(function, dict):
        function = {}
    name = function.get("name")
    problem = None
    if not isinstance(name, str) or not name:
        problem = "a function tool needs `function` with a non-empty string `name`"
    elif "parameters" in function and not isinstance(function["parameters"], dict):
        problem = "`function.parameters` must be a JSON schema object"
    if problem:
        msg = f"tool {position} ({type(tool).__name__}) cannot be used as a tool: {problem}"
        raise ValueError(msg)


# LangChain-style and documented alternative names -> the `type` the Responses API takes.
_SERVER_TOOL_ALIASES = {"code_execution": "code_interpreter", "collections_search": "file_search"}


def _server_tool(tool: dict[str, Any]) -> dict[str, Any]:
    spec = dict(tool)
    spec["type"] = _SERVER_TOOL_ALIASES.get(spec["type"], spec["type"])
    return spec


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
            parser = _StrictPydanticToolsParser(tools=[schema], first_tool_only=True)
        else:
            parser = _StrictJsonToolsParser(key_name=tool_name, first_tool_only=True)
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
    return model | _with_raw(parser)


def _require_call(value: Any, result: list[Generation], *, partial: bool) -> Any:
    """Fail loudly when the final reply holds no usable call.

    LangChain's tool parsers return None when the model answered in text or sent arguments
    that are not JSON; `with_structured_output` would then hand the caller a silent None, and
    `include_raw=True` would report no parsing error at all.
    """
    if value is None and not partial:
        message = result[0].message if result and isinstance(result[0], ChatGeneration) else None
        invalid = getattr(message, "invalid_tool_calls", None)
        detail = f"invalid tool calls: {invalid}" if invalid else "the reply had no tool call"
        msg = f"No structured output: {detail}"
        raise OutputParserException(msg, llm_output=str(getattr(message, "content", "")))
    return value


def _json_parser(schema: dict[str, Any] | type | None, *, is_pydantic: bool) -> Runnable[Any, Any]:
    if not is_pydantic:
        return _StrictJsonOutputParser()
    model = cast("type[Any]", schema)

    def validate(value: Any) -> Any:
        # pydantic v2 models have model_validate, v1 models parse_obj.
        check = getattr(model, "model_validate", None) or model.parse_obj
        try:
            return check(value)
        except (ValueError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
            msg = f"Failed to parse {model.__name__} from {value!r}: {exc}"
            raise OutputParserException(msg, llm_output=str(value)) from exc

    # The JSON streams partially; the object is validated once, from the complete value.
    return _StrictJsonOutputParser() | RunnableLambda(validate)


class _FinalCheck(BaseCumulativeTransformOutputParser[Any]):
    """Stream partial results like LangChain's parser, then parse the whole reply strictly.

    LangChain's streaming parsers only ever parse partially, so a reply that is not valid JSON
    (or carries no tool call) streams as nothing at all: no value and no error. Parsing the
    merged reply once more at the end makes a stream fail exactly where invoke would.
    """

    def _transform(self, input: Iterator[str | BaseMessage]) -> Iterator[Any]:  # noqa: A002
        seen: list[str | BaseMessage] = []
        yield from super()._transform(_tee(input, seen))
        self._final_check(seen)

    async def _atransform(
        self,
        input: AsyncIterator[str | BaseMessage],  # noqa: A002 - the base class's name
    ) -> AsyncIterator[Any]:
        seen: list[str | BaseMessage] = []
        async for value in super()._atransform(_atee(input, seen)):
            yield value
        self._final_check(seen)

    def _final_check(self, seen: list[str | BaseMessage]) -> None:
        merged = _merge(seen)
        if merged is None:
            msg = "No structured output: the reply was empty"
            raise OutputParserException(msg)
        generation = (
            Generation(text=merged) if isinstance(merged, str) else ChatGeneration(message=merged)
        )
        self.parse_result([generation], partial=False)


_JSON = JsonOutputParser()


class _StrictJsonOutputParser(_FinalCheck):
    # Delegates to JsonOutputParser rather than subclassing it: its generic pydantic field
    # trips the pydantic mypy plugin in subclasses.
    def parse_result(self, result: list[Generation], *, partial: bool = False) -> Any:
        return _JSON.parse_result(result, partial=partial)

    def parse(self, text: str) -> Any:
        return _JSON.parse(text)


class _StrictPydanticToolsParser(_FinalCheck, PydanticToolsParser):
    def parse_result(self, result: list[Generation], *, partial: bool = False) -> Any:
        return _require_call(super().parse_result(result, partial=partial), result, partial=partial)


class _StrictJsonToolsParser(_FinalCheck, JsonOutputKeyToolsParser):
    def parse_result(self, result: list[Generation], *, partial: bool = False) -> Any:
        return _require_call(super().parse_result(result, partial=partial), result, partial=partial)


def _tee(items: Iterator[str | BaseMessage], seen: list[str | BaseMessage]) -> Iterator[Any]:
    for item in items:
        seen.append(item)
        yield item


async def _atee(
    items: AsyncIterator[str | BaseMessage], seen: list[str | BaseMessage]
) -> AsyncIterator[Any]:
    async for item in items:
        seen.append(item)
        yield item


def _merge(seen: Sequence[str | BaseMessage]) -> str | BaseMessage | None:
    if not seen:
        return None
    if all(isinstance(item, str) for item in seen):
        return "".join(str(item) for item in seen)
    merged: Any = seen[0]
    for item in seen[1:]:
        merged = merged + item
    return cast("str | BaseMessage", merged)


def _with_raw(parser: Runnable[Any, Any]) -> Runnable[Any, Any]:
    """Pass the model's chunks through as `raw`, then add `parsed` and `parsing_error` once.

    A bad reply never raises here: the exception is returned as `parsing_error`, on invoke and
    at the end of a stream alike.
    """

    def outcome(seen: list[BaseMessage]) -> AddableDict:
        try:
            return AddableDict(parsed=parser.invoke(_merge(seen)), parsing_error=None)
        except Exception as exc:  # noqa: BLE001 - any parser failure is the caller's data
            return AddableDict(parsed=None, parsing_error=exc)

    def transform(chunks: Iterator[BaseMessage]) -> Iterator[AddableDict]:
        seen: list[BaseMessage] = []
        for chunk in chunks:
            seen.append(chunk)
            yield AddableDict(raw=chunk)
        yield outcome(seen)

    async def atransform(chunks: AsyncIterator[BaseMessage]) -> AsyncIterator[AddableDict]:
        seen: list[BaseMessage] = []
        async for chunk in chunks:
            seen.append(chunk)
            yield AddableDict(raw=chunk)
        yield outcome(seen)

    return RunnableGenerator(transform, atransform, name="StructuredOutputWithRaw")
