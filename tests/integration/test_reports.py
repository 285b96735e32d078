"""Reports against a known event set, written straight into PostgreSQL: each report's
figures, grouped and not, as JSON and as a chart, from the API and from the CLI alike."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from ticketflow.db.models import Ticket, TicketEvent
from ticketflow.infra.settings import ROOT, Settings

DAY = datetime(2026, 1, 5, tzinfo=UTC)
RANGE = {"from": DAY.isoformat(), "to": (DAY + timedelta(days=1)).isoformat()}


def at(hours: float) -> datetime:
    return DAY + timedelta(hours=hours)


# ticket id suffix, its row, and its events (kind, hours into the day, data).
KNOWN: list[tuple[str, dict[str, Any], list[tuple[str, float, dict[str, Any]]]]] = [
    ("0", {"queue": "general", "channel": "web", "status": "assigned", "sla": "standard"},
     [("created", -12, {}), ("assigned", -11.9, {"agent": "ann", "spills": 0})]),  # the day before
    ("1", {"queue": "general", "channel": "email", "status": "closed", "sla": "standard",
           "flow_name": "default"},
     [("created", 9, {}), ("tagged", 9, {"intent": "refund"}),
      ("assigned", 9 + 1 / 60, {"agent": "ann", "spills": 1, "mode": "normal"}),
      ("reply", 9 + 10 / 60, {"text": "on it"}), ("resolved", 10, {}), ("closed", 10 + 1 / 60, {})]),
    ("2", {"queue": "vip", "channel": "web", "status": "assigned", "sla": "vip",
           "flow_name": "vip_ticket"},
     [("created", 10, {}), ("tagged", 10, {"intent": "card_arrival"}),
      ("assigned", 10.01, {"agent": "bob", "spills": 0, "mode": "normal"}),
      ("reply", 10.5, {"text": "checking"}),
      ("sla_breached", 10.5, {"clock": "first_response"})]),
    ("3", {"queue": None, "channel": "web", "status": "duplicate", "sla": None},
     [("created", 10.5, {}), ("duplicate", 10.5, {"of": "1"})]),
    ("4", {"queue": "general", "channel": "chat", "status": "assigned", "sla": "standard",
           "flow_name": "default"},
     [("created", 10.75, {}), ("tagged", 10.75, {"intent": "refund"}),
      ("queued", 10.76, {"queue": "general", "spills": 2, "mode": "degraded"}),
      ("assigned", 10.9, {"agent": "ann", "spills": 0, "mode": "normal"})]),
]
IDS = {suffix: f"01KREP0RTT1CKET000000000{suffix}".ljust(26, "0")[:26] for suffix, *_ in KNOWN}


@pytest.fixture
async def known(sessions: async_sessionmaker, clean: None) -> None:
    async with sessions() as session:
        for suffix, row, events in KNOWN:
            created, updated = at(events[0][1]), at(events[-1][1])
            session.add(Ticket(id=IDS[suffix], user_id=f"u{suffix}", subject="s", content="c",
                               user_level=0, priority="normal", version=len(events), tags=[],
                               meta={}, created_at=created, updated_at=updated, **row))
        await session.flush()
        for suffix, _, events in KNOWN:
            for seq, (kind, hours, data) in enumerate(events, start=1):
                session.add(TicketEvent(ticket_id=IDS[suffix], seq=seq, kind=kind, at=at(hours),
                                        data=data))
        await session.commit()


async def report(http: httpx.AsyncClient, name: str, **params: str) -> dict[str, Any]:
    r = await http.get(f"/api/reports/{name}", params={**RANGE, **params})
    assert r.status_code == 200, r.text
    return dict(r.json())


def rows(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["group"]: {k: v for k, v in row.items() if k != "group"} for row in body["rows"]}


@pytest.mark.usefixtures("known")
async def test_each_report_over_a_known_day(http: httpx.AsyncClient) -> None:
    volume = await report(http, "volume", group_by="queue")
    assert volume["tickets"] == 4 and volume["columns"] == ["group", "tickets", "open", "closed"]
    assert rows(volume) == {"general": {"tickets": 2, "open": 1, "closed": 1},
                            "(none)": {"tickets": 1, "open": 0, "closed": 0},
                            "vip": {"tickets": 1, "open": 1, "closed": 0}}
    assert list(rows(volume)) == ["general", "(none)", "vip"]  # largest first
    assert rows(await report(http, "volume", group_by="intent")) == {
        "refund": {"tickets": 2, "open": 1, "closed": 1},
        "(none)": {"tickets": 1, "open": 0, "closed": 0},
        "card_arrival": {"tickets": 1, "open": 1, "closed": 0}}
    assert set(rows(await report(http, "volume", group_by="agent"))) == {"ann", "bob", "(none)"}

    times = rows(await report(http, "response_times"))["all"]
    assert times["answered"] == 2 and times["resolved"] == 1
    assert (times["first_response_p50_s"], times["first_response_p90_s"]) == (1200.0, 1680.0)
    assert times["resolution_p50_s"] == 3600.0

    assert rows(await report(http, "sla")) == {
        "all": {"compliance": 0.6667, "with_sla": 3, "breached": 1, "breaches": 1}}
    assert rows(await report(http, "duplicates", group_by="channel"))["web"] == {
        "duplicates": 1, "tickets": 2, "duplicate_rate": 0.5}
    assert rows(await report(http, "spills")) == {
        "all": {"spills": 3, "decisions": 4, "spills_per_decision": 0.75, "degraded": 1}}

    backlog = await report(http, "backlog")
    assert rows(backlog) == {"all": {"open_at_start": 1, "open_at_end": 3, "peak": 3}}
    by_hour = {p["at"]: p["open"] for p in backlog["series"]}
    assert len(by_hour) == 24
    assert by_hour[at(9).isoformat()] == 2  # the day before's ticket and the first of the day
    assert by_hour[at(11).isoformat()] == 3  # the first closed, the duplicate folded


@pytest.mark.usefixtures("known")
async def test_charts_and_refusals(http: httpx.AsyncClient) -> None:
    png = await http.get("/api/reports/backlog", params={**RANGE, "format": "png"})
    assert png.headers["content-type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    svg = await http.get("/api/reports/response_times",
                         params={**RANGE, "format": "svg", "group_by": "queue"})
    assert svg.headers["content-type"] == "image/svg+xml" and b"<svg" in svg.content[:500]
    for params, field in (({"from": RANGE["to"], "to": RANGE["from"]}, "from"),
                          ({"from": "2024-01-01T00:00:00Z", "to": RANGE["to"]}, "from"),
                          ({"group_by": "colour"}, "group_by"), ({"format": "gif"}, "format")):
        refused = await http.get("/api/reports/volume", params={**RANGE, **params})
        assert (refused.status_code, refused.json()["code"]) == (400, "INVALID_PARAMS"), params
        assert refused.json()["details"][0]["field"] == field
    assert (await http.get("/api/reports/happiness")).status_code in (400, 404)


@pytest.mark.usefixtures("known")
async def test_the_cli_gives_the_apis_answer(http: httpx.AsyncClient, settings: Settings,
                                             tmp_path: Any) -> None:
    chart = tmp_path / "sla.svg"
    env = {**os.environ, "DATABASE_URL": settings.database_url}
    for args in (["sla", "--group-by", "flow"], ["sla", "--group-by", "flow", "--format", "svg",
                                                 "--out", str(chart)]):
        done = subprocess.run(
            [sys.executable, "-m", "ticketflow.cli", "report", *args, "--from", RANGE["from"],
             "--to", RANGE["to"]], capture_output=True, text=True, env=env, cwd=ROOT, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "sla: 100%" in done.stderr  # the progress bar, one step a day
    assert json.loads(subprocess.run(
        [sys.executable, "-m", "ticketflow.cli", "report", "sla", "--group-by", "flow", "--from",
         RANGE["from"], "--to", RANGE["to"], "--quiet"], capture_output=True, text=True, env=env,
        cwd=ROOT, timeout=60).stdout) == await report(http, "sla", group_by="flow")
    assert chart.read_bytes().lstrip().startswith(b"<?xml")
