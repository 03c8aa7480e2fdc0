"""Split the cleaner-train data set into train and test files for the cleaner harness.

cleaner-train (pages.jsonl, labels.jsonl, score.py) is third-party text kept
outside the repository. This script only reads it and writes its outputs
outside the repository too (by default /tmp/ctrain); never copy any of it
into the repo.

Usage:
    python3 benches/cleaner/prep.py --src /work/shared/data/cleaner-train --out /tmp/ctrain

Split rule (deterministic): a page's group is the host of its URL (lower case,
a leading "www." removed) when `url` is not null, else the page id. A page is
in the test split when int(sha1(group).hexdigest(), 16) % 3 == 0, else in train.
All pages of one site therefore fall on the same side. Train is cut again, by
the same hash, into fit (three quarters) and dev (a quarter): choices of the
model (features, sizes, the threshold) are made by training on fit and scoring
on dev; the shipped model is then trained on all of train, and test is only
ever scored, never tuned on.

Writes, for each split S in {train, test, fit, dev}, into --out:
    S.labelled.jsonl  {"id","source","site","lines":[{"text","label"}]}
    S.pages.jsonl     the page records {"id","source","url","text"} plus "site"
    S.labels.jsonl    the labels.jsonl records of the split, unchanged
and prints pages, lines and chars per source for each split.
"""
import argparse
import collections
import hashlib
import json
import os
import sys
from urllib.parse import urlsplit

SPLITS = ("train", "test", "fit", "dev")


def site_of(url):
    """The URL's host, lower case, without a leading "www."; None without a URL."""
    if url is None:
        return None
    host = (urlsplit(url).hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    return host or None


def splits_of(group):
    """The splits a group's pages go to: test, or train and one of fit / dev."""
    h = int(hashlib.sha1(group.encode("utf-8")).hexdigest(), 16)
    if h % 3 == 0:
        return ("test",)
    return ("train", "dev" if (h // 3) % 4 == 0 else "fit")


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", required=True, help="the cleaner-train folder (pages.jsonl, labels.jsonl)")
    ap.add_argument("--out", required=True, help="output folder (outside the repository)")
    a = ap.parse_args()

    labels = {str(d["id"]): d for d in read_jsonl(os.path.join(a.src, "labels.jsonl"))}
    os.makedirs(a.out, exist_ok=True)
    outs = {
        s: {k: open(os.path.join(a.out, f"{s}.{k}.jsonl"), "w", encoding="utf-8")
            for k in ("labelled", "pages", "labels")}
        for s in SPLITS
    }
    stats = {s: collections.defaultdict(collections.Counter) for s in SPLITS}
    groups = {s: collections.defaultdict(set) for s in SPLITS}
    seen = set()
    for page in read_jsonl(os.path.join(a.src, "pages.jsonl")):
        pid = str(page["id"])
        if pid not in labels:
            sys.exit(f"prep.py: page {pid} has no labels")
        seen.add(pid)
        site = site_of(page.get("url"))
        group = site if site is not None else pid
        page_splits = splits_of(group)
        text = page["text"]
        lines = []
        for x in labels[pid]["lines"]:
            t = text[x["start"]:x["end"]]
            if "\n" in t:
                sys.exit(f"prep.py: page {pid}: label span {x['start']}:{x['end']} crosses a line break")
            lines.append({"text": t, "label": x["label"]})
        source = page.get("source")
        rec = {"id": page["id"], "source": source, "site": site, "lines": lines}
        for s in page_splits:
            outs[s]["labelled"].write(json.dumps(rec, ensure_ascii=False) + "\n")
            outs[s]["pages"].write(json.dumps({**page, "site": site}, ensure_ascii=False) + "\n")
            outs[s]["labels"].write(json.dumps(labels[pid], ensure_ascii=False) + "\n")
            for c in (stats[s][source], stats[s]["total"]):
                c["pages"] += 1
                c["chars"] += len(text)
                for ln in lines:
                    c["lines"] += 1
                    c["chars:" + ln["label"]] += len(ln["text"])
            groups[s][source].add(group)
            groups[s]["total"].add(group)
    for s in SPLITS:
        for f in outs[s].values():
            f.close()
    if len(seen) != len(labels):
        sys.exit(f"prep.py: {len(labels) - len(seen)} labelled ids have no page")

    for s in SPLITS:
        print(f"== {s} ({os.path.join(a.out, s)}.*.jsonl)")
        print(f"{'source':<20}{'pages':>7}{'groups':>8}{'lines':>9}{'chars':>11}{'content':>11}{'boilerpl.':>11}{'c.share':>9}")
        rows = sorted(stats[s].items(), key=lambda kv: (kv[0] == "total", kv[0]))
        for src, c in rows:
            lc = c["chars:content"] + c["chars:boilerplate"]
            share = c["chars:content"] / lc if lc else 0.0
            print(f"{src:<20}{c['pages']:>7}{len(groups[s][src]):>8}{c['lines']:>9}{c['chars']:>11}"
                  f"{c['chars:content']:>11}{c['chars:boilerplate']:>11}{share:>9.3f}")


if __name__ == "__main__":
    main()
