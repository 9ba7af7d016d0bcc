#!/usr/bin/env bash
# The Python package as a Python team installs it: maturin (from PyPI, in a fresh venv)
# builds the wheel, a second fresh venv installs it, and the `racelint` that venv puts
# on its PATH checks a fixture project: exit code 1, and the same findings as the
# racelint built by cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 -m venv "$work/build"
"$work/build/bin/pip" install --quiet "maturin>=1.5,<2"
"$work/build/bin/maturin" build --release --locked --quiet --out "$work/dist" >/dev/null

python3 -m venv "$work/use"
"$work/use/bin/pip" install --quiet "$work"/dist/racelint-*.whl

project=fixtures/python/RL101/shop_service
status=0
"$work/use/bin/racelint" check "$project" --select ALL --output-format json >"$work/wheel.json" || status=$?
if [ "$status" -ne 1 ]; then
    echo "wheel-test: the installed racelint exited $status on $project, expected 1 (findings)" >&2
    exit 1
fi
cargo run --release --locked --quiet -- check "$project" --select ALL --output-format json >"$work/cargo.json" || true
if ! cmp -s "$work/wheel.json" "$work/cargo.json"; then
    echo "wheel-test: the installed racelint and the cargo build disagree on $project" >&2
    diff "$work/wheel.json" "$work/cargo.json" >&2 || true
    exit 1
fi
# The shop's planted hazards, by rule: what a user of the wheel must see.
python3 - "$work/wheel.json" <<'PY'
import json, sys
codes = sorted({f["code"] for f in json.load(open(sys.argv[1]))["findings"]})
missing = {"RL101", "RL104", "RL105", "RL106"} - set(codes)
if missing:
    sys.exit(f"wheel-test: the installed racelint missed {sorted(missing)} (found {codes})")
PY
echo "wheel-test: $(basename "$work"/dist/*.whl) installs a racelint that finds the shop's hazards"
