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
    assert capsys.readouterr().err == ("ticketflow flows graph: no flow named 'nope'; "
                                       "flows: vip_ticket, refund_escalation, default\n")


def test_validate_reports_every_problem_of_a_folder_at_once(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.yaml").write_text(
        "name: a\ndefault: true\nsteps:\n  - id: s\n    if: ticket.user_levl > 3\n")
    (tmp_path / "b.yaml").write_text("name: b\nwhen: nlp.sentimnt == 'negative'\nsteps:\n  - id: s\n")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "taxonomy.yaml").write_text("tags: [unclosed\n")
    assert main(["flows", "validate", str(tmp_path)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(": ")[0].removeprefix(str(tmp_path) + "/") for line in lines] == [
        "a.yaml:5:16", "b.yaml:2:11", "config/taxonomy.yaml:2:1"], lines
    assert "unknown field ticket.user_levl (did you mean user_level?)" in lines[0]
    assert "unknown field nlp.sentimnt (did you mean sentiment?)" in lines[1]


def test_simulate(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none")  # no stack here
    ticket = tmp_path / "t.json"
    ticket.write_text(json.dumps({"ticket": {"user_id": "u", "subject": "退款", "content": "太差了，我很生气",
                                             "user_level": 1}}))
    assert main(["flows", "simulate", "auto", "--ticket", str(ticket)]) == 0
    out, err = capsys.readouterr()
    result = json.loads(out)
    assert result["flow"] == "refund_escalation"
    assert result["path"] == ["to_billing", "escalate", "assign_billing", "follow_up", "close_quietly"]
    assert result["outcome"]["status"] == "closed"
    assert err.startswith("ticketflow flows simulate: agents unknown: ")
    assert main(["flows", "simulate", "--body", str(ticket)]) == 0
    assert json.loads(capsys.readouterr().out) == result


def test_simulate_without_input_or_with_an_unknown_flow(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["flows", "simulate"]) == 2
    assert capsys.readouterr().err == "ticketflow flows: give --body FILE or --ticket FILE\n"
    assert main(["flows", "simulate", "nosuch"]) == 2
    assert capsys.readouterr().err == ("ticketflow flows simulate: no flow named 'nosuch'; "
                                       "flows: vip_ticket, refund_escalation, default\n")
