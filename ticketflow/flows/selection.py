"""Which flow takes a ticket, and why: each `when` tried, in selection order, with its value.

The worker's choice (``select_plan``, the ``select_flow`` activity) and the simulator's
account of it are this one function.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ticketflow.flows.expressions import evaluate, prepare
from ticketflow.flows.model import Plan

FIRST_HOLDS = "first flow whose when holds"
DEFAULT = "default flow: no when held"
NAMED = "named in the body"


@dataclass(frozen=True)
class Tried:
    flow: str
    when: str
    value: bool | Literal["error"]
    error: str | None = None  # why the condition could not be evaluated (it does not hold)

    def to_dict(self) -> dict[str, Any]:
        shown = {"flow": self.flow, "when": self.when, "value": self.value}
        return shown if self.error is None else {**shown, "error": self.error}


@dataclass(frozen=True)
class Selection:
    tried: list[Tried]
    chosen: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"tried": [t.to_dict() for t in self.tried], "chosen": self.chosen,
                "reason": self.reason}


def choose(plans: list[Plan], context: dict[str, Any], prepared: Any = None
           ) -> tuple[Plan, Selection]:
    """The first flow whose `when` holds, else the default, with the conditions tried.
    ``plans`` in selection order (``load_flows``); ``prepared``: see ``prepare``."""
    prepared = prepared if prepared is not None else prepare(context)
    tried: list[Tried] = []
    for plan in plans:
        if plan.default:
            return plan, Selection(tried, plan.name, DEFAULT)
        if not plan.when:
            continue
        verdict = evaluate(plan.when, prepared)
        tried.append(Tried(plan.name, plan.when, "error" if verdict.error else verdict.holds,
                           verdict.error))
        if verdict.holds:
            return plan, Selection(tried, plan.name, FIRST_HOLDS)
    raise LookupError("no flow matches and no default flow is loaded")


def named(plan: Plan) -> Selection:
    """The selection of a flow the caller names: no condition is tried."""
    return Selection([], plan.name, NAMED)
