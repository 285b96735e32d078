"""Static checks of flow conditions: every name and field against the declared context
(``context.CONTEXT``), every operator and function against its operands' types.

A mistake is an :class:`Issue` at its offset in the expression: an unknown variable or field
(with the closest known name), a comparison whose sides can never be equal or ordered, a
literal that a field with a fixed vocabulary never holds, a function that does not exist or
does not take these arguments, a condition that is not a bool. ``ticket.metadata`` is the
client's own, free-form: what is read inside it is known only at run time (``dyn``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from ticketflow.flows import cel_functions
from ticketflow.flows.cel_syntax import (
    Binary,
    Call,
    CelSyntaxError,
    Conditional,
    Ident,
    Index,
    ListExpr,
    Literal,
    MapExpr,
    Node,
    Select,
    Unary,
    parse,
)
from ticketflow.flows.cel_types import (
    BOOL,
    BYTES,
    DOUBLE,
    DURATION,
    DYN,
    INT,
    NULL,
    NUMBERS,
    STRING,
    TIMESTAMP,
    UINT,
    Type,
    comparable,
    list_of,
    map_of,
    numeric,
)
from ticketflow.flows.errors import closest


@dataclass(frozen=True)
class Issue:
    offset: int
    message: str


_LITERAL_TYPES = {"int": INT, "uint": UINT, "double": DOUBLE, "string": STRING, "bytes": BYTES,
                  "bool": BOOL, "null": NULL}


def check_condition(expression: str, context: Mapping[str, Type]) -> list[Issue]:
    """Every problem of ``expression`` as a flow condition (it must give a bool)."""
    try:
        tree = parse(expression)
    except CelSyntaxError as exc:
        return [Issue(exc.offset, f"invalid CEL: {exc.message}")]
    checker = Checker(dict(context))
    result = checker.type(tree)
    if not checker.issues and result.name not in ("bool", "dyn"):
        checker.issues.append(Issue(0, f"a condition must give a bool; this gives {result}"))
    return checker.issues


def check_path(path: str, context: Mapping[str, Type]) -> Issue | None:
    """A dotted path (a template's ``{{ ticket.subject }}``) against the context."""
    checker = Checker(dict(context))
    checker.type(_path_node(path))
    return checker.issues[0] if checker.issues else None


def path_type(path: str, context: Mapping[str, Type]) -> Type | None:
    """The type of a dotted path that :func:`check_path` accepts."""
    checker = Checker(dict(context))
    found = checker.type(_path_node(path))
    return None if checker.issues else found


def _path_node(path: str) -> Node:
    offset, node = 0, None
    for i, part in enumerate(path.split(".")):
        node = Ident(offset, part) if i == 0 else Select(offset, node, part)  # type: ignore[arg-type]
        offset += len(part) + 1
    assert node is not None
    return node


class Checker:
    """The type of each node of one expression, and the issues found on the way."""

    def __init__(self, scope: dict[str, Type]) -> None:
        self.scope = scope
        self.issues: list[Issue] = []

    def fail(self, node: Node, message: str) -> Type:
        self.issues.append(Issue(node.pos, message))
        return DYN  # one mistake, one message: what depends on it is not checked again

    def type(self, node: Node) -> Type:
        match node:
            case Literal(kind=kind):
                return _LITERAL_TYPES[kind]
            case Ident(name=name):
                if name in self.scope:
                    return self.scope[name]
                known = sorted(self.scope)
                return self.fail(node, f"unknown variable {name}{closest(name, known)}; "
                                       f"known: {', '.join(known)}")
            case Select(operand=operand, field=name):
                return self.select(node, self.type(operand), name, operand)
            case Index(operand=operand, index=index):
                return self.index(node, self.type(operand), self.type(index))
            case ListExpr(items=items):
                types = [self.type(i) for i in items]
                return list_of(types[0] if types and all(t == types[0] for t in types) else DYN)
            case MapExpr(entries=entries):
                pairs = [(self.type(k), self.type(v)) for k, v in entries]
                return map_of(pairs[0][0] if pairs else DYN, DYN)
            case Unary(op=op, operand=operand):
                return self.unary(node, op, self.type(operand))
            case Binary(op=op, left=left, right=right):
                return self.binary(node, op, left, right)
            case Conditional(test=test, then=then, otherwise=otherwise):
                self.want_bool(test, self.type(test), "the test of `? :`")
                first, second = self.type(then), self.type(otherwise)
                return first if first == second else DYN
            case Call():
                return cel_functions.call(self, node)
        raise AssertionError(node)

    def select(self, node: Node, operand: Type, name: str, operand_node: Node) -> Type:
        if operand.name == "object":
            if (found := operand.field(name)) is not None:
                return found
            known = [n for n, _ in operand.fields]
            return self.fail(node, f"unknown field {_path(operand_node)}.{name}"
                                   f"{closest(name, known)}; known: {', '.join(known)}")
        if operand.name == "map":
            if operand.key not in (STRING, DYN, None):
                return self.fail(node, f"`.{name}` reads a string key, but the keys are {operand.key}")
            return operand.elem or DYN
        if operand.name == "dyn":
            return DYN
        return self.fail(node, f"{_path(operand_node)} is a {operand}: it has no field {name}")

    def index(self, node: Node, operand: Type, index: Type) -> Type:
        if operand.name == "list":
            if index.name not in ("int", "uint", "dyn"):
                return self.fail(node, f"a list is indexed by an int, not a {index}")
            return operand.elem or DYN
        if operand.name == "map":
            if not comparable(operand.key or DYN, index):
                return self.fail(node, f"the keys are {operand.key}, not {index}")
            return operand.elem or DYN
        if operand.name == "object":
            return self.fail(node, "fields are read with `.name`, not `[...]`")
        if operand.name == "dyn":
            return DYN
        return self.fail(node, f"a {operand} cannot be indexed")

    def unary(self, node: Node, op: str, operand: Type) -> Type:
        if op == "!":
            self.want_bool(node, operand, "`!`")
            return BOOL
        if operand.name in ("int", "double", "duration", "dyn"):
            return operand
        return self.fail(node, f"`-` needs a number, not a {operand}")

    def want_bool(self, node: Node, found: Type, what: str) -> None:
        if found.name not in ("bool", "dyn"):
            self.issues.append(Issue(_start(node), f"{what} needs a bool, not a {found}"))

    def binary(self, node: Node, op: str, left_node: Node, right_node: Node) -> Type:
        left, right = self.type(left_node), self.type(right_node)
        if DYN in (left, right) and op not in ("&&", "||", "in", "==", "!="):
            return BOOL if op in ("<", "<=", ">", ">=") else DYN
        if op in ("&&", "||"):
            self.want_bool(left_node, left, f"`{op}`")
            self.want_bool(right_node, right, f"`{op}`")
            return BOOL
        if op in ("==", "!="):
            if not comparable(left, right):
                return self.fail(node, f"{_shown(left_node, left)} and {_shown(right_node, right)} "
                                       f"can never be equal")
            self.vocabulary(left_node, left, right_node)
            self.vocabulary(right_node, right, left_node)
            return BOOL
        if op in ("<", "<=", ">", ">="):
            if not (numeric(left) and numeric(right)) and (
                    left.name != right.name or left.name not in ("string", "timestamp",
                                                                  "duration", "bytes", "bool")):
                return self.fail(node, f"{_shown(left_node, left)} and "
                                       f"{_shown(right_node, right)} cannot be ordered")
            return BOOL
        if op == "in":
            return self.membership(node, left_node, left, right_node, right)
        return self.arithmetic(node, op, left_node, left, right_node, right)

    def membership(self, node: Node, left_node: Node, left: Type, right_node: Node,
                   right: Type) -> Type:
        if right.name == "list":
            elem = right.elem or DYN
            if not comparable(left, elem):
                return self.fail(node, f"{_shown(left_node, left)} is never in "
                                       f"{_shown(right_node, right)}")
            if isinstance(right_node, ListExpr):
                for item in right_node.items:
                    self.vocabulary(left_node, left, item)
            return BOOL
        if right.name == "map":
            if not comparable(left, right.key or DYN):
                return self.fail(node, f"{_shown(left_node, left)} is never a key of "
                                       f"{_shown(right_node, right)}")
            return BOOL
        if right.name == "dyn":
            return BOOL
        hint = " (for text, use .contains())" if right.name == "string" else ""
        return self.fail(node, f"`in` needs a list or a map on its right, not a {right}{hint}")

    def arithmetic(self, node: Node, op: str, left_node: Node, left: Type, right_node: Node,
                   right: Type) -> Type:
        pair = (left.name, right.name)
        if left.name in NUMBERS and left == right:
            return left
        if op == "+" and left == right and left.name in ("string", "bytes", "list", "duration"):
            return left
        if op == "+" and set(pair) == {"timestamp", "duration"}:
            return TIMESTAMP
        if op == "-" and pair in (("timestamp", "timestamp"), ("duration", "duration")):
            return DURATION
        if op == "-" and pair == ("timestamp", "duration"):
            return TIMESTAMP
        both = " (CEL does not mix int and double: convert one, e.g. double(x))" \
            if left.name in NUMBERS and right.name in NUMBERS else ""
        return self.fail(node, f"`{op}` is not defined for {_shown(left_node, left)} and "
                               f"{_shown(right_node, right)}{both}")

    def vocabulary(self, field_node: Node, field: Type, other: Node | None) -> None:
        """A field with a fixed vocabulary compared with a string literal it never holds."""
        if not field.values or not isinstance(other, Literal) or other.kind != "string":
            return
        if other.value not in field.values:
            known = sorted(field.values)
            self.fail(other, f"{_path(field_node)} is never {_path(other)}"
                             f"{closest(str(other.value), known)}; it is one of {', '.join(known)}")


def _start(node: Node) -> int:
    """Where the text of ``node`` begins (a selection's own offset is its field's)."""
    match node:
        case Select(operand=operand) | Index(operand=operand):
            return _start(operand)
        case Binary(left=left):
            return _start(left)
        case Conditional(test=test):
            return _start(test)
        case Call(target=Node() as target):
            return _start(target)
    return node.pos


def _path(node: Node) -> str:
    match node:
        case Ident(name=name):
            return name
        case Select(operand=operand, field=name):
            return f"{_path(operand)}.{name}"
        case Literal(value=value, kind="string"):
            return json.dumps(value, ensure_ascii=False)
        case Literal(value=value):
            return str(value).lower() if isinstance(value, bool) else str(value)
    return "the expression"


def _shown(node: Node, t: Type) -> str:
    """``ticket.user_level (int)``, ``"5" (string)``."""
    return f"{_path(node)} ({t})"
