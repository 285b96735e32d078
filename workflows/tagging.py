"""TagTextWorkflow: the worker's tagging of a text, for callers that must not tag in process
(the API's flow simulator). Its public face is ``ticketflow.tagging.workflow.TagTextApi``."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.contracts import TagInput
    from activities.ticket import TicketActivities
    from ticketflow.domain import Tagging
    from ticketflow.tagging.workflow import WORKFLOW_NAME, TextToTag

# A caller waits on the answer: a few quick attempts, not the ticket pipeline's patience.
TAG_STEP_TIMEOUT = timedelta(seconds=5)
TAG_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_attempts=3)


@workflow.defn(name=WORKFLOW_NAME)
class TagTextWorkflow:
    @workflow.run
    async def run(self, text: TextToTag) -> Tagging:
        """The worker's tagging of the text."""
        return await workflow.execute_local_activity_method(
            TicketActivities.tag, TagInput(text.subject, text.content),
            start_to_close_timeout=TAG_STEP_TIMEOUT, retry_policy=TAG_RETRY)
