"""jusText baseline for the cleaner harness: clean each page with jusText.

Usage (in a venv that has the PyPI package `justext`; eval.sh makes one):
    python benches/cleaner/justext_baseline.py --pages /tmp/ctrain/test.pages.jsonl \
        --out /tmp/ctrain/justext.jsonl

Each page's lines (its `text` split on "\\n") are fed to jusText as HTML, every
line HTML-escaped and wrapped in its own <p>. jusText runs with its default
parameters and the English stoplist: cleaner-train is mostly English, so one
stoplist is used for every page. The kept (non-boilerplate) paragraphs are
joined by "\\n" and written as {"id","text"}, one record per page, in input
order. A page on which jusText raises gets empty text; the number of such
pages is printed on stderr.
"""
import argparse
import html
import json
import sys

import justext


def page_html(text):
    body = "".join(f"<p>{html.escape(line)}</p>\n" for line in text.split("\n"))
    return f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head><body>\n{body}</body></html>"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", required=True, help="JSONL {id, text, ...}")
    ap.add_argument("--out", required=True, help="JSONL {id, text} written here")
    a = ap.parse_args()
    stoplist = justext.get_stoplist("English")
    pages = failed = 0
    with open(a.pages, encoding="utf-8") as fin, open(a.out, "w", encoding="utf-8") as fout:
        for line in fin:
            if not line.strip():
                continue
            d = json.loads(line)
            pages += 1
            try:
                paras = justext.justext(page_html(d.get("text") or ""), stoplist)
                text = "\n".join(p.text for p in paras if not p.is_boilerplate)
            except Exception as e:  # noqa: BLE001 - any jusText failure empties the page
                failed += 1
                print(f"justext_baseline.py: {d['id']}: {type(e).__name__}: {e}", file=sys.stderr)
                text = ""
            fout.write(json.dumps({"id": d["id"], "text": text}, ensure_ascii=False) + "\n")
    print(f"justext_baseline.py: {pages} pages, {failed} failed (written empty)", file=sys.stderr)


if __name__ == "__main__":
    main()
