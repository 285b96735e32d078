"""Flow decision speed: compile once per flow version, then evaluate per ticket.

For each shipped flow, times (a) selecting the flow and running its decisions to the
end for one ticket, against (b) a baseline of evaluating one bare CEL comparison, in
the same run. Reports medians over repetitions, in microseconds.
    python bench/flows.py --tickets 2000 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stats import median, micros, p50_p99  # noqa: E402
from ticketflow.flows import FlowRun, flow_context, load_flows, select_plan  # noqa: E402
from ticketflow.flows.expressions import prepare, program  # noqa: E402
from ticketflow.infra.settings import ROOT  # noqa: E402

NOW = datetime(2026, 1, 1, tzinfo=UTC)
CASES = {
    "default": ({"user_level": 1}, {"intent": "", "sentiment": "neutral", "urgent": True}),
    "vip_ticket": ({"user_level": 5}, {"intent": "", "sentiment": "neutral", "language": "zh"}),
    "refund_escalation": ({"user_level": 1}, {"intent": "refund", "sentiment": "negative"}),
}


def decide(plans, ticket: dict, nlp: dict) -> str:
    ctx = flow_context(ticket={"user_id": "u", "subject": "s", **ticket}, nlp=nlp, now=NOW)
    prepared = prepare(ctx)
    run = FlowRun(select_plan(plans, ctx, prepared), ctx, prepared)
    outcome = None
    while (effect := run.advance(outcome)) is not None:
        outcome = "event" if effect.kind == "wait" else None
    return run.plan.name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    t0 = time.perf_counter()
    plans = load_flows(ROOT / "flows")
    compile_ms = (time.perf_counter() - t0) * 1000
    bare = program("ticket.user_level > 3")
    bare_ctx = {"ticket": {"user_level": 5}}
    report: dict = {"compile_all_flows_ms": round(compile_ms, 2), "flows": {}}
    baseline = [median(micros(lambda _: bare.execute(bare_ctx), range(args.tickets)))
                for _ in range(args.repeat)]
    report["baseline_one_cel_eval_us"] = round(median(baseline), 2)
    for name, (ticket, nlp) in CASES.items():
        assert decide(plans, ticket, nlp) == name
        runs = [micros(lambda _, t=ticket, n=nlp: decide(plans, t, n), range(args.tickets))
                for _ in range(args.repeat)]
        p50, p99 = p50_p99(runs)
        report["flows"][name] = {"p50_us": round(p50, 1), "p99_us": round(p99, 1),
                                 "ratio_to_one_cel_eval": round(p50 / median(baseline), 1)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
