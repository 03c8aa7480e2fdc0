#!/usr/bin/env python3
"""Compare doppel with datasketch, rensa and gaoya end to end on one corpus.

Usage (normally through run.sh, which sets up the venv and builds doppel):
    bench.py CORPUS.jsonl [--threshold 0.8] [--out DIR] [--repeat N]
             [--tools doppel,datasketch,...] [--doppel BIN] [--truth PAIRS.jsonl]

Each tool runs as its own process under /usr/bin/time -v, from the JSONL file
to the list of flagged documents, so that its wall time and peak memory are
its own. See README.md for what is compared and how.
"""
import argparse
import importlib.metadata
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ALL_TOOLS = ["doppel", "doppel-lists", "doppel-union", "doppel-estimate", "datasketch", "datasketch-bxr", "rensa", "gaoya", "floor"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def timed(cmd, time_file):
    """Runs cmd under /usr/bin/time -v: (wall s, peak RSS MB, CPU s), or raises."""
    proc = subprocess.run(["/usr/bin/time", "-v", "-o", time_file] + cmd,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise RuntimeError("%s exited %d:\n%s" % (" ".join(cmd), proc.returncode, proc.stderr[-2000:]))
    v = {}
    with open(time_file) as fh:
        for line in fh:
            key, _, val = line.strip().rpartition(": ")
            v[key] = val
    wall = 0.0
    for part in v["Elapsed (wall clock) time (h:mm:ss or m:ss)"].split(":"):
        wall = wall * 60 + float(part)
    cpu = float(v["User time (seconds)"]) + float(v["System time (seconds)"])
    return wall, int(v["Maximum resident set size (kbytes)"]) * 1024 / 1e6, cpu


def warm(path):
    """Reads path once, so that a timed run finds it in the page cache and
    times the tool, not the disk: a machine that pages out what was not
    read for a while (DAMON's pageout, on the machine these figures were
    taken on) would otherwise hand the first run after a long one a cold
    file."""
    with open(path, "rb", buffering=0) as fh:
        while fh.read(8 << 20):
            pass


def help_text(doppel, sub):
    """`doppel SUB --help`, or None when the subcommand does not exist."""
    if not doppel:
        return None
    p = subprocess.run([doppel, sub, "--help"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return p.stdout if p.returncode == 0 else None


def doppel_result(out_dir):
    """All ids in clusters.jsonl (kept documents included), and stats.json's bands x rows."""
    flagged = []
    with open(os.path.join(out_dir, "clusters.jsonl"), encoding="utf-8") as fh:
        for line in fh:
            c = json.loads(line)
            flagged.append(c["kept"])
            flagged.extend(d["id"] for d in c["duplicates"])
    with open(os.path.join(out_dir, "stats.json")) as fh:
        s = json.load(fh)
    p = s["parameters"]
    deduped = os.path.join(out_dir, "deduped.jsonl")
    if os.path.exists(deduped):
        os.remove(deduped)  # a copy of the corpus
    return flagged, (p["bands"], p["rows"]), pair_counts(s)


def pair_counts(d):
    # doppel skips candidates that confirmed pairs already joined: its
    # confirmed_pairs counts among judged_pairs, not among all candidates.
    return {k: d.get(k) for k in ("candidate_pairs", "judged_pairs", "confirmed_pairs")}


def peer_result(path):
    """peers.py's flagged ids and bands x rows."""
    with open(path, encoding="utf-8") as fh:
        r = json.load(fh)
    return r["flagged"], (r["bands"], r["rows"]), pair_counts(r)


def optimal_bands_rows(t, num_perm=128, fn_weight=0.99):
    """doppel's default (bands, rows) (src/config.rs, whose fn_weight is 0.99), used when doppel did not run."""
    def integral(f, lo, hi, panels=200):
        h = (hi - lo) / panels
        return h / 3 * sum((1 if k in (0, panels) else 4 if k % 2 else 2) * f(lo + k * h)
                           for k in range(panels + 1))
    best, best_cost = (1, num_perm), float("inf")
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            p = lambda s: 1 - (1 - s ** r) ** b  # noqa: E731
            cost = ((1 - fn_weight) * integral(p, 0, t)
                    + fn_weight * integral(lambda s: 1 - p(s), t, 1))
            if cost < best_cost - 1e-12:
                best, best_cost = (b, r), cost
    return best


def fmt(x, spec):
    return "—" if x is None else format(x, spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus")
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("--out", default=os.path.join(HERE, "out"))
    ap.add_argument("--repeat", type=int, default=1, help="runs per tool; the median wall time is reported")
    ap.add_argument("--tools", default=",".join(ALL_TOOLS), help="comma-separated subset of " + ",".join(ALL_TOOLS))
    ap.add_argument("--doppel", default=os.path.join(ROOT, "target", "release", "doppel"), help="doppel binary")
    ap.add_argument("--truth", help="reuse this truth_pairs.jsonl instead of computing it")
    ap.add_argument("--python-truth", action="store_true", help="compute the truth with truth.py, not doppel eval")
    ap.add_argument("--no-build", action="store_true", help="(read by run.sh: skip cargo build)")
    a = ap.parse_args()
    corpus, t = os.path.abspath(a.corpus), a.threshold
    tools = [x.strip() for x in a.tools.split(",") if x.strip()]
    unknown = set(tools) - set(ALL_TOOLS)
    if unknown:
        ap.error("unknown tools: %s" % ", ".join(sorted(unknown)))
    # Before the runs, which can take an hour, not after them.
    if a.truth and not os.path.isfile(a.truth):
        ap.error("--truth %s: no such file" % a.truth)
    os.makedirs(os.path.join(a.out, "runs"), exist_ok=True)
    nbytes = os.path.getsize(corpus)
    with open(corpus, "rb") as fh:
        ndocs = sum(1 for line in fh if line.strip())
    doppel = a.doppel if os.access(a.doppel, os.X_OK) else None
    if not doppel:
        log("bench: no doppel binary at %s: doppel rows skipped" % a.doppel)
    log("bench: %s, %d documents, %.2f MB, threshold %s" % (corpus, ndocs, nbytes / 1e6, t))

    rows, bands_rows = [], None  # one dict per table row
    dedup_help = help_text(doppel, "dedup") or ""

    def run(name, cmd, out_dir, read):
        """Times cmd a.repeat times; read() -> (flagged ids or None, (bands, rows) or None, pair counts)."""
        walls, rss, cpus = [], [], []
        try:
            for k in range(a.repeat):
                shutil.rmtree(out_dir, ignore_errors=True)
                os.makedirs(out_dir)
                warm(corpus)
                # Beside the output directory: doppel refuses an --out that
                # holds files it did not write.
                w, m, c = timed(cmd, out_dir.rstrip("/") + ".time.txt")
                walls.append(w)
                rss.append(m)
                cpus.append(c)
                log("bench: %-16s run %d/%d  %.2f s  %.0f MB" % (name, k + 1, a.repeat, w, m))
            flagged, bxr, counts = read()
        except Exception as e:  # one broken tool should not sink the table
            log("bench: %s FAILED: %s" % (name, e))
            rows.append({"tool": name, "error": str(e)})
            return
        rows.append({"tool": name, "bands_rows": bxr, "wall_s": statistics.median(walls), "wall_runs": walls,
                     "peak_rss_mb": max(rss), "cpu_s": statistics.median(cpus), "flagged": flagged, **counts})

    # doppel-lists writes what the peers give, the lists of duplicates, and
    # not a deduplicated copy of the corpus as well. doppel-union flags what
    # the peers flag, every document with a confirmed partner (union-find),
    # where doppel's default star clusters list a document only if it
    # matches its cluster's kept document.
    doppel_rows = (("doppel", []), ("doppel-lists", ["--duplicates-only"]),
                   ("doppel-union", ["--duplicates-only", "--cluster", "union"]),
                   ("doppel-estimate", ["--duplicates-only", "--verify", "estimate", "--cluster", "union"]))
    for name, extra in doppel_rows:
        if name not in tools or not doppel or (extra and extra[0] not in dedup_help):
            continue
        d = os.path.join(a.out, "runs", name)
        cmd = [doppel, "dedup", corpus, "--out", d, "--quiet", "--threshold", str(t)] + extra
        run(name, cmd, d, lambda d=d: doppel_result(d))
        if name == "doppel" and rows[-1].get("bands_rows"):
            bands_rows = rows[-1]["bands_rows"]
    if bands_rows is None:
        bands_rows = optimal_bands_rows(t)
        log("bench: doppel's bands x rows not known from a run: using its default rule, %d x %d" % bands_rows)

    peers = {"datasketch": ("datasketch", []),
             "datasketch-bxr": ("datasketch", ["--bands", str(bands_rows[0]), "--rows", str(bands_rows[1])]),
             "rensa": ("rensa", ["--bands", str(bands_rows[0]), "--rows", str(bands_rows[1])]),
             "gaoya": ("gaoya", ["--bands", str(bands_rows[0]), "--rows", str(bands_rows[1])])}
    for name, (tool, extra) in peers.items():
        if name not in tools:
            continue
        d = os.path.join(a.out, "runs", name)
        res = os.path.join(d, "result.json")
        run(name, [sys.executable, os.path.join(HERE, "peers.py"), tool, corpus, str(t), res] + extra,
            d, lambda res=res: peer_result(res))

    floor_help = help_text(doppel, "floor") if "floor" in tools else None
    if floor_help is not None:
        d = os.path.join(a.out, "runs", "floor")
        cmd = [doppel, "floor", corpus]
        cmd += ["--out", d] if "--out" in floor_help else []
        cmd += ["--quiet"] if "--quiet" in floor_help else []
        run("floor", cmd, d, lambda: (None, None, {}))
    elif "floor" in tools and doppel:
        log("bench: doppel has no floor subcommand: floor row skipped")

    # Ground truth: exact pairs with Jaccard >= t.
    truth_dir = os.path.join(a.out, "truth")
    started = time.perf_counter()
    if a.truth:
        truth_file, truth_by = a.truth, "given: " + a.truth
    else:
        os.makedirs(truth_dir, exist_ok=True)
        truth_file = os.path.join(truth_dir, "truth_pairs.jsonl")
        eval_help = None if a.python_truth else help_text(doppel, "eval")
        if eval_help is not None:
            cmd, truth_by = [doppel, "eval", corpus, "--threshold", str(t), "--out", truth_dir], "doppel eval"
            if "--clusters" in eval_help and any(r["tool"] == "doppel" and "error" not in r for r in rows):
                # Score the run above rather than let eval run dedup again.
                cmd += ["--clusters", os.path.join(a.out, "runs", "doppel", "clusters.jsonl")]
            cmd += ["--quiet"] if "--quiet" in eval_help else []
        else:
            cmd = [sys.executable, os.path.join(HERE, "truth.py"), corpus, "--threshold", str(t), "--out", truth_dir]
            truth_by = "truth.py"
        log("bench: ground truth with %s ..." % truth_by)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    truth_docs, truth_pairs = set(), 0
    with open(truth_file, encoding="utf-8") as fh:
        for line in fh:
            p = json.loads(line)
            truth_docs.update((p["a"], p["b"]))
            truth_pairs += 1
    truth_s = time.perf_counter() - started

    # Scores and table.
    # Ratios are against `doppel` when it ran, else against the first doppel
    # row that did (`--tools doppel-union,rensa,...`), named in the header.
    ref = next((r for name in ("doppel", "doppel-lists", "doppel-union", "doppel-estimate")
                for r in rows if r["tool"] == name and "error" not in r), None)
    for r in rows:
        if "error" in r:
            continue
        r["mb_per_s"] = nbytes / 1e6 / r["wall_s"] if r["wall_s"] else None
        r["docs_per_s"] = ndocs / r["wall_s"] if r["wall_s"] else None
        r["doppel_speedup"] = r["wall_s"] / ref["wall_s"] if ref and ref["wall_s"] else None
        flagged = r.pop("flagged")
        if flagged is None:  # floor: finds nothing by design
            r.update(n_flagged=None, precision=None, recall=None)
            continue
        pred = set(flagged)
        hit = len(pred & truth_docs)
        r["n_flagged"] = len(pred)
        r["precision"] = hit / len(pred) if pred else None
        r["recall"] = hit / len(truth_docs) if truth_docs else None
        with open(os.path.join(a.out, "runs", r["tool"], "flagged.json"), "w", encoding="utf-8") as fh:
            json.dump(sorted(pred, key=str), fh)

    head = ["tool", "bands x rows", "wall s", "MB/s", "docs/s", "CPU s", "peak RSS MB",
            "flagged", "precision", "recall", "speed-up of %s" % (ref["tool"] if ref else "doppel")]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        if "error" in r:
            lines.append("| %s | failed: see results.json |%s" % (r["tool"], " |" * (len(head) - 2)))
            continue
        br = "%d x %d" % tuple(r["bands_rows"]) if r.get("bands_rows") else "—"
        lines.append("| " + " | ".join([
            r["tool"], br, fmt(r["wall_s"], ".2f"), fmt(r["mb_per_s"], ".1f"), fmt(r["docs_per_s"], ",.0f"),
            fmt(r["cpu_s"], ".2f"), fmt(r["peak_rss_mb"], ",.0f"), fmt(r["n_flagged"], ","),
            fmt(r["precision"], ".3f"), fmt(r["recall"], ".3f"),
            fmt(r["doppel_speedup"], ".1f") + ("x" if r["doppel_speedup"] is not None else "")]) + " |")
    versions = {p: importlib.metadata.version(p) for p in ("datasketch", "rensa", "gaoya")}
    caption = ("Corpus `%s`: %s documents, %.2f MB; threshold %s; word 5-grams, 128 permutations; "
               "median of %d run(s). Truth (%s): %s pairs, %s documents. %d cores, Python %s, %s."
               % (os.path.basename(corpus), format(ndocs, ","), nbytes / 1e6, t, a.repeat, truth_by,
                  format(truth_pairs, ","), format(len(truth_docs), ","), os.cpu_count(),
                  platform.python_version(), ", ".join("%s %s" % kv for kv in versions.items())))
    table = caption + "\n\n" + "\n".join(lines) + "\n"
    with open(os.path.join(a.out, "results.md"), "w", encoding="utf-8") as fh:
        fh.write(table)
    with open(os.path.join(a.out, "results.json"), "w", encoding="utf-8") as fh:
        json.dump({"corpus": corpus, "bytes": nbytes, "documents": ndocs, "threshold": t, "repeat": a.repeat,
                   "truth": {"by": truth_by, "file": truth_file, "pairs": truth_pairs,
                             "documents": len(truth_docs), "seconds": truth_s},
                   "cores": os.cpu_count(), "python": platform.python_version(), "versions": versions,
                   "rows": rows}, fh, indent=2)
    print(table)
    log("bench: results in %s (results.md, results.json, runs/)" % a.out)


if __name__ == "__main__":
    main()
