#!/usr/bin/env python3
"""How far a source's character F1 could move with another draw of pages.

    python3 benches/cleaner/bootstrap.py SPLIT_DIR CANDIDATE.jsonl SOURCE [SPLIT]

SPLIT_DIR is prep.py's --out folder (e.g. /tmp/ctrain), CANDIDATE the
`{"id","text"}` file eval.sh scored (e.g. /tmp/ctrain/test-doppel.jsonl),
SOURCE a cleaner-train source (e.g. dragnet), SPLIT test (default) or dev.
Scores each page as score.py does (its functions are imported from
CTRAIN_SRC, default /work/shared/data/cleaner-train), then resamples the
source's pages with replacement 2,000 times (seed 1) and prints the pooled
F1, its 95% interval and the share of resamples at or above 0.85. A source
whose F1 rests on a few long pages has a wide interval.
"""
import os
import random
import sys

if len(sys.argv) < 4 or sys.argv[1] in ("-h", "--help"):
    print(__doc__.strip())
    sys.exit(2)
split_dir, candidate, source = sys.argv[1:4]
split = sys.argv[4] if len(sys.argv) > 4 else "test"
sys.path.insert(0, os.environ.get("CTRAIN_SRC", "/work/shared/data/cleaner-train"))
import score  # noqa: E402  (cleaner-train's scorer, never copied here)

cand = {str(d["id"]): d.get("text") or "" for d in score.read_jsonl(candidate)}
labels = {str(d["id"]): d["lines"] for d in score.read_jsonl(f"{split_dir}/{split}.labels.jsonl")}
pages = []  # (content chars, content kept, boilerplate kept) a page
for d in score.read_jsonl(f"{split_dir}/{split}.pages.jsonl"):
    if d.get("source") != source:
        continue
    pid = str(d["id"])
    lines = [(score.norm(d["text"][x["start"]:x["end"]]), x["label"] == "content") for x in labels[pid]]
    kept = score.kept_lines(lines, cand.get(pid, ""))
    content = kept_content = kept_boilerplate = 0
    for (text, is_content), k in zip(lines, kept):
        chars = len(text) - text.count(" ")
        if is_content:
            content += chars
            kept_content += chars * k
        else:
            kept_boilerplate += chars * k
    pages.append((content, kept_content, kept_boilerplate))
if not pages:
    sys.exit(f"bootstrap.py: no page of source {source} in {split}")


def f1(sample):
    content = sum(p[0] for p in sample)
    kept_content = sum(p[1] for p in sample)
    kept_boilerplate = sum(p[2] for p in sample)
    precision = kept_content / (kept_content + kept_boilerplate) if kept_content + kept_boilerplate else 0.0
    recall = kept_content / content if content else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


random.seed(1)
draws = sorted(f1([random.choice(pages) for _ in pages]) for _ in range(2000))
print(
    f"{source} ({split}, {len(pages)} pages): F1 {f1(pages):.4f}, "
    f"95% interval [{draws[50]:.4f}, {draws[1949]:.4f}], "
    f"resamples at or above 0.85: {sum(d >= 0.85 for d in draws) / len(draws):.1%}"
)
