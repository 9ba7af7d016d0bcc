#!/usr/bin/env bash
# Speed and memory of `racelint check` on the shared Python corpus (stdlib + Django,
# SQLAlchemy, aiohttp, FastAPI, Starlette, httpx, anyio, pydantic, sympy), with Ruff's
# parse-only run (`--select E9`) on the same files as a yardstick; then racelint again
# with its cache of lowered files filled, unchanged and after one file's edit.
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
racelint=$PWD/target/release/racelint
check=("$racelint" check "$corpus/python" --exit-zero --output-format concise)
read -r rl_s rl_mb < <(measure "${check[@]}" --no-cache)
# The cache (`.racelint_cache`, here in a scratch folder): every file unchanged, then
# one file edited before each run (a comment appended, so its entry is rewritten).
cache_root=$(mktemp -d)
edited=$(find "$corpus/python" -type f -name "*.py" | sort | sed -n 1p)
cp "$edited" "$cache_root/edited.orig"
trap 'cp "$cache_root/edited.orig" "$edited"; rm -rf "$cache_root"' EXIT
(cd "$cache_root" && "${check[@]}" >/dev/null)
read -r warm_s warm_mb < <(cd "$cache_root" && measure "${check[@]}")
read -r edit_s edit_mb < <(cd "$cache_root" && measure sh -c 'echo "# edited $$" >> "$1"; shift; exec "$@"' edit "$edited" "${check[@]}")
cache_mb=$(du -sm "$cache_root/.racelint_cache" | cut -f1)
read -r ruff_s ruff_mb < <(measure "$corpus/ruff-venv/bin/ruff" check --no-cache --select E9 --exit-zero --quiet "$corpus/python")

printf 'corpus      %s files, %s lines (median of %s runs, %s cores)\n' "$files" "$lines" "$runs" "$(nproc)"
printf 'racelint    %6.2f s  %7.0f files/s  %9.0f lines/s  peak %5d MiB\n' "$rl_s" "$(echo "$files / $rl_s" | bc -l)" "$(echo "$lines / $rl_s" | bc -l)" "$rl_mb"
printf 'ruff E9     %6.2f s  %7.0f files/s  %9.0f lines/s  peak %5d MiB\n' "$ruff_s" "$(echo "$files / $ruff_s" | bc -l)" "$(echo "$lines / $ruff_s" | bc -l)" "$ruff_mb"
printf 'ratio       racelint/ruff time %.2fx, memory %.2fx\n' "$(echo "$rl_s / $ruff_s" | bc -l)" "$(echo "$rl_mb / $ruff_mb" | bc -l)"
printf 'cached      %6.2f s  peak %5d MiB (no file changed; %.0f%% of the cold run; cache %s MiB)\n' "$warm_s" "$warm_mb" "$(echo "100 * $warm_s / $rl_s" | bc -l)" "$cache_mb"
printf 'one edited  %6.2f s  peak %5d MiB (%.0f%% of the cold run)\n' "$edit_s" "$edit_mb" "$(echo "100 * $edit_s / $rl_s" | bc -l)"
