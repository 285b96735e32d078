"""The types the static checks reason with, and the declared context of flow expressions."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True)
class Type:
    name: str  # int uint double string bool bytes null timestamp duration list map object dyn type
    elem: Type | None = None  # a list's items, a map's values
    key: Type | None = None  # a map's keys
    fields: tuple[tuple[str, Type], ...] = ()  # an object's fields
    values: frozenset[str] = field(default=frozenset())  # a string that is one of these

    def __str__(self) -> str:
        if self.name == "list":
            return f"list({self.elem})"
        if self.name == "map":
            return f"map({self.key}, {self.elem})"
        return self.name

    def field(self, name: str) -> Type | None:
        return dict(self.fields).get(name)


INT, UINT, DOUBLE = Type("int"), Type("uint"), Type("double")
STRING, BOOL, BYTES, NULL = Type("string"), Type("bool"), Type("bytes"), Type("null")
TIMESTAMP, DURATION, DYN, TYPE = Type("timestamp"), Type("duration"), Type("dyn"), Type("type")
NUMBERS = frozenset({"int", "uint", "double"})


def list_of(elem: Type) -> Type:
    return Type("list", elem=elem)


def map_of(key: Type, value: Type) -> Type:
    return Type("map", elem=value, key=key)


def one_of(values: type[StrEnum] | tuple[str, ...]) -> Type:
    """A string known to be one of ``values``: comparing it with another literal is an error."""
    return Type("string", values=frozenset(str(v) for v in values))


def obj(**fields: Type) -> Type:
    return Type("object", fields=tuple(fields.items()))


def numeric(t: Type) -> bool:
    return t.name in NUMBERS


def comparable(a: Type, b: Type) -> bool:
    """Whether values of ``a`` and ``b`` can ever be equal or ordered."""
    if "dyn" in (a.name, b.name) or "null" in (a.name, b.name):
        return True
    if numeric(a) and numeric(b):
        return True
    if a.name != b.name:
        return False
    if a.name in ("list", "map"):
        return comparable(a.elem or DYN, b.elem or DYN) and comparable(a.key or DYN, b.key or DYN)
    return True
