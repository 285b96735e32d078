"""The flows folder is re-read on change; invalid edits keep the last good version."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ticketflow.flows.registry import FlowRegistry
from ticketflow.infra.settings import ROOT
from ticketflow.tagging.tagger import tag


def touch_later(path: Path, text: str) -> None:
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    os.utime(path, ns=(before + 10**9, before + 10**9))


def test_taxonomy_and_flow_edits_are_taken_up_and_bad_ones_refused(tmp_path: Path) -> None:
    folder = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", folder)
    registry = FlowRegistry(folder)
    first = registry.taxonomy.version
    assert "refund" in tag("refund", "", registry.taxonomy).tags

    taxonomy = folder / "config" / "taxonomy.yaml"
    touch_later(taxonomy, taxonomy.read_text().replace("[refund,", "[refund, give it back,"))
    assert registry.taxonomy.version != first
    assert "refund" in tag("please give it back", "", registry.taxonomy).tags

    good = registry.taxonomy.version
    touch_later(taxonomy, "tags: {}\n")
    assert registry.taxonomy.version == good
    assert registry.last_error is not None and "taxonomy" in str(registry.last_error)

    touch_later(folder / "default.yaml", "name: default\ndefault: true\nsteps: []\n")
    assert [p.name for p in registry.plans] == ["vip_ticket", "refund_escalation", "default"]
