#!/usr/bin/env python3
"""Exact ground truth: every pair of documents whose word-5-gram shingle sets
have Jaccard similarity >= THRESHOLD.

Usage:
    truth.py CORPUS.jsonl --threshold 0.8 --out DIR

Writes DIR/truth_pairs.jsonl, one line per pair: {"a": ID, "b": ID,
"jaccard": F}, a before b in corpus order (the format of `doppel eval`).

Shingles come from prep.py (doppel's normalisation). The join is exact, an
all-pairs prefix-filtering join (Bayardo et al., "Scaling up all pairs
similarity search", 2007) with every candidate verified on the full sets:

  * shingles become integers ranked by corpus frequency, rarest first, and
    each document is the sorted list of its distinct ranks;
  * documents are visited from smallest to largest; if J(x, y) >= t with
    |y| <= |x|, then |y| >= t|x| (size filter) and x and y share a token
    within the first |x| - ceil(t|x|) + 1 tokens of x and within the first
    |y| - ceil(2t/(1+t) |y|) + 1 tokens of y (prefix filter): each document
    probes the index with the first prefix, then adds its second prefix;
  * a candidate is kept when its exact overlap o gives o / (|x|+|y|-o) >= t,
    tested in integers on the threshold as a fraction.

No sampling: the result is exact. Empty documents have no pairs.
"""
import argparse
import json
import os
import sys
import time
from array import array
from collections import Counter
from fractions import Fraction

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import prep  # noqa: E402


def ceil_frac(num, den):
    return -(-num // den)


def load(path):
    """Doc ids, and each doc's distinct shingles as frequency ranks (sorted)."""
    vocab, ids, docs = {}, [], []
    for doc_id, text in prep.read_corpus(path):
        ids.append(doc_id)
        docs.append(array("I", {vocab.setdefault(s, len(vocab)) for s in prep.shingles(text)}))
    freq = Counter()
    for d in docs:
        freq.update(d)
    del vocab
    rank = array("I", bytes(4 * len(freq)))
    for r, (tok, _) in enumerate(sorted(freq.items(), key=lambda kv: (kv[1], kv[0]))):
        rank[tok] = r
    return ids, [array("I", sorted(rank[t] for t in d)) for d in docs]


def join(docs, t):
    """Yields (i, j, overlap) for every pair with Jaccard >= t."""
    tn, td = t.numerator, t.denominator
    order = sorted((i for i, d in enumerate(docs) if d), key=lambda i: len(docs[i]))
    index = {}  # token -> [doc, ...] in increasing size
    start = {}  # token -> first entry that can still pass the size filter
    for x in order:
        dx = docs[x]
        nx = len(dx)
        min_size = ceil_frac(tn * nx, td)  # |y| >= t|x|
        probe = nx - min_size + 1
        seen = set()
        for tok in dx[:probe]:
            lst = index.get(tok)
            if not lst:
                continue
            k = start.get(tok, 0)
            while k < len(lst) and len(docs[lst[k]]) < min_size:
                k += 1  # sizes only grow: too small now, too small for good
            start[tok] = k
            seen.update(lst[k:])
        if seen:
            sx = set(dx)
            for y in seen:
                ny = len(docs[y])
                o = len(sx.intersection(docs[y]))
                if o * (td + tn) >= tn * (nx + ny):  # o / (nx + ny - o) >= t
                    yield (x, y, o) if x < y else (y, x, o)
        for tok in dx[:nx - ceil_frac(2 * tn * nx, td + tn) + 1]:
            index.setdefault(tok, []).append(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus")
    ap.add_argument("--threshold", default="0.8", help="Jaccard threshold (0 < t <= 1), default 0.8")
    ap.add_argument("--out", required=True, help="directory for truth_pairs.jsonl")
    a = ap.parse_args()
    t = Fraction(a.threshold)
    if not 0 < t <= 1:
        ap.error("threshold must be in (0, 1]")
    start = time.perf_counter()
    ids, docs = load(a.corpus)
    pairs = sorted(join(docs, t))
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "truth_pairs.jsonl"), "w", encoding="utf-8") as fh:
        for i, j, o in pairs:
            jac = o / (len(docs[i]) + len(docs[j]) - o)
            fh.write(json.dumps({"a": ids[i], "b": ids[j], "jaccard": round(jac, 6)}, ensure_ascii=False) + "\n")
    print("truth.py: %d documents, %d pairs with Jaccard >= %s (%.1f s)"
          % (len(docs), len(pairs), a.threshold, time.perf_counter() - start), file=sys.stderr)


if __name__ == "__main__":
    main()
