"""The ``ticketflow`` command."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from ticketflow.devstack.process import StackError
from ticketflow.settings import Settings


def _dev(_: argparse.Namespace) -> int:
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
    try:
        while not stop.wait(1.0):
            for child in stack.children:
                if child.exited():
                    print(f"{child.name} exited; see {child.log}:\n{child.tail()}", file=sys.stderr)
                    return 1
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


def main(argv: list[str] | None = None) -> int:  # noqa: D103
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(prog="ticketflow", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("dev", help="run the whole platform locally").set_defaults(run=_dev)
    commands.add_parser("migrate", help="apply database migrations").set_defaults(run=_migrate)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
