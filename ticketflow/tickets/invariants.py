"""The invariants that hold between a ticket's workflow, its PostgreSQL row and events, and
Redis; and the comparison that finds where they do not. Tests run it after attacking the
system, ops run it as ``ticketflow check``.

- row: status and version equal the workflow's;
- events: sequence numbers 1..n without a gap, n equal to what the workflow applied;
- workflows: a ticket still open has a running workflow; a closed one has none; a running
  workflow has a row (once it is older than a grace period);
- Redis: the agent holding each ticket, each agent's load and each waiting line equal the
  assigned, pending and queued rows.

A system that is busy changes between two reads: :func:`settled` reports only the
differences that are still there after a pause.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy import text
from temporalio.api.workflowservice.v1 import (
    ListWorkflowExecutionsRequest,
    ListWorkflowExecutionsResponse,
)
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError

from ticketflow import ids
from ticketflow.assignment import store
from ticketflow.db.engine import Sessions
from ticketflow.domain import TERMINAL_STATUSES, TicketStatus
from ticketflow.infra.redis_client import reply_text
from ticketflow.infra.temporal import TRANSIENT_RPC
from ticketflow.tickets.ticket_workflow import WORKFLOW_NAME, TicketWorkflowApi

ENDED = TERMINAL_STATUSES
# States in which the ticket holds an agent's slot.
HOLDING = frozenset({TicketStatus.ASSIGNED, TicketStatus.PENDING})
# A workflow this young may not have written its row yet.
ROW_GRACE = timedelta(seconds=60)
LIST_PAGE = 1000  # running workflows asked for at a time
LIST_ATTEMPTS = 3
LIST_RETRY_SECONDS = 0.5  # times the attempt number: 0.5 s, then 1 s
OPEN_ROWS = " status NOT IN ({})".format(", ".join(f"'{s}'" for s in sorted(ENDED)))


WORKFLOW_ENDED = "workflow_ended"  # the row is open, its workflow is not running


@dataclass(frozen=True)
class Difference:
    ticket_id: str | None
    invariant: str  # row, events, workflow, workflow_ended, holder, load, waiting
    detail: str

    def __str__(self) -> str:
        return f"{self.ticket_id or '-'}  {self.invariant}: {self.detail}"


@dataclass(frozen=True)
class _Row:
    ticket_id: str
    status: str
    version: int
    queue: str | None
    assignee: str | None


async def check(*, temporal: Client, sessions: Sessions, redis: Redis,
                ticket_ids: list[str] | None = None, deep: bool = True) -> list[Difference]:
    """Every difference between the workflows, PostgreSQL and Redis, for the given tickets
    (all tickets when None: then Redis and running workflows are checked as a whole too).

    ``deep=False`` looks only at open rows and asks no workflow for its state: open rows whose
    workflow has ended, and Redis against the rows. That is what the reconciler repairs, and
    its cost grows with open tickets, not with every ticket ever made."""
    rows, events = await _read_database(sessions, ticket_ids, deep=deep)
    found: list[Difference] = []
    running = await _running_workflows(temporal, ticket_ids)
    for row in rows.values():
        if not deep:
            if row.ticket_id not in running:
                status = await _workflow_status(temporal, row.ticket_id)
                found.append(Difference(row.ticket_id, WORKFLOW_ENDED,
                                        f"row is {row.status} but the workflow is {status}"))
            continue
        found += await _check_ticket(temporal, row, events.get(row.ticket_id), running)
    if ticket_ids is None and deep:
        now = datetime.now(UTC)
        found += [Difference(tid, "workflow", "workflow running without a row")
                  for tid, started in running.items()
                  if tid not in rows and now - started > ROW_GRACE]
    found += await _check_redis(redis, rows, whole=ticket_ids is None)
    return found


async def settled(*, pause: float = 2.0, **kwargs: object) -> list[Difference]:
    """The differences found twice, ``pause`` seconds apart: what is not a ticket in motion."""
    first = await check(**kwargs)  # type: ignore[arg-type]
    if not first:
        return []
    await asyncio.sleep(pause)
    second = await check(**kwargs)  # type: ignore[arg-type]
    again = {(d.ticket_id, d.invariant) for d in first}
    return [d for d in second if (d.ticket_id, d.invariant) in again]


async def _read_database(sessions: Sessions, ticket_ids: list[str] | None, *, deep: bool
                         ) -> tuple[dict[str, _Row], dict[str, tuple[int, int, int]]]:
    where = "" if ticket_ids is None else " WHERE {} = ANY(:ids)"
    params: dict[str, object] = {} if ticket_ids is None else {"ids": ticket_ids}
    # The predicate of the partial index ix_tickets_open, written out so the planner uses it.
    open_only = "" if deep else (" AND" if where else " WHERE") + OPEN_ROWS
    async with sessions() as session:
        rows = (await session.execute(text(
            "SELECT id, status, version, queue, assignee FROM tickets" + where.format("id")
            + open_only), params)).all()
        events = [] if not deep else (await session.execute(text(
            "SELECT ticket_id, count(*), min(seq), max(seq) FROM ticket_events"
            + where.format("ticket_id") + " GROUP BY ticket_id"), params)).all()
    return ({r.id: _Row(r.id, r.status, r.version, r.queue, r.assignee) for r in rows},
            {e[0]: (e[1], e[2], e[3]) for e in events})


async def _running_workflows(temporal: Client, ticket_ids: list[str] | None) -> dict[str, datetime]:
    """Running ticket workflows by ticket id, with their start times."""
    query = f"WorkflowType='{WORKFLOW_NAME}' AND ExecutionStatus='Running'"
    if ticket_ids is not None:
        if not ticket_ids:
            return {}
        query += " AND WorkflowId IN ({})".format(
            ", ".join(f"'{ids.workflow_id(t)}'" for t in ticket_ids))
    # Page by page as the server sends them: only each one's id and start time are read,
    # not the search attributes and memo the SDK's listing would decode for every ticket.
    running: dict[str, datetime] = {}
    token = b""
    while True:
        page = await _page(temporal, ListWorkflowExecutionsRequest(
            namespace=temporal.namespace, query=query, page_size=LIST_PAGE, next_page_token=token))
        for w in page.executions:
            if (ticket_id := ids.ticket_id_of(w.execution.workflow_id)) is not None:
                running[ticket_id] = w.start_time.ToDatetime(tzinfo=UTC)
        if not (token := page.next_page_token):
            return running


async def _page(temporal: Client,
                request: ListWorkflowExecutionsRequest) -> ListWorkflowExecutionsResponse:
    """One page of a listing. A page the server could not answer now (a busy visibility
    store gives up on a query) is asked for again, up to ``LIST_ATTEMPTS`` times in all: a
    check or a reconciler's pass is a read, and one refusal should not end it."""
    for attempt in range(1, LIST_ATTEMPTS + 1):
        try:
            return await temporal.workflow_service.list_workflow_executions(request)
        except RPCError as exc:
            if exc.status not in TRANSIENT_RPC or attempt == LIST_ATTEMPTS:
                raise
            await asyncio.sleep(LIST_RETRY_SECONDS * attempt)
    raise AssertionError("unreachable")


async def _check_ticket(temporal: Client, row: _Row, events: tuple[int, int, int] | None,
                        running: dict[str, datetime]) -> list[Difference]:
    tid, found = row.ticket_id, []
    count, first, last = events or (0, 0, 0)
    if events and (first != 1 or count != last):
        found.append(Difference(tid, "events", f"sequence has gaps: {count} events, seq {first}..{last}"))
    if row.status in ENDED:
        if tid in running:
            found.append(Difference(tid, "workflow", f"row is {row.status} but the workflow runs"))
        return found
    if tid not in running:
        status = await _workflow_status(temporal, tid)
        found.append(Difference(tid, WORKFLOW_ENDED, f"row is {row.status} but the workflow is {status}"))
        return found
    state = await temporal.get_workflow_handle_for(
        TicketWorkflowApi.run, ids.workflow_id(tid)).query(TicketWorkflowApi.state)
    snap = state.snapshot
    if (row.status, row.version) != (snap.status, snap.version):
        found.append(Difference(tid, "row", f"row {row.status} v{row.version}, "
                                            f"workflow {snap.status} v{snap.version}"))
    if last != state.seq - len(state.unsaved):
        found.append(Difference(tid, "events", f"{last} events stored, the workflow applied "
                                               f"{state.seq - len(state.unsaved)}"))
    return found


async def _workflow_status(temporal: Client, ticket_id: str) -> str:
    try:
        description = await temporal.get_workflow_handle(ids.workflow_id(ticket_id)).describe()
    except RPCError:
        return "missing"
    status = description.status or WorkflowExecutionStatus.RUNNING
    return status.name.lower()


async def _check_redis(redis: Redis, rows: dict[str, _Row], *, whole: bool) -> list[Difference]:
    found = []
    holders = await _holders(redis, list(rows) if not whole else None)
    expected = {r.ticket_id: r.assignee for r in rows.values()
                if r.status in HOLDING and r.assignee}
    for tid in sorted(set(holders) | set(expected)):
        if holders.get(tid) != expected.get(tid):
            found.append(Difference(tid, "holder", f"Redis holder {holders.get(tid)}, "
                                                   f"row assignee {expected.get(tid)}"))
    queued = {r.ticket_id: r.queue for r in rows.values() if r.status == TicketStatus.QUEUED}
    lines = await _waiting(redis)
    in_line = {tid: queue for queue, members in lines.items() for tid in members
               if whole or tid in rows}
    for tid in sorted(set(in_line) | set(queued)):
        if in_line.get(tid) != queued.get(tid):
            found.append(Difference(tid, "waiting", f"in the waiting line of {in_line.get(tid)}, "
                                                    f"row queued in {queued.get(tid)}"))
    if whole:
        loads = {reply_text(agent): int(n) for agent, n in (await redis.hgetall(store.LOAD)).items()}
        held = Counter(expected.values())
        for agent in sorted(set(loads) | set(held)):
            if loads.get(agent, 0) != held.get(agent, 0):
                found.append(Difference(None, "load", f"agent {agent}: Redis load {loads.get(agent, 0)}, "
                                                      f"{held.get(agent, 0)} tickets held"))
    return found


async def _holders(redis: Redis, ticket_ids: list[str] | None) -> dict[str, str]:
    if ticket_ids is not None:
        values = await redis.mget([store.HOLDER + t for t in ticket_ids]) if ticket_ids else []
        return {t: reply_text(v) for t, v in zip(ticket_ids, values, strict=True) if v is not None}
    keys = [k async for k in redis.scan_iter(match=store.HOLDER + "*", count=500)]
    values = await redis.mget(keys) if keys else []
    return {reply_text(k)[len(store.HOLDER):]: reply_text(v)
            for k, v in zip(keys, values, strict=True) if v is not None}


async def _waiting(redis: Redis) -> dict[str, list[str]]:
    lines = {}
    async for key in redis.scan_iter(match=store.QUEUED + "*", count=100):
        lines[reply_text(key)[len(store.QUEUED):]] = [reply_text(m) for m in await redis.zrange(key, 0, -1)]
    return lines
