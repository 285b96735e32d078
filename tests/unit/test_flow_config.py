"""The flows folder is one checked unit: a bad edit of any file is refused whole, the last good
set keeps serving (across a restart too), and `flows validate` checks every file by its kind."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.unit.test_flow_registry import touch_later
from ticketflow.cli import main
from ticketflow.flows import FlowError
from ticketflow.flows.config import load_config
from ticketflow.flows.registry import FlowRegistry
from ticketflow.infra.settings import ROOT


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    copy = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", copy)
    return copy


def _problems(folder: Path) -> str:
    with pytest.raises(FlowError) as refused:
        load_config(folder)
    return str(refused.value)


def test_a_policy_missing_a_clock_is_refused_with_its_place(folder: Path) -> None:
    sla = folder / "config" / "sla.yaml"
    sla.write_text(sla.read_text().replace("    first_response: 8h\n", "", 1))
    assert "sla.yaml:10:5: policies/standard: 'first_response' is a required property" in _problems(folder)


@pytest.mark.parametrize("duration", ["30 minutes", "1.5h"])
def test_durations_have_one_strict_grammar(folder: Path, duration: str) -> None:
    sla = folder / "config" / "sla.yaml"
    sla.write_text(sla.read_text().replace("first_response: 30m", f"first_response: {duration}"))
    assert "policies/vip/first_response" in _problems(folder)


def test_a_taxonomy_syntax_error_is_a_problem_with_a_position(folder: Path) -> None:
    (folder / "config" / "taxonomy.yaml").write_text("tags: [unclosed\n")
    assert "taxonomy.yaml:2:1: invalid YAML" in _problems(folder)


def test_only_flows_sit_at_the_top_of_the_folder(folder: Path) -> None:
    # Every top-level YAML file is a flow; the other kinds have their own sub-folder, and one
    # left at the top is named, not read as a broken flow.
    (folder / "config" / "sla.yaml").rename(folder / "sla.yaml")
    assert _problems(folder) == (f"{folder}/sla.yaml: belongs in config/sla.yaml: only flows sit at "
                                 "the top of the folder")


def test_a_flow_naming_an_unknown_policy_is_refused(folder: Path) -> None:
    flow = folder / "vip_ticket.yaml"
    flow.write_text(flow.read_text().replace("sla: vip", "sla: platinum"))
    assert ("vip_ticket.yaml:14:44: step vip_channel: SLA policy 'platinum' does not exist; "
            "the policies in config/sla.yaml are business, priority, standard, vip") in _problems(folder)


def test_an_edit_that_breaks_one_file_changes_none(folder: Path) -> None:
    registry = FlowRegistry(folder)
    plans, policies = registry.current()
    flow, sla = folder / "vip_ticket.yaml", folder / "config" / "sla.yaml"
    touch_later(flow, flow.read_text().replace("priority: high", "priority: urgent"))
    touch_later(sla, sla.read_text().replace("    first_response: 8h\n", "", 1))
    assert registry.current() == (plans, policies)  # neither the flow nor the policies moved
    assert registry.last_error is not None and "first_response" in str(registry.last_error)
    touch_later(sla, (ROOT / "flows" / "config" / "sla.yaml").read_text())
    assert registry.current()[0] != plans and registry.last_error is None  # now all of it


def test_calendars_reload_with_the_folder_and_a_broken_one_changes_nothing(folder: Path) -> None:
    registry = FlowRegistry(folder)
    before = registry.config()
    office = before.calendars["office"]
    assert before.sla["business"].calendar == office
    calendars = folder / "config" / "calendars.yaml"
    touch_later(calendars, calendars.read_text().replace("timezone: Europe/Berlin",
                                                         "timezone: Europe/Lisbon"))
    after = registry.config()
    assert after.calendars["office"].timezone == "Europe/Lisbon"
    assert after.sla["business"].calendar == after.calendars["office"]  # the policy follows
    touch_later(calendars, calendars.read_text().replace("office:", "offices:"))
    assert registry.config() == after  # the business policy would name no calendar
    assert "unknown calendar 'office' (did you mean offices?)" in str(registry.last_error)


def test_a_restart_beside_a_broken_file_serves_the_last_good_set(folder: Path, tmp_path: Path) -> None:
    kept = tmp_path / "state" / "flows-last-good"
    good = FlowRegistry(folder, kept=kept).current()
    (folder / "config" / "sla.yaml").write_text("policies: {}\n")
    with pytest.raises(FlowError):
        FlowRegistry(folder)  # nothing kept: nothing good to serve
    restarted = FlowRegistry(folder, kept=kept)
    assert restarted.current() == good
    assert restarted.last_error is not None


def test_validate_checks_every_file_by_its_kind(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = folder / "config"
    assert main(["flows", "validate", str(config / "sla.yaml"), str(config / "taxonomy.yaml")]) == 0
    assert "4 SLA policies valid" in capsys.readouterr().out
    (folder / "config" / "taxonomy.yaml").write_text("tags: {}\n")  # the loader refuses an empty taxonomy
    assert main(["flows", "validate", str(folder / "config" / "taxonomy.yaml")]) == 1
    assert main(["flows", "validate", str(folder)]) == 1
    assert "taxonomy.yaml" in capsys.readouterr().err


@pytest.mark.parametrize("number", [".nan", ".inf", "-.Inf"])
def test_no_number_is_nan_or_infinite(folder: Path, number: str) -> None:
    # YAML has them, JSON does not; a deadline's share or a duration of NaN has no meaning.
    sla = folder / "config" / "sla.yaml"
    sla.write_text(sla.read_text().replace("warn_at: 0.75", f"warn_at: {number}", 1))
    assert "sla.yaml:13:14: policies/standard/warn_at: " in _problems(folder)
    assert "is not a finite number" in _problems(folder)


def test_a_flow_with_a_nan_is_refused(folder: Path) -> None:
    flow = folder / "vip_ticket.yaml"
    flow.write_text(flow.read_text().replace("order: 10", "order: .nan"))
    assert "vip_ticket.yaml:4:8: order: nan is not a finite number" in _problems(folder)
