#!/usr/bin/env python3
"""5-fold CV by article on train + train-all -> dev, linear-chain CRF (python-crfsuite).

python3 run_crf.py --name base [--scheme plain|typed] [--no-rules] [--no-cue] [--no-quote]
                   [--iters 100] [--folds 0,1,2,3,4] [--skip-dev] [--skip-cv]
Writes out/<name>_cv.jsonl (out-of-fold predictions on train), out/<name>_dev.jsonl,
out/<name>_model.crfsuite (train-all model) and prints timings."""
import argparse
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter

import pycrfsuite

from common import (TRAIN, DEV, Doc, load, load_rules, build_cue_lexicon, doc_features,
                    decode_spans, attach_speakers, decode_joint, attach_joint)

ap = argparse.ArgumentParser()
ap.add_argument("--name", default="base")
ap.add_argument("--scheme", default="plain")
ap.add_argument("--no-rules", action="store_true")
ap.add_argument("--no-cue", action="store_true")
ap.add_argument("--no-quote", action="store_true")
ap.add_argument("--no-bigram", action="store_true")
ap.add_argument("--iters", type=int, default=100)
ap.add_argument("--c1", type=float, default=0.05)
ap.add_argument("--c2", type=float, default=0.01)
ap.add_argument("--folds", default="0,1,2,3,4")
ap.add_argument("--skip-dev", action="store_true")
ap.add_argument("--skip-cv", action="store_true")
ap.add_argument("--joint", action="store_true", help="tag content C and source S jointly")
ap.add_argument("--spk-mode", default="tagged_first")
ap.add_argument("--min-tokens", type=int, default=1, help="drop predicted spans shorter than this")
args = ap.parse_args()
os.makedirs("out", exist_ok=True)
FK = dict(use_rules=not args.no_rules, use_cue=not args.no_cue, use_quote=not args.no_quote, use_bigram=not args.no_bigram)

t0 = time.time()
tr_arts = load(TRAIN)
dv_arts = load(DEV)
tr_rules = load_rules("rules_train.jsonl")
dv_rules = load_rules("rules_dev.jsonl")
tr_docs = [Doc(a, tr_rules.get(a["id"])) for a in tr_arts]
dv_docs = [Doc(a, dv_rules.get(a["id"])) for a in dv_arts]
print(f"loaded+tokenized {time.time()-t0:.1f}s", flush=True)

ids = sorted(a["id"] for a in tr_arts)
random.Random(13).shuffle(ids)
fold_of = {aid: k % 5 for k, aid in enumerate(ids)}


def train(docs, arts, path):
    lex = build_cue_lexicon(docs, arts)
    tr = pycrfsuite.Trainer(verbose=False)
    t = time.time()
    for d, a in zip(docs, arts):
        y = d.joint_labels(a["quotes"]) if args.joint else d.gold_labels(a["quotes"], args.scheme)
        tr.append(doc_features(d, lex, **FK), y)
    tf = time.time() - t
    tr.set_params({"c1": args.c1, "c2": args.c2, "max_iterations": args.iters,
                   "feature.possible_transitions": True})
    t = time.time()
    tr.train(path)
    tt = time.time() - t
    return lex, tf, tt


def predict(docs, lex, path):
    tg = pycrfsuite.Tagger()
    tg.open(path)
    t = time.time()
    out = {}
    tags = {}
    srcs = Counter()
    ntok = 0
    for d in docs:
        y = tg.tag(doc_features(d, lex, **FK))
        tags[d.id] = y
        ntok += len(y)
        if args.joint:
            spans, sources = decode_joint(d, y)
            spans = [s for s in spans if s[1] - s[0] + 1 >= args.min_tokens]
            qs = attach_joint(d, spans, sources, lex, args.spk_mode)
        else:
            spans = [s for s in decode_spans(d, y) if s[1] - s[0] + 1 >= args.min_tokens]
            qs = attach_speakers(d, spans, lex)
        srcs.update(q["spk_src"] for q in qs)
        out[d.id] = qs
    info = tg.info()
    nstate = len(info.state_features)
    tg.close()
    predict.tags.update(tags)
    for d in docs:
        predict.lexof[d.id] = sorted(lex.items())
    return out, time.time() - t, ntok, nstate, srcs


predict.tags = {}
predict.lexof = {}


def dump_tags(fn):
    json.dump({"tags": predict.tags, "lex": predict.lexof}, open(fn, "w"))
    predict.tags.clear()
    predict.lexof.clear()


def score(gold, pred):
    res = {}
    for types in ("direct,mixed", "direct,indirect,mixed"):
        o = subprocess.run([sys.executable, "../shared/eval/score.py", gold, pred, "--types", types],
                           capture_output=True, text=True).stdout
        res[types] = o
        print(f"--- {pred} types={types}")
        for line in o.splitlines():
            if any(k in line for k in ("overlap>=0.5", "speaker accuracy", "recall by gold", "gold quotes")):
                print(line)
    return res


if not args.skip_cv:
    preds = {}
    for k in [int(x) for x in args.folds.split(",")]:
        trd = [(d, a) for d, a in zip(tr_docs, tr_arts) if fold_of[a["id"]] != k]
        ted = [d for d, a in zip(tr_docs, tr_arts) if fold_of[a["id"]] == k]
        path = f"out/{args.name}_fold{k}.crfsuite"
        lex, tf, tt = train([x[0] for x in trd], [x[1] for x in trd], path)
        p, tp, ntok, nstate, srcs = predict(ted, lex, path)
        preds.update(p)
        print(f"fold {k}: train docs {len(trd)} feats {tf:.1f}s train {tt:.1f}s; predict {len(ted)} docs "
              f"{ntok} tok {tp:.1f}s; state feats {nstate}; lex {len(lex)}; spk src {dict(srcs)}", flush=True)
        os.remove(path)
    fn = f"out/{args.name}_cv.jsonl"
    with open(fn, "w") as f:
        for a in tr_arts:
            if a["id"] in preds:
                f.write(json.dumps({"id": a["id"], "quotes": preds[a["id"]]}) + "\n")
    dump_tags(f"out/{args.name}_cv_tags.json")
    if len(args.folds.split(",")) == 5:
        score(TRAIN, fn)

if not args.skip_dev:
    path = f"out/{args.name}_model.crfsuite"
    lex, tf, tt = train(tr_docs, tr_arts, path)
    p, tp, ntok, nstate, srcs = predict(dv_docs, lex, path)
    print(f"train-all: feats {tf:.1f}s train {tt:.1f}s; predict dev {ntok} tok {tp:.1f}s; state feats {nstate}; "
          f"model file {os.path.getsize(path)/1e6:.1f} MB; lex {len(lex)}; spk src {dict(srcs)}", flush=True)
    dump_tags(f"out/{args.name}_dev_tags.json")
    fn = f"out/{args.name}_dev.jsonl"
    with open(fn, "w") as f:
        for a in dv_arts:
            f.write(json.dumps({"id": a["id"], "quotes": p[a["id"]]}) + "\n")
    score(DEV, fn)
print(f"total {time.time()-t0:.1f}s")
