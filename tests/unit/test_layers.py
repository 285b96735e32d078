"""The import rules of docs/architecture.md: each layer imports only those beneath it.

Between the top-level packages the rules are the table below. Inside the core, each
package's docstring ends with ``May import: ...``: the lower parts of ticketflow it may use,
and what those may use in turn. This test reads those lines, so the rule a reader sees is
the rule that holds.
"""

from __future__ import annotations

import ast
import importlib
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
CORE = ROOT / "ticketflow"
# Parts of the core without a package docstring of their own.
LEAVES = {"ids": set[str](), "sla.clocks": {"sla.calendar"}, "sla.calendar": set[str](),
          "migrations": {"infra", "db"}}


def _modules(path: Path) -> set[str]:
    """The modules ``path`` imports, ``from package import module`` resolved to the module."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if (ROOT / (sub.replace(".", "/") + ".py")).exists() else node.module)
    return found


def _unit(module: str) -> str | None:
    """The part of the core a module belongs to, as the rules name it."""
    parts = module.split(".")
    if parts[0] != "ticketflow" or len(parts) == 1:
        return None
    if parts[1:3] in (["sla", "clocks"], ["sla", "calendar"]):
        return f"sla.{parts[2]}"
    if (CORE / parts[1]).is_dir():
        return parts[1]
    return parts[1] if parts[1] in ("ids", "cli") else "vocabulary"


def _rules() -> dict[str, set[str] | None]:
    """Each unit's ``May import:`` line; None for everything."""
    rules: dict[str, set[str] | None] = {"cli": None, **LEAVES}
    for init in [CORE / "__init__.py", *sorted(CORE.glob("*/__init__.py"))]:
        unit = "vocabulary" if init.parent == CORE else init.parent.name
        if unit in rules:
            continue
        doc = importlib.import_module(_module_name(init)).__doc__ or ""
        line = next((row for row in doc.splitlines() if row.startswith("May import:")), None)
        assert line is not None, f"{init.relative_to(ROOT)}: its docstring says what it may import"
        names = {n.strip() for n in line.removeprefix("May import:").split(",")}
        rules[unit] = None if names == {"everything"} else names
    return rules


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    return ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_nothing_above_it(layer: str) -> None:
    broken = {str(path.relative_to(ROOT)): sorted({m.split(".")[0] for m in _modules(path)}
                                                  & FORBIDDEN[layer])
              for path in sorted((ROOT / layer).rglob("*.py"))}
    assert {path: names for path, names in broken.items() if names} == {}


def _below(rules: dict[str, set[str] | None], unit: str) -> set[str]:
    """What ``unit`` may import: what it names, and what those may import in turn."""
    found: set[str] = set()
    for lower in rules[unit] or set():
        found |= {lower} | _below(rules, lower)
    return found


def test_each_part_of_the_core_imports_only_what_its_docstring_allows() -> None:
    rules = _rules()
    broken: dict[str, list[str]] = {}
    for path in sorted(CORE.rglob("*.py")):
        unit = _unit(_module_name(path))
        if unit is None:  # ticketflow/__init__.py
            continue
        assert unit in rules, f"{path.relative_to(ROOT)}: no rule for {unit}"
        if rules[unit] is None:
            continue
        allowed = _below(rules, unit)
        used = {u for u in map(_unit, _modules(path)) if u not in (None, unit)}
        if unit == "sla":
            used.discard("sla.clocks")
        if used - allowed:
            broken[str(path.relative_to(ROOT))] = sorted(used - allowed)
    assert broken == {}


def test_the_rules_only_look_down() -> None:
    # Following "may import" from any part never leads back to it.
    rules = {unit: allowed or set() for unit, allowed in _rules().items() if allowed is not None}

    def below(unit: str, seen: frozenset[str]) -> None:
        for lower in rules.get(unit, set()):
            assert lower not in seen, f"{' -> '.join([*seen, lower])} is a cycle"
            below(lower, seen | {lower})

    for unit in rules:
        below(unit, frozenset({unit}))


def test_no_module_is_over_300_lines() -> None:
    code = [ROOT / "worker.py", *(path for layer in FORBIDDEN for path in (ROOT / layer).rglob("*.py"))]
    long = {str(path.relative_to(ROOT)): n for path in sorted(code)
            if (n := len(path.read_text().splitlines())) > 300}
    assert long == {}
