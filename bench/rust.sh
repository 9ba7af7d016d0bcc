#!/usr/bin/env bash
# Speed and memory of `racelint check` on the shared Rust corpus (`cargo vendor` of
# tokio, serde, syn, regex and clap), with two yardsticks: a parse-only pass with syn
# over the same files on all cores (`examples/parse_only.rs`: what racelint cannot do
# without), and `rustfmt --check`, which parses every file too, then formats it (and
# the files it declares with `mod x;`, so it does some files twice). None needs a
# Cargo manifest.
# Usage: bench/rust.sh [CORPUS_DIR]   (default /tmp/racelint-corpus; built if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-/tmp/racelint-corpus}
runs=3
bash ../shared/bench/make-corpus.sh "$corpus" >/dev/null
cargo build --release --quiet
cargo build --release --quiet --example parse_only

source bench/measure.sh

list=$(mktemp)
trap 'rm -f "$list"' EXIT
find "$corpus/rust" -type f -name '*.rs' -print0 > "$list"
files=$(tr -cd '\0' < "$list" | wc -c)
lines=$(xargs -0 cat < "$list" | wc -l)
read -r rl_s rl_mb < <(measure target/release/racelint check "$corpus/rust" --exit-zero --output-format concise --no-cache)
# `measure` ignores exit statuses: the yardstick must work before it is timed.
target/release/examples/parse_only "$corpus/rust" >/dev/null
read -r parse_s parse_mb < <(measure target/release/examples/parse_only "$corpus/rust")
read -r fmt_s fmt_mb < <(measure sh -c "xargs -0 -n 100 -P $(nproc) rustfmt --edition 2021 --check < '$list'")

printf 'corpus      %s files, %s lines (median of %s runs, %s cores)\n' "$files" "$lines" "$runs" "$(nproc)"
printf 'racelint    %6.2f s  %7.0f files/s  %9.0f lines/s  peak %5d MiB\n' "$rl_s" "$(echo "$files / $rl_s" | bc -l)" "$(echo "$lines / $rl_s" | bc -l)" "$rl_mb"
printf 'syn parse   %6.2f s  %7.0f files/s  %9.0f lines/s  peak %5d MiB\n' "$parse_s" "$(echo "$files / $parse_s" | bc -l)" "$(echo "$lines / $parse_s" | bc -l)" "$parse_mb"
printf 'rustfmt     %6.2f s  %7.0f files/s  %9.0f lines/s  peak %5d MiB (per process)\n' "$fmt_s" "$(echo "$files / $fmt_s" | bc -l)" "$(echo "$lines / $fmt_s" | bc -l)" "$fmt_mb"
printf 'ratio       racelint/syn parse time %.2fx, memory %.2fx; racelint/rustfmt time %.2fx\n' "$(echo "$rl_s / $parse_s" | bc -l)" "$(echo "$rl_mb / $parse_mb" | bc -l)" "$(echo "$rl_s / $fmt_s" | bc -l)"
