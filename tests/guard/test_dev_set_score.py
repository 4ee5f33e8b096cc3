"""The shared development set (../shared/data/pii-dev.jsonl), scored the way ../shared/tools/score_pii.py does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from guard.detectors import detect

DEV_SET = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "pii-dev.jsonl"


def score(gold: list[dict]) -> dict[str, float]:
    flagged_pii = missed_pii = flagged_clean = clean = 0
    for item in gold:
        found = detect(item["text"])
        if item["pii"]:
            flagged_pii += bool(found)
            missed_pii += not found
        else:
            flagged_clean += bool(found)
            clean += not found
    return {
        "item_recall": flagged_pii / max(1, flagged_pii + missed_pii),
        "item_fpr": flagged_clean / max(1, flagged_clean + clean),
    }


@pytest.mark.skipif(not DEV_SET.exists(), reason="the shared data folder is not next to the repository")
def test_the_dev_set_has_item_recall_at_least_097_and_false_positive_rate_at_most_005():
    gold = [json.loads(line) for line in DEV_SET.read_text(encoding="utf-8").splitlines() if line.strip()]
    result = score(gold)
    assert result["item_recall"] >= 0.97, result
    assert result["item_fpr"] <= 0.05, result


@pytest.mark.skipif(not DEV_SET.exists(), reason="the shared data folder is not next to the repository")
def test_every_gold_span_of_the_dev_set_is_overlapped_by_a_finding_of_its_type():
    missed = []
    for line in DEV_SET.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        found = detect(item["text"])
        for span in item["pii"]:
            if not any(f.type == span["type"] and f.start < span["end"] and span["start"] < f.end for f in found):
                missed.append((item["id"], span["type"]))
    assert len(missed) <= 1, missed
