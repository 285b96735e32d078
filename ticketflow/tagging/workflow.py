"""Tagging text on the worker: the public face of ``workflows.tagging.TagTextWorkflow``.

The API simulates flows without tagging in its own process: the tagger's intent classifier
(scikit-learn) would load into every API process. A short workflow on the worker's task
queue runs the worker's own ``tag`` activity, so the API's simulation sees the NLP result
a ticket would get, from the same taxonomy and model. Declarations only (bodies are `...`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.client import Client
from ulid import ULID

from ticketflow.domain import Tagging

WORKFLOW_NAME = "TagText"
# The worker answers in milliseconds; a first call may load the model (a second or two).
TAG_TIMEOUT = timedelta(seconds=10)


@dataclass(frozen=True)
class TextToTag:
    subject: str
    content: str


@workflow.defn(name=WORKFLOW_NAME)
class TagTextApi:
    @workflow.run
    async def run(self, text: TextToTag) -> Tagging:
        """The worker's tagging of the text."""
        ...


def tagging_id() -> str:
    return f"tag-{ULID()}"


async def tag_on_worker(client: Client, task_queue: str, text: TextToTag) -> Tagging:
    """The NLP result of ``text`` from a worker polling ``task_queue``; fails after
    ``TAG_TIMEOUT`` (``WorkflowFailureError``) when no worker answers."""
    return await client.execute_workflow(TagTextApi.run, text, id=tagging_id(),
                                         task_queue=task_queue, execution_timeout=TAG_TIMEOUT)
