"""Flows: YAML files validated by a JSON Schema and compiled into immutable plans.

A plan is plain data (it is recorded in the ticket's workflow history, so a
ticket keeps the plan it started with). :func:`run_plan` interprets it
deterministically: conditions are CEL, which has no I/O and no clock of its own.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import cel
import jsonschema
import yaml

from ticketflow.domain import FlowOutcome

END = "end"


class FlowError(ValueError):
    """A flow file that cannot be used; ``errors`` says where and why."""

    def __init__(self, path: str, errors: list[str]) -> None:
        super().__init__(f"{path}: " + "; ".join(errors))
        self.path = path
        self.errors = errors


@dataclass(frozen=True)
class Step:
    id: str
    condition: str | None = None
    jump_to: str | None = None
    set: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    name: str
    version: str  # content hash prefix: changes whenever the file does
    when: str | None
    order: int
    default: bool
    steps: tuple[Step, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        steps = tuple(Step(**s) for s in data["steps"])
        return cls(**{**data, "steps": steps})


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    return json.loads((Path(__file__).resolve().parent.parent / "flows" / "schema.json").read_text())


@lru_cache(maxsize=4096)
def _program(expression: str) -> Any:
    return cel.compile(expression)


def compile_flow(source: str, path: str = "<flow>") -> Plan:
    try:
        doc = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        raise FlowError(path, [f"invalid YAML: {exc}"]) from exc
    validator = jsonschema.Draft202012Validator(_schema())
    problems = [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    ]
    if problems:
        raise FlowError(path, problems)
    steps = tuple(
        Step(id=s["id"], condition=s.get("if"), jump_to=s.get("jump_to"), set=s.get("set", {}))
        for s in doc["steps"]
    )
    ids = [s.id for s in steps]
    for s in steps:
        if s.jump_to and s.jump_to != END and s.jump_to not in ids:
            problems.append(f"step {s.id}: jump_to {s.jump_to!r} names no step")
    for expr, where in [(doc.get("when"), "when")] + [(s.condition, f"step {s.id}: if") for s in steps]:
        if expr:
            try:
                _program(expr)
            except ValueError as exc:
                problems.append(f"{where}: invalid CEL {expr!r}: {exc}")
    if problems:
        raise FlowError(path, problems)
    return Plan(
        name=doc["name"],
        version=hashlib.sha256(source.encode()).hexdigest()[:12],
        when=doc.get("when"),
        order=doc.get("order", 100),
        default=bool(doc.get("default", False)),
        steps=steps,
    )


def load_flows(directory: Path) -> list[Plan]:
    """Compile every flow in ``directory``, in selection order."""
    plans = [compile_flow(p.read_text(), str(p)) for p in sorted(directory.glob("*.yaml"))]
    defaults = [p.name for p in plans if p.default]
    if len(defaults) != 1:
        raise FlowError(str(directory), [f"exactly one default flow is needed, found {defaults}"])
    return sorted(plans, key=lambda p: (p.default, p.order, p.name))


def _truthy(expression: str, context: dict[str, Any]) -> bool:
    return _program(expression).execute(context) is True


def select_plan(plans: list[Plan], context: dict[str, Any]) -> Plan:
    for plan in plans:
        if plan.default or (plan.when and _truthy(plan.when, context)):
            return plan
    raise LookupError("no flow matches and no default flow is loaded")


def run_plan(plan: Plan, context: dict[str, Any], *, max_steps: int = 1000) -> FlowOutcome:
    """Walk the plan from its first step; ``set`` actions accumulate."""
    index = {s.id: i for i, s in enumerate(plan.steps)}
    outcome = FlowOutcome(flow_name=plan.name, flow_version=plan.version, queue="general",
                          priority=context["ticket"].get("priority") or "normal")
    i = 0
    while i < len(plan.steps):
        max_steps -= 1
        if max_steps < 0:
            raise RuntimeError(f"flow {plan.name} ran more than its step budget")
        step = plan.steps[i]
        if step.condition and not _truthy(step.condition, context):
            i += 1
            continue
        outcome.trail.append(step.id)
        actions = step.set
        outcome.queue = actions.get("queue", outcome.queue)
        outcome.priority = actions.get("priority", outcome.priority)
        outcome.tags.extend(t for t in actions.get("tags", []) if t not in outcome.tags)
        if step.jump_to == END:
            break
        i = index[step.jump_to] if step.jump_to else i + 1
    return outcome


def flow_context(ticket: dict[str, Any], tags: list[str], language: str | None) -> dict[str, Any]:
    """What CEL sees: ``ticket.*`` (fields, tags, language)."""
    return {"ticket": {**ticket, "tags": list(tags), "language": language or ""}}
