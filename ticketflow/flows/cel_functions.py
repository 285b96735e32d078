"""The functions and macros flow conditions may call, and the types they take and give."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ticketflow.flows.cel_syntax import Call, Ident, Select
from ticketflow.flows.cel_types import (
    BOOL,
    BYTES,
    DOUBLE,
    DURATION,
    DYN,
    INT,
    STRING,
    TIMESTAMP,
    TYPE,
    UINT,
    Type,
    list_of,
)
from ticketflow.flows.errors import closest

if TYPE_CHECKING:
    from ticketflow.flows.cel_check import Checker

_CONVERSIONS = {"int": INT, "uint": UINT, "double": DOUBLE, "string": STRING, "bytes": BYTES,
                "bool": BOOL, "dyn": DYN, "type": TYPE, "timestamp": TIMESTAMP,
                "duration": DURATION}
_STRING_TESTS = ("contains", "startsWith", "endsWith", "matches")
_TIME_PARTS = ("getFullYear", "getMonth", "getDate", "getDayOfMonth", "getDayOfWeek",
               "getDayOfYear", "getHours", "getMinutes", "getSeconds", "getMilliseconds")
_MACROS = ("all", "exists", "exists_one", "map", "filter")
FUNCTIONS = sorted({"size", "has", *_CONVERSIONS, *_STRING_TESTS, *_TIME_PARTS, *_MACROS})


def call(checker: Checker, node: Call) -> Type:
    """The type of a function or method call, or an issue: its name, receiver and arguments."""
    name, args, target = node.name, node.args, node.target
    if name == "has" and target is None:
        if len(args) != 1 or not isinstance(args[0], Select):
            return checker.fail(node, "has() takes one field selection, e.g. has(ticket.metadata.plan)")
        checker.type(args[0].operand)
        return BOOL
    if name in _MACROS and target is not None:
        return _macro(checker, node, checker.type(target))
    arg_types = [checker.type(a) for a in args]
    receiver = checker.type(target) if target is not None else None
    if name == "size":
        sized = receiver if receiver is not None else (arg_types[0] if len(arg_types) == 1 else None)
        if sized is None or len(arg_types) != (0 if receiver is not None else 1):
            return checker.fail(node, "size() takes one string, bytes, list or map")
        if sized.name not in ("string", "bytes", "list", "map", "dyn"):
            return checker.fail(node, f"size() of a {sized} is not defined")
        return INT
    if name in _CONVERSIONS and target is None:
        if len(args) != 1:
            return checker.fail(node, f"{name}() takes one argument")
        return _CONVERSIONS[name]
    if name in _STRING_TESTS and receiver is not None:
        if receiver.name not in ("string", "dyn"):
            return checker.fail(node, f".{name}() is for strings, not a {receiver}")
        if len(arg_types) != 1 or arg_types[0].name not in ("string", "dyn"):
            return checker.fail(node, f".{name}() takes one string")
        return BOOL
    if name in _TIME_PARTS and receiver is not None:
        if receiver.name not in ("timestamp", "duration", "dyn"):
            return checker.fail(node, f".{name}() is for timestamps, not a {receiver}")
        if args:
            return checker.fail(node, f".{name}() takes no arguments here (times are UTC)")
        return INT
    return checker.fail(node, f"unknown function {name}(){closest(name, FUNCTIONS)}")

def _macro(checker: Checker, node: Call, receiver: Type) -> Type:
    """``.all(x, p)``, ``.map(x, e)``, ...: ``e`` checked with ``x`` bound to an item."""
    if len(node.args) != 2 or not isinstance(node.args[0], Ident):
        return checker.fail(node, f".{node.name}(x, ...) takes a variable name and an expression")
    if receiver.name not in ("list", "map", "dyn"):
        return checker.fail(node, f".{node.name}() is for lists and maps, not a {receiver}")
    item = (receiver.key if receiver.name == "map" else receiver.elem) or DYN
    variable = node.args[0].name
    saved = checker.scope.get(variable)
    checker.scope[variable] = item
    try:
        body = checker.type(node.args[1])
    finally:
        if saved is None:
            del checker.scope[variable]
        else:
            checker.scope[variable] = saved
    if node.name == "map":
        return list_of(body)
    checker.want_bool(node.args[1], body, f".{node.name}()")
    return list_of(item) if node.name == "filter" else BOOL
