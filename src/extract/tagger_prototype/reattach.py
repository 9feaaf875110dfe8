#!/usr/bin/env python3
"""Re-run span decoding + speaker attachment from saved tags (no retraining).
python3 reattach.py out/joint_cv_tags.json train OUT.jsonl [--mode tagged_first|rules_first] [--plain]"""
import argparse, json, subprocess, sys
from collections import Counter
from common import TRAIN, DEV, Doc, load, load_rules, decode_spans, decode_joint, attach_speakers, attach_joint
ap = argparse.ArgumentParser()
ap.add_argument("tags"); ap.add_argument("split"); ap.add_argument("out")
ap.add_argument("--mode", default="tagged_first"); ap.add_argument("--plain", action="store_true")
ap.add_argument("--min-tokens", type=int, default=1)
ap.add_argument("--add-rules", action="store_true", help="also output rules quotes that overlap no model span")
ap.add_argument("--chain", type=int, default=0)
a = ap.parse_args()
T = json.load(open(a.tags))
arts = load(TRAIN if a.split == "train" else DEV)
rules = load_rules(f"rules_{a.split}.jsonl")
srcs = Counter()
with open(a.out, "w") as f:
    for art in arts:
        if art["id"] not in T["tags"]:
            continue
        d = Doc(art, rules.get(art["id"])); y = T["tags"][art["id"]]; lex = dict(T["lex"][art["id"]])
        if a.plain:
            sp = [s for s in decode_spans(d, y) if s[1] - s[0] + 1 >= a.min_tokens]
            qs = attach_speakers(d, sp, lex)
        else:
            sp, so = decode_joint(d, y)
            sp = [s for s in sp if s[1] - s[0] + 1 >= a.min_tokens]
            qs = attach_joint(d, sp, so, lex, a.mode, chain=a.chain)
        if a.add_rules:
            for r in d.rules:
                if not any(min(r["end"], q["end"]) > max(r["start"], q["start"]) for q in qs):
                    qs.append(dict(r, spk_src="rules_added"))
        srcs.update(q["spk_src"] for q in qs)
        f.write(json.dumps({"id": art["id"], "quotes": qs}) + "\n")
print(dict(srcs))
gold = TRAIN if a.split == "train" else DEV
for t in ("direct,mixed", "direct,indirect,mixed"):
    o = subprocess.run([sys.executable, "../shared/eval/score.py", gold, a.out, "--types", t], capture_output=True, text=True).stdout
    print("---", t)
    for line in o.splitlines():
        if any(k in line for k in ("overlap>=0.5", "speaker accuracy", "recall by gold", "gold quotes")):
            print(line)
