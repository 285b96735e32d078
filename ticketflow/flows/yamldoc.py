"""A YAML document checked against a JSON Schema, every problem placed at its line and column.

Shared by the kinds of file in the flows folder: flows, SLA policies, calendars, the taxonomy.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from ticketflow.flows.errors import FlowError, FlowProblem

FLOWS = Path(__file__).resolve().parents[2] / "flows"


@lru_cache(maxsize=8)
def validator(schema_file: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads((FLOWS / schema_file).read_text()))


def nodes(node: yaml.Node, path: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], yaml.Node]:
    """Map each path in the document to the node of its value."""
    found = {path: node}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            found.update(nodes(value, (*path, key.value)))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found.update(nodes(item, (*path, i)))
    return found


class Reporter:
    """Collects problems, each at the nearest position the document has for its path."""

    def __init__(self, path: str, doc: Any, source: str = "",
                 found: dict[tuple[Any, ...], yaml.Node] | None = None) -> None:
        self.path, self.doc, self.source, self.nodes = path, doc, source, found or {}
        self.positions = {where: (n.start_mark.line + 1, n.start_mark.column + 1)
                          for where, n in self.nodes.items()}
        self.problems: list[FlowProblem] = []

    def step_name(self, where: tuple[Any, ...]) -> str | None:
        if len(where) >= 2 and where[0] == "steps" and isinstance(where[1], int):
            steps = self.doc.get("steps") if isinstance(self.doc, dict) else None
            step = steps[where[1]] if isinstance(steps, list) and where[1] < len(steps) else None
            return step.get("id", f"#{where[1] + 1}") if isinstance(step, dict) else f"#{where[1] + 1}"
        return None

    def add(self, where: tuple[Any, ...], message: str) -> None:
        probe = where
        while probe not in self.positions and probe:
            probe = probe[:-1]
        line, column = self.positions.get(probe, (0, 0))
        self.problems.append(FlowProblem(self.path, line, column, self.step_name(where), message))

    def add_inside(self, where: tuple[Any, ...], offset: int, message: str) -> None:
        """A problem at character ``offset`` of the string value at ``where`` (an expression,
        a template): placed at that character in the file."""
        node = self.nodes.get(where)
        if not isinstance(node, yaml.ScalarNode) or offset < 0:
            return self.add(where, message)
        index = _source_index(self.source, node, offset)
        line = self.source.count("\n", 0, index)
        column = index - (self.source.rfind("\n", 0, index) + 1)
        self.problems.append(FlowProblem(self.path, line + 1, column + 1, self.step_name(where),
                                         message))

    def raise_any(self) -> None:
        if self.problems:
            raise FlowError(self.problems)


def _source_index(source: str, node: yaml.ScalarNode, offset: int) -> int:
    """Where character ``offset`` of a scalar's value is in the source. Exact for a plain or
    quoted value on one line; otherwise (folded, escaped, block values) the nearest place in
    the value's text where the same characters appear."""
    start, end = node.start_mark.index, node.end_mark.index
    quoted = node.style in ("'", '"')
    if node.start_mark.line == node.end_mark.line and node.style in (None, "'", '"'):
        return start + offset + (1 if quoted else 0)
    value = str(node.value)
    region = source[start:end]
    for width in (12, 6, 3, 1):
        needle = value[offset:offset + width]
        hits = [i for i in range(len(region)) if region.startswith(needle, i)] if needle else []
        if hits:
            # The value's text reads left to right: prefer the hit nearest its share of it.
            guess = offset * len(region) // max(len(value), 1)
            return start + min(hits, key=lambda i: abs(i - guess))
    return start


class _Loader(yaml.SafeLoader):
    """Safe YAML, where a date stays the text it is written as (a holiday, say): every value
    is then a JSON value, as the schemas expect."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def load(source: str, path: str) -> tuple[Any, Reporter]:
    """Parse YAML (a syntax error is a FlowError with its position, like any other problem)."""
    try:
        node = yaml.compose(source)
        doc = yaml.load(source, Loader=_Loader)  # noqa: S506  # a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise FlowError([FlowProblem(path, line, column, None,
                                     f"invalid YAML: {getattr(exc, 'problem', exc)}")]) from exc
    report = Reporter(path, doc, source, nodes(node) if node is not None else {})
    for where, number in _non_finite(doc):
        report.add(where, f"{'/'.join(map(str, where)) or 'the document'}: {number} is not a "
                          "finite number")
    return doc, report


def _non_finite(doc: Any, where: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], float]]:
    """YAML's ``.nan`` and ``.inf``: no JSON value, no share of a deadline, no duration."""
    if isinstance(doc, float) and not math.isfinite(doc):
        yield where, doc
    elif isinstance(doc, dict):
        for key, value in doc.items():
            yield from _non_finite(value, (*where, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from _non_finite(value, (*where, i))


def checked(source: str, path: str, schema_file: str, what: str) -> tuple[dict[str, Any], Reporter]:
    """Parse and check against ``schema_file``; FlowError with every problem placed."""
    doc, report = load(source, path)
    if not isinstance(doc, dict):
        report.add((), f"{what} is a YAML mapping")
        report.raise_any()
    for error in sorted(validator(schema_file).iter_errors(doc),
                        key=lambda e: list(map(str, e.absolute_path))):
        where = "/".join(map(str, error.absolute_path)) or what
        report.add(tuple(error.absolute_path), f"{where}: {error.message}")
    report.raise_any()
    return doc, report
