"""Flows: YAML files that flow authors write, compiled into plans TicketWorkflow interprets.

- :mod:`.model` — the compiled plan (plain, immutable data, recorded in workflow history);
- :mod:`.compiler` — YAML → plan, with errors that name file, line, column and step;
- :mod:`.yamldoc` — a YAML file checked against its JSON Schema, problems placed in it;
- :mod:`.context` — what conditions and templates read, declared with its types;
- :mod:`.cel_syntax`, :mod:`.cel_types`, :mod:`.cel_check` — CEL parsed and type-checked
  against that context; :mod:`.expressions` evaluates it;
- :mod:`.checks` — the graph checks (targets, reachability, loops without a wait);
- :mod:`.runner` — the deterministic interpreter, shared by the workflow and the simulator;
- :mod:`.selection` — which flow takes a ticket, and why;
- :mod:`.simulate` — a dry run of a ticket through a flow and why, with no side effects (its
  body: :mod:`.simulation`, its command :mod:`.simulate_command`);
- :mod:`.graph` — Mermaid diagrams;
- :mod:`.config` — the whole folder as one checked unit, its files that are not flows in
  ``config/``: SLA policies (:mod:`.sla_policies`) and the tag taxonomy (:mod:`.taxonomy`);
  :mod:`.registry` — the folder as a worker serves it, reloaded when a file changes.

May import: vocabulary, infra, sla, tagging, db, assignment
"""

from ticketflow.flows.compiler import compile_flow, load_flows, select_plan
from ticketflow.flows.context import FlowTicket, flow_context, nlp_context, ticket_context
from ticketflow.flows.errors import FlowError, FlowProblem
from ticketflow.flows.model import Plan, Step
from ticketflow.flows.runner import (
    Assign,
    AutoReply,
    Close,
    Effect,
    Escalate,
    FlowRun,
    Notify,
    SetFields,
    Wait,
)

__all__ = ["Assign", "AutoReply", "Close", "Effect", "Escalate", "FlowError", "FlowProblem",
           "FlowRun", "FlowTicket", "Notify", "Plan", "SetFields", "Step", "Wait", "compile_flow",
           "flow_context", "load_flows", "nlp_context", "select_plan", "ticket_context"]
