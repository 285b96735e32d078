"""Field types shared by the HTTP schemas (``api/schemas.py``) and the bodies the CLI reads.

A body the CLI and the API both take (a flow simulation) is one pydantic model, built from
these types, so both refuse the same input with the same messages.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, StringConstraints
from pydantic_core import PydanticCustomError

from ticketflow.domain import ActionKind, Channel, Priority, TicketStatus, WaitEvent
from ticketflow.durations import parse_duration
from ticketflow.infra.settings import SIMULATED_MAX_SECONDS
from ticketflow.validation import Storable


class StrictBody(BaseModel):
    """The base of every body: unknown fields are refused, and no value is coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)


# Required text: stripped, not empty. Free text: as sent, may be empty.
UserId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128),
                   Storable]
Subject = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
                    Storable]
Content = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000),
                    Storable]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
                 Storable]
FreeSubject = Annotated[str, StringConstraints(max_length=200), Storable]
FreeText = Annotated[str, StringConstraints(max_length=20_000), Storable]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=64), Storable]
SearchText = Annotated[str, StringConstraints(max_length=200), Storable]
IdempotencyKey = Annotated[str, StringConstraints(min_length=1, max_length=255), Storable]
# The vocabularies are the domain's enums. FastAPI validates the parsed JSON body as Python
# data, where a strict model takes an enum only as an instance: these fields are lax so they
# take the enum's values (and nothing else), as JSON sends them.
ChannelName = Annotated[Channel, Strict(False)]
PriorityName = Annotated[Priority, Strict(False)]
StatusName = Annotated[TicketStatus, Strict(False)]
ActionName = Annotated[ActionKind, Strict(False)]
WaitEventName = Annotated[WaitEvent, Strict(False)]

TICKET_ID_PATTERN = r"^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$"  # a ULID (Crockford base 32)
AGENT_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
QUEUE_PATTERN = r"^[a-z][a-z0-9_-]{0,62}$"
FLOW_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"

AgentId = Annotated[str, StringConstraints(pattern=AGENT_ID_PATTERN)]
Queue = Annotated[str, StringConstraints(pattern=QUEUE_PATTERN)]
FlowName = Annotated[str, StringConstraints(pattern=FLOW_NAME_PATTERN)]
TicketIdText = Annotated[str, StringConstraints(pattern=TICKET_ID_PATTERN)]

# A simulated duration: the one grammar of ticketflow/durations.py, so a refusal names the
# position where the text stops making sense; bounded, so no number overflows a clock.
DURATION_MAX_PARTS = 8
DURATION_MAX_DIGITS = 9
_PART = re.compile(r"([0-9]+)(ms|s|m|h|d)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86_400}


def _simulated_duration(value: str) -> str:
    try:
        parse_duration(value)
    except ValueError as exc:  # names the position where the text stops making sense
        raise PydanticCustomError("duration", "{message}", {"message": str(exc)}) from None
    except OverflowError:
        pass  # the bounds below refuse it
    parts = _PART.findall(value)
    if len(parts) > DURATION_MAX_PARTS or any(len(n) > DURATION_MAX_DIGITS for n, _ in parts):
        raise PydanticCustomError(
            "duration_too_long", "at most {parts} parts of at most {digits} digits",
            {"parts": DURATION_MAX_PARTS, "digits": DURATION_MAX_DIGITS})
    if sum(int(n) * _UNIT_SECONDS[u] for n, u in parts) > SIMULATED_MAX_SECONDS:
        raise PydanticCustomError("duration_too_long", "longer than {limit} seconds",
                                  {"limit": SIMULATED_MAX_SECONDS})
    return value


Duration = Annotated[str, AfterValidator(_simulated_duration), Field(
    json_schema_extra={"pattern": rf"^(?:[0-9]{{1,{DURATION_MAX_DIGITS}}}(?:ms|s|m|h|d))"
                                  rf"{{1,{DURATION_MAX_PARTS}}}$"},
    description="whole numbers with units (ms, s, m, h, d), alone or combined: 90s, 30m, 1h30m; "
                f"at most {SIMULATED_MAX_SECONDS // 86_400} days")]
