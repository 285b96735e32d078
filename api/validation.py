"""The app-wide check of query and path parameters; the rules are ``ticketflow.validation``."""

from __future__ import annotations

from fastapi import Request

from ticketflow.errors import Detail, InvalidParams
from ticketflow.validation import printable, text_problem


async def storable_parameters(request: Request) -> None:
    """App-wide dependency: every query and path parameter (name and value) is storable text."""
    details: list[Detail] = []
    for name, value in [*request.query_params.multi_items(), *request.path_params.items()]:
        if (problem := text_problem(name)) is not None:
            details.append({"field": printable(name), "message": f"parameter name {problem}"})
        elif isinstance(value, str) and (problem := text_problem(value)) is not None:
            details.append({"field": name, "message": problem})
    if details:
        raise InvalidParams(details)
