"""A report drawn as a chart, server-side with matplotlib: PNG or SVG bytes."""

from __future__ import annotations

import io
from datetime import datetime
from enum import StrEnum

import numpy as np

from ticketflow.reports.summary import CHARTED, Report, ReportName

MAX_GROUPS = 12  # the largest groups are drawn; the JSON holds them all


class ChartFormat(StrEnum):
    PNG = "png"
    SVG = "svg"


MEDIA_TYPES = {ChartFormat.PNG: "image/png", ChartFormat.SVG: "image/svg+xml"}


def render(report: Report, fmt: ChartFormat) -> bytes:
    import matplotlib

    matplotlib.use("Agg")  # no screen: draw into memory
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 5), dpi=100, layout="constrained")
    axes = figure.subplots()
    grouped = f" by {report.group_by.value}" if report.group_by else ""
    axes.set_title(f"{report.report.value.replace('_', ' ')}{grouped}, "
                   f"{report.start:%Y-%m-%d %H:%M} to {report.end:%Y-%m-%d %H:%M} UTC")
    groups = [row["group"] for row in report.rows[:MAX_GROUPS]]
    if report.report == ReportName.BACKLOG:
        for group in groups:
            points = [p for p in report.series if p["group"] == group]
            at = np.array([datetime.fromisoformat(p["at"]).replace(tzinfo=None) for p in points],
                          dtype="datetime64[s]")  # UTC, as the title says
            axes.plot(at, [p["open"] for p in points], label=group)
        axes.set_ylabel("open tickets")
        figure.autofmt_xdate()
    else:
        columns = CHARTED[report.report]
        width = 0.8 / len(columns)
        for n, column in enumerate(columns):
            values = [row[column] if row[column] is not None else 0
                      for row in report.rows[:MAX_GROUPS]]
            axes.barh([i + n * width for i in range(len(groups))], values, height=width,
                      label=column)
        axes.set_yticks([i + width * (len(columns) - 1) / 2 for i in range(len(groups))],
                        groups)
        axes.invert_yaxis()
        axes.set_xlabel(", ".join(columns))
    if groups and (report.report == ReportName.BACKLOG or len(CHARTED[report.report]) > 1):
        axes.legend()
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt.value, metadata={"Date": None} if fmt == ChartFormat.SVG
                   else None)
    return buffer.getvalue()
