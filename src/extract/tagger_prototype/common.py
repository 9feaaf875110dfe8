"""Shared pieces: tokenizer, sentence split, quote-mark state, rules alignment, cue lexicon,
features, BIO labels, span decoding, speaker attachment."""
import json
import re
from collections import Counter

TRAIN = "../shared/eval/quotes/polnear_train.jsonl"
DEV = "../shared/eval/quotes/polnear_dev.jsonl"

TOK_RE = re.compile(r"(?:[A-Za-z]\.){2,}|\w+(?:['\u2019]\w+)*|[^\w\s]")
ABBR = {"mr", "mrs", "ms", "dr", "sen", "rep", "gov", "st", "jr", "sr", "gen", "lt", "col", "sgt",
        "prof", "rev", "no", "vs", "inc", "corp", "co", "jan", "feb", "aug", "sept", "oct", "nov",
        "dec", "ga", "ark", "calif", "fla", "mass", "va", "pa", "wash", "ind", "tenn", "ky", "mich"}
OPENQ = {"\u201c", "\u00ab"}
CLOSEQ = {"\u201d", "\u00bb"}
PRON = {"he", "she", "they", "we", "i", "it", "you"}


def load(path):
    return [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]


def load_rules(path):
    return {r["id"]: r["quotes"] for r in load(path)}


class Doc:
    """Tokenized article with per-token structural info."""

    def __init__(self, art, rules_quotes):
        self.id = art["id"]
        self.text = t = art["text"]
        self.spans = [(m.start(), m.end()) for m in TOK_RE.finditer(t)]
        self.words = [t[s:e] for s, e in self.spans]
        n = len(self.words)
        # paragraph id: count newlines before token
        self.para = [0] * n
        p = 0
        last = 0
        for i, (s, e) in enumerate(self.spans):
            if "\n" in t[last:s]:
                p += 1
            last = e
            self.para[i] = p
        # sentences
        self.sent = [0] * n
        sid = 0
        for i in range(n):
            if i > 0:
                if self.para[i] != self.para[i - 1]:
                    sid += 1
                else:
                    # boundary after token j if j ends sentence
                    j = i - 1
                    w = self.words[j]
                    prevw = self.words[j - 1].lower() if j > 0 else ""
                    nxt = self.words[i]
                    if w in CLOSEQ or w == '"':
                        # ." closing quote: boundary if token before it is .!? and next is upper/open
                        if j > 0 and self.words[j - 1] in (".", "!", "?") and (nxt[:1].isupper() or nxt in OPENQ):
                            sid += 1
                    elif w in (".", "!", "?") and (nxt[:1].isupper() or nxt in OPENQ or nxt == '"') \
                            and prevw not in ABBR and not (len(prevw) == 1 and prevw.isalpha()):
                        sid += 1
            self.sent[i] = sid
        # quote-mark state: inside a double-quoted region (per paragraph)
        self.inq = [0] * n
        self.qmark = [""] * n
        state = False
        for i, w in enumerate(self.words):
            if i > 0 and self.para[i] != self.para[i - 1]:
                state = False
            if w in OPENQ:
                self.qmark[i] = "open"
                state = True
            elif w in CLOSEQ:
                self.qmark[i] = "close"
                self.inq[i] = 1
                state = False
                continue
            elif w == '"':
                if state:
                    self.qmark[i] = "close"
                    self.inq[i] = 1
                    state = False
                    continue
                self.qmark[i] = "open"
                state = True
            self.inq[i] = 1 if state else 0
        # rules: per-token tag
        self.rules = rules_quotes or []
        self.rtag = ["O"] * n
        self.rspk = ["O"] * n
        for q in self.rules:
            idx = self.tok_range(q["start"], q["end"])
            for k, i in enumerate(idx):
                self.rtag[i] = ("B-" if k == 0 else "I-") + q["kind"]
            if q.get("speaker_start") is not None:
                for i in self.tok_range(q["speaker_start"], q["speaker_end"]):
                    self.rspk[i] = "S"

    def joint_labels(self, quotes):
        """content B-C/I-C (priority) + source B-S/I-S on tokens left O"""
        y = self.gold_labels(quotes, "plain")
        y = [l if l == "O" else l + "-C" for l in y]
        for q in quotes:
            if q.get("speaker_start") is None:
                continue
            idx = [i for i in self.tok_range(q["speaker_start"], q["speaker_end"]) if y[i] == "O"]
            for k, i in enumerate(idx):
                y[i] = ("B" if k == 0 else "I") + "-S"
        return y

    def tok_range(self, s, e):
        return [i for i, (a, b) in enumerate(self.spans) if b > s and a < e]

    def gold_labels(self, quotes, scheme="plain"):
        y = ["O"] * len(self.words)
        for q in sorted(quotes, key=lambda q: q["start"]):
            idx = self.tok_range(q["start"], q["end"])
            # skip opening quote mark as B? keep as is (gold includes marks sometimes)
            suf = "" if scheme == "plain" else "-" + q["type"]
            for k, i in enumerate(idx):
                if y[i] != "O":
                    continue  # nested: keep outer
                y[i] = ("B" if k == 0 else "I") + suf
        return y


def shape(w):
    s = re.sub(r"[A-Z]", "X", w)
    s = re.sub(r"[a-z]", "x", s)
    s = re.sub(r"\d", "d", s)
    return re.sub(r"(.)\1+", r"\1\1", s)[:5]


def build_cue_lexicon(docs, arts):
    """cue word -> ratio (times inside a gold cue span / occurrences), from these docs only."""
    cue = Counter()
    tot = Counter()
    for d, a in zip(docs, arts):
        for w in d.words:
            tot[w.lower()] += 1
        for q in a["quotes"]:
            if q.get("verb_start") is None:
                continue
            for i in d.tok_range(q["verb_start"], q["verb_end"]):
                cue[d.words[i].lower()] += 1
    lex = {}
    for w, c in cue.items():
        if c >= 3 and w.isalpha():
            r = c / tot[w]
            if r >= 0.1:
                lex[w] = r
    return lex


def rbucket(r):
    return "hi" if r >= 0.6 else "mid" if r >= 0.3 else "lo"


def dbucket(d):
    return str(d) if d <= 3 else "4-6" if d <= 6 else "7-12" if d <= 12 else "13+"


def doc_features(d, lex, use_rules=True, use_cue=True, use_quote=True, use_bigram=True):
    n = len(d.words)
    low = [w.lower() for w in d.words]
    iscue = [lex.get(w) for w in low]
    # per-sentence positions
    sent_start = {}
    sent_end = {}
    for i, s in enumerate(d.sent):
        sent_start.setdefault(s, i)
        sent_end[s] = i
    # nearest cue before/after within sentence
    prev_cue = [None] * n
    last = None
    for i in range(n):
        if i > 0 and d.sent[i] != d.sent[i - 1]:
            last = None
        prev_cue[i] = last
        if iscue[i] is not None and iscue[i] >= 0.3:
            last = i
    next_cue = [None] * n
    last = None
    for i in range(n - 1, -1, -1):
        if i < n - 1 and d.sent[i] != d.sent[i + 1]:
            last = None
        next_cue[i] = last
        if iscue[i] is not None and iscue[i] >= 0.3:
            last = i
    sent_has_rules = {}
    for i in range(n):
        if d.rtag[i] != "O":
            sent_has_rules[d.sent[i]] = d.rtag[i][2:]
    feats = []
    for i in range(n):
        w = d.words[i]
        lw = low[i]
        f = {"b": 1.0, "w": lw, "sh": shape(w), "s3": lw[-3:], "title": w[:1].isupper()}
        for o in (-2, -1, 1, 2):
            j = i + o
            f["w%+d" % o] = low[j] if 0 <= j < n else ("<s>" if j < 0 else "</s>")
        if use_bigram:
            f["w-1|w"] = f["w-1"] + "|" + lw
            f["w|w+1"] = lw + "|" + f["w+1"]
        ss, se = sent_start[d.sent[i]], sent_end[d.sent[i]]
        f["spos"] = dbucket(i - ss)
        f["sposend"] = dbucket(se - i)
        f["parastart"] = i == 0 or d.para[i] != d.para[i - 1]
        if use_quote:
            f["inq"] = d.inq[i]
            f["qm"] = d.qmark[i]
            f["qm-1"] = d.qmark[i - 1] if i > 0 else "<s>"
            f["qm+1"] = d.qmark[i + 1] if i < n - 1 else "</s>"
            f["inq-1"] = d.inq[i - 1] if i > 0 else 0
            f["inq+1"] = d.inq[i + 1] if i < n - 1 else 0
            # sentence contains quote marks
        if use_cue:
            if iscue[i] is not None:
                f["cue"] = rbucket(iscue[i])
            pc, nc = prev_cue[i], next_cue[i]
            if pc is not None:
                f["pcue"] = dbucket(i - pc)
                f["pcuew"] = low[pc]
                if lw == "that" and i - pc <= 2:
                    f["that_after_cue"] = 1
            else:
                f["pcue"] = "none"
            if nc is not None:
                f["ncue"] = dbucket(nc - i)
            else:
                f["ncue"] = "none"
            f["pc|nc"] = f["pcue"][:1] + "|" + f["ncue"][:1]
            if i > 0 and iscue[i - 1] is not None:
                f["prevcue"] = rbucket(iscue[i - 1])
        if use_rules:
            f["r"] = d.rtag[i]
            f["r-1"] = d.rtag[i - 1] if i > 0 else "<s>"
            f["r+1"] = d.rtag[i + 1] if i < n - 1 else "</s>"
            f["rs"] = d.rspk[i]
            f["rsent"] = sent_has_rules.get(d.sent[i], "none")
            f["r|inq"] = d.rtag[i][:1] + str(d.inq[i])
        feats.append(f)
    return feats


def decode_spans(d, y):
    """maximal B/I runs -> list of (tok_i, tok_j) inclusive, with label type"""
    out = []
    cur = None
    for i, lab in enumerate(y):
        if lab == "O":
            if cur:
                out.append(cur)
            cur = None
            continue
        bi = lab[0]
        typ = lab[2:] if len(lab) > 2 else ""
        if bi == "B" or cur is None:
            if cur:
                out.append(cur)
            cur = [i, i, typ]
        else:
            cur[1] = i
    if cur:
        out.append(cur)
    res = []
    for i, j, typ in out:
        # drop spans that are only punctuation
        if not any(re.match(r"\w", d.words[k]) for k in range(i, j + 1)):
            continue
        res.append((i, j, typ))
    return res


def fallback_speaker(d, i, j, lex):
    """nearest capitalized run or pronoun next to a cue word in the sentence of the span."""
    sids = {d.sent[i], d.sent[j]}
    n = len(d.words)
    cands = [k for k in range(n) if d.sent[k] in sids and not (i <= k <= j)
             and lex.get(d.words[k].lower(), 0) >= 0.3]
    if not cands:
        return None
    c = min(cands, key=lambda k: min(abs(k - i), abs(k - j)))

    def grab(k, step):
        # find nearest capitalized run / pronoun going in direction step from k
        m = k + step
        while 0 <= m < n and d.sent[m] in sids and not (i <= m <= j):
            w = d.words[m]
            if w.lower() in PRON:
                return (m, m)
            if w[:1].isupper() and w.isalpha() and w.lower() not in {"the", "a", "but", "and"}:
                a = b = m
                while a - 1 >= 0 and d.words[a - 1][:1].isupper() and d.words[a - 1].isalpha():
                    a -= 1
                while b + 1 < n and d.words[b + 1][:1].isupper() and d.words[b + 1].isalpha():
                    b += 1
                return (a, b)
            m += step
        return None

    r = grab(c, -1) if c < i else (grab(c, 1) or grab(c, -1))
    if r is None:
        r = grab(c, 1) if c < i else None
    return r


def attach_speakers(d, spans, lex, mode="rules"):
    out = []
    for i, j, typ in spans:
        s, e = d.spans[i][0], d.spans[j][1]
        q = {"start": s, "end": e, "quote": d.text[s:e], "type": typ}
        best = None
        # 1. rules quote overlapping the span most
        bo = 0
        for r in d.rules:
            ov = min(e, r["end"]) - max(s, r["start"])
            if ov > bo and r.get("speaker_start") is not None:
                bo, best = ov, r
        src = "rules_overlap"
        if best is None:
            # 2. nearest rules speaker in same sentence(s)
            sids = {d.sent[i], d.sent[j]}
            cands = []
            for r in d.rules:
                if r.get("speaker_start") is None:
                    continue
                ti = d.tok_range(r["speaker_start"], r["speaker_end"])
                if ti and d.sent[ti[0]] in sids:
                    cands.append((min(abs(ti[0] - i), abs(ti[0] - j)), r))
            if cands:
                best = min(cands, key=lambda x: x[0])[1]
                src = "rules_sentence"
        if best is not None:
            q.update(speaker=best["speaker"], speaker_start=best["speaker_start"],
                     speaker_end=best["speaker_end"], verb=best.get("verb"))
        else:
            r = fallback_speaker(d, i, j, lex)
            src = "fallback" if r else "none"
            if r:
                a, b = d.spans[r[0]][0], d.spans[r[1]][1]
                q.update(speaker=d.text[a:b], speaker_start=a, speaker_end=b)
            else:
                q.update(speaker="", speaker_start=None, speaker_end=None)
        q["spk_src"] = src
        out.append(q)
    return out


def decode_joint(d, y):
    """-> (content spans, source spans) from a joint C/S BIO sequence"""
    yc = [l[:-2] if l.endswith("-C") else "O" for l in y]
    ys = [l[:-2] if l.endswith("-S") else "O" for l in y]
    return decode_spans(d, yc), [(i, j) for i, j, _ in _runs(ys)]


def _runs(y):
    out, cur = [], None
    for i, lab in enumerate(y):
        if lab == "O":
            if cur:
                out.append(cur)
            cur = None
        elif lab[0] == "B" or cur is None:
            if cur:
                out.append(cur)
            cur = [i, i, ""]
        else:
            cur[1] = i
    if cur:
        out.append(cur)
    return out


def attach_joint(d, spans, sources, lex, mode="tagged_first", chain=0):
    """speaker for each content span from tagged source spans:
    nearest tagged source in the span's sentence(s) (or inside the span's extent); else the
    rules' speaker (overlap / same sentence); else nearest tagged source in the 2 preceding
    sentences of the same paragraph; else heuristic fallback.
    mode=rules_first: rules' overlapping quote speaker wins when there is one."""
    base = attach_speakers(d, spans, lex)
    out = []
    for (i, j, typ), q in zip(spans, base):
        sids = {d.sent[i], d.sent[j]}
        same = [(min(abs(a - j), abs(b - i)) + (0 if b < i else 0.5), a, b) for a, b in sources
                if d.sent[a] in sids or d.sent[b] in sids or (i <= a and b <= j)]
        pick = None
        if mode == "rules_first" and q["spk_src"] == "rules_overlap":
            pick = None
        elif same:
            pick = min(same)[1:]
            q["spk_src"] = "tagged_sentence"
        elif q["spk_src"] in ("rules_overlap", "rules_sentence"):
            pick = None
        else:
            prev = [(i - b, a, b) for a, b in sources if b < i and d.para[b] == d.para[i]
                    and d.sent[i] - d.sent[b] <= 2]
            if prev:
                pick = min(prev)[1:]
                q["spk_src"] = "tagged_prev"
        if pick:
            a, b = d.spans[pick[0]][0], d.spans[pick[1]][1]
            q.update(speaker=d.text[a:b], speaker_start=a, speaker_end=b)
        elif q["spk_src"] in ("fallback", "none") and out and chain:
            # continuation: inherit the speaker of the previous quote within 2 paragraphs
            pq = out[-1]
            pj = spans[len(out) - 1][1]
            if d.para[i] - d.para[pj] <= chain and pq.get("speaker_start") is not None:
                q.update(speaker=pq["speaker"], speaker_start=pq["speaker_start"],
                         speaker_end=pq["speaker_end"])
                q["spk_src"] = "prev_quote"
        out.append(q)
    return out
