"""CEL's grammar, parsed into a tree whose every node knows its offset in the expression.

The ``cel`` package evaluates expressions but neither types them nor says where a name is;
this parser exists for the static checks (``cel_check``). It follows the CEL specification's
grammar (language-definition.md): the conditional, ``||``, ``&&``, relations with ``in``,
arithmetic, unary ``!`` and ``-``, member selection, indexing, calls, list and map literals
and every literal form. Message construction (``a.b{f: 1}``) is not needed by flows and is
refused as a syntax error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

RESERVED = frozenset({"as", "break", "const", "continue", "else", "for", "function", "if",
                      "import", "let", "loop", "package", "namespace", "return", "var", "void",
                      "while"})


class CelSyntaxError(ValueError):
    def __init__(self, offset: int, message: str) -> None:
        super().__init__(message)
        self.offset, self.message = offset, message


@dataclass(frozen=True)
class Node:
    pos: int  # offset of the node's first character (for a selection: of its field name)


@dataclass(frozen=True)
class Literal(Node):
    kind: str  # int, uint, double, string, bytes, bool, null
    value: object


@dataclass(frozen=True)
class Ident(Node):
    name: str


@dataclass(frozen=True)
class Select(Node):
    operand: Node
    field: str


@dataclass(frozen=True)
class Index(Node):
    operand: Node
    index: Node


@dataclass(frozen=True)
class Call(Node):
    name: str
    args: tuple[Node, ...]
    target: Node | None = None  # ``target.name(args)``


@dataclass(frozen=True)
class ListExpr(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class MapExpr(Node):
    entries: tuple[tuple[Node, Node], ...]


@dataclass(frozen=True)
class Unary(Node):
    op: str  # "!" or "-"
    operand: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str  # || && < <= > >= == != in + - * / %
    left: Node
    right: Node


@dataclass(frozen=True)
class Conditional(Node):
    test: Node
    then: Node
    otherwise: Node


_TOKEN = re.compile(r"""
    (?P<space>\s+|//[^\n]*)
  | (?P<number>0[xX][0-9a-fA-F]+[uU]?|(?:[0-9]+\.[0-9]+|\.[0-9]+)(?:[eE][+-]?[0-9]+)?
              |[0-9]+[eE][+-]?[0-9]+|[0-9]+[uU]?)
  | (?P<string>[rRbB]{0,2}(?:\"\"\"[\s\S]*?\"\"\"|'''[\s\S]*?'''|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'))
  | (?P<ident>[_a-zA-Z][_a-zA-Z0-9]*)
  | (?P<op>\|\||&&|<=|>=|==|!=|[<>!+\-*/%?:.,()\[\]{}])
""", re.VERBOSE)


@dataclass
class Token:
    kind: str  # number, string, ident, op, end
    text: str
    pos: int


def tokens(source: str) -> list[Token]:
    found, pos = [], 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None:
            bad = source[pos]
            what = "an unclosed string" if bad in "\"'" else f"unexpected character {bad!r}"
            raise CelSyntaxError(pos, what)
        kind = match.lastgroup or ""
        if kind != "space":
            found.append(Token(kind, match.group(), pos))
        pos = match.end()
    found.append(Token("end", "", len(source)))
    return found


def parse(source: str) -> Node:
    """The expression's tree; ``CelSyntaxError`` with the offset of the first problem."""
    if not source.strip():
        raise CelSyntaxError(0, "the expression is empty")
    return _Parser(tokens(source)).whole()


@dataclass
class _Parser:
    toks: list[Token]
    at: int = field(default=0)

    @property
    def tok(self) -> Token:
        return self.toks[self.at]

    def take(self) -> Token:
        tok = self.toks[self.at]
        self.at += 1
        return tok

    def accept(self, text: str) -> Token | None:
        if self.tok.kind in ("op", "ident") and self.tok.text == text:
            return self.take()
        return None

    def expect(self, text: str, after: str) -> Token:
        if (tok := self.accept(text)) is None:
            raise CelSyntaxError(self.tok.pos, f"expected `{text}` {after}, found {self._shown()}")
        return tok

    def _shown(self) -> str:
        return "the end" if self.tok.kind == "end" else f"`{self.tok.text}`"

    def whole(self) -> Node:
        node = self.expr()
        if self.tok.kind != "end":
            raise CelSyntaxError(self.tok.pos, f"unexpected {self._shown()} after a whole expression")
        return node

    def expr(self) -> Node:
        test = self.binary(0)
        if (q := self.accept("?")) is None:
            return test
        then = self.binary(0)
        self.expect(":", "in a conditional `a ? b : c`")
        return Conditional(q.pos, test, then, self.expr())

    _LEVELS = (("||",), ("&&",), ("<", "<=", ">", ">=", "==", "!=", "in"), ("+", "-"),
               ("*", "/", "%"))

    def binary(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.tok.kind in ("op", "ident") and self.tok.text in self._LEVELS[level]:
            op = self.take()
            left = Binary(op.pos, op.text, left, self.binary(level + 1))
        return left

    def unary(self) -> Node:
        if self.tok.kind == "op" and self.tok.text in ("!", "-"):
            op = self.take()
            operand = self.unary()
            if op.text == "-" and isinstance(operand, Literal) and operand.kind in ("int", "double"):
                return Literal(op.pos, operand.kind, -operand.value)  # type: ignore[operator]
            return Unary(op.pos, op.text, operand)
        return self.member()

    def member(self) -> Node:
        node = self.primary()
        while True:
            if self.accept("."):
                name = self.tok
                if name.kind != "ident":
                    raise CelSyntaxError(name.pos, f"expected a field name after `.`, found {self._shown()}")
                self.take()
                if self.accept("("):
                    node = Call(name.pos, name.text, self.arguments(")"), target=node)
                else:
                    node = Select(name.pos, node, name.text)
            elif bracket := self.accept("["):
                index = self.expr()
                self.expect("]", "to close the index")
                node = Index(bracket.pos, node, index)
            else:
                return node

    def arguments(self, close: str) -> tuple[Node, ...]:
        items: list[Node] = []
        while self.accept(close) is None:
            items.append(self.expr())
            if self.accept(",") is None:
                self.expect(close, "or `,` between items")
                break
        return tuple(items)

    def primary(self) -> Node:
        tok = self.tok
        if tok.kind == "number":
            self.take()
            return _number(tok)
        if tok.kind == "string":
            self.take()
            return _string(tok)
        if tok.kind == "ident":
            self.take()
            if tok.text in ("true", "false"):
                return Literal(tok.pos, "bool", tok.text == "true")
            if tok.text == "null":
                return Literal(tok.pos, "null", None)
            if tok.text in RESERVED or tok.text == "in":
                raise CelSyntaxError(tok.pos, f"`{tok.text}` is a reserved word")
            if self.accept("("):
                return Call(tok.pos, tok.text, self.arguments(")"))
            return Ident(tok.pos, tok.text)
        if self.accept("("):
            inner = self.expr()
            self.expect(")", "to close the parenthesis")
            return inner
        if self.accept("["):
            return ListExpr(tok.pos, self.arguments("]"))
        if self.accept("{"):
            entries: list[tuple[Node, Node]] = []
            while self.accept("}") is None:
                key = self.expr()
                self.expect(":", "between a map key and its value")
                entries.append((key, self.expr()))
                if self.accept(",") is None:
                    self.expect("}", "or `,` between map entries")
                    break
            return MapExpr(tok.pos, tuple(entries))
        raise CelSyntaxError(tok.pos, f"expected a value, found {self._shown()}")


def _number(tok: Token) -> Literal:
    text = tok.text
    if text[-1] in "uU":
        return Literal(tok.pos, "uint", int(text[:-1], 0))
    if text.lower().startswith("0x"):
        return Literal(tok.pos, "int", int(text, 16))
    if any(c in text for c in ".eE"):
        return Literal(tok.pos, "double", float(text))
    return Literal(tok.pos, "int", int(text))


def _string(tok: Token) -> Literal:
    text = tok.text
    prefix = text[: len(text) - len(text.lstrip("rRbB"))].lower()
    body = text[len(prefix):]
    quote = 3 if body[:3] in ('"""', "'''") else 1
    value = body[quote:-quote]
    if "r" not in prefix:
        try:
            value = value.encode("latin-1", "backslashreplace").decode("unicode_escape")
        except UnicodeDecodeError as exc:
            raise CelSyntaxError(tok.pos, "invalid escape in a string") from exc
    return Literal(tok.pos, "bytes" if "b" in prefix else "string", value)
