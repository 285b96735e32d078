"""HTTP schemas (Create/Read/Update naming). Unknown fields are rejected."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints

from ticketflow.domain import ActionKind, Channel, Priority, WaitEvent

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
# The vocabularies are the domain's enums. FastAPI validates the parsed JSON body as Python
# data, where a strict model takes an enum only as an instance: these fields are lax so they
# take the enum's values (and nothing else), as JSON sends them.
ChannelName = Annotated[Channel, Strict(False)]
PriorityName = Annotated[Priority, Strict(False)]
ActionName = Annotated[ActionKind, Strict(False)]
WaitEventName = Annotated[WaitEvent, Strict(False)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class TicketCreate(Strict):
    user_id: Annotated[Text, StringConstraints(max_length=128)]
    subject: Annotated[Text, StringConstraints(max_length=200)]
    content: Annotated[Text, StringConstraints(max_length=20_000)]
    channel: ChannelName = Channel.WEB
    user_level: int = Field(default=0, ge=0, le=10)
    priority: PriorityName | None = None
    metadata: dict[str, Any] = Field(default_factory=dict, max_length=50)


class TicketAccepted(BaseModel):
    status: Literal["processing"] = "processing"
    ticket_id: str


class RepeatSubmit(BaseModel):
    code: Literal["REPEAT_SUBMIT"] = "REPEAT_SUBMIT"
    ticket_id: str


AgentId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Queue = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,62}$")]


class AgentCreate(Strict):
    agent_id: AgentId
    name: Annotated[Text, StringConstraints(max_length=200)]
    queues: list[Queue] = Field(default_factory=lambda: ["general"], min_length=1)
    capacity: int = Field(default=5, ge=0, le=1000)
    weight: float = Field(default=1.0, gt=0, le=100)
    online: bool = True


class AgentUpdate(Strict):
    name: Annotated[Text, StringConstraints(max_length=200)] | None = None
    queues: list[Queue] | None = Field(default=None, min_length=1)
    capacity: int | None = Field(default=None, ge=0, le=1000)
    weight: float | None = Field(default=None, gt=0, le=100)
    online: bool | None = None


class AgentRead(BaseModel):
    agent_id: str
    name: str
    queues: list[str]
    capacity: int
    weight: float
    online: bool
    open_tickets: int
    response_ewma_s: float | None = None
    pressure: float


Duration = Annotated[str, StringConstraints(pattern=r"^([0-9]+(ms|s|m|h|d))+$")]


class SimulatedTicket(Strict):
    user_id: Annotated[Text, StringConstraints(max_length=128)] = "simulated"
    subject: Annotated[str, StringConstraints(max_length=200)] = ""
    content: Annotated[str, StringConstraints(max_length=20_000)] = ""
    channel: ChannelName = Channel.WEB
    user_level: int = Field(default=0, ge=0, le=10)
    priority: PriorityName | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class StatedEvent(Strict):
    event: WaitEventName
    after: Duration = "0s"


class FlowSimulate(Strict):
    ticket: SimulatedTicket
    flow: str | None = None
    events: list[StatedEvent] = Field(default_factory=list, max_length=100)
    nlp: dict[str, Any] | None = None


class ActionCreate(Strict):
    action: ActionName
    actor: Annotated[str, StringConstraints(max_length=128)] = ""
    text: Annotated[str, StringConstraints(max_length=20_000)] = ""
    agent_id: AgentId | None = None
    queue: Queue | None = None
    priority: PriorityName | None = None
