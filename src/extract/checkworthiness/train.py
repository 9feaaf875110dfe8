#!/usr/bin/env python3
"""Trains the check-worthiness model shipped in model.tsv beside this file.

Logistic regression over the features that mod.rs computes the same way: lower-cased word
unigrams and bigrams (digit runs become "0"), plus sentence-level features that say what makes
a statement checkable (a number, a year, a quantity word, a comparison or record, a change, a
cause, names, past events) or not (opinion and modal words, the future, first and second person,
a question, a short sentence). Python's standard library only, so anyone can retrain with one
command:

    python3 src/extract/checkworthiness/train.py ../shared/eval/checkworthiness/checkthat2019_train.jsonl
    python3 src/extract/checkworthiness/train.py --cv-only …   # the estimate alone, no model
    python3 src/extract/checkworthiness/train.py --cv-only --cv-predictions OOF.jsonl …
        # nested out-of-fold scores, for ../shared/eval/score.py to compute the same estimate
    python3 src/extract/checkworthiness/train.py --jobs 1 …    # one process (default: one per core)

The setting (how many epochs of SGD, the strength of regularization) is chosen among SETTINGS
by leave-one-debate-out MAP, and the estimate of how well that whole procedure works is
nested: each debate is scored by a model trained on the other 18 with the settings that won a
leave-one-debate-out over those 18 alone, so the held-out debate chooses nothing. The shipped
model is trained on all 19 debates with the settings that win over all 19, then rescaled (Platt:
a slope and an offset fitted to its out-of-fold scores, the two classes weighing the same) so
that its score reads as a probability with check-worthy and other statements equally common,
instead of the 2.7% of the debates: the order is unchanged, the scores spread over [0, 1].
"""
import json
import math
import os
import random
import re
import sys
from collections import defaultdict
from itertools import combinations

WORD_RE = re.compile(r"[a-z]+|[0-9]+")
LETTERS_RE = re.compile(r"[A-Za-z]+")
DIGITS_RE = re.compile(r"[0-9]+")

# the candidates that the (nested) leave-one-debate-out chooses among: how many epochs of SGD
# (with a learning rate that decays, the strength of regularization). One run of max(EPOCHS)
# epochs is scored after each, so choosing costs no extra training. Weighting the rare positive
# class more (2 or 3 times) and larger n-gram values (6) scored lower when tried, so they are
# fixed, not chosen.
EPOCHS = (1, 2, 3, 4)
SETTINGS = list(EPOCHS)
POSITIVE_WEIGHT = 1.0
L2 = 1e-4
RATE = 0.05
# each n-gram's value is NGRAM_SCALE / sqrt(distinct n-grams of the sentence): a long sentence's
# many words do not add up to a large score by number alone
NGRAM_SCALE = 4.0
MIN_COUNT = 2
PRUNE = 1e-3

# word lists of the sentence-level features; mod.rs has the same lists
COMPARISON = {
    "than", "more", "less", "fewer", "most", "least", "higher", "lower", "highest", "lowest",
    "larger", "largest", "bigger", "biggest", "smaller", "smallest", "greater", "greatest",
    "better", "best", "worse", "worst", "record", "ever", "twice", "times", "half", "only",
    "first", "last", "every", "average",
}
CHANGE = {
    "doubled", "tripled", "quadrupled", "halved", "increase", "increased", "increases",
    "decrease", "decreased", "decreases", "rose", "risen", "rising", "fell", "fallen", "grew",
    "grown", "dropped", "declined", "cut", "cuts", "raised", "lost", "gained", "created", "added",
    "went", "up", "down", "since",
}
CAUSE = {
    "because", "cause", "caused", "causes", "result", "resulted", "results", "due", "led",
    "consequence", "thanks", "therefore",
}
QUANTITY = {
    "percent", "percentage", "hundred", "hundreds", "thousand", "thousands", "million",
    "millions", "billion", "billions", "trillion", "trillions", "dozen", "dozens", "dollars",
    "number", "rate", "tax", "taxes",
}
OPINION = {
    "think", "believe", "feel", "hope", "wish", "should", "must", "ought", "need", "want",
    "love", "hate", "great", "wonderful", "terrible", "horrible", "proud", "important",
    "unacceptable", "disgrace", "opinion", "guess", "let",
}
FUTURE = {"will", "ll", "going", "gonna", "would", "could", "might", "may", "shall", "plan", "promise"}
FIRST_PERSON = {"i", "me", "my", "we", "us", "our"}
SECOND_PERSON = {"you", "your"}
PAST = {"was", "were", "had", "did"}


GOLDEN = [
    "We lost 70,000 manufacturing jobs last year and the deficit doubled to $1 trillion.",
    "Thank you very much, it is great to be here tonight.",
    "Unemployment among young people is at 25 percent, the highest it has been in decades.",
    "I think that we need to do better, and we will, believe me.",
    "Crime went up by 17% in Chicago this year; this this is repeated, repeated.",
    "What would you do about it?",
    "Russia is ready to coordinate with all constructive-minded partners.",
    "“The United States blocked this format,” Putin said at a meeting in 2023.",
    "Crime has doubled under this mayor.",
    "The main thing now is to stop the bloodshed",
    "Because of the Iraq war, İstanbul and Ankara saw 1999 arrivals — KELVIN K, café, naïve.",
    "I",
    "",
]


def words(sentence):
    return ["0" if w[0].isdigit() else w for w in WORD_RE.findall(sentence.lower())]


def features(sentence):
    """The same features, with the same names and values, as `score` in mod.rs."""
    ws = words(sentence)
    f = {}
    for w in ws:
        f["w:" + w] = 1.0
    for a, b in zip(ws, ws[1:]):
        f["b:" + a + "_" + b] = 1.0
    for k in f:
        f[k] = NGRAM_SCALE / math.sqrt(len(f))
    f["len"] = min(len(ws), 40) / 20.0
    f["has_number"] = 1.0 if "0" in ws else 0.0
    f["money_or_percent"] = (1.0 if "$" in sentence else 0.0) + (1.0 if "%" in sentence or "percent" in ws else 0.0)
    f["question"] = 1.0 if sentence.rstrip().endswith("?") else 0.0
    f["bias"] = 1.0
    present = set(ws)
    f["comparison"] = 1.0 if present & COMPARISON else 0.0
    f["change"] = 1.0 if present & CHANGE else 0.0
    f["cause"] = 1.0 if present & CAUSE else 0.0
    f["quantity"] = 1.0 if present & QUANTITY else 0.0
    f["opinion"] = 1.0 if present & OPINION else 0.0
    f["future"] = 1.0 if present & FUTURE else 0.0
    f["first_person"] = 1.0 if present & FIRST_PERSON else 0.0
    f["second_person"] = 1.0 if present & SECOND_PERSON else 0.0
    f["past"] = 1.0 if present & PAST or any(len(w) >= 4 and w.endswith("ed") for w in ws) else 0.0
    f["year"] = 1.0 if any(len(d) == 4 and d[:2] in ("19", "20") for d in DIGITS_RE.findall(sentence)) else 0.0
    # names: capitalised words after the first (not "I"), up to four
    names = sum(1 for t in LETTERS_RE.findall(sentence)[1:] if t[0].isupper() and t != "I")
    f["names"] = min(names, 4) / 4.0
    f["short"] = 1.0 if len(ws) <= 5 else 0.0
    return f


def sigmoid(z):
    return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))


# the data, as feature indices, shared with the worker processes (set by load)
INDEX = {}
NGRAMS = []  # per sentence: the indices of its n-grams
NGRAM_VALUE = []  # per sentence: the value of each of its n-grams
DENSE = []  # per sentence: (index, value) of its other non-zero features
LABELS = []
DEBATES = {}  # debate: the sentences' positions
COUNTS = {}  # debate: {index: sentences of the debate having the n-gram}


def load(path):
    data = [json.loads(line) for line in open(path, encoding="utf-8")]
    for position, d in enumerate(data):
        ngrams, value, dense = [], 0.0, []
        for k, v in features(d["sentence"]).items():
            if v == 0.0:
                continue
            i = INDEX.setdefault(k, len(INDEX))
            if k.startswith(("w:", "b:")):
                ngrams.append(i)
                value = v
            else:
                dense.append((i, v))
        NGRAMS.append(ngrams)
        NGRAM_VALUE.append(value)
        DENSE.append(dense)
        LABELS.append(d["label"])
        DEBATES.setdefault(d["debate"], []).append(position)
        counts = COUNTS.setdefault(d["debate"], defaultdict(int))
        for i in ngrams:
            counts[i] += 1
    return data


def train(excluded, snapshots=EPOCHS):
    """SGD on the debates not in `excluded`: {epochs: weights} after each epoch in `snapshots`.
    n-grams seen fewer than MIN_COUNT times in those debates keep weight 0."""
    counts = defaultdict(int)
    for debate, c in COUNTS.items():
        if debate not in excluded:
            for i, n in c.items():
                counts[i] += n
    rows = []
    for debate, positions in DEBATES.items():
        if debate not in excluded:
            for p in positions:
                ngrams = [i for i in NGRAMS[p] if counts[i] >= MIN_COUNT]
                rows.append((ngrams, NGRAM_VALUE[p], DENSE[p], LABELS[p]))
    w = [0.0] * len(INDEX)
    rng = random.Random(7)
    exp = math.exp
    out = {}
    for epoch in range(max(snapshots)):
        rng.shuffle(rows)
        rate = RATE / (1 + epoch * 0.5)
        keep = 1 - rate * L2
        for ngrams, value, dense, y in rows:
            z = value * sum(map(w.__getitem__, ngrams))
            for i, v in dense:
                z += w[i] * v
            z = -30.0 if z < -30.0 else 30.0 if z > 30.0 else z
            g = rate * (1 / (1 + exp(-z)) - y) * (POSITIVE_WEIGHT if y else 1.0)
            step = g * value
            for i in ngrams:
                w[i] = w[i] * keep - step
            for i, v in dense:
                w[i] = w[i] * keep - g * v
        if epoch + 1 in snapshots:
            out[epoch + 1] = list(w)
    return out


def score_of(w, position):
    return NGRAM_VALUE[position] * sum(map(w.__getitem__, NGRAMS[position])) + sum(
        w[i] * v for i, v in DENSE[position]
    )


def task(excluded):
    """One training run: the excluded debates in, each one's scores after each snapshot out."""
    out = {}
    for epochs, w in train(set(excluded)).items():
        for debate in excluded:
            out[(debate, epochs)] = [score_of(w, p) for p in DEBATES[debate]]
    return excluded, out


def average_precision(scored):
    scored = sorted(scored, key=lambda x: -x[0])
    hits, total = 0, 0.0
    for rank, (_, y) in enumerate(scored, 1):
        if y:
            hits += 1
            total += hits / rank
    return total / hits if hits else 0.0


def ap_of(debate, scores):
    return average_precision(list(zip(scores, (LABELS[p] for p in DEBATES[debate]))))


def run(jobs, processes):
    if processes > 1:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(processes) as pool:
            return dict(pool.imap_unordered(task, jobs))
    return dict(map(task, jobs))


def platt(scores, labels):
    """Slope a and offset b of p = sigmoid(a z + b), fitted by Newton's method (halving a step
    that does not lower the loss) to (z, label) pairs, each class weighing half."""
    n1 = sum(labels)
    weight = {1: 0.5 / n1, 0: 0.5 / (len(labels) - n1)}

    def loss(a, b):
        total = 0.0
        for z, y in zip(scores, labels):
            t = a * z + b
            # log(1 + e^-t) for a positive, log(1 + e^t) for a negative, without overflow
            t = -t if y else t
            total += weight[y] * (max(t, 0.0) + math.log1p(math.exp(-abs(t))))
        return total

    a, b = 1.0, 0.0
    current = loss(a, b)
    for _ in range(100):
        ga = gb = haa = hab = hbb = 0.0
        for z, y in zip(scores, labels):
            p = sigmoid(a * z + b)
            c = weight[y]
            ga += c * (p - y) * z
            gb += c * (p - y)
            h = c * p * (1 - p)
            haa += h * z * z
            hab += h * z
            hbb += h
        det = haa * hbb - hab * hab
        da = (hbb * ga - hab * gb) / det
        db = (haa * gb - hab * ga) / det
        step = 1.0
        while loss(a - step * da, b - step * db) > current and step > 1e-6:
            step /= 2
        a, b = a - step * da, b - step * db
        previous, current = current, loss(a, b)
        if previous - current < 1e-12:
            break
    return a, b


def main():
    args = sys.argv[1:]
    predictions = None
    processes = os.cpu_count() or 1
    if "--cv-predictions" in args:
        predictions = args[args.index("--cv-predictions") + 1]
        del args[args.index("--cv-predictions"):args.index("--cv-predictions") + 2]
    if "--jobs" in args:
        processes = int(args[args.index("--jobs") + 1])
        del args[args.index("--jobs"):args.index("--jobs") + 2]
    path = [a for a in args if not a.startswith("--")][0]
    data = load(path)
    debates = sorted(DEBATES)
    # every model the nested cross-validation needs: without one debate (outer folds, and the
    # plain leave-one-debate-out over all 19) and without two (the inner folds: leaving out i
    # then j trains on what leaving out j then i does)
    jobs = [(d,) for d in debates] + list(combinations(debates, 2))
    print(f"{len(jobs)} training runs on {processes} processes", file=sys.stderr)
    results = run(jobs, processes)
    single = {}  # (debate, setting): scores by the model trained without it
    inner = defaultdict(dict)  # outer debate: {(inner debate, setting): AP}
    for excluded, out in results.items():
        for (debate, epochs), scores in out.items():
            if len(excluded) == 1:
                single[(debate, epochs)] = scores
            else:
                other = excluded[1] if debate == excluded[0] else excluded[0]
                inner[other][(debate, epochs)] = ap_of(debate, scores)

    def best(candidates, mean_ap):
        # the highest mean AP; among equals, the first of SETTINGS
        return max(candidates, key=lambda s: (round(mean_ap(s), 12), -SETTINGS.index(s)))

    nested_aps, out_of_fold = [], []
    for held_out in debates:
        others = [d for d in debates if d != held_out]
        chosen = best(SETTINGS, lambda s: sum(inner[held_out][(d, s)] for d in others) / len(others))
        scores = single[(held_out, chosen)]
        nested_aps.append(ap_of(held_out, scores))
        out_of_fold += [{"id": data[p]["id"], "score": s} for p, s in zip(DEBATES[held_out], scores)]
        print(f"{held_out}: AP {nested_aps[-1]:.3f} ({chosen} epochs, chosen on the other 18)", file=sys.stderr)
    plain = {s: sum(ap_of(d, single[(d, s)]) for d in debates) / len(debates) for s in SETTINGS}
    for s in SETTINGS:
        print(f"  leave-one-debate-out MAP, {s} epochs: {plain[s]:.4f}", file=sys.stderr)
    final = best(SETTINGS, plain.__getitem__)
    if predictions:
        with open(predictions, "w", encoding="utf-8") as f:
            for row in out_of_fold:
                f.write(json.dumps(row) + "\n")
        print(f"wrote nested out-of-fold scores to {predictions}", file=sys.stderr)
    print(f"leave-one-debate-out MAP of the settings chosen on all 19 ({final} epochs; optimistic): "
          f"{plain[final]:.4f}", file=sys.stderr)
    print(f"nested leave-one-debate-out MAP over {len(nested_aps)} debates: "
          f"{sum(nested_aps) / len(nested_aps):.4f}", file=sys.stderr)
    if "--cv-only" in sys.argv:
        return
    # the rescaling: fitted to the chosen settings' out-of-fold scores over all 19 debates
    oof = [(z, LABELS[p]) for d in debates for z, p in zip(single[(d, final)], DEBATES[d])]
    a, b = platt([z for z, _ in oof], [y for _, y in oof])
    print(f"rescaling: sigmoid({a:.4f} z + {b:.4f})", file=sys.stderr)
    w = train(set(), snapshots=(final,))[final]
    names = {i: k for k, i in INDEX.items()}
    kept = {}
    for i, v in enumerate(w):
        v = a * v + (b if names[i] == "bias" else 0.0)
        if abs(v) >= PRUNE:
            kept[names[i]] = float(f"{v:.5f}")
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "model.tsv")
    with open(out, "w", encoding="utf-8") as f:
        f.write("# feature\tweight: logistic regression trained by train.py on CheckThat! 2019 task 1 train\n")
        f.write(f"# {final} epochs; weights times {a:.5f} and {b:.5f} added to bias (Platt, the "
                f"classes weighing the same)\n")
        for k, v in sorted(kept.items()):
            f.write(f"{k}\t{v:.5f}\n")
    print(f"wrote {out}", file=sys.stderr)
    # sentences with the scores this model gives them, for the Rust test that keeps the two
    # implementations of the features in step (our own sentences, not the corpus's)
    golden = os.path.join(os.path.dirname(out), "golden.tsv")
    with open(golden, "w", encoding="utf-8") as f:
        f.write("# sentence\tscore: what model.tsv gives each sentence, computed by train.py\n")
        for sentence in GOLDEN:
            z = sum(kept.get(k, 0.0) * v for k, v in features(sentence).items())
            f.write(f"{sentence}\t{sigmoid(z):.6f}\n")
    print(f"wrote {golden}", file=sys.stderr)


if __name__ == "__main__":
    main()
