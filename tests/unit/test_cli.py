"""The `ticketflow flows` commands, run in process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ticketflow.cli import main


def test_validate_the_shipped_flows(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["flows", "validate"]) == 0
    assert "3 flows valid" in capsys.readouterr().out


def test_validate_a_broken_file_names_the_place(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nsteps:\n  - id: a\n    jump_to: b\n")
    assert main(["flows", "validate", str(broken)]) == 1
    assert f"{broken}:3:5: step a: jumps to unknown step 'b'" in capsys.readouterr().err


def test_graph(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["flows", "graph", "vip_ticket"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("flowchart TD")
    assert "vip_channel" in out
    assert main(["flows", "graph", "nope"]) == 1


def test_simulate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ticket = tmp_path / "t.json"
    ticket.write_text(json.dumps({"ticket": {"user_id": "u", "subject": "退款", "content": "太差了，我很生气",
                                             "user_level": 1}}))
    assert main(["flows", "simulate", "auto", "--ticket", str(ticket)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["flow"] == "refund_escalation"
    assert result["path"] == ["to_billing", "escalate", "assign_billing", "follow_up", "close_quietly"]
    assert result["outcome"]["status"] == "closed"
