"""How long a report over 100k tickets takes: each report, as the API makes it (one read of
the range) and as ``ticketflow report`` does (one read per day, for its progress bar), beside
a floor from the same run: one plain scan of every event (``SELECT count(*)``).

Writes N synthetic tickets over 30 days, about seven events each (created, tagged, assigned
with its spills, reply, resolved, closed; every 20th a duplicate, every 10th with an SLA
breach), into a database of its own on a PostgreSQL server (the machine's, by default), then
drops it.

    python bench/reports.py --tickets 100000 --repeat 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ticketflow.db.engine import make_engine, make_session_factory  # noqa: E402
from ticketflow.db.migrate import upgrade  # noqa: E402
from ticketflow.reports import facts  # noqa: E402
from ticketflow.reports.compute import report  # noqa: E402
from ticketflow.reports.summary import GroupBy, ReportName  # noqa: E402

START = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 30
_TICKETS = """
INSERT INTO tickets (id, user_id, subject, content, channel, user_level, priority, status, queue,
                     tags, language, flow_name, sla, sla_breached, metadata, version, created_at,
                     updated_at, search_text)
SELECT lpad(i::text, 26, '0'), 'u' || (i %% 5000), 's', 'c',
       (ARRAY['web','email','chat','phone','api'])[1 + i %% 5], 0, 'normal',
       CASE WHEN i %% 20 = 0 THEN 'duplicate'
            WHEN i %% 97 = 0 OR (i %% 7 = 0 AND i > %(n)s * 0.9) THEN 'assigned'
            ELSE 'closed' END,
       CASE WHEN i %% 20 = 0 THEN NULL ELSE (ARRAY['general','vip','billing'])[1 + i %% 3] END,
       '{}', 'en', (ARRAY['default','vip_ticket','refund'])[1 + i %% 3],
       CASE WHEN i %% 20 = 0 THEN NULL ELSE 'standard' END, i %% 10 = 0, '{}', 6,
       %(start)s + i * %(spread)s * interval '1 second',
       %(start)s + i * %(spread)s * interval '1 second' + interval '3 hours', ''
FROM generate_series(1, %(n)s) i
"""
# (seq, kind, minutes after creation, data, which tickets). Open tickets: a steady few, and
# more among the last days' (the backlog a team falls behind on).
_EVENTS = [
    (1, "created", "0", "'{}'", "true"),
    (2, "duplicate", "0", "'{\"of\": \"x\"}'", "status = 'duplicate'"),
    (2, "tagged", "0",
     "jsonb_build_object('intent', (ARRAY['refund','card_arrival','pin_blocked'])"
     "[1 + (id::bigint % 3)])", "status <> 'duplicate'"),
    (3, "assigned", "1",
     "jsonb_build_object('agent', 'agent-' || (id::bigint % 10), 'spills', id::bigint % 3,"
     " 'mode', 'normal')", "status <> 'duplicate'"),
    (4, "reply", "10 + id::bigint % 60", "'{\"text\": \"on it\"}'", "status <> 'duplicate'"),
    (5, "sla_breached", "30", "'{\"clock\": \"first_response\"}'", "sla_breached"),
    (6, "resolved", "120 + id::bigint % 50", "'{}'", "status = 'closed'"),
    (7, "closed", "180", "'{}'", "status = 'closed'"),
]


def seed(url: str, n: int) -> int:
    with psycopg.connect(url) as conn:
        spread = DAYS * 86_400 / n
        conn.execute(_TICKETS, {"start": START, "spread": spread, "n": n})
        for seq, kind, minutes, data, where in _EVENTS:
            conn.execute(f"INSERT INTO ticket_events (ticket_id, seq, kind, at, data)"
                         f" SELECT id, {seq}, '{kind}', created_at + ({minutes}) * interval"
                         f" '1 minute', {data} FROM tickets WHERE {where}")
        conn.execute("ANALYZE")
        row = conn.execute("SELECT count(*) FROM ticket_events").fetchone()
    return int(row[0]) if row else 0


async def measure(url: str, repeat: int) -> dict[str, object]:
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    end = START + timedelta(days=DAYS + 1)
    times: dict[str, list[float]] = {}
    try:
        for _ in range(repeat):
            began = time.perf_counter()
            with psycopg.connect(url) as conn:
                conn.execute("SELECT count(*) FROM ticket_events").fetchone()
            times.setdefault("floor: count every event", []).append(time.perf_counter() - began)
            for name in ReportName:
                for label, chunks in (("API", 1), ("CLI", facts.chunks_for(START, end))):
                    began = time.perf_counter()
                    made = await report(sessions, name, start=START, end=end,
                                        group_by=GroupBy.QUEUE, chunks=chunks)
                    times.setdefault(f"{name.value} ({label})", []).append(
                        time.perf_counter() - began)
                    assert made.tickets > 0
    finally:
        await engine.dispose()
    floor = statistics.median(times["floor: count every event"])
    return {k: {"median_s": round(statistics.median(v), 3),
                "to_floor": round(statistics.median(v) / floor, 1)} for k, v in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--server", default="postgresql://127.0.0.1:5432/postgres",
                        help="a PostgreSQL server where this script may create a database")
    parser.add_argument("--keep", action="store_true", help="keep the database (it is named)")
    args = parser.parse_args()
    name = f"tf_bench_reports_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = args.server.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        began = time.perf_counter()
        events = seed(url, args.tickets)
        print(f"{args.tickets} tickets, {events} events written to {name} in "
              f"{time.perf_counter() - began:.1f} s", file=sys.stderr)
        result = asyncio.run(measure(url, args.repeat)) if args.repeat else {}
    finally:
        with psycopg.connect(args.server, autocommit=True) as conn:
            if not args.keep:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    print(json.dumps({"tickets": args.tickets, "events": events, "repeat": args.repeat,
                      "grouped_by": "queue", "seconds": result}, indent=2))


if __name__ == "__main__":
    main()
