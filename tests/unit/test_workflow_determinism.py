"""Workflow code makes no call whose answer could differ on replay.

The worker runs workflows without the SDK's sandbox (worker.py says why); this test and the
sandboxed replay of recorded histories (test_replay.py) hold what the sandbox held at run time.
Workflow code takes the time from ``workflow.now()``, sleeps with ``workflow.sleep`` or
``workflow.wait_condition``, and reaches the world only through activities.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ticketflow.infra.settings import ROOT

# Modules whose use in a workflow is I/O, a clock, randomness or threads.
FORBIDDEN_MODULES = {"time", "random", "uuid", "secrets", "os", "socket", "threading", "subprocess",
                     "httpx", "requests", "redis", "sqlalchemy", "psycopg", "urllib", "shutil",
                     "tempfile", "multiprocessing", "concurrent"}
# Calls on allowed modules that read the wall clock or sleep outside the workflow's own time.
FORBIDDEN_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"),
                   ("date", "today"), ("asyncio", "sleep"), ("asyncio", "to_thread"),
                   ("asyncio", "get_event_loop")}
FORBIDDEN_BUILTINS = {"open", "input", "print", "exec", "eval"}
WORKFLOW_CODE = sorted((ROOT / "workflows").glob("*.py"))


def _problems(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if node.module.split(".")[0] in FORBIDDEN_MODULES:
                found.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in FORBIDDEN_BUILTINS:
                found.append(f"{func.id}()")
            elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name | ast.Attribute):
                owner = func.value.id if isinstance(func.value, ast.Name) else func.value.attr
                if (owner, func.attr) in FORBIDDEN_CALLS:
                    found.append(f"{owner}.{func.attr}()")
    return found


@pytest.mark.parametrize("path", WORKFLOW_CODE, ids=lambda p: p.name)
def test_workflow_code_calls_no_clock_randomness_or_io(path: Path) -> None:
    assert _problems(path.read_text()) == []


@pytest.mark.parametrize("line", [
    "from datetime import datetime\nx = datetime.now()", "import time", "import random",
    "import uuid", "import asyncio\nasyncio.sleep(1)", "open('x')",
    "import datetime\ndatetime.datetime.utcnow()", "from os import environ",
])
def test_the_check_finds_each_kind(line: str) -> None:
    assert _problems(line)
