#!/usr/bin/env python3
"""Run one peer MinHash-LSH library end to end on a JSONL corpus.

Usage:
    peers.py TOOL CORPUS THRESHOLD OUT.json [--bands B --rows R] [--num-perm 128]

TOOL is datasketch, rensa or gaoya. Without --bands/--rows, datasketch picks
its own (bands, rows) for the threshold; rensa and gaoya need them.

Every tool follows the same flow as doppel: read the JSONL, prepare the text
(prep.py: doppel's normalisation and word 5-grams), sign every non-empty
document with a 128-value MinHash over ALL its shingles, band it into an LSH
index, take each document's candidates, confirm a candidate pair when the
tool's own estimated Jaccard is >= THRESHOLD, and flag every document that
has a confirmed partner (= the members of the union-find clusters of two or
more). Documents are streamed in batches: a batch is signed, inserted, then
queried, so every pair is seen once its later member is queried.

OUT.json: {"tool", "signed_documents" (non-empty), "bands", "rows", "candidate_pairs",
"confirmed_pairs", "flagged": [ids of flagged documents]}.
"""
import argparse
import itertools
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import prep  # noqa: E402

BATCH = 1_000  # documents signed, inserted and queried together
SEED = 42


def batches(path, prepare=None):
    """Yields lists of (index, id, prepare(text)) for documents whose
    prepared text is not empty; `prepare` defaults to prep.shingles."""
    prepare = prepare or prep.shingles
    docs = ((i, doc_id, prepare(text)) for i, (doc_id, text) in enumerate(prep.read_corpus(path)))
    docs = (d for d in docs if d[2])
    while True:
        batch = list(itertools.islice(docs, BATCH))
        if not batch:
            return
        yield batch


def confirm(i, found, sigs, t, cands, pairs):
    """Checks each new candidate pair of document i on its estimated Jaccard."""
    m = sigs[i]
    for j in found:
        key = (i, j) if i < j else (j, i)
        if j != i and key not in cands:
            cands.add(key)
            if m.jaccard(sigs[j]) >= t:
                pairs.add(key)


def run_datasketch(path, t, num_perm, params):
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=t, num_perm=num_perm, params=params)
    sigs, ids, cands, pairs = {}, {}, set(), set()
    for batch in batches(path):
        # MinHash.bulk hashes each document with update_batch (vectorised).
        mhs = MinHash.bulk(([s.encode("utf-8") for s in sh] for _, _, sh in batch), num_perm=num_perm, seed=SEED)
        with lsh.insertion_session() as session:
            for (i, doc_id, _), m in zip(batch, mhs):
                session.insert(i, m)
                sigs[i], ids[i] = m, doc_id
        for (i, _, _), m in zip(batch, mhs):
            confirm(i, lsh.query(m), sigs, t, cands, pairs)
    return ids, cands, pairs, (lsh.b, lsh.r)


def run_rensa(path, t, num_perm, params):
    from rensa import RMinHash, RMinHashLSH

    bands, rows = params
    # RMinHashLSH uses num_perm / num_bands rows per band: sign with
    # bands * rows values so that the layout is exactly bands x rows.
    num_perm = bands * rows
    lsh = RMinHashLSH(threshold=t, num_perm=num_perm, num_bands=bands)
    sigs, ids, cands, pairs = {}, {}, set(), set()
    for batch in batches(path):
        # Full-set R-MinHash over every shingle (not the sampling "rho" sketch).
        mhs = RMinHash.from_token_sets([sh for _, _, sh in batch], num_perm, SEED)
        keys = [i for i, _, _ in batch]
        lsh.insert_pairs(list(zip(keys, mhs)))
        for (i, doc_id, _), m in zip(batch, mhs):
            sigs[i], ids[i] = m, doc_id
        for (i, _, _), found in zip(batch, lsh.query_all(mhs)):
            confirm(i, found, sigs, t, cands, pairs)
    return ids, cands, pairs, (bands, rows)


def run_gaoya(path, t, num_perm, params):
    from gaoya.minhash import MinHashStringIndex

    bands, rows = params
    # gaoya's own word 5-gram analyzer runs in Rust over the normalised text.
    # It gives 1-4 word documents no shingle at all, so these are padded with
    # a marker that normalised text never contains (upper case): their single
    # shingle then stands for the same set as prep.shingles gives.
    index = MinHashStringIndex(hash_size=32, jaccard_threshold=t, num_bands=bands, band_size=rows,
                               num_hashes=bands * rows, analyzer="word", lowercase=False,
                               ngram_range=(prep.NGRAM, prep.NGRAM), id_container="vec")
    ids, pairs = {}, set()
    for batch in batches(path, prep.normalize):
        keys, texts = [], []
        for i, doc_id, norm in batch:
            short = prep.NGRAM - 1 - norm.count(" ")
            keys.append(i)
            texts.append(norm + " PAD" * short if short > 0 else norm)
            ids[i] = doc_id
        index.par_bulk_insert_docs(keys, texts)
        # query returns the documents whose estimated Jaccard is >= t.
        for i, found in zip(keys, index.par_bulk_query(texts)):
            pairs.update((min(i, j), max(i, j)) for j in found if j != i)
    return ids, None, pairs, (bands, rows)


TOOLS = {"datasketch": run_datasketch, "rensa": run_rensa, "gaoya": run_gaoya}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tool", choices=sorted(TOOLS))
    ap.add_argument("corpus")
    ap.add_argument("threshold", type=float)
    ap.add_argument("out")
    ap.add_argument("--bands", type=int)
    ap.add_argument("--rows", type=int)
    ap.add_argument("--num-perm", type=int, default=128)
    a = ap.parse_args()
    params = (a.bands, a.rows) if a.bands and a.rows else None
    if params is None and a.tool != "datasketch":
        ap.error("%s needs --bands and --rows" % a.tool)
    ids, cands, pairs, (b, r) = TOOLS[a.tool](a.corpus, a.threshold, a.num_perm, params)
    flagged = sorted({i for p in pairs for i in p})
    with open(a.out, "w", encoding="utf-8") as fh:
        json.dump({"tool": a.tool, "signed_documents": len(ids), "bands": b, "rows": r,
                   "candidate_pairs": None if cands is None else len(cands), "confirmed_pairs": len(pairs),
                   "flagged": [ids[i] for i in flagged]}, fh)


if __name__ == "__main__":
    main()
