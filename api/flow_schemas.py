"""What the flow routes answer (``/api/flows``): the HTTP models of the flows, the refused
edit and a simulation. The request body of a simulation is ``ticketflow.flows.simulation``'s."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class FlowProblemRead(BaseModel):
    file: str = Field(description="Named from the flows folder, e.g. flows/refund.yaml")
    line: int
    column: int
    step: str | None
    message: str


class RefusedEdit(BaseModel):
    """The problems of the folder on disk while the last good set serves."""

    problems: list[FlowProblemRead]


class FlowSummaryRead(BaseModel):
    name: str
    version: str
    digest: str
    when: str | None
    order: int
    default: bool
    description: str
    warnings: list[str] = Field(description="Queues this flow can send tickets to that no "
                                            "online agent serves now")


class FlowList(BaseModel):
    items: list[FlowSummaryRead] = Field(description="In the order flows are tried")
    refused: RefusedEdit | None


class BranchRead(BaseModel):
    target: str
    when: str | None


class StepRead(BaseModel):
    id: str
    action: str | None
    args: dict[str, Any]
    condition: str | None
    else_to: str | None
    jump_to: str | None
    switch: list[BranchRead]
    on_timeout: str | None


class FlowRead(BaseModel):
    """A compiled flow, with its Mermaid diagram."""

    name: str
    digest: str
    version: str
    description: str
    when: str | None
    order: int
    default: bool
    steps: list[StepRead]
    mermaid: str


class TriedRead(BaseModel):
    flow: str
    when: str
    value: bool | Literal["error"]
    error: str | None = Field(default=None, description="Only when the condition could not be "
                                                        "evaluated")


class SelectionRead(BaseModel):
    tried: list[TriedRead]
    chosen: str
    reason: str


class NlpRead(BaseModel):
    language: str
    tags: list[str]
    intent: str | None
    intent_confidence: float
    sentiment: str
    urgent: bool
    model_version: str


class OutcomeRead(BaseModel):
    status: Literal["closed", "assigned", "queued", "unknown"]
    reason: str
    queue: str
    priority: str
    tags: list[str]
    sla: str
    elapsed: str


class SimulationRead(BaseModel):
    """What ``POST /api/flows/simulate`` and ``ticketflow flows simulate`` print."""

    flow: str
    digest: str
    nlp_source: Literal["tagger", "body"]
    nlp: NlpRead
    selection: SelectionRead
    path: list[str]
    actions: list[dict[str, Any]] = Field(description="Each effect as it describes itself, "
                                                      "with its time")
    outcome: OutcomeRead
