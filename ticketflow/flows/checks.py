"""Graph checks on a plan, and checks on a set of flows."""

from __future__ import annotations

import re

from ticketflow.domain import DEFAULT_QUEUE
from ticketflow.flows.model import END, Plan, Step


def successors(plan: Plan, i: int) -> list[str]:
    """Every step id (or `end`) that step ``i`` can lead to."""
    step = plan.steps[i]
    following = plan.steps[i + 1].id if i + 1 < len(plan.steps) else END
    if step.switch:
        return [b.target for b in step.switch] + ([] if any(b.when is None for b in step.switch)
                                                  else [following])
    if step.action == "close":
        return [END]
    out = [step.jump_to or following]
    if step.condition:
        out.append(step.else_to or following)
    if step.on_timeout:
        out.append(step.on_timeout)
    return out


def graph_problems(plan: Plan) -> list[tuple[int | None, str]]:
    problems: list[tuple[int | None, str]] = []
    ids: dict[str, int] = {}
    for i, step in enumerate(plan.steps):
        if step.id in ids:
            problems.append((i, f"duplicate step id (first used by step #{ids[step.id] + 1})"))
        ids.setdefault(step.id, i)
        if step.id == END:
            problems.append((i, f"`{END}` is reserved"))
    for i, step in enumerate(plan.steps):
        for target in _named_targets(step):
            if target != END and target not in ids:
                problems.append((i, f"jumps to unknown step {target!r} (steps: {', '.join(ids)})"))
    if problems:
        return problems

    reachable, frontier = {0}, [0]
    while frontier:
        i = frontier.pop()
        for target in successors(plan, i):
            j = ids.get(target)
            if j is not None and j not in reachable:
                reachable.add(j)
                frontier.append(j)
    problems += [(i, "unreachable: no step leads here") for i in range(len(plan.steps))
                 if i not in reachable]
    if cycle := _cycle_without_wait(plan, ids):
        problems.append((ids[cycle[0]], "loop that can spin without a wait: "
                         + " → ".join([*cycle, cycle[0]])))
    return problems


def _named_targets(step: Step) -> list[str]:
    return [t for t in (step.jump_to, step.else_to, step.on_timeout) if t] + [
        b.target for b in step.switch]


def _cycle_without_wait(plan: Plan, ids: dict[str, int]) -> list[str] | None:
    """A cycle through steps none of which waits (a durable pause breaks a spin)."""
    state: dict[int, int] = {}  # 1: on the current path, 2: done
    path: list[int] = []

    def visit(i: int) -> list[str] | None:
        state[i] = 1
        path.append(i)
        for target in successors(plan, i):
            j = ids.get(target)
            if j is None or plan.steps[j].action == "wait":
                continue
            if state.get(j) == 1:
                return [plan.steps[k].id for k in path[path.index(j):]]
            if j not in state and (found := visit(j)):
                return found
        state[i] = 2
        path.pop()
        return None

    for i, step in enumerate(plan.steps):
        if i not in state and step.action != "wait" and (found := visit(i)):
            return found
    return None


def _normalised(expression: str) -> str:
    return re.sub(r"\s+", "", expression)


def set_problems(plans: list[Plan]) -> list[tuple[str | None, str, str]]:
    """Problems of the flows as a set: (the flow to show it in, its key, the message)."""
    problems: list[tuple[str | None, str, str]] = []
    names: dict[str, Plan] = {}
    for plan in plans:
        if plan.name in names:
            problems.append((None, "name", f"two flows are named {plan.name!r}"))
        names[plan.name] = plan
    defaults = [p.name for p in plans if p.default]
    if len(defaults) != 1:
        problems.append((defaults[-1] if defaults else None, "default",
                         f"exactly one flow must be `default: true`, found "
                         f"{', '.join(defaults) if defaults else 'none'}"))
    seen: dict[str, str] = {}
    for plan in sorted(plans, key=lambda p: (p.order, p.name)):
        if plan.when is None:
            continue
        key = _normalised(plan.when)
        if key in seen:
            problems.append((plan.name, "when",
                             f"flows {seen[key]!r} and {plan.name!r} have the same `when`; "
                             f"{plan.name!r} could never be selected"))
        seen.setdefault(key, plan.name)
    return problems


def queues(plan: Plan) -> list[str]:
    """Every queue a flow can place a ticket in: those its steps name (``set``, ``escalate``,
    ``assign``), and the default queue unless its first step names another."""
    named = [str(s.args["queue"]) for s in plan.steps
             if s.action in ("set", "escalate", "assign") and "queue" in s.args]
    first = plan.steps[0] if plan.steps else None
    sets_first = (first is not None and first.condition is None and not first.switch
                  and first.action == "set" and "queue" in first.args)
    return sorted(set(named) | (set() if sets_first else {DEFAULT_QUEUE}))
