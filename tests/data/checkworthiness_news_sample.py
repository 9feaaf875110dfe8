#!/usr/bin/env python3
"""Draws the news-quote sample that checkworthiness_news_labels.tsv labels (see
checkworthiness_news.md): a fixed seed, so the same 120 quotes come out every time.

    python3 tests/data/checkworthiness_news_sample.py ../shared/eval/quotes/polnear_dev.jsonl

prints `id<TAB>start<TAB>end<TAB>quote` lines (the quote only for the person labelling; the TSV
keeps the offsets alone).
"""
import json
import random
import sys

SEED = 2019
SIZE = 120
MIN_WORDS, MAX_WORDS = 5, 60


def sample(path):
    articles = [json.loads(line) for line in open(path, encoding="utf-8")]
    rng = random.Random(SEED)
    rng.shuffle(articles)
    pools = []
    for article in articles:
        quotes = [q for q in article["quotes"] if MIN_WORDS <= len(q["quote"].split()) <= MAX_WORDS]
        rng.shuffle(quotes)
        pools.append((article["id"], quotes))
    chosen = []
    while len(chosen) < SIZE and any(quotes for _, quotes in pools):
        for article_id, quotes in pools:
            if quotes and len(chosen) < SIZE:
                q = quotes.pop()
                chosen.append((article_id, q["start"], q["end"], q["quote"]))
    return chosen


if __name__ == "__main__":
    for article_id, start, end, quote in sample(sys.argv[1]):
        print(f"{article_id}\t{start}\t{end}\t{' '.join(quote.split())}")
