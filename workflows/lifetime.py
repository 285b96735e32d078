"""A ticket's life after routing, inside its workflow: waiting for an agent when queued,
the auto-close countdown once resolved, the SLA lines, and the hand-over to a fresh run
before the history grows long."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from ticketflow.domain import DEFAULT_QUEUE, TicketState, TicketStatus
    from workflows.steps import TicketSteps

# Actions per run before continue-as-new: each action adds about ten history events.
ACTIONS_PER_RUN = 200


class Lifetime:
    def __init__(self, steps: TicketSteps) -> None:
        self._steps = steps

    async def live(self) -> None:
        """Wait for an agent when queued, auto-close when resolved, and otherwise wait for
        the next action, until the ticket closes."""
        steps, s = self._steps, self._steps.state
        snap = s.snapshot
        while not s.closed:
            if self._history_is_long():
                await self._continue_as_new()
            changed = s.changed
            await steps.sla.check()
            if snap.status == TicketStatus.QUEUED:
                await steps.assign(snap.queue or DEFAULT_QUEUE)
            elif snap.status == TicketStatus.RESOLVED:
                resolved_at = datetime.fromisoformat(s.resolved_at or workflow.now().isoformat())
                left = timedelta(seconds=snap.ticket.auto_close_seconds) - (workflow.now() - resolved_at)
                try:
                    await workflow.wait_condition(self._changed_since(changed),
                                                  timeout=max(left, timedelta(seconds=1)),
                                                  timeout_summary="auto_close")
                except TimeoutError:
                    async with steps.lock:
                        if snap.status == TicketStatus.RESOLVED:
                            await steps.finish("auto_close", "resolved and not reopened in time")
            else:
                limit, timer = steps.sla.wait()
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(
                        functools.partial(_changed_or_closed, s, changed),
                        timeout=limit, timeout_summary=timer)

    async def _continue_as_new(self) -> None:
        """Hand the ticket to a fresh run before its history grows large."""
        s = self._steps.state
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._steps.deliveries_done()
        carried = dataclasses.replace(s, events=s.events[-100:], sla_policies={},
                                      actions_this_run=0)
        workflow.continue_as_new(dataclasses.replace(s.snapshot.ticket, carried=carried))

    def _history_is_long(self) -> bool:
        return (self._steps.state.actions_this_run >= ACTIONS_PER_RUN
                or workflow.info().is_continue_as_new_suggested())

    def _changed_since(self, changed: int) -> Callable[[], bool]:
        return lambda: self._steps.state.changed > changed


def _changed_or_closed(state: TicketState, changed: int) -> bool:
    return state.changed > changed or state.closed
