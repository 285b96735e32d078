"""A catalogue of flow authors' mistakes: each refused with its file, line, column, step and a
whole message, all of a file's problems at once, sorted by position."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ticketflow.flows import FlowError, compile_flow
from ticketflow.flows.config import load_config
from ticketflow.infra.settings import ROOT

HEAD = "name: x\nsteps:\n"


def step(body: str) -> str:
    """A flow of one step, ``id: s``, with ``body`` (YAML lines at the step's indent)."""
    return HEAD + "  - id: s\n" + "".join(f"    {line}\n" for line in body.splitlines())


# (flow source, line, column, step, the whole message or its start)
CATALOGUE = [
    # unknown names, with a suggestion
    (step("if: ticket.user_levl > 3"), 4, 16, "s",
     "unknown field ticket.user_levl (did you mean user_level?); known: id, user_id, subject, "
     "content, channel, user_level, priority, queue, tags, sla, metadata, created_at, status"),
    (step('if: nlp.sentimnt == "negative"'), 4, 13, "s",
     "unknown field nlp.sentimnt (did you mean sentiment?); known: language, intent, "
     "intent_confidence, tags, sentiment, urgent"),
    (step("if: customer.lvl > 2"), 4, 18, "s",
     "unknown field customer.lvl (did you mean level?); known: id, level"),
    (step("if: tickt.user_level > 3"), 4, 9, "s",
     "unknown variable tickt (did you mean ticket?); known: calendars, customer, nlp, now, ticket"),
    (step("if: user.level > 3"), 4, 9, "s",
     "unknown variable user (did you mean customer?); known: calendars, customer, nlp, now, ticket"),
    (HEAD.replace("steps:", "when: ticket.chanel == \"email\"\nsteps:") + "  - id: s\n", 2, 14,
     None, "unknown field ticket.chanel (did you mean channel?)"),
    (step("switch:\n  - when: nlp.languag == \"zh\"\n    jump_to: end\n  - default: end"), 5, 19,
     "s", "unknown field nlp.languag (did you mean language?)"),
    (step("if: ticket.subject.length > 3"), 4, 24, "s",
     "ticket.subject is a string: it has no field length"),
    # types that can never match
    (step('if: ticket.user_level == "5"'), 4, 27, "s",
     'ticket.user_level (int) and "5" (string) can never be equal'),
    (step('if: ticket.user_level > "3"'), 4, 27, "s",
     'ticket.user_level (int) and "3" (string) cannot be ordered'),
    (step("if: nlp.urgent == 1"), 4, 20, "s", "nlp.urgent (bool) and 1 (int) can never be equal"),
    (step("if: ticket.created_at < now"), 4, 27, "s",
     "ticket.created_at (string) and now (timestamp) cannot be ordered"),
    (step("if: ticket.user_level + 0.5 > 3"), 4, 27, "s",
     "`+` is not defined for ticket.user_level (int) and 0.5 (double) (CEL does not mix int "
     "and double: convert one, e.g. double(x))"),
    (step("if: '\"refund\" in ticket.subject'"), 4, 19, "s",
     "`in` needs a list or a map on its right, not a string (for text, use .contains())"),
    (step("if: 3 in nlp.tags"), 4, 11, "s", "3 (int) is never in nlp.tags (list(string))"),
    (step("if: ticket.user_level"), 4, 9, "s", "a condition must give a bool; this gives int"),
    (step("if: nlp.urgent && ticket.subject"), 4, 23, "s", "`&&` needs a bool, not a string"),
    (step("if: '!ticket.queue'"), 4, 10, "s", "`!` needs a bool, not a string"),
    # vocabularies
    (step('if: ticket.priority == "urgentt"'), 4, 28, "s",
     '"urgentt" (did you mean urgent?); it is one of high, low, normal, urgent'),
    (step('if: nlp.language == "cn"'), 4, 25, "s",
     'nlp.language is never "cn"; it is one of en, other, zh'),
    (step('if: ticket.channel in ["email", "fax"]'), 4, 37, "s",
     'ticket.channel is never "fax"'),
    (step('if: nlp.sentiment != "angry"'), 4, 26, "s", 'nlp.sentiment is never "angry"'),
    # functions
    (step("if: lower(ticket.subject) == \"x\""), 4, 9, "s", "unknown function lower()"),
    (step('if: ticket.subject.startswith("x")'), 4, 24, "s",
     "unknown function startswith() (did you mean startsWith?)"),
    (step("if: size(ticket.user_level) > 1"), 4, 9, "s", "size() of a int is not defined"),
    (step("if: ticket.tags.exists(t, t + 1)"), 4, 33, "s",
     "`+` is not defined for t (string) and 1 (int)"),
    # syntax
    (step("if: 'ticket.user_level >'"), 4, 29, "s", "invalid CEL: expected a value, found the end"),
    (step("if: '(nlp.urgent'"), 4, 21, "s",
     "invalid CEL: expected `)` to close the parenthesis, found the end"),
    (step("if: 'nlp.urgent @ true'"), 4, 21, "s", "invalid CEL: unexpected character '@'"),
    # templates
    (step("auto_reply: 'Hi {{ticket.nickname}}'"), 4, 30, "s",
     "unknown field ticket.nickname; known: id, user_id, subject"),
    (step("auto_reply: 'Re: {{ tiket.subject }}'"), 4, 25, "s",
     "unknown variable tiket (did you mean ticket?)"),
    (step("auto_reply: 'Re: {{ticket}}'"), 4, 24, "s", "{{ticket}} is a group of fields; name one"),
    (step("auto_reply: 'Re: {{ticket.subject | upper}}'"), 4, 24, "s",
     "a template field is a dotted path like {{ticket.subject}}, not {{ticket.subject | upper}}"),
    (step("notify: {url: 'https://x.example', message: 'Ticket {{ticket.subjct}}'}"), 4, 66, "s",
     "unknown field ticket.subjct (did you mean subject?)"),
    # references
    (step("jump_to: nowhere"), 3, 5, "s", "jumps to unknown step 'nowhere' (steps: s)"),
    (step("wait: {event: assigned_agent, timeout: 1h}"), 4, 19, "s",
     "wait/event: 'assigned_agent' is not one of"),
    (step("wait: {duration: 1.5h}"), 4, 22, "s", "wait/duration: '1.5h' does not match"),
]


@pytest.mark.parametrize(("source", "line", "column", "step_id", "message"), CATALOGUE,
                         ids=[f"mistake-{i}" for i in range(len(CATALOGUE))])
def test_each_mistake_is_refused_at_its_place(source: str, line: int, column: int,
                                              step_id: str | None, message: str) -> None:
    with pytest.raises(FlowError) as err:
        compile_flow(source, "flows/broken.yaml")
    found = [p for p in err.value.problems if message in p.message]
    assert found, [str(p) for p in err.value.problems]
    problem = found[0]
    assert (problem.file, problem.line, problem.column, problem.step) == (
        "flows/broken.yaml", line, column, step_id), str(problem)
    assert str(problem).startswith(f"flows/broken.yaml:{line}:{column}: ")


def test_the_catalogue_is_at_least_thirty_mistakes() -> None:
    assert len(CATALOGUE) >= 30


def test_schema_and_semantic_problems_come_in_one_pass_sorted_by_position() -> None:
    source = HEAD.replace("steps:", "when: ticket.user_levl > 3\nbogus: 1\nsteps:") + (
        "  - id: a\n    if: nlp.sentimnt == \"negative\"\n    set: {priority: whenever}\n"
        "  - id: b\n    auto_reply: 'Hi {{ticket.nickname}}'\n")
    with pytest.raises(FlowError) as err:
        compile_flow(source, "f.yaml")
    shown = [f"{p.line}:{p.column}" for p in err.value.problems]
    assert shown == ["1:1", "2:14", "6:13", "7:21", "9:30"], [str(p) for p in err.value.problems]


def test_a_folder_reports_every_file_and_the_references_between_them(tmp_path: Path) -> None:
    folder = tmp_path / "flows"
    shutil.copytree(ROOT / "flows", folder)
    vip = folder / "vip_ticket.yaml"
    vip.write_text(vip.read_text().replace("sla: vip", "sla: platinum")
                   .replace("ticket.user_level > 3\nsteps", "ticket.user_levl > 3\nsteps"))
    default = folder / "default.yaml"
    default.write_text(default.read_text().replace("if: nlp.urgent", "if: nlp.urgnt"))
    with pytest.raises(FlowError) as err:
        load_config(folder)
    shown = [f"{Path(p.file).name}:{p.line}:{p.column}: {p.what}" for p in err.value.problems]
    assert shown[0].startswith("default.yaml:9:13: step "), shown
    assert "unknown field nlp.urgnt (did you mean urgent?)" in shown[0]
    assert shown[1].startswith("vip_ticket.yaml:5:14: unknown field ticket.user_levl"), shown
    assert shown[2] == ("vip_ticket.yaml:14:44: step vip_channel: SLA policy 'platinum' does "
                        "not exist; the policies in config/sla.yaml are business, priority, "
                        "standard, vip"), shown
    assert len(shown) == 3


def test_the_shipped_flows_pass_every_check() -> None:
    config = load_config(ROOT / "flows")
    assert {p.name for p in config.plans} >= {"default", "vip_ticket", "refund_escalation"}


def test_the_declared_context_is_the_one_the_sample_the_docs_and_the_types_show() -> None:
    from ticketflow.flows.context import CONTEXT, SAMPLE, FlowNlp, FlowTicket

    docs = (ROOT / "docs" / "flows.md").read_text()
    section = docs[docs.index("## What conditions see"):docs.index("## Checks")]
    assert set(SAMPLE) == set(CONTEXT)
    for variable, declared in CONTEXT.items():
        assert f"`{variable}`" in section
        if declared.name == "object":
            assert set(SAMPLE[variable]) == {name for name, _ in declared.fields}, variable
            for name, _ in declared.fields:
                assert f"`{name}`" in section, f"{variable}.{name}"
    assert list(FlowTicket.__annotations__) == [name for name, _ in CONTEXT["ticket"].fields]
    assert list(FlowNlp.__annotations__) == [name for name, _ in CONTEXT["nlp"].fields]


def test_the_queues_a_flow_can_place_a_ticket_in() -> None:
    from ticketflow.flows.checks import queues

    plans = {p.name: p for p in load_config(ROOT / "flows").plans}
    assert queues(plans["vip_ticket"]) == ["general", "vip"]
    assert queues(plans["refund_escalation"]) == ["billing"]
    assert "general" in queues(plans["default"])
