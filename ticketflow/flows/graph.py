"""Mermaid diagrams of flows, for review and docs."""

from __future__ import annotations

from ticketflow.flows.checks import successors
from ticketflow.flows.model import END, Plan

FINISH = "finish"  # `end` is a keyword in Mermaid


def _label(text: str) -> str:
    return text.replace('"', "'")


def _node(target: str) -> str:
    return FINISH if target == END else target


def mermaid(plan: Plan) -> str:
    lines = ["flowchart TD", f'  start(["{plan.name}"]) --> {plan.steps[0].id}']
    for i, step in enumerate(plan.steps):
        what = step.action or ("switch" if step.switch else "jump")
        detail = ", ".join(f"{k}: {v}" for k, v in step.args.items() if k != "template") or ""
        lines.append(f'  {step.id}["{_label(step.id)}<br/>{what}{": " + _label(detail) if detail else ""}"]')
        following = plan.steps[i + 1].id if i + 1 < len(plan.steps) else END
        if step.switch:
            for b in step.switch:
                lines.append(f'  {step.id} -- "{_label(b.when or "otherwise")}" --> {_node(b.target)}')
            continue
        targets = successors(plan, i)
        if step.condition:
            lines.append(f'  {step.id} -- "{_label(step.condition)}" --> {_node(targets[0])}')
            lines.append(f'  {step.id} -- "else" --> {_node(step.else_to or following)}')
        elif step.on_timeout:
            lines.append(f'  {step.id} -- "{step.args.get("event")}" --> {_node(targets[0])}')
            lines.append(f'  {step.id} -- "timeout" --> {_node(step.on_timeout)}')
        else:
            lines.append(f"  {step.id} --> {_node(targets[0])}")
    lines.append(f'  {FINISH}(["end"])')
    return "\n".join(lines) + "\n"
