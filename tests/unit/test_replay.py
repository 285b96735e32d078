"""Recorded ticket histories replay against the current workflow code (no server needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.converter import DataConverter
from temporalio.worker import Replayer

from ticketflow.infra.temporal import DATA_CONVERTER
from workflows.ticket import TicketWorkflow

HISTORIES = sorted((Path(__file__).resolve().parent.parent / "histories").glob("*.json"))


def test_there_are_recorded_histories() -> None:
    assert len(HISTORIES) >= 3


@pytest.mark.parametrize("converter", [DATA_CONVERTER, DataConverter.default],
                         ids=["worker's converter", "sdk's converter"])
@pytest.mark.parametrize("path", HISTORIES, ids=lambda p: p.stem)
async def test_recorded_history_replays(path: Path, converter: DataConverter) -> None:
    history = WorkflowHistory.from_json(f"ticket-{path.stem}", path.read_text())
    await Replayer(workflows=[TicketWorkflow], data_converter=converter).replay_workflow(history)
