"""The compiled plan: immutable, plain data, so it can be recorded in a workflow's history."""

# No `from __future__ import annotations`: Temporal's converter reads these field types
# inside the workflow sandbox, where postponed annotations cannot be resolved.

from dataclasses import asdict, dataclass, field
from typing import Any

END = "end"
ACTIONS = ("set", "assign", "wait", "escalate", "notify", "auto_reply", "close")


@dataclass(frozen=True)
class Branch:
    target: str
    when: str | None = None  # None: the default branch


@dataclass(frozen=True)
class Step:
    id: str
    action: str | None = None  # one of ACTIONS, or None for pure control flow
    args: dict[str, Any] = field(default_factory=dict)
    condition: str | None = None  # `if`: the step acts only when this holds
    else_to: str | None = None  # where to go when `if` fails (default: the next step)
    jump_to: str | None = None  # where to go after acting (default: the next step)
    switch: tuple[Branch, ...] = ()
    on_timeout: str | None = None  # for `wait` on an event


@dataclass(frozen=True)
class Plan:
    name: str
    digest: str  # content hash: changes whenever the file does
    version: str = ""  # the author's label, if any
    description: str = ""
    when: str | None = None
    order: int = 100
    default: bool = False
    steps: tuple[Step, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Plan":
        steps = tuple(
            Step(**{**s, "switch": tuple(Branch(**b) for b in s.get("switch", ()))})
            for s in data["steps"])
        return cls(**{**data, "steps": steps})

    def index(self) -> dict[str, int]:
        return {s.id: i for i, s in enumerate(self.steps)}
