"""Flow errors that point at the place to fix."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from ticketflow.errors import Detail, InvalidConfiguration


@dataclass(frozen=True)
class FlowProblem:
    file: str
    line: int  # 1-based; 0 when the problem is the whole file
    column: int
    step: str | None
    message: str

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}:{self.column}" if self.line else self.file

    @property
    def what(self) -> str:
        return f"{f'step {self.step}: ' if self.step else ''}{self.message}"

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"

    def detail(self) -> Detail:
        return {"field": self.where, "message": self.what}


class FlowError(InvalidConfiguration, ValueError):
    """A flow (or set of flows, or the taxonomy flows use) that cannot be used."""

    def __init__(self, problems: list[FlowProblem]) -> None:
        problems = sorted(problems, key=lambda p: (p.file, p.line, p.column))
        super().__init__("\n".join(map(str, problems)), details=[p.detail() for p in problems])
        self.problems = problems


def closest(name: str, known: list[str]) -> str:
    """`` (did you mean X?)`` when one of ``known`` is close to ``name``."""
    match = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f" (did you mean {match[0]}?)" if match else ""
