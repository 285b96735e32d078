"""Reports for ops and team leads (admin): ``GET /api/reports/{report}`` as JSON, or drawn as
a PNG or SVG chart (``ticketflow.reports``)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from api.auth import allow
from api.deps import State
from api.schemas import error_answers
from ticketflow.identity.principals import Role
from ticketflow.reports.charts import MEDIA_TYPES, ChartFormat, render
from ticketflow.reports.compute import checked_range, report
from ticketflow.reports.summary import GroupBy, ReportName

router = APIRouter(prefix="/api/reports", tags=["reports"], dependencies=[allow(Role.ADMIN)])


@router.get("/{name}", response_model=dict[str, Any], responses={
    200: {"content": {"image/png": {}, "image/svg+xml": {}},
          "description": "The report as JSON, or its chart"}, **error_answers(404)})
async def get_report(
    name: ReportName, state: State,
    start: Annotated[datetime | None,
                     Query(alias="from", description="ISO 8601; default: a week before to")] = None,
    end: Annotated[datetime | None, Query(alias="to", description="ISO 8601; default: now")] = None,
    group_by: GroupBy | None = None,
    format: Annotated[str, Query(pattern="^(json|png|svg)$")] = "json",
) -> Response:
    """Over the tickets created in [from, to) (at most 366 days), grouped by queue, agent,
    channel, flow or intent: volume, response_times, sla, backlog, duplicates or spills."""
    start, end = checked_range(start, end, datetime.now(UTC))
    made = await report(state.sessions, name, start=start, end=end, group_by=group_by)
    if format == "json":
        return JSONResponse(made.to_json())
    chart = ChartFormat(format)
    drawn = await asyncio.to_thread(render, made, chart)  # CPU-bound: off the event loop
    return Response(drawn, media_type=MEDIA_TYPES[chart])
