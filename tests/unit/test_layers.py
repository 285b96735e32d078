"""The import rules of docs/architecture.md: each layer imports only those beneath it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ticketflow.infra.settings import ROOT

# A layer may not import these top-level packages (workflows may use activities' definitions).
FORBIDDEN = {
    "ticketflow": {"api", "workflows", "activities", "worker"},
    "activities": {"api", "workflows", "worker"},
    "workflows": {"api", "worker"},
    "api": {"workflows", "activities", "worker"},
}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_nothing_above_it(layer: str) -> None:
    broken = {str(path.relative_to(ROOT)): sorted(_imports(path) & FORBIDDEN[layer])
              for path in sorted((ROOT / layer).rglob("*.py"))}
    assert {path: names for path, names in broken.items() if names} == {}
