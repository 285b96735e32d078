"""Business-hours calendars: their arithmetic (with properties over random instants and
durations, daylight-saving changes included), SLA clocks counting open time only, the
calendars file's checks, and flows branching on a calendar."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ticketflow.domain import NewTicket
from ticketflow.flows import FlowError, compile_flow
from ticketflow.flows.calendars import compile_calendars
from ticketflow.flows.config import check_file, load_config
from ticketflow.flows.context import ticket_context
from ticketflow.flows.runner import AutoReply, FlowRun
from ticketflow.infra.settings import ROOT
from ticketflow.sla.calendar import Calendar, NeverOpen, OpenHours
from ticketflow.sla.clocks import ClockName, Crossing, SlaClocks, SlaPolicy

BERLIN_OFFICE = Calendar("office", "Europe/Berlin", [OpenHours(d, 9 * 60, 17 * 60) for d in range(5)],
                         ["2026-11-30"])  # a Monday
FRIDAY_EVENING = datetime(2026, 11, 27, 17, 30, tzinfo=UTC)  # 18:30 in Berlin
HOUR = 3600.0


def test_friday_evening_before_a_holiday_waits_for_tuesday() -> None:
    due = BERLIN_OFFICE.add(FRIDAY_EVENING, 8 * HOUR)
    assert BERLIN_OFFICE.local(due).isoformat() == "2026-12-01T17:00:00+01:00"
    assert BERLIN_OFFICE.open_seconds(FRIDAY_EVENING, due) == 8 * HOUR
    assert not BERLIN_OFFICE.is_open(FRIDAY_EVENING)
    assert BERLIN_OFFICE.local(BERLIN_OFFICE.next_open(FRIDAY_EVENING)).isoformat() == \
        "2026-12-01T09:00:00+01:00"
    # Eight open hours before it: Friday's closing, the same count as Tuesday's opening.
    assert BERLIN_OFFICE.back(due, 8 * HOUR) == datetime(2026, 11, 27, 16, tzinfo=UTC)


def test_daylight_saving_days_keep_local_hours() -> None:
    all_day = Calendar("x", "Europe/Berlin", [OpenHours(d, 0, 24 * 60) for d in range(7)])
    # 29 March 2026 springs forward (23 hours), 25 October falls back (25 hours).
    assert all_day.open_seconds(datetime(2026, 3, 28, 23, tzinfo=UTC),
                                datetime(2026, 3, 29, 22, tzinfo=UTC)) == 23 * HOUR
    assert all_day.open_seconds(datetime(2026, 10, 24, 22, tzinfo=UTC),
                                datetime(2026, 10, 25, 23, tzinfo=UTC)) == 25 * HOUR
    new_york = Calendar("ny", "America/New_York", [OpenHours(d, 9 * 60, 17 * 60) for d in range(7)])
    # 9:00 local is 13:00 UTC in summer (EDT) and 14:00 UTC in winter (EST).
    assert new_york.next_open(datetime(2026, 3, 8, 0, tzinfo=UTC)).hour == 13
    assert new_york.next_open(datetime(2026, 11, 1, 6, tzinfo=UTC)).hour == 14
    # A window across the spring-forward gap (02:00-03:00 does not exist that night).
    night = Calendar("n", "America/New_York", [OpenHours(6, 60, 4 * 60)])  # Sundays 01:00-04:00
    assert night.open_seconds(datetime(2026, 3, 8, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC)) \
        == 2 * HOUR


def test_a_calendar_without_open_hours_says_so() -> None:
    closed = Calendar("closed", "UTC", [OpenHours(0, 60, 120)],
                      [f"{2026 + y}-{m:02d}-{d:02d}" for y in range(4) for m in range(1, 13)
                       for d in range(1, 32) if _real(2026 + y, m, d)])
    with pytest.raises(NeverOpen):
        closed.add(datetime(2026, 1, 1, tzinfo=UTC), 60)


def _real(y: int, m: int, d: int) -> bool:
    try:
        datetime(y, m, d)
    except ValueError:
        return False
    return True


ZONES = st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Shanghai", "UTC",
                         "Australia/Lord_Howe"])  # the last moves its clocks by 30 minutes
INSTANTS = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1),
                        timezones=st.just(UTC))
WINDOWS = st.lists(st.tuples(st.integers(0, 6), st.integers(0, 1439), st.integers(1, 1440))
                   .filter(lambda w: w[2] > w[1]), min_size=1, max_size=6)


def _calendar(zone: str, windows: list[tuple[int, int, int]]) -> Calendar:
    by_day: dict[int, list[tuple[int, int]]] = {}
    for day, start, end in sorted(windows):  # keep windows of a day apart, as the file must
        if all(end <= s or start >= e for s, e in by_day.get(day, [])):
            by_day.setdefault(day, []).append((start, end))
    return Calendar("p", zone, [OpenHours(d, s, e) for d, spans in by_day.items()
                                for s, e in spans])


@settings(max_examples=150, deadline=None)
@given(zone=ZONES, windows=WINDOWS, start=INSTANTS, hours=st.floats(0, 200))
def test_adding_open_time_then_counting_it_gives_it_back(
        zone: str, windows: list[tuple[int, int, int]], start: datetime, hours: float) -> None:
    calendar = _calendar(zone, windows)
    weekly = sum(h.end_min - h.start_min for h in calendar.hours) / 60
    seconds = min(hours, weekly * 50) * HOUR  # within a year of weeks
    due = calendar.add(start, seconds)
    assert due >= start
    assert calendar.open_seconds(start, due) == pytest.approx(seconds, abs=1e-3)
    if seconds > 0.01:  # and not a moment later than needed
        assert calendar.open_seconds(start, due - timedelta(milliseconds=1)) < seconds
        assert calendar.back(due, seconds) <= calendar.next_open(start) + timedelta(milliseconds=1)


@settings(max_examples=150, deadline=None)
@given(zone=ZONES, windows=WINDOWS, a=INSTANTS, b=INSTANTS, c=INSTANTS)
def test_open_time_adds_up_and_lies_in_open_hours(
        zone: str, windows: list[tuple[int, int, int]], a: datetime, b: datetime,
        c: datetime) -> None:
    calendar = _calendar(zone, windows)
    a, b, c = sorted((a, b, c))
    assert calendar.open_seconds(a, b) + calendar.open_seconds(b, c) == \
        pytest.approx(calendar.open_seconds(a, c), abs=1e-3)
    assert calendar.open_seconds(a, c) <= (c - a).total_seconds() + 1e-6
    for start, end in calendar.windows(a, c):
        assert calendar.is_open(start) and start < end


POLICY = SlaPolicy(name="business", first_response_s=8 * HOUR, next_response_s=8 * HOUR,
                   resolution_s=40 * HOUR, warn_at=0.75, calendar=BERLIN_OFFICE)


def test_clocks_on_a_calendar_count_open_time_only() -> None:
    clocks = SlaClocks.start(POLICY, created=FRIDAY_EVENING, now=FRIDAY_EVENING)
    view = clocks.view(FRIDAY_EVENING)
    assert view["first_response_due_at"] == "2026-12-01T16:00:00+00:00"  # Tue 17:00 Berlin
    wait, line = clocks.next_line(FRIDAY_EVENING) or (None, None)
    assert line == "sla first_response warning"  # 6 open hours: Tuesday 15:00 Berlin
    assert FRIDAY_EVENING + wait == datetime(2026, 12, 1, 14, tzinfo=UTC)
    monday_noon = datetime(2026, 11, 30, 11, tzinfo=UTC)  # the holiday: nothing counted
    assert clocks.due(monday_noon) == []
    assert clocks.view(monday_noon)["clocks"]["first_response"]["used_s"] == 0
    tuesday = datetime(2026, 12, 1, 14, tzinfo=UTC)
    assert clocks.due(tuesday) == [(ClockName.FIRST_RESPONSE, Crossing.WARNING)]
    clocks.agent_replied(datetime(2026, 12, 1, 15, tzinfo=UTC))  # 16:00 Berlin: 7 open hours
    assert clocks.view(datetime(2026, 12, 2, tzinfo=UTC))["clocks"]["first_response"]["used_s"] \
        == 7 * HOUR
    late = datetime(2026, 12, 3, 12, tzinfo=UTC)
    overdue = SlaClocks.start(POLICY, created=FRIDAY_EVENING, now=late)
    assert overdue.view(late)["first_response_due_at"] == "2026-12-01T16:00:00+00:00"


CALENDARS = """
calendars:
  office:
    timezone: Europe/Berlin
    hours: {mon: ["09:00-12:00", "13:00-17:00"], fri: ["09:00-15:00"]}
    holidays: [2026-12-25]
"""


def test_the_calendars_file_and_its_mistakes() -> None:
    office = compile_calendars(CALENDARS)["office"]
    assert office.holidays == ["2026-12-25"]
    assert office.open_seconds(datetime(2026, 11, 30, tzinfo=UTC),
                               datetime(2026, 12, 5, tzinfo=UTC)) == 13 * HOUR
    for text, problem in (
            ("calendars: {x: {timezone: Mars/Olympus, hours: {mon: ['09:00-17:00']}}}",
             "unknown time zone 'Mars/Olympus'"),
            ("calendars: {x: {timezone: UTC, hours: {mon: ['17:00-09:00']}}}",
             "17:00-09:00: ends before it starts"),
            ("calendars: {x: {timezone: UTC, hours: {mon: ['09:00-12:00', '11:00-13:00']}}}",
             "11:00-13:00: overlaps 09:00-12:00"),
            ("calendars: {x: {timezone: UTC, hours: {mon: ['9-17']}}}", "does not match"),
            ("calendars: {x: {timezone: UTC, hours: {mon: []}}}", "needs some open hours"),
            ("calendars: {x: {timezone: UTC, hours: {mon: ['09:00-17:00']}, holidays: [2026-02-30]}}",
             "2026-02-30: not a date")):
        with pytest.raises(FlowError) as refused:
            compile_calendars(text)
        assert problem in str(refused.value), text


AFTER_HOURS = """
name: after_hours
default: true
steps:
  - id: closed
    if: "!calendars.office.open"
    auto_reply: "We are closed; we answer from {{calendars.office.opens_at}}."
  - id: route
    assign: {queue: general}
"""


def test_a_flow_branches_on_a_calendar_and_tells_the_opening_time() -> None:
    plan = compile_flow(AFTER_HOURS)
    ticket = NewTicket(ticket_id="01J0000000000000000000000A", user_id="u", subject="s",
                       content="c")
    nlp = {"language": "en", "intent": "", "intent_confidence": 0.0, "tags": [],
           "sentiment": "neutral", "urgent": False}
    calendars = {"office": BERLIN_OFFICE}
    evening = FlowRun(plan, ticket_context(ticket, nlp, FRIDAY_EVENING, calendars),
                      calendars=calendars)
    reply = evening.advance(now=FRIDAY_EVENING)
    assert isinstance(reply, AutoReply)
    assert reply.text == "We are closed; we answer from Tue 2026-12-01 09:00 (Europe/Berlin)."
    tuesday = datetime(2026, 12, 1, 9, tzinfo=UTC)
    working = FlowRun(plan, ticket_context(ticket, nlp, tuesday, calendars), calendars=calendars)
    assert not isinstance(working.advance(now=tuesday), AutoReply)


def test_a_flow_naming_a_calendar_the_folder_lacks_is_refused_before_it_runs(
        tmp_path: Path) -> None:
    with pytest.raises(FlowError) as refused:
        compile_flow(AFTER_HOURS.replace("office", "ofice"), calendars={"office"})
    assert "unknown field calendars.ofice (did you mean office?)" in str(refused.value)
    folder = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", folder)
    (folder / "after_hours.yaml").write_text(AFTER_HOURS.replace("default: true\n", "order: 1\n")
                                             .replace("office", "night_shift"))
    with pytest.raises(FlowError) as whole:
        load_config(folder)  # the folder's calendars are office and support_247
    assert "calendars.night_shift" in str(whole.value)
    with pytest.raises(FlowError) as alone:  # `ticketflow flows validate FILE` too
        check_file(folder / "after_hours.yaml")
    assert "calendars.night_shift" in str(alone.value)
