#!/usr/bin/env bash
# Speed and memory of `racelint check` on the shared Python corpus (stdlib + Django,
# SQLAlchemy, aiohttp, FastAPI, Starlette, httpx, anyio, pydantic, sympy), with Ruff's
# parse-only run (`--select E9`) on the same files as a yardstick.
# Usage: bench/python.sh [CORPUS_DIR]   (default /tmp/racelint-corpus; built if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-/tmp/racelint-corpus}
runs=3
bash ../shared/bench/make-corpus.sh "$corpus" >/dev/null
cargo build --release --quiet
if [ ! -x "$corpus/ruff-venv/bin/ruff" ]; then
  python3 -m venv "$corpus/ruff-venv" && "$corpus/ruff-venv/bin/pip" install -q ruff==0.17.6
fi

source bench/measure.sh

files=$(find "$corpus/python" -type f \( -name '*.py' -o -name '*.pyi' \) | wc -l)
lines=$(find "$corpus/python" -type f \( -name '*.py' -o -name '*.pyi' \) -print0 | xargs -0 cat | wc -l)
read -r rl_s rl_mb < <(measure target/release/racelint check "$corpus/python" --exit-zero --output-format concise)
read -r ruff_s ruff_mb < <(measure "$corpus/ruff-venv/bin/ruff" check --no-cache --select E9 --exit-zero --quiet "$corpus/python")

printf 'corpus      %s files, %s lines (median of %s runs, %s cores)\n' "$files" "$lines" "$runs" "$(nproc)"
printf 'racelint    %6.2f s  %7.0f files/s  %9.0f lines/s  peak %5d MiB\n' "$rl_s" "$(echo "$files / $rl_s" | bc -l)" "$(echo "$lines / $rl_s" | bc -l)" "$rl_mb"
printf 'ruff E9     %6.2f s  %7.0f files/s  %9.0f lines/s  peak %5d MiB\n' "$ruff_s" "$(echo "$files / $ruff_s" | bc -l)" "$(echo "$lines / $ruff_s" | bc -l)" "$ruff_mb"
printf 'ratio       racelint/ruff time %.2fx, memory %.2fx\n' "$(echo "$rl_s / $ruff_s" | bc -l)" "$(echo "$rl_mb / $ruff_mb" | bc -l)"
