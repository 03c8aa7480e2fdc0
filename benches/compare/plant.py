#!/usr/bin/env python3
"""Make a test corpus: the first N documents of a JSONL corpus plus planted
near-copies of some of them, shuffled in.

Usage:
    plant.py IN.jsonl OUT.jsonl [--docs 2000] [--copies 300] [--max-edit 0.04] [--seed 1]

Each copy takes a random source document and edits a random share of its
words, drawn uniformly from 0 to --max-edit (each edit replaces, deletes or
inserts a word taken from the same text); a quarter of the copies also lose
their last tenth. The edit rates straddle the usual thresholds, so some
copies are near-duplicates at 0.8 and some are not: the ground truth
(truth.py) decides. Copies get ids "copy-<k>-<source id>". Deterministic
for a given --seed.
"""
import argparse
import json
import random


def edit(text, rate, rng):
    words = text.split(" ")
    for _ in range(round(rate * len(words))):
        k = rng.randrange(len(words))
        op = rng.random()
        if op < 0.5:
            words[k] = rng.choice(words)
        elif op < 0.75 and len(words) > 1:
            del words[k]
        else:
            words.insert(k, rng.choice(words))
    return " ".join(words)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--copies", type=int, default=300)
    ap.add_argument("--max-edit", type=float, default=0.04)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    with open(a.src, encoding="utf-8") as fh:
        docs = [json.loads(line) for line, _ in zip(filter(str.strip, fh), range(a.docs))]
    out = list(docs)
    for k in range(a.copies):
        src = rng.choice(docs)
        text = edit(src["text"], rng.uniform(0, a.max_edit), rng)
        if rng.random() < 0.25:
            text = text[: int(len(text) * 0.9)]
        out.append({"id": "copy-%d-%s" % (k, src["id"]), "text": text})
    rng.shuffle(out)
    with open(a.out, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(d, ensure_ascii=False) + "\n" for d in out)


if __name__ == "__main__":
    main()
