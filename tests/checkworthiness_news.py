#!/usr/bin/env python3
"""The hand-labelled news statements of tests/data/checkworthiness_news_labels.tsv (see
checkworthiness_news.md), read by reference: PolNeAR quotes from ../shared/eval (never copied
into the project), the sample article's statements from tests/data. Python standard library.

    python3 tests/checkworthiness_news.py sentences > S.jsonl     # {"id", "sentence"} lines
    cargo run --release -q -- checkworthiness S.jsonl > SCORES.jsonl
    python3 tests/checkworthiness_news.py score SCORES.jsonl      # average precision, ROC AUC

Fails when the evaluation data is missing or a quote's offsets no longer match its article.
"""
import json
import os
import sys

# the training script's average precision, the same measure as for the debates
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src", "extract", "checkworthiness"))
from train import average_precision  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LABELS = os.path.join(ROOT, "tests", "data", "checkworthiness_news_labels.tsv")
POLNEAR = os.path.join(ROOT, "..", "shared", "eval", "quotes", "polnear_dev.jsonl")
SAMPLE = os.path.join(ROOT, "tests", "data", "putin-cis-mediation.txt")


def statements():
    """(key, text, label) for every labelled statement, in the TSV's order."""
    if not os.path.exists(POLNEAR):
        sys.exit(f"no evaluation data at {POLNEAR} (see README)")
    texts = {json.loads(line)["id"]: json.loads(line)["text"] for line in open(POLNEAR, encoding="utf-8")}
    texts["sample:putin-cis-mediation"] = open(SAMPLE, encoding="utf-8").read()
    rows = []
    lines = open(LABELS, encoding="utf-8").read().splitlines()
    assert lines[0].split("\t") == ["id", "start", "end", "label"], lines[0]
    for line in lines[1:]:
        article, start, end, label = line.split("\t")
        if article not in texts:
            sys.exit(f"article {article} is not in {POLNEAR}")
        text = " ".join(texts[article][int(start):int(end)].split())
        rows.append((f"{article}:{start}-{end}", text, int(label)))
    return rows



def roc_auc(scored):
    """The chance that a random checkable statement scores above a random other one (ties half)."""
    pos = [s for s, y in scored if y]
    neg = [s for s, y in scored if not y]
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def main():
    if sys.argv[1:2] == ["sentences"]:
        for key, text, _ in statements():
            print(json.dumps({"id": key, "sentence": text}))
    elif sys.argv[1:2] == ["score"]:
        scores = {}
        for line in open(sys.argv[2], encoding="utf-8"):
            row = json.loads(line)
            scores[row["id"]] = row["score"]
        rows = statements()
        scored = [(scores[key], label) for key, _, label in rows]
        result = {
            "statements": len(rows),
            "checkable": sum(label for _, _, label in rows),
            "average_precision": average_precision(scored),
            "roc_auc": roc_auc(scored),
        }
        print(json.dumps(result))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
