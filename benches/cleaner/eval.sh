#!/usr/bin/env bash
# Score keep-all, jusText and a doppel binary on the cleaner-train test split.
#
#   bash benches/cleaner/eval.sh TEST_DIR DOPPEL_BIN [EXTRA_DOPPEL_ARGS...]
#
# TEST_DIR is prep.py's --out folder (e.g. /tmp/ctrain): it must hold
# SPLIT.pages.jsonl and SPLIT.labels.jsonl, SPLIT being $SPLIT (default test;
# dev while choosing anything, see prep.py). CTRAIN_SRC (default
# /work/shared/data/cleaner-train) is where score.py is read from.
# 1. Creates the venv /tmp/ctrain/venv with justext (pinned, with lxml and
#    lxml_html_clean) if missing or its pins differ.
# 2. Candidates: keep-all (the pages themselves); jusText (justext_baseline.py,
#    cached in TEST_DIR/SPLIT-justext.jsonl, recomputed only when missing);
#    doppel (`DOPPEL_BIN clean ... --site-field site --quiet EXTRA...` into
#    TEST_DIR/SPLIT-doppel-out, turned into TEST_DIR/SPLIT-doppel.jsonl). The
#    doppel row is named after the binary's file name plus the extra arguments.
# 3. Scores each with score.py --json (TEST_DIR/SPLIT-score-*.json), prints one
#    table and writes it to TEST_DIR/SPLIT-eval.json.
# Generated data stays outside the repository; never copy cleaner-train into it.
set -euo pipefail

if [[ $# -lt 2 || "$1" == "-h" || "$1" == "--help" ]]; then
    sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TEST_DIR="$(cd "$1" && pwd)"
DOPPEL_BIN="$2"
shift 2
EXTRA=("$@")
SRC="${CTRAIN_SRC:-/work/shared/data/cleaner-train}"
SCORE="$SRC/score.py"
VENV=/tmp/ctrain/venv
# lxml 6.x no longer pulls in lxml.html.clean, which jusText imports.
PINS=(justext==3.0.2 lxml==6.2.1 lxml_html_clean==0.4.7)
SPLIT="${SPLIT:-test}"
PAGES="$TEST_DIR/$SPLIT.pages.jsonl"
LABELS="$TEST_DIR/$SPLIT.labels.jsonl"

for f in "$PAGES" "$LABELS" "$SCORE"; do
    [[ -f "$f" ]] || { echo "eval.sh: $f is missing (run prep.py first)" >&2; exit 1; }
done
[[ -x "$DOPPEL_BIN" ]] || { echo "eval.sh: $DOPPEL_BIN is not an executable" >&2; exit 1; }

step() { echo "eval.sh: $*" >&2; }
elapsed() { echo "$(( $(date +%s%N) / 1000000 - $1 )) ms"; }
now() { echo $(( $(date +%s%N) / 1000000 )); }

# 1. venv with jusText
if [[ ! -x "$VENV/bin/python" || "$(cat "$VENV/.pins" 2>/dev/null)" != "${PINS[*]}" ]]; then
    t=$(now)
    step "setting up $VENV (${PINS[*]})"
    [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PINS[@]}"
    printf '%s' "${PINS[*]}" > "$VENV/.pins"
    step "venv ready in $(elapsed "$t")"
fi

# 2. candidates
if [[ ! -s "$TEST_DIR/$SPLIT-justext.jsonl" ]]; then
    t=$(now)
    step "running jusText"
    "$VENV/bin/python" "$HERE/justext_baseline.py" --pages "$PAGES" --out "$TEST_DIR/$SPLIT-justext.jsonl.tmp"
    mv "$TEST_DIR/$SPLIT-justext.jsonl.tmp" "$TEST_DIR/$SPLIT-justext.jsonl"
    step "jusText done in $(elapsed "$t")"
else
    step "jusText: using cached $TEST_DIR/$SPLIT-justext.jsonl"
fi

t=$(now)
rm -rf "$TEST_DIR/$SPLIT-doppel-out"
"$DOPPEL_BIN" clean "$PAGES" --out "$TEST_DIR/$SPLIT-doppel-out" --site-field site --quiet "${EXTRA[@]}"
python3 - "$TEST_DIR/$SPLIT-doppel-out/cleaned.jsonl" "$TEST_DIR/$SPLIT-doppel.jsonl" <<'EOF'
import json, sys
# cleaned.jsonl keeps every input field; the cleaned text is in "text" (the
# default --text-field), the id in "id". Pages doppel drops are absent, which
# score.py counts as emptied.
with open(sys.argv[1], encoding="utf-8") as fin, open(sys.argv[2], "w", encoding="utf-8") as fout:
    for line in fin:
        if line.strip():
            d = json.loads(line)
            fout.write(json.dumps({"id": d["id"], "text": d.get("text") or ""}, ensure_ascii=False) + "\n")
EOF
step "doppel done in $(elapsed "$t")"

DOPPEL_NAME="$(basename "$DOPPEL_BIN")"
if [[ ${#EXTRA[@]} -gt 0 ]]; then DOPPEL_NAME="$DOPPEL_NAME ${EXTRA[*]}"; fi

# 3. scores (the three score.py runs go in parallel) and the table
t=$(now)
declare -A CAND=([keep-all]="$PAGES" [justext]="$TEST_DIR/$SPLIT-justext.jsonl" [doppel]="$TEST_DIR/$SPLIT-doppel.jsonl")
pids=()
for k in keep-all justext doppel; do
    python3 "$SCORE" --pages "$PAGES" --labels "$LABELS" --candidate "${CAND[$k]}" --json \
        > "$TEST_DIR/$SPLIT-score-$k.json" &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
step "scoring done in $(elapsed "$t")"

python3 "$HERE/table.py" "$TEST_DIR/$SPLIT-eval.json" \
    "keep-all=$TEST_DIR/$SPLIT-score-keep-all.json" \
    "jusText=$TEST_DIR/$SPLIT-score-justext.json" \
    "$DOPPEL_NAME=$TEST_DIR/$SPLIT-score-doppel.json"
step "table written to $TEST_DIR/$SPLIT-eval.json"
