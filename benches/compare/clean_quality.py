"""Score doppel's cleaner against a corpus whose clean text is known.

    python3 clean_quality.py RAW.jsonl TRUTH.jsonl CLEANED.jsonl [--sample N]

RAW is the corpus as scraped (`doppel synth --out RAW --truth TRUTH`), TRUTH
holds each document's article text without junk (`{"id", "clean"}`), and
CLEANED is doppel's `cleaned.jsonl`. Per document, the cleaned text is
aligned with the clean text (difflib, character level):

- content kept   = clean characters found in the cleaned text, over clean characters;
- junk removed   = characters removed that were junk, over junk characters
                   (junk = raw length - clean length; removed content is
                   subtracted from everything removed).

Prints the corpus-level shares and the documents that lost the most content.
Standard library only.
"""

import argparse
import difflib
import json
import random


def load(path, field):
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                rec = json.loads(line)
                out[rec["id"]] = rec[field]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("raw")
    ap.add_argument("truth")
    ap.add_argument("cleaned")
    ap.add_argument("--sample", type=int, default=0, help="score N random documents (0: all)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    raw = load(args.raw, "text")
    clean = load(args.truth, "clean")
    cleaned = load(args.cleaned, "text")
    ids = sorted(raw)
    if args.sample:
        random.Random(args.seed).shuffle(ids)
        ids = sorted(ids[: args.sample])

    content = kept = junk = junk_removed = 0
    worst = []
    for i in ids:
        r, c, o = raw[i], clean[i], cleaned[i]
        sm = difflib.SequenceMatcher(None, c, o, autojunk=False)
        matched = sum(b.size for b in sm.get_matching_blocks())
        removed = len(r) - len(o)
        content_removed = len(c) - matched
        content += len(c)
        kept += matched
        junk += len(r) - len(c)
        junk_removed += max(0, removed - content_removed)
        if content_removed:
            worst.append((content_removed, i))
    worst.sort(reverse=True)
    print(f"documents       {len(ids)}")
    print(f"content kept    {kept / max(content, 1):.4%}  ({kept} of {content} characters)")
    print(f"junk removed    {junk_removed / max(junk, 1):.4%}  ({junk_removed} of {junk} characters)")
    print(f"documents that lost content: {len(worst)}")
    for n, i in worst[:5]:
        print(f"  {i}: {n} characters")


if __name__ == "__main__":
    main()
