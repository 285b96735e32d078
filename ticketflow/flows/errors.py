"""Flow errors that point at the place to fix."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FlowProblem:
    file: str
    line: int  # 1-based; 0 when the problem is the whole file
    column: int
    step: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        return f"{where}: {f'step {self.step}: ' if self.step else ''}{self.message}"


class FlowError(ValueError):
    """A flow (or set of flows) that cannot be used."""

    def __init__(self, problems: list[FlowProblem]) -> None:
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems
