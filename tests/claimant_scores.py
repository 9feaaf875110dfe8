#!/usr/bin/env python3
"""How often a pronoun speaker's claimant names whom it refers to.

    python3 tests/claimant_scores.py GOLD.jsonl PREDICTIONS.jsonl

GOLD is PolNeAR in ../shared/eval/quotes/ format, PREDICTIONS what `claim-registry extract` (or
`tagger cv`) writes. Over the gold direct and mixed quotes whose annotated speaker is a pronoun
("he", "she", "they") and that carry coreference names (`speaker_aliases_auto`, CoreNLP's:
automatic, and often wrong themselves), matched by a predicted quote overlapping at least half
of the longer of the two, it counts the predictions whose `resolved_speaker` (the claimant a
proposed claim gets) agrees with one of those names, by the scorer's own name matching. Prints
{"quotes": n, "agree": k, "share": k / n} as JSON.
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent / "shared" / "eval"))
import score  # noqa: E402  (../shared/eval/score.py)


def main(gold_path, pred_path):
    gold = [json.loads(line) for line in open(gold_path, encoding="utf-8") if line.strip()]
    pred = {}
    for line in open(pred_path, encoding="utf-8"):
        if line.strip():
            row = json.loads(line)
            pred[row["id"]] = row["quotes"]
    n = agree = 0
    for article in gold:
        for q in article["quotes"]:
            if q["type"] not in ("direct", "mixed") or score.speaker_kind(q) != "pronoun":
                continue
            names = [a for a in q.get("speaker_aliases_auto") or []
                     if any(w[:1].isupper() for w in a.split())]
            if not names:
                continue
            longer = lambda p: max(p["end"] - p["start"], q["end"] - q["start"])  # noqa: E731
            matched = [p for p in pred.get(article["id"], [])
                       if min(p["end"], q["end"]) - max(p["start"], q["start"]) >= 0.5 * longer(p)]
            if not matched:
                continue
            n += 1
            claimant = matched[0].get("resolved_speaker")
            agree += bool(claimant) and any(score.names_agree(claimant, a) for a in names)
    print(json.dumps({"quotes": n, "agree": agree, "share": agree / n if n else None}))


if __name__ == "__main__":
    main(*sys.argv[1:3])
