"""Tagging speed on one CPU core: per-ticket latency and throughput of the tag activity's
work (taxonomy + intent classifier), of the classifier alone and of the taxonomy alone, on
the banking77 texts (English) and a set of Chinese and mixed tickets. Baselines in the same
run: one case-folded substring scan of the same text, and scikit-learn's own
`predict_proba` on one text with the same model.
    python bench/tagger.py --data ../shared/data/banking77/train.csv --repeat 5
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core, as the target states
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stats import median, micros, p50_p99  # noqa: E402
from ticketflow.flows.taxonomy import load_taxonomy  # noqa: E402
from ticketflow.infra import progress
from ticketflow.infra.settings import Settings  # noqa: E402
from ticketflow.tagging import artefacts  # noqa: E402
from ticketflow.tagging.tagger import tag  # noqa: E402

CHINESE = ["我无法登录账号，请尽快处理", "退款申请：订单重复扣费", "快递三天没有发货，我很生气",
           "App 闪退 after update, 紧急", "谢谢，问题解决了"]


def summary(texts: list[str], fn, repeat: int) -> dict:
    runs = [micros(fn, texts) for _ in progress.bar(range(repeat), desc="tagger runs", unit="run")]
    p50, p99 = p50_p99(runs)
    return {"tickets": len(texts), "p50_us": round(p50, 1), "p99_us": round(p99, 1),
            "per_s": round(1e6 * len(texts) / median([sum(r) for r in runs]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/banking77/train.csv"))
    parser.add_argument("--model", type=Path, default=Settings().intent_model)
    parser.add_argument("--limit", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    english = [r["text"] for r in csv.DictReader(args.data.open())][: args.limit]
    chinese = CHINESE * (len(english) // len(CHINESE))
    taxonomy, model = load_taxonomy(), artefacts.current(args.model)
    tag("warm", "up 预热", taxonomy, model)
    report: dict = {"model": model.version if model else None}
    for name, texts in (("english", english), ("chinese_and_mixed", chinese)):
        report[name] = {
            "tag_activity": summary(texts, lambda t: tag("", t, taxonomy, model), args.repeat),
            "classifier_only": summary(texts, model.predict, args.repeat) if model else None,
            "taxonomy_only": summary(texts, lambda t: tag("", t, taxonomy), args.repeat),
            "baseline_scan": summary(texts, lambda t: "refund" in t.casefold(), args.repeat),
        }
    if model:
        sample = english[:300]
        report["baseline_sklearn_predict_proba_one_text"] = summary(
            sample, lambda t: model.pipeline.predict_proba([t.casefold()]), 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
