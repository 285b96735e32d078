"""YAML → plan. Every error names the file, the line and column, the step, and what was expected."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema

from ticketflow.flows import checks, selection, yamldoc
from ticketflow.flows.cel_types import Type
from ticketflow.flows.context import context_with_calendars
from ticketflow.flows.errors import FlowError, FlowProblem, closest
from ticketflow.flows.expressions import check, check_template
from ticketflow.flows.model import ACTIONS, Branch, Plan, Step
from ticketflow.flows.sla_policies import SLA_FILE

# The flows folder's files that are not flows.


def _schema_message(error: jsonschema.ValidationError) -> str:
    where = "/".join(map(str, error.absolute_path)) or "the flow"
    if error.validator == "additionalProperties":
        return f"{error.message} in {where}"
    if error.validator == "oneOf" and error.absolute_path and error.absolute_path[-1] == "wait":
        return "wait needs either `duration`, or `event` with `timeout`"
    if error.validator == "oneOf":
        return f"{where}: expected `when` with `jump_to`, or `default`"
    return f"{where}: {error.message}"


def compile_flow(source: str, path: str = "<flow>", *,
                 policies: Collection[str] | None = None,
                 calendars: Collection[str] | None = None) -> Plan:
    """A flow's plan, or FlowError with every problem of the file at once: the schema's,
    then each condition's and template's (``cel_check``; ``calendars``: the calendar names
    ``calendars.<name>`` may use, when known), each reference (``policies``: the SLA policy
    names a ``set: {sla: …}`` may use, when known), and the graph's."""
    doc, report = yamldoc.load(source, path)
    if not isinstance(doc, dict):
        report.add((), "a flow is a mapping with `name` and `steps`")
        raise FlowError(report.problems)
    for error in yamldoc.validator("schema.json").iter_errors(doc):
        report.add(tuple(error.absolute_path), _schema_message(error))
    well_formed = not report.problems
    _check_expressions(doc, report, context_with_calendars(calendars))
    _check_references(doc, report, policies)
    if not well_formed:
        raise FlowError(report.problems)

    steps = tuple(_step(raw, i, report) for i, raw in enumerate(doc["steps"]))
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


def _expressions(doc: dict[str, Any]) -> Iterator[tuple[tuple[Any, ...], str, bool]]:
    """(where, text, is a condition) of every condition and template a flow holds, read
    from whatever the document has, well-formed or not."""
    if isinstance(doc.get("when"), str):
        yield ("when",), doc["when"], True
    steps = doc.get("steps")
    for i, step in enumerate(steps if isinstance(steps, list) else []):
        if not isinstance(step, dict):
            continue
        if isinstance(step.get("if"), str):
            yield ("steps", i, "if"), step["if"], True
        switch = step.get("switch")
        for j, branch in enumerate(switch if isinstance(switch, list) else []):
            if isinstance(branch, dict) and isinstance(branch.get("when"), str):
                yield ("steps", i, "switch", j, "when"), branch["when"], True
        if isinstance(step.get("auto_reply"), str):
            yield ("steps", i, "auto_reply"), step["auto_reply"], False
        notify = step.get("notify")
        if isinstance(notify, dict) and isinstance(notify.get("message"), str):
            yield ("steps", i, "notify", "message"), notify["message"], False


def _check_expressions(doc: dict[str, Any], report: yamldoc.Reporter,
                       context: Mapping[str, Type]) -> None:
    for where, text, condition in _expressions(doc):
        for issue in check(text, context) if condition else check_template(text, context):
            report.add_inside(where, issue.offset, issue.message)


def _check_references(doc: dict[str, Any], report: yamldoc.Reporter,
                      policies: Collection[str] | None) -> None:
    steps = doc.get("steps")
    for i, step in enumerate(steps if isinstance(steps, list) else []):
        fields = step.get("set") if isinstance(step, dict) else None
        sla = fields.get("sla") if isinstance(fields, dict) else None
        if policies is not None and isinstance(sla, str) and sla not in policies:
            known = sorted(policies)
            report.add(("steps", i, "set", "sla"),
                       f"SLA policy {sla!r} does not exist{closest(sla, known)}; the policies "
                       f"in {SLA_FILE} are {', '.join(known)}")


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
    branches = tuple(Branch(target=b.get("jump_to", b.get("default", "")), when=b.get("when"))
                     for b in raw.get("switch", []))
    action = actions[0] if actions else None
    args = raw.get(action, {}) if action else {}
    if action == "auto_reply":
        args = {"template": raw["auto_reply"]}
    return Step(id=raw["id"], action=action, args=args, condition=raw.get("if"),
                else_to=raw.get("else"), jump_to=raw.get("jump_to"), switch=branches,
                on_timeout=raw.get("on_timeout"))


def load_flows(directory: Path, *, policies: Collection[str] | None = None,
               calendars: Collection[str] | None = None) -> list[Plan]:
    """Compile every flow in ``directory`` and check them as a set; in selection order.
    FlowError with every problem of every file."""
    plans: list[Plan] = []
    files: dict[str, tuple[str, str]] = {}  # flow name -> (file, source)
    problems: list[FlowProblem] = []
    for file in sorted(directory.glob("*.yaml")):
        source = file.read_text()
        try:
            plan = compile_flow(source, str(file), policies=policies, calendars=calendars)
        except FlowError as exc:
            problems += exc.problems
            continue
        plans.append(plan)
        files.setdefault(plan.name, (str(file), source))
    # The set is judged once each file stands: a broken default flow is not also "no default".
    for name, key, message in [] if problems else checks.set_problems(plans):
        if name in files:
            _, report = yamldoc.load(files[name][1], files[name][0])
            report.add((key,), message)
            problems += report.problems
        else:
            problems.append(FlowProblem(str(directory), 0, 0, None, message))
    if problems:
        raise FlowError(problems)
    return sorted(plans, key=selection_key)


def selection_key(plan: Plan) -> tuple[bool, int, str]:
    return (plan.default, plan.order, plan.name)


def select_plan(plans: list[Plan], context: dict[str, Any], prepared: Any = None) -> Plan:
    """The first flow whose `when` holds, else the default. ``prepared``: see ``prepare``."""
    return selection.choose(plans, context, prepared)[0]
