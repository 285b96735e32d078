"""The floors' empty workflow, run by a worker in a process of its own.

bench/intake.py, bench/worker_cpu.py and bench/soak.py hold ticket figures against what the
same Temporal server does for a workflow with nothing in it: one workflow task a run, on the
SDK's unsandboxed runner, in a process that does nothing else (so its CPU is the SDK's own).

    python bench/empty.py ADDRESS TASK_QUEUE     # serve until stopped
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ticketflow.devstack.process import Child  # noqa: E402

if TYPE_CHECKING:  # the worker's process, the floor, imports no more than it runs
    from ticketflow.devstack.stack import Stack


@workflow.defn(name="BenchEmpty")
class EmptyWorkflow:
    @workflow.run
    async def run(self) -> None:
        return None


@dataclass(frozen=True)
class EmptyWorker:
    child: Child
    task_queue: str

    @property
    def pid(self) -> int:
        return self.child.pid


@contextmanager
def empty_worker(stack: Stack) -> Iterator[EmptyWorker]:
    """A worker of the empty workflow on a task queue of its own, stopped on leaving."""
    queue = f"bench-empty-{uuid.uuid4().hex[:8]}"
    child = Child("empty-worker", [sys.executable, str(Path(__file__).resolve()),
                                   stack.settings.temporal_address, queue],
                  stack.settings.state_dir / "logs" / "empty-worker.log", cwd=ROOT).start()
    try:
        yield EmptyWorker(child, queue)
    finally:
        child.stop()


async def serve(address: str, task_queue: str) -> None:
    client = await Client.connect(address)
    async with Worker(client, task_queue=task_queue, workflows=[EmptyWorkflow],
                      workflow_runner=UnsandboxedWorkflowRunner()):
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], sys.argv[2]))
