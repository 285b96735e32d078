"""Named retry policies and timeouts for the ticket pipeline."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

# Pipeline steps are local activities: a few ms each instead of ~50 ms of server
# round trips per regular activity (bench/intake.py). They retry until the
# dependency is back, so an outage delays a ticket but never fails it.
STEP_TIMEOUT = timedelta(seconds=10)
STEP_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
)

# Webhooks are fire-and-forget regular activities: a slow or dead receiver delays
# nothing in the ticket's own progress.
NOTIFY_TIMEOUT = timedelta(seconds=10)
NOTIFY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=20,
)

# Ticket events to webhook subscribers: retried without limit (receivers drop repeats by
# event id), backing off to one attempt every five minutes while a subscriber is down.
PUBLISH_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=500),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
)


def permanent_failure(err: ActivityError | ApplicationError) -> str | None:
    """Why a step failed, when it failed in a way no retry fixes (the data, not the weather);
    None for any other failure. Local activities raise their error as it is, others wrap it."""
    cause = err.cause if isinstance(err, ActivityError) else err
    if isinstance(cause, ApplicationError) and cause.non_retryable:
        return f"{cause.type}: {cause.message}" if cause.type else cause.message
    return None
