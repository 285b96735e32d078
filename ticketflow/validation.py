"""What ticketflow accepts, checked in one place: text that can be stored and served, bounded JSON.

Every string a request carries (body fields, metadata keys and values at any depth, query and
path parameters) is refused when it holds a character that PostgreSQL refuses or mangles, or
that has no place in text: the C0 control characters other than tab, newline and carriage
return, DEL (U+007F), and unpaired surrogates (JSON's ``"\\ud800"`` escape). Free-form JSON (a
ticket's metadata) is bounded in depth, keys per object, size, and the range of its numbers.

Body fields use the :data:`Storable` annotation and the :data:`JsonObject` type (the field
types of ``ticketflow/fields.py``); query and path parameters are checked by the API's app-wide
dependency ``api.validation.storable_parameters``. A refusal is a ``400 INVALID_PARAMS`` over
HTTP (the CLI prints the same details) whose detail names the field (``metadata.order.lines``
for a value deep in the metadata): :func:`error_details`.

No web framework here: the CLI validates the same bodies with the same models.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from ticketflow.errors import Detail
from ticketflow.infra.settings import (
    JSON_INT_MAX,
    JSON_INT_MIN,
    METADATA_MAX_BYTES,
    METADATA_MAX_DEPTH,
    METADATA_MAX_KEYS,
)

# C0 controls but tab (09), newline (0A) and carriage return (0D); DEL; any surrogate (a str
# holds one only when a JSON escape left it unpaired).
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# The same rule as the OpenAPI states it (JSON Schema has no way to name a lone surrogate).
STORABLE_PATTERN = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]*$"
_MAX_FIELD_SEGMENT = 64


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored or served, or ``None`` when it can."""
    found = _UNSAFE.search(text)
    if found is None:
        return None
    code = ord(found.group())
    if 0xD800 <= code <= 0xDFFF:
        return f"contains an unpaired surrogate (U+{code:04X})"
    return f"contains a control character (U+{code:04X})"


def printable(text: str) -> str:
    """``text`` with its unsafe characters escaped, cut short: fit to name a field in an answer."""
    shown = _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return shown if len(shown) <= _MAX_FIELD_SEGMENT else shown[:_MAX_FIELD_SEGMENT] + "..."


def check_text(value: str) -> str:
    """Pydantic validator: ``value`` unchanged, or the ``unsafe_text`` error."""
    if (problem := text_problem(value)) is not None:
        raise PydanticCustomError("unsafe_text", problem)
    return value


@dataclass(frozen=True)
class _StorableText:
    """Annotation for a ``str`` field: refuses unsafe characters, and says so in the OpenAPI."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(check_text, handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.setdefault("pattern", STORABLE_PATTERN)
        return json_schema


Storable = _StorableText()


@dataclass(frozen=True)
class JsonLimits:
    max_depth: int = METADATA_MAX_DEPTH
    max_keys: int = METADATA_MAX_KEYS
    max_bytes: int = METADATA_MAX_BYTES


def json_problem(value: dict[str, Any], limits: JsonLimits = JsonLimits()) -> tuple[str, str] | None:
    """The first reason ``value`` (a JSON object, as parsed) cannot be accepted, as
    ``(path, message)`` with ``path`` relative to the object (``""`` for the object itself);
    ``None`` when it can.

    Iterative and bounded: it looks no deeper than ``max_depth`` and at no more nodes than
    ``max_bytes`` (each takes at least a byte of JSON), so hostile input costs little.
    """
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]
    seen = 0
    while stack:
        node, depth, path = stack.pop()
        seen += 1
        if seen > limits.max_bytes:
            return "", f"larger than {limits.max_bytes} bytes as JSON"
        if isinstance(node, dict):
            if len(node) > limits.max_keys:
                return path, f"more than {limits.max_keys} keys in one object"
            children: list[tuple[str, Any]] = []
            for key, child in node.items():
                if not isinstance(key, str):
                    return path, "keys must be strings"
                child_path = _join(path, printable(key))
                if (problem := text_problem(key)) is not None:
                    return child_path, f"key {problem}"
                children.append((child_path, child))
        elif isinstance(node, list):
            children = [(_join(path, str(i)), child) for i, child in enumerate(node)]
        else:
            if (problem := _scalar_problem(node)) is not None:
                return path, problem
            continue
        for child_path, child in reversed(children):
            if isinstance(child, dict | list) and depth + 1 > limits.max_depth:
                return child_path, f"nested deeper than {limits.max_depth} levels"
            stack.append((child, depth + 1, child_path))
    size = len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())
    if size > limits.max_bytes:
        return "", f"larger than {limits.max_bytes} bytes as JSON ({size})"
    return None


def _join(path: str, segment: str) -> str:
    return f"{path}.{segment}" if path else segment


def _scalar_problem(node: Any) -> str | None:
    if node is None or isinstance(node, bool):
        return None
    if isinstance(node, str):
        return text_problem(node)
    if isinstance(node, int):
        return None if JSON_INT_MIN <= node <= JSON_INT_MAX else "integer out of the 64-bit range"
    if isinstance(node, float):
        return None if math.isfinite(node) else "not a finite number"
    return "not a JSON value"


def json_object_validator(limits: JsonLimits) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def check(value: dict[str, Any]) -> dict[str, Any]:
        if (problem := json_problem(value, limits)) is not None:
            path, message = problem
            raise PydanticCustomError("json_limit", "{message}", {"path": path, "message": message})
        return value

    return check


@dataclass(frozen=True)
class _BoundedJsonObject:
    """Annotation for a ``dict[str, Any]`` field: free-form JSON within ``limits``."""

    limits: JsonLimits = JsonLimits()

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(json_object_validator(self.limits),
                                                             handler(source))

    def __get_pydantic_json_schema__(self, schema: CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.update({
            "maxProperties": self.limits.max_keys,
            "description": (
                f"Free-form JSON object: at most {self.limits.max_depth} levels deep (this "
                f"object is level 1), {self.limits.max_keys} keys per object, "
                f"{self.limits.max_bytes} bytes as compact UTF-8 JSON; integers within 64 bits, "
                "finite numbers, no control characters in keys or strings."),
        })
        return json_schema


JsonObject = Annotated[dict[str, Any], _BoundedJsonObject()]


_SOURCES = ("body", "path", "query", "header")


def _field(loc: tuple[Any, ...], within: str = "") -> str:
    parts = [str(p) for p in loc[1:]] if loc and loc[0] in _SOURCES else [str(p) for p in loc]
    if within:  # a place inside the field's value (free-form JSON)
        parts.append(within)
    return ".".join(parts) or "body"


def error_details(errors: Iterable[Mapping[str, Any]]) -> list[Detail]:
    """Pydantic's errors (FastAPI's, whose places start with ``body``, or a model's own) as the
    contract's details: one ``{field, message}`` for each."""
    details: list[Detail] = []
    for err in errors:
        if err["type"] == "json_limit":
            details.append({"field": _field(err["loc"], err["ctx"]["path"]),
                            "message": err["ctx"]["message"]})
        elif err["type"] == "json_invalid":
            details.append({"field": "body", "message": "malformed JSON"})
        elif err["type"] == "extra_forbidden":
            details.append({"field": _field(err["loc"]), "message": "unknown field"})
        elif err["type"] in ("model_attributes_type", "model_type", "dict_type") and \
                _field(err["loc"]) == "body":
            details.append({"field": "body", "message": "expected a JSON object"})
        else:
            details.append({"field": _field(err["loc"]), "message": err["msg"]})
    return details
