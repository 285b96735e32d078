"""Tagging speed: per-ticket latency and throughput of the taxonomy tagger, on the
banking77 texts (English) and a set of Chinese and mixed tickets, against a baseline of
one case-folded substring scan of the same text in the same run.
    python bench/tagger.py --data ../shared/data/banking77/train.csv --repeat 5
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stats import median, percentile  # noqa: E402
from ticketflow.tagger import load_taxonomy, tag  # noqa: E402

CHINESE = ["我无法登录账号，请尽快处理", "退款申请：订单重复扣费", "快递三天没有发货，我很生气",
           "App 闪退 after update, 紧急", "谢谢，问题解决了"]


def timed(texts: list[str], fn) -> list[float]:
    out = []
    for text in texts:
        t0 = time.perf_counter()
        fn(text)
        out.append((time.perf_counter() - t0) * 1e6)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data/banking77/train.csv"))
    parser.add_argument("--limit", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    english = [r["text"] for r in csv.DictReader(args.data.open())][: args.limit]
    chinese = CHINESE * (len(english) // len(CHINESE))
    taxonomy = load_taxonomy()
    tag("warm", "up 预热", taxonomy)
    report = {}
    for name, texts in (("english", english), ("chinese_and_mixed", chinese)):
        runs = [timed(texts, lambda t: tag("", t, taxonomy)) for _ in range(args.repeat)]
        base = [timed(texts, lambda t: "refund" in t.casefold()) for _ in range(args.repeat)]
        p50 = median([median(r) for r in runs])
        report[name] = {"tickets": len(texts), "p50_us": round(p50, 1),
                        "p99_us": round(median([percentile(r, 99) for r in runs]), 1),
                        "per_s": round(1e6 * len(texts) / median([sum(r) for r in runs])),
                        "baseline_scan_p50_us": round(median([median(r) for r in base]), 2)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
