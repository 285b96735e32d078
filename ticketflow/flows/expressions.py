"""CEL conditions and `{{ path }}` templates: compiled once, evaluated without I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cel

from ticketflow.flows.context import SAMPLE, VARIABLES

TEMPLATE_FIELD = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*)\s*\}\}")


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
    must never get stuck on its flow. Compile-time checks catch what a sample ticket can show.
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


def check(expression: str) -> str | None:
    """Why ``expression`` cannot be used as a condition, or None."""
    try:
        compiled = program(expression)
    except ValueError as exc:
        return f"invalid CEL: {_first_line(str(exc))} in {expression!r}"
    unknown = sorted(set(compiled.variables()) - set(VARIABLES))
    if unknown:
        return f"unknown variable {', '.join(unknown)} in {expression!r} (known: {', '.join(VARIABLES)})"
    try:
        value = compiled.execute(SAMPLE)
    except KeyError:
        return None  # a key the sample lacks (metadata), which real tickets may have
    except Exception as exc:  # noqa: BLE001 - CEL raises several kinds for type errors
        return f"CEL type error in {expression!r}: {_first_line(str(exc))}"
    if not isinstance(value, bool):
        return f"condition {expression!r} gives {type(value).__name__}, expected a bool"
    return None


_CEL_ERROR = re.compile(r"<input>:(\d+):(\d+): ([^\n|]*?)(?: expecting .*)?$", re.MULTILINE)


def _first_line(text: str) -> str:
    """CEL's message, reduced to its position and cause."""
    if match := _CEL_ERROR.search(text):
        return f"at {match.group(1)}:{match.group(2)}: {match.group(3).strip()}"
    return next((line for line in text.splitlines() if line.strip()), text)[:200]


def lookup(context: dict[str, Any], path: str) -> Any:
    value: Any = context
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            raise KeyError(path)
        value = value[part]
    return value


def render(template: str, context: dict[str, Any]) -> str:
    return TEMPLATE_FIELD.sub(lambda m: str(lookup(context, m.group(1))), template)


def check_template(template: str) -> str | None:
    for match in TEMPLATE_FIELD.finditer(template):
        try:
            lookup(SAMPLE, match.group(1))
        except KeyError:
            return f"template field {{{{{match.group(1)}}}}} is not a known field"
    return None
