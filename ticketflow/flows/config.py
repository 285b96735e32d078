"""The flows folder as one checked unit: flows, SLA policies and the tag taxonomy together.

Flows are the folder's ``*.yaml`` files; what is not a flow lives in its ``config/``
sub-folder: ``config/sla.yaml`` (:mod:`.sla_policies`), ``config/calendars.yaml``
(:mod:`.calendars`) and ``config/taxonomy.yaml`` (:mod:`.taxonomy`).

Each file is checked by its kind (its JSON Schema, then its own rules), then the references
between them (a flow's ``set: {sla: …}`` names a policy that exists, a policy's ``calendar``
a calendar that exists). A folder with any
problem is refused whole, every problem named with its file, line and column.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ticketflow.flows import FlowError, FlowProblem, Plan, compile_flow, load_flows
from ticketflow.flows.calendars import CALENDARS_FILE, compile_calendars
from ticketflow.flows.sla_policies import SLA_FILE, compile_policies
from ticketflow.flows.taxonomy import TAXONOMY_FILE, compile_taxonomy, load_taxonomy
from ticketflow.sla.calendar import Calendar
from ticketflow.sla.clocks import SlaPolicy
from ticketflow.tagging.tagger import Taxonomy


@dataclass(frozen=True)
class FlowConfig:
    plans: list[Plan]
    sla: dict[str, SlaPolicy]
    taxonomy: Taxonomy
    calendars: dict[str, Calendar]


def stamp(directory: Path) -> list[tuple[str, int, int]]:
    """The files the unit is read from, each with its modification time and size: a change
    to any is a new unit. Looked at before every ticket's flow is chosen, so one directory
    listing and one stat a file."""
    found = []
    for folder in (directory, directory / "config"):
        with contextlib.suppress(FileNotFoundError, NotADirectoryError), os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.endswith(".yaml"):
                    st = entry.stat()
                    found.append((entry.path, st.st_mtime_ns, st.st_size))
    return sorted(found)


def load_config(directory: Path) -> FlowConfig:
    """Every file of ``directory`` checked, then their references; FlowError with them all."""
    misplaced = [FlowProblem(str(directory / Path(name).name), 0, 0, None,
                             f"belongs in {name}: only flows sit at the top of the folder")
                 for name in (SLA_FILE, CALENDARS_FILE, TAXONOMY_FILE)
                 if (directory / Path(name).name).exists()]
    if misplaced:  # not read as broken flows as well
        raise FlowError(misplaced)
    problems: list[FlowProblem] = []
    plans: list[Plan] = []
    sla: dict[str, SlaPolicy] = {}
    taxonomy: Taxonomy | None = None
    calendars: dict[str, Calendar] = {}
    policies: set[str] | None = None  # what a flow's `set: {sla: …}` may name, when known
    if (path := directory / CALENDARS_FILE).exists():
        try:
            calendars = compile_calendars(path.read_text(), str(path))
        except FlowError as exc:
            problems += exc.problems
    if (path := directory / SLA_FILE).exists():
        try:
            sla = compile_policies(path.read_text(), str(path), calendars)
            policies = set(sla)
        except FlowError as exc:
            problems += exc.problems
    try:
        plans = load_flows(directory, policies=policies, calendars=set(calendars))
    except FlowError as exc:
        problems += exc.problems
    try:
        path = directory / TAXONOMY_FILE
        taxonomy = compile_taxonomy(path.read_text(), str(path)) if path.exists() else load_taxonomy()
    except FlowError as exc:
        problems += exc.problems
    if problems or taxonomy is None:
        raise FlowError(problems)
    return FlowConfig(plans=plans, sla=sla, taxonomy=taxonomy, calendars=calendars)


def check_file(path: Path) -> str:
    """Check one file by its kind; a line saying what it holds, or FlowError."""
    kind = f"{path.parent.name}/{path.name}"
    if kind == SLA_FILE:  # its calendars are those beside it
        known = _calendars_in(path.parent / Path(CALENDARS_FILE).name)
        return f"{len(compile_policies(path.read_text(), str(path), known))} SLA policies"
    if kind == CALENDARS_FILE:
        return f"{len(compile_calendars(path.read_text(), str(path)))} calendars"
    if kind == TAXONOMY_FILE:
        return f"taxonomy with {len(compile_taxonomy(path.read_text(), str(path)).tags)} tags"
    # A flow in a flows folder may name that folder's calendars, and only those.
    calendars = path.parent / CALENDARS_FILE
    plan = compile_flow(path.read_text(), str(path),
                        calendars=set(_calendars_in(calendars)) if calendars.exists() else None)
    return f"flow {plan.name} (digest {plan.digest})"


def _calendars_in(path: Path) -> dict[str, Calendar]:
    return compile_calendars(path.read_text(), str(path)) if path.exists() else {}


def keep(directory: Path, kept: Path) -> None:
    """Copy a folder that loaded into ``kept``: what a restart serves if the folder is broken."""
    staging = kept.with_name(f"{kept.name}.{os.getpid()}.new")  # the API and workers keep too
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(directory, staging, ignore=shutil.ignore_patterns(".*"))
    shutil.rmtree(kept, ignore_errors=True)
    staging.rename(kept)
