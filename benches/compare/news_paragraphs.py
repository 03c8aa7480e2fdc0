#!/usr/bin/env python3
"""Paragraph-level score of a cleaner against a corpus whose clean text is known.

    python3 news_paragraphs.py RAW.jsonl TRUTH.jsonl CLEANED.jsonl [CLEANED.jsonl ...]

RAW and TRUTH are heldout_junk.py's outputs (`{"id","site","text"}` and
`{"id","clean",...}`), each CLEANED a `doppel clean` cleaned.jsonl. Counting
non-space characters:

- content kept  = characters of the truth's paragraphs that appear verbatim
                  in the cleaned text, over all truth characters;
- junk removed  = characters removed less the content lost, over the raw
                  text's characters beyond the truth's.

Unlike clean_quality.py's character alignment, a paragraph printed twice
(a teaser, then the same paragraph first in the story) is not charged as
lost whichever copy the cleaner keeps. Standard library only.
"""

import json
import sys


def nonspace(s):
    return sum(1 for c in s if not c.isspace())


def load(path, field):
    with open(path, encoding="utf-8") as f:
        return {r["id"]: r[field] for r in map(json.loads, filter(str.strip, f))}


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    raw = load(sys.argv[1], "text")
    truth = load(sys.argv[2], "clean")
    for path in sys.argv[3:]:
        kept = total = lost = raw_chars = cleaned_chars = truth_chars = 0
        for doc_id, text in load(path, "text").items():
            for p in filter(str.strip, truth[doc_id].split("\n\n")):
                n = nonspace(p)
                total += n
                if p in text:
                    kept += n
                else:
                    lost += n
            raw_chars += nonspace(raw[doc_id])
            cleaned_chars += nonspace(text)
            truth_chars += nonspace(truth[doc_id])
        junk = raw_chars - truth_chars
        print(f"{path}: content kept {kept / total:.2%}, junk removed {(raw_chars - cleaned_chars - lost) / junk:.2%}")


if __name__ == "__main__":
    main()
