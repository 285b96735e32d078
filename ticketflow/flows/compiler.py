"""YAML → plan. Every error names the file, the line and column, the step, and what was expected."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import jsonschema

from ticketflow.flows import checks, selection, yamldoc
from ticketflow.flows.errors import FlowError, FlowProblem
from ticketflow.flows.expressions import check, check_template
from ticketflow.flows.model import ACTIONS, Branch, Plan, Step


def _schema_message(error: jsonschema.ValidationError) -> str:
    where = "/".join(map(str, error.absolute_path)) or "the flow"
    if error.validator == "additionalProperties":
        return f"{error.message} in {where}"
    if error.validator == "oneOf" and error.absolute_path and error.absolute_path[-1] == "wait":
        return "wait needs either `duration`, or `event` with `timeout`"
    if error.validator == "oneOf":
        return f"{where}: expected `when` with `jump_to`, or `default`"
    return f"{where}: {error.message}"


def compile_flow(source: str, path: str = "<flow>") -> Plan:
    doc, report = yamldoc.load(source, path)
    if not isinstance(doc, dict):
        report.add((), "a flow is a mapping with `name` and `steps`")
        raise FlowError(report.problems)
    for error in sorted(yamldoc.validator("schema.json").iter_errors(doc),
                        key=lambda e: list(map(str, e.absolute_path))):
        report.add(tuple(error.absolute_path), _schema_message(error))
    if report.problems:
        raise FlowError(report.problems)

    steps = tuple(_step(raw, i, report) for i, raw in enumerate(doc["steps"]))
    if doc.get("when") and (why := check(doc["when"])):
        report.add(("when",), why)
    if doc.get("default") and doc.get("when"):
        report.add(("when",), "the default flow takes every ticket; remove `when`")
    plan = Plan(
        name=doc["name"], digest=hashlib.sha256(source.encode()).hexdigest()[:12],
        version=str(doc.get("version", "")), description=doc.get("description", ""),
        when=doc.get("when"), order=doc.get("order", 100), default=bool(doc.get("default")),
        steps=steps,
    )
    for index, message in checks.graph_problems(plan):
        report.add(("steps", index) if index is not None else ("steps",), message)
    if report.problems:
        raise FlowError(report.problems)
    return plan


def _step(raw: dict[str, Any], i: int, report: yamldoc.Reporter) -> Step:
    where = ("steps", i)
    actions = [a for a in ACTIONS if a in raw]
    if len(actions) > 1:
        report.add(where, f"one action per step, found {', '.join(actions)}")
    if "switch" in raw and (actions or "jump_to" in raw or "if" in raw):
        report.add((*where, "switch"), "a switch step has no action, `if` or `jump_to`")
    if "else" in raw and "if" not in raw:
        report.add((*where, "else"), "`else` needs an `if`")
    if "on_timeout" in raw and "event" not in raw.get("wait", {}):
        report.add((*where, "on_timeout"), "`on_timeout` belongs to a `wait` on an event")
    for key in ("if",):
        if key in raw and (why := check(raw[key])):
            report.add((*where, key), why)
    branches = []
    for j, b in enumerate(raw.get("switch", [])):
        if "when" in b and (why := check(b["when"])):
            report.add((*where, "switch", j, "when"), why)
        branches.append(Branch(target=b.get("jump_to", b.get("default", "")), when=b.get("when")))
    action = actions[0] if actions else None
    args = raw.get(action, {}) if action else {}
    if action == "auto_reply":
        args = {"template": raw["auto_reply"]}
        if why := check_template(raw["auto_reply"]):
            report.add((*where, "auto_reply"), why)
    if action == "notify" and "message" in args and (why := check_template(args["message"])):
        report.add((*where, "notify", "message"), why)
    return Step(id=raw["id"], action=action, args=args, condition=raw.get("if"),
                else_to=raw.get("else"), jump_to=raw.get("jump_to"), switch=tuple(branches),
                on_timeout=raw.get("on_timeout"))


def load_flows(directory: Path) -> list[Plan]:
    """Compile every flow in ``directory`` and check them as a set; in selection order."""
    plans: list[Plan] = []
    problems: list[FlowProblem] = []
    for file in sorted(directory.glob("*.yaml")):
        if file.name in ("taxonomy.yaml", "sla.yaml"):
            continue
        try:
            plans.append(compile_flow(file.read_text(), str(file)))
        except FlowError as exc:
            problems += exc.problems
    problems += [FlowProblem(str(directory), 0, 0, None, m) for m in checks.set_problems(plans)]
    if problems:
        raise FlowError(problems)
    return sorted(plans, key=selection_key)


def selection_key(plan: Plan) -> tuple:
    return (plan.default, plan.order, plan.name)


def select_plan(plans: list[Plan], context: dict[str, Any], prepared: Any = None) -> Plan:
    """The first flow whose `when` holds, else the default. ``prepared``: see ``prepare``."""
    return selection.choose(plans, context, prepared)[0]
