"""``ticketflow report``: a report over a time range, as JSON or a chart, as
``GET /api/reports/{report}`` gives it, with a progress bar over the range's days."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from ticketflow.infra.settings import Settings
from ticketflow.reports.summary import GroupBy, ReportName


def add_to(commands: Any) -> None:
    """The ``report`` command, on the CLI's subcommands."""
    reporting = commands.add_parser(
        "report", help="a report over a time range, as JSON or a chart (as GET /api/reports)")
    reporting.add_argument("name", choices=[r.value for r in ReportName])
    reporting.add_argument("--from", dest="start", type=datetime.fromisoformat,
                           help="ISO 8601 (UTC unless it says); default: a week before --to")
    reporting.add_argument("--to", dest="end", type=datetime.fromisoformat,
                           help="ISO 8601; default: now")
    reporting.add_argument("--group-by", choices=[g.value for g in GroupBy])
    reporting.add_argument("--format", choices=["json", "png", "svg"], default="json")
    reporting.add_argument("--out", help="write here (a chart needs it); JSON goes to stdout")
    reporting.add_argument("--quiet", action="store_true", help="no progress bar")
    reporting.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import asyncio
    from datetime import UTC

    from tqdm import tqdm

    from ticketflow.db.engine import make_engine, make_session_factory
    from ticketflow.errors import InvalidParams
    from ticketflow.reports import facts
    from ticketflow.reports.charts import ChartFormat, render
    from ticketflow.reports.compute import checked_range, report

    settings = Settings().with_local_services()
    try:
        start, end = checked_range(args.start, args.end, datetime.now(UTC))
    except InvalidParams as exc:
        print(f"ticketflow report: {exc.details[0]['message']}", file=sys.stderr)
        return 2
    if args.format != "json" and args.out is None:
        print("ticketflow report: a chart needs --out FILE", file=sys.stderr)
        return 2

    async def run() -> dict[str, object] | bytes:
        engine = make_engine(settings.database_url)
        chunks = facts.chunks_for(start, end)
        try:
            with tqdm(total=chunks, unit="day", desc=args.name, file=sys.stderr,
                      disable=args.quiet) as bar:
                made = await report(make_session_factory(engine), ReportName(args.name),
                                    start=start, end=end,
                                    group_by=GroupBy(args.group_by) if args.group_by else None,
                                    chunks=chunks, progress=bar.update)
        finally:
            await engine.dispose()
        return made.to_json() if args.format == "json" else render(made, ChartFormat(args.format))

    made = asyncio.run(run())
    if isinstance(made, bytes):
        Path(args.out).write_bytes(made)
    elif args.out is not None:
        Path(args.out).write_text(json.dumps(made, indent=2) + "\n")
    else:
        print(json.dumps(made, indent=2))
    return 0
