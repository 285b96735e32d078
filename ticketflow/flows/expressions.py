"""CEL conditions and `{{ path }}` templates: compiled once, evaluated without I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cel

from ticketflow.flows.cel_check import Issue, check_condition, check_path, path_type
from ticketflow.flows.cel_types import Type
from ticketflow.flows.context import CONTEXT

TEMPLATE_FIELD = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}")
_ANY_FIELD = re.compile(r"\{\{(.*?)\}\}")


@lru_cache(maxsize=4096)
def program(expression: str) -> Any:
    return cel.compile(expression)


@dataclass(frozen=True)
class Verdict:
    """A condition's value for one ticket; ``error`` says why it could not be evaluated."""

    holds: bool
    error: str | None = None


def evaluate(expression: str, context: dict[str, Any] | cel.Context) -> Verdict:
    """Evaluate a condition. Pass a prepared :func:`prepare` context when evaluating several:
    converting the context is most of the cost of one evaluation.

    A condition that cannot be evaluated for this ticket (it reads ``ticket.metadata.plan``
    and the ticket has no such key, or the value has another type) does not hold: a ticket
    must never get stuck on its flow. The static checks (:func:`check`) leave only what reads
    the client's free-form ``ticket.metadata`` to run time.
    """
    try:
        value = program(expression).execute(context)
    except KeyError as exc:
        return Verdict(False, f"no key {exc}")
    except Exception as exc:  # noqa: BLE001 - CEL raises KeyError, TypeError, ValueError at run time
        return Verdict(False, f"{type(exc).__name__}: {_first_line(str(exc)).split('. ')[0]}")
    if not isinstance(value, bool):
        return Verdict(False, f"gives {type(value).__name__}, expected a bool")
    return Verdict(value)


def holds(expression: str, context: dict[str, Any] | cel.Context) -> bool:
    """Whether a condition holds (:func:`evaluate`, without the reason)."""
    return evaluate(expression, context).holds


def prepare(context: dict[str, Any]) -> cel.Context:
    return cel.Context(context)


def check(expression: str, context: Mapping[str, Type] = CONTEXT) -> list[Issue]:
    """Every problem of ``expression`` as a condition, each at its offset (``cel_check``)."""
    issues = check_condition(expression, context)
    if issues:
        return issues
    try:
        program(expression)
    except ValueError as exc:  # checked here, yet beyond what the evaluator supports
        return [Issue(0, f"the evaluator refuses this expression: {_first_line(str(exc))}")]
    return []


_CEL_ERROR = re.compile(r"<input>:(\d+):(\d+): ([^\n|]*?)(?: expecting .*)?$", re.MULTILINE)


def _first_line(text: str) -> str:
    """The evaluator's message, reduced to its position and cause."""
    if match := _CEL_ERROR.search(text):
        return f"at {match.group(1)}:{match.group(2)}: {match.group(3).strip()}"
    return next((line for line in text.splitlines() if line.strip()), text)


def lookup(context: dict[str, Any], path: str) -> Any:
    value: Any = context
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(path)
        value = value[part]
    return value


def render(template: str, context: dict[str, Any]) -> str:
    """``{{ path }}`` replaced by the field's value. Not Jinja: a template names fields and
    nothing else (no filters, loops or calls), which keeps it checkable (``check_template``)
    and harmless in a workflow."""
    return TEMPLATE_FIELD.sub(lambda m: str(lookup(context, m.group(1))), template)


def check_template(template: str, context: Mapping[str, Type] = CONTEXT) -> list[Issue]:
    """Every ``{{ ... }}`` of ``template``: a dotted path to a field of the context."""
    issues = []
    for match in _ANY_FIELD.finditer(template):
        inner = match.group(1).strip()
        offset = match.start(1) + (len(match.group(1)) - len(match.group(1).lstrip()))
        if not TEMPLATE_FIELD.fullmatch(match.group()):
            issues.append(Issue(offset, f"a template field is a dotted path like "
                                        f"{{{{ticket.subject}}}}, not {{{{{inner}}}}}"))
        elif (issue := check_path(inner, context)) is not None:
            issues.append(Issue(offset + issue.offset, issue.message))
        elif (found := path_type(inner, context)) is not None and found.name == "object":
            issues.append(Issue(offset, f"{{{{{inner}}}}} is a group of fields; name one: "
                                        f"{', '.join(n for n, _ in found.fields)}"))
    return issues
