"""Make one JSON value that validates against a JSON schema.

The emulator has to answer a forced tool call or a `json_schema` response format without a
model, and the answer must pass the same validation the client (or pydantic) applies to a real
one. This covers the subset xAI documents for structured outputs: object/properties/required,
string with enum/const/format/length, integer/number with bounds and `multipleOf`, boolean,
null, array with items/prefixItems/minItems, anyOf/oneOf/allOf and non-circular `$ref`. The value
is deterministic, so tests that snapshot it stay stable.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

_MAX_DEPTH: Final = 24
# Below this depth optional properties are filled in too, so answers look like real ones; deeper
# down only required ones are, which keeps recursive (tree-shaped) schemas finite.
_OPTIONAL_DEPTH: Final = 3
_FORMATS: Final[dict[str, str]] = {
    "date": "2024-01-01",
    "date-time": "2024-01-01T00:00:00Z",
    "time": "00:00:00Z",
    "email": "user@example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "127.0.0.1",
    "ipv6": "::1",
    "uri": "https://example.com",
    "hostname": "example.com",
}
_DEFAULT_STRING: Final = "example"

JSONSchema = Mapping[str, Any] | bool


class SchemaError(ValueError):
    """No value can be made for the schema; the emulator answers 400, like a rejected schema."""


def make_schema_value(schema: JSONSchema) -> Any:
    """Return a deterministic value that validates against `schema`.

    Args:
        schema: A JSON schema (a mapping, or `True` for "anything").

    Returns:
        A JSON-serialisable value.

    Raises:
        SchemaError: The schema is `false`, a `$ref` cannot be resolved or points at a
            non-schema, it recurses without an optional way out, or its bounds leave no value.
    """
    return _Generator(schema).value(schema, depth=0)


class _Generator:
    """Walks one schema; holds the root so that `$ref` pointers can be resolved."""

    def __init__(self, root: JSONSchema) -> None:
        self._root = root

    def value(self, schema: JSONSchema, *, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            msg = "schema nests too deep (circular $ref?)"
            raise SchemaError(msg)
        if isinstance(schema, bool):
            if not schema:
                msg = "the schema `false` accepts no value"
                raise SchemaError(msg)
            return _DEFAULT_STRING
        inner = self._delegate(schema)
        if inner is not None:
            return self.value(inner, depth=depth + 1)
        if "const" in schema:
            return schema["const"]
        if schema.get("enum"):
            return schema["enum"][0]
        return self._typed(schema, _pick_type(schema), depth)

    def _delegate(self, schema: Mapping[str, Any]) -> JSONSchema | None:
        """Return the schema that `schema` defers to ($ref, allOf, anyOf/oneOf), if any."""
        if "$ref" in schema:
            return self._resolve(schema["$ref"])
        if "allOf" in schema:
            return _merge_all_of(schema)
        for key in ("anyOf", "oneOf"):
            if schema.get(key):
                return _first_informative(schema[key])
        return None

    def _typed(self, schema: Mapping[str, Any], kind: str, depth: int) -> Any:
        if kind == "object":
            return self._object(schema, depth)
        if kind == "array":
            return self._array(schema, depth)
        if kind in {"integer", "number"}:
            return _number(schema, integer=kind == "integer")
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return _string(schema)

    def _object(self, schema: Mapping[str, Any], depth: int) -> dict[str, Any]:
        properties: Mapping[str, JSONSchema] = schema.get("properties", {})
        required = set(schema.get("required", []))
        out: dict[str, Any] = {}
        for name, sub in properties.items():
            if name in required or depth < _OPTIONAL_DEPTH:
                out[name] = self.value(sub, depth=depth + 1)
        for name in required - out.keys():
            out[name] = _DEFAULT_STRING
        return out

    def _array(self, schema: Mapping[str, Any], depth: int) -> list[Any]:
        prefix: list[JSONSchema] = list(schema.get("prefixItems", []))
        items = schema.get("items", True)
        if isinstance(items, list):  # draft-07 tuple form
            prefix, items = items, schema.get("additionalItems", True)
        count = max(int(schema.get("minItems", 0)), len(prefix), 1)
        if "maxItems" in schema:
            count = min(count, int(schema["maxItems"]))
        return [
            self.value(prefix[i] if i < len(prefix) else items, depth=depth + 1)
            for i in range(count)
        ]

    def _resolve(self, ref: str) -> JSONSchema:
        if not ref.startswith("#"):
            msg = f"only local $ref are supported, got {ref!r}"
            raise SchemaError(msg)
        node: Any = self._root
        for raw in ref[1:].split("/")[1:]:
            part = raw.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, Mapping) or part not in node:
                msg = f"cannot resolve $ref {ref!r}"
                raise SchemaError(msg)
            node = node[part]
        if not isinstance(node, Mapping | bool):
            msg = f"$ref {ref!r} does not point at a schema"
            raise SchemaError(msg)
        return node


def _pick_type(schema: Mapping[str, Any]) -> str:
    """Choose the type to generate: the declared one (non-null first), else infer from keys."""
    declared = schema.get("type")
    if isinstance(declared, str):
        return declared
    if isinstance(declared, list) and declared:
        non_null = [t for t in declared if t != "null"]
        return str((non_null or declared)[0])
    if "properties" in schema or "required" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    if any(k in schema for k in ("minimum", "maximum", "multipleOf")):
        return "number"
    return "string"


def _first_informative(options: list[JSONSchema]) -> JSONSchema:
    """Prefer a branch that is not just `null`: `Optional[X]` should produce an X."""
    for option in options:
        if not (isinstance(option, Mapping) and option.get("type") == "null"):
            return option
    return options[0]


def _merge_all_of(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Fold `allOf` into one schema: properties and `required` unite, other keys override."""
    merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
    for part in schema["allOf"]:
        if not isinstance(part, Mapping):
            continue
        for key, value in part.items():
            if key == "properties":
                merged["properties"] = {**merged.get("properties", {}), **value}
            elif key == "required":
                merged["required"] = [*merged.get("required", []), *value]
            else:
                merged.setdefault(key, value)
    return merged


def _string(schema: Mapping[str, Any]) -> str:
    text = _FORMATS.get(str(schema.get("format", "")), _DEFAULT_STRING)
    min_length = int(schema.get("minLength", 0))
    if len(text) < min_length:
        text += "x" * (min_length - len(text))
    if "maxLength" in schema:
        text = text[: int(schema["maxLength"])]
    return text


def _number(schema: Mapping[str, Any], *, integer: bool) -> int | float:
    """Pick 0 if allowed, else the first allowed of the bounds and their neighbours."""
    low, low_open = _bound(schema, "minimum", "exclusiveMinimum")
    high, high_open = _bound(schema, "maximum", "exclusiveMaximum")
    step: float | None = schema.get("multipleOf") or (1 if integer else None)

    def allowed(v: float) -> bool:
        above = low is None or (v > low if low_open else v >= low)
        below = high is None or (v < high if high_open else v <= high)
        return above and below

    candidates: list[float] = [0]
    if low is not None:
        candidates += [low, math.floor(low) + 1]
    if high is not None:
        candidates += [high, math.ceil(high) - 1]
    if low is not None and high is not None:
        candidates.append((low + high) / 2)
    for candidate in candidates:
        snapped = [candidate] if step is None else _multiples_near(candidate, step)
        for value in snapped:
            if allowed(value):
                return int(value) if float(value).is_integer() else value
    msg = f"no {'integer' if integer else 'number'} satisfies {dict(schema)!r}"
    raise SchemaError(msg)


def _bound(schema: Mapping[str, Any], inclusive: str, exclusive: str) -> tuple[float | None, bool]:
    """Read one side's bound as (value, is_open), for drafts 4 (boolean) and 6+ (number)."""
    closed = schema.get(inclusive)
    opened = schema.get(exclusive)
    if opened is True:
        return closed, True
    if isinstance(opened, int | float) and not isinstance(opened, bool):
        if closed is None:
            return opened, True
        tighter = opened >= closed if inclusive == "minimum" else opened <= closed
        if tighter:
            return opened, True
    return closed, False


def _multiples_near(value: float, step: float) -> list[float]:
    return [math.ceil(value / step) * step, math.floor(value / step) * step]
