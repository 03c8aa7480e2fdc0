"""Build the cleaner harness's result table from score.py --json outputs.

Usage (eval.sh calls it):
    python3 benches/cleaner/table.py OUT.json NAME=SCORE.json [NAME=SCORE.json ...]

Each SCORE.json is the output of cleaner-train's `score.py --json`: one object
keyed by "all" (pooled) and by source name, each holding pages, missing,
precision, recall, f1 and boilerplate_removed. Prints one row per candidate:
pooled P / R / F1 / boilerplate removed, then F1 per source; and writes
{"columns": [...], "rows": {NAME: {"all": {...}, SOURCE: {...}}}} to OUT.json.
"""
import json
import sys

# Short column names for the sources; unknown sources keep their own name.
SHORT = {
    "cleaneval_dev": "ce_dev",
    "cleaneval_final": "ce_final",
    "cleanportaleval": "cpe",
    "dragnet": "dragnet",
    "readability_tests": "readab",
    "scrapinghub_aeb": "aeb",
}


def main():
    if len(sys.argv) < 3 or any("=" not in a for a in sys.argv[2:]):
        sys.exit(__doc__)
    out = sys.argv[1]
    rows = {}
    for arg in sys.argv[2:]:
        name, path = arg.split("=", 1)
        with open(path, encoding="utf-8") as f:
            rows[name] = json.load(f)
    sources = sorted({s for r in rows.values() for s in r if s != "all"})
    width = max(len(n) for n in rows) + 2
    head = f"{'candidate':<{width}}{'P':>7}{'R':>7}{'F1':>7}{'bp_rm':>7}{'miss':>6} |" + "".join(
        f"{SHORT.get(s, s):>9}" for s in sources)
    print("pooled over all test pages; F1 per source on the right; miss = pages absent from the output")
    print(head)
    print("-" * len(head))
    for name, r in rows.items():
        a = r["all"]
        line = (f"{name:<{width}}{a['precision']:>7.4f}{a['recall']:>7.4f}{a['f1']:>7.4f}"
                f"{a['boilerplate_removed']:>7.4f}{a['missing']:>6} |")
        line += "".join(f"{r[s]['f1']:>9.4f}" if s in r else f"{'-':>9}" for s in sources)
        print(line)
    pages = next(iter(rows.values()))
    print("pages: " + ", ".join(f"{SHORT.get(s, s)}={pages[s]['pages']}" for s in ["all"] + sources if s in pages))
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"columns": ["all"] + sources, "rows": rows}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
