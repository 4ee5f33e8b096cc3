"""Benchmark of the personal-information detectors; prints one JSON object.

    .venv/bin/python bench/pii_scan.py [--repeat 20] [--long-runs 20]

- dev set (../shared/data/pii-dev.jsonl): throughput and p50/p95 latency of ``detect`` over its prompts,
  repeated, plus item recall, item false-positive rate and per-type span recall scored like score_pii.py;
- a synthetic 10,000-character prompt (a municipal memo with names, addresses, phones and numbers): p50/p95;
- one 200,000-character prompt: the time it takes.

Needs neither Django nor the database: ``guard.detectors`` imports neither.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from guard.detectors import detect, warm_up  # noqa: E402

DEV_SET = ROOT.parent / "shared" / "data" / "pii-dev.jsonl"

MEMO = [
    "本日の窓口対応について報告します。",
    "高崎市旭町12-3の小池 真由美さん（080-3141-5926）から、児童手当の振込が遅れているとの問い合わせがありました。",
    "令和8年度の予算は12,345,678円で、前年度比3.5%の増額です。",
    "条例第27号の改正に伴い、様式第3号を差し替えます。",
    "担当：市民課 原口。折り返しは内線2468までお願いします。",
    "生年月日 昭和55年10月2日、振込先は普通預金 7531598 とのことでした。",
    "前橋七夕まつりと高崎だるま市の広報文も作成予定です。",
    "連絡先メールは m.koike@example.net です。",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def timed(text: str) -> float:
    started = time.perf_counter()
    detect(text)
    return (time.perf_counter() - started) * 1000


def latency(samples: list[float]) -> dict[str, float]:
    return {"p50_ms": round(percentile(samples, 0.50), 3), "p95_ms": round(percentile(samples, 0.95), 3),
            "mean_ms": round(statistics.fmean(samples), 3)}


def synthetic(length: int) -> str:
    text, i = "", 0
    while len(text) < length:
        text += MEMO[i % len(MEMO)]
        i += 1
    return text[:length]


def score(gold: list[dict]) -> dict:
    tp = fn = fp = tn = 0
    hit, total = defaultdict(int), defaultdict(int)
    for item in gold:
        found = detect(item["text"])
        if item["pii"]:
            tp, fn = tp + bool(found), fn + (not found)
            for span in item["pii"]:
                total[span["type"]] += 1
                hit[span["type"]] += any(f.start < span["end"] and span["start"] < f.end for f in found)
        else:
            fp, tn = fp + bool(found), tn + (not found)
    return {
        "item_recall": round(tp / max(1, tp + fn), 3),
        "item_fpr": round(fp / max(1, fp + tn), 3),
        "span_recall_by_type": {t: round(hit[t] / total[t], 2) for t in sorted(total)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="passes over the dev set")
    parser.add_argument("--long-runs", type=int, default=20, help="runs over the 10,000-character prompt")
    args = parser.parse_args()

    started = time.perf_counter()
    warm_up()
    report: dict = {"warm_up_s": round(time.perf_counter() - started, 3)}

    if DEV_SET.exists():
        gold = [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
        texts = [item["text"] for item in gold]
        samples = []
        started = time.perf_counter()
        for _ in range(args.repeat):
            samples.extend(timed(text) for text in texts)
        elapsed = time.perf_counter() - started
        report["dev_set"] = {
            "prompts": len(texts), "repeat": args.repeat,
            "prompts_per_s": round(len(samples) / elapsed, 1), **latency(samples), **score(gold),
        }
    else:
        report["dev_set"] = f"not found: {DEV_SET}"

    long_text = synthetic(10_000)
    samples = [timed(long_text) for _ in range(args.long_runs)]
    report["synthetic_10000_chars"] = {"runs": args.long_runs, "findings": len(detect(long_text)), **latency(samples)}

    huge = synthetic(200_000)
    report["synthetic_200000_chars"] = {"seconds": round(timed(huge) / 1000, 3)}
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
