"""One flow simulator: ``ticketflow flows simulate`` and ``POST /api/flows/simulate`` take the
same body and give the same bytes, on real Temporal (the worker tags for the API) and
PostgreSQL (the agents)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from api.app import create_app
from ticketflow.cli import main
from ticketflow.identity import key_store
from ticketflow.identity.principals import Role
from ticketflow.infra.settings import ROOT, Settings
from ticketflow.tagging import artefacts

pytestmark = pytest.mark.usefixtures("worker")

BODIES = {
    "vip zh": {"ticket": {"user_id": "c-1", "subject": "账户问题",
                          "content": "我的账户无法登录，请尽快处理", "user_level": 5}},
    # The refund tag comes from the worker's classifier: no taxonomy phrase appears.
    "refund": {"ticket": {"subject": "Help", "content": "I need to return something I bought "
                                                         "and get reimbursed, this is ridiculous"}},
    "stated nlp": {"ticket": {"subject": "hello"},
                   "nlp": {"language": "en", "tags": ["refund"], "sentiment": "negative"}},
    "stated event": {"ticket": {"subject": "Refund", "content": "This is unacceptable, refund me"},
                     "events": [{"event": "customer_reply", "after": "5h"}]},
    "flow named": {"ticket": {"subject": "Hi", "channel": "chat"}, "flow": "vip_ticket"},
}


@pytest.fixture
def cli(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """``ticketflow flows simulate --body FILE`` in this process (in a thread: it runs its own
    event loop), reading the agents from this module's database: (exit code, stdout, stderr)."""
    monkeypatch.setenv("DATABASE_URL", settings.database_url)

    async def run(body: object, *args: str) -> tuple[int, str, str]:
        path = tmp_path / f"{uuid.uuid4().hex}.json"
        path.write_text(json.dumps(body, ensure_ascii=False))
        capsys.readouterr()
        code = await asyncio.to_thread(main, ["flows", "simulate", *args, "--body", str(path)])
        out, err = capsys.readouterr()
        return code, out, err

    return run


async def _agent(http: httpx.AsyncClient, agent_id: str, queues: list[str]) -> None:
    r = await http.post("/api/agents", json={"agent_id": agent_id, "name": agent_id, "queues": queues})
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("name", list(BODIES))
async def test_the_cli_and_the_api_give_the_same_bytes(
        name: str, http: httpx.AsyncClient, cli, clean: None) -> None:  # type: ignore[no-untyped-def]
    await _agent(http, "ann", ["general", "billing"])
    answered = await http.post("/api/flows/simulate", json=BODIES[name])
    assert answered.status_code == 200, answered.text
    code, out, err = await cli(BODIES[name])
    assert (code, err) == (0, "")
    assert out == json.dumps(answered.json(), indent=2, ensure_ascii=False) + "\n"
    assert answered.content == json.dumps(json.loads(out), ensure_ascii=False,
                                          separators=(",", ":")).encode()


async def test_the_answer_says_why(settings: Settings, http: httpx.AsyncClient, clean: None) -> None:
    await _agent(http, "ann", ["general", "billing"])
    refund = (await http.post("/api/flows/simulate", json=BODIES["refund"])).json()
    model = artefacts.current(settings.intent_model)
    assert model is not None
    assert refund["nlp_source"] == "tagger"
    assert (refund["nlp"]["intent"], refund["nlp"]["model_version"].split("+")[-1]) == (
        "request_refund", model.version)  # the worker's classifier, not the taxonomy alone
    assert refund["selection"] == {"tried": [
        {"flow": "vip_ticket", "when": "ticket.user_level > 3", "value": False},
        {"flow": "refund_escalation", "when": '"refund" in nlp.tags && nlp.sentiment == "negative"',
         "value": True}], "chosen": "refund_escalation", "reason": "first flow whose when holds"}
    stated = (await http.post("/api/flows/simulate", json=BODIES["stated nlp"])).json()
    assert (stated["nlp_source"], stated["flow"]) == ("body", "refund_escalation")
    named = (await http.post("/api/flows/simulate", json=BODIES["flow named"])).json()
    assert named["selection"] == {"tried": [], "chosen": "vip_ticket", "reason": "named in the body"}
    replied = (await http.post("/api/flows/simulate", json=BODIES["stated event"])).json()
    assert replied["outcome"] == {
        "status": "assigned", "reason": "online agents serve queue billing: ann", "queue": "billing",
        "priority": "urgent", "tags": ["refund", "angry", "refund_escalated"], "sla": "priority",
        "elapsed": "5h00m00s"}


async def test_an_unserved_queue_would_wait_and_a_served_one_is_assigned(
        http: httpx.AsyncClient, cli, clean: None) -> None:  # type: ignore[no-untyped-def]
    vip = BODIES["vip zh"]
    await _agent(http, "ann", ["general"])
    await _agent(http, "off", ["vip"])
    r = await http.patch("/api/agents/off", json={"online": False})
    assert r.status_code == 200, r.text
    waiting = {"status": "queued", "reason": "would wait: no agent serves queue vip"}
    over_http = (await http.post("/api/flows/simulate", json=vip)).json()["outcome"]
    _, out, _ = await cli(vip)
    assert over_http.items() >= waiting.items()
    assert json.loads(out)["outcome"] == over_http

    await _agent(http, "vic", ["vip"])
    served = {"status": "assigned", "reason": "online agents serve queue vip: vic"}
    assert (await http.post("/api/flows/simulate", json=vip)).json()["outcome"].items() >= served.items()
    _, out, _ = await cli(vip)
    assert json.loads(out)["outcome"].items() >= served.items()


async def test_without_the_stacks_database_the_cli_says_agents_unknown(
        cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none")
    code, out, err = await cli(BODIES["vip zh"])
    assert code == 0
    assert json.loads(out)["outcome"]["status"] == "unknown"
    assert json.loads(out)["outcome"]["reason"] == \
        "agents unknown: cannot tell whether an agent serves queue vip"
    assert err.startswith("ticketflow flows simulate: agents unknown: the stack's database could not be read")


REFUSED = [
    ({"ticket": {"subject": "x", "colour": "red"}, "mood": 1}, {"ticket.colour", "mood"}),
    ({"ticket": {"user_level": "5"}}, {"ticket.user_level"}),
    ({"ticket": {}, "events": [{"event": "customer_reply", "after": "5 hours"}]}, {"events.0.after"}),
    ({"ticket": {}, "nlp": {"language": "fr"}}, {"nlp.language"}),
    ({"subject": "a bare ticket"}, {"ticket", "subject"}),
]


@pytest.mark.parametrize(("body", "fields"), REFUSED)
async def test_both_refuse_the_same_bodies_naming_the_fields(
        body: dict, fields: set[str], http: httpx.AsyncClient, cli) -> None:  # type: ignore[no-untyped-def]
    answered = await http.post("/api/flows/simulate", json=body)
    assert answered.status_code == 400, answered.text
    details = answered.json()["details"]
    assert {d["field"] for d in details} == fields
    code, out, err = await cli(body)
    assert (code, out) == (2, "")
    assert err == "ticketflow flows simulate: invalid parameters:" + "".join(
        f"\n  {d['field']}: {d['message']}" for d in details) + "\n"


async def test_an_unknown_flow_lists_the_valid_names(http: httpx.AsyncClient, cli) -> None:  # type: ignore[no-untyped-def]
    names = "vip_ticket, refund_escalation, default"
    answered = await http.post("/api/flows/simulate", json={"ticket": {}, "flow": "nosuch"})
    assert answered.status_code == 404
    assert answered.json()["error"] == f"no flow named 'nosuch'; flows: {names}"
    code, out, err = await cli({"ticket": {}, "flow": "nosuch"})
    assert (code, out, err) == (2, "", f"ticketflow flows simulate: no flow named 'nosuch'; flows: {names}\n")


def _command(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"}
    return subprocess.run([sys.executable, "-m", "ticketflow.cli", "flows", "simulate", *args],
                          input=stdin, capture_output=True, text=True, cwd=ROOT, env=env,
                          timeout=120, check=False)


def test_the_command_refuses_without_a_traceback() -> None:
    unknown = _command("nosuch")
    assert (unknown.returncode, unknown.stdout) == (2, "")
    assert unknown.stderr == "ticketflow flows simulate: no flow named 'nosuch'; flows: " \
                             "vip_ticket, refund_escalation, default\n"
    invalid = _command("--body", "-", stdin='{"ticket": {"user_level": "5"}, "x": 1}')
    assert (invalid.returncode, invalid.stdout) == (2, "")
    assert invalid.stderr == ("ticketflow flows simulate: invalid parameters:\n"
                              "  ticket.user_level: Input should be a valid integer\n"
                              "  x: unknown field\n")
    assert "Traceback" not in unknown.stderr + invalid.stderr


def test_the_ticket_form_still_takes_a_bare_ticket(tmp_path: Path) -> None:
    ticket = tmp_path / "t.json"
    ticket.write_text(json.dumps({"subject": "Hi", "user_level": 5}))
    result = _command("auto", "--ticket", str(ticket))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["flow"] == "vip_ticket"


# The API's process, on its own: one simulation tagged by the worker (this test's process),
# then what the API's process has imported.
API_PROCESS = """
import asyncio, json, sys
import httpx
from api.app import create_app
from ticketflow.infra.settings import Settings

given = json.loads(sys.stdin.read())

async def simulate():
    app = create_app(Settings(_env_file=None, **given["settings"]))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api",
            headers={"Authorization": "Bearer " + given["key"]}) as client:
        return [await client.post("/api/flows/simulate", json=body) for body in given["bodies"]]

answers = asyncio.run(simulate())
print(json.dumps({"answers": [(a.status_code, a.json()) for a in answers],
                  "loaded": sorted(m for m in sys.modules if m.endswith((".tagging.model", ".tagging.svm"))
                                   or m.split(".")[0] in ("sklearn", "skops"))}))
"""


async def test_the_api_process_never_loads_the_classifier(
        settings: Settings, sessions: async_sessionmaker) -> None:
    key = await key_store.create_key(sessions, role=Role.ADMIN, name="simulator")
    given = {"settings": settings.model_dump(mode="json"), "key": key.secret,
             "bodies": [BODIES["refund"], BODIES["vip zh"]]}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", API_PROCESS, cwd=ROOT, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(json.dumps(given).encode()), 120)
    assert process.returncode == 0, err.decode()
    seen = json.loads(out)
    (refund_status, refund), (vip_status, vip) = seen["answers"]
    assert (refund_status, vip_status) == (200, 200), seen
    assert refund["nlp"]["intent"] == "request_refund"  # the classifier ran: in the worker
    assert (vip["nlp"]["language"], vip["flow"]) == ("zh", "vip_ticket")
    assert seen["loaded"] == []


async def test_with_no_worker_to_tag_the_api_answers_503(settings: Settings,
                                                         admin_headers: dict[str, str]) -> None:
    idle = settings.model_copy(update={"task_queue": f"{settings.task_queue}-idle"})
    app = create_app(idle)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://api",
            headers=admin_headers) as client:
        answered = await client.post("/api/flows/simulate", json={"ticket": {"subject": "hi"}})
        assert answered.status_code == 503, answered.text
        assert answered.json()["code"] == "UNAVAILABLE"
        stated = await client.post("/api/flows/simulate",
                                   json={"ticket": {"subject": "hi"}, "nlp": {}})
        assert stated.status_code == 200, stated.text  # no tagging asked of the worker

