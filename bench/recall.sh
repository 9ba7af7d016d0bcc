#!/usr/bin/env bash
# Recall on real bugs: racelint run on the release of each project that still had a
# concurrency bug its maintainers later fixed (bench/recall/cases.tsv), counting the
# bugs it reports. Fixtures are our own; these are not.
# Each release is downloaded from PyPI once (a wheel, or the sdist when there is none),
# its .py files extracted to OUT/src/<package>-<version>, and checked there with
# `--select ALL` (OUT/runs/<package>-<version>.json, rewritten on each run). Home
# Assistant releases are whole (1.5M lines each); the first run downloads about 1 GB.
# Usage: bench/recall.sh [OUT]   (default OUT=/tmp/racelint-recall; reuses what is there)
#   RACELINT=path   binary to measure (default: cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/racelint-recall}
if [ -z "${RACELINT:-}" ]; then
  cargo build --release --quiet
  RACELINT=$PWD/${CARGO_TARGET_DIR:-target}/release/racelint
fi
mkdir -p "$out/dl" "$out/src" "$out/runs"
grep -v '^#' bench/recall/cases.tsv | cut -f1-3 | sort -u | while IFS=$'\t' read -r package version python; do
  name="$package-$version"
  rm -f "$out/runs/$name.json"
  if [ ! -f "$out/src/$name/.done" ]; then
    rm -rf "$out/dl/$name" "$out/src/$name"; mkdir -p "$out/dl/$name"
    # A release that cannot be downloaded is reported as not measured (recall.py), and
    # the other releases are still measured.
    if ! { pip download -q --no-deps --only-binary :all: --python-version "$python" \
             "$package==$version" -d "$out/dl/$name" 2>/dev/null \
           || pip download -q --no-deps --no-binary :all: "$package==$version" \
             -d "$out/dl/$name" 2>"$out/dl/$name.err"; }; then
      echo "recall.sh: cannot download $package==$version for Python $python: $(tail -1 "$out/dl/$name.err")" >&2
      continue
    fi
    python3 - "$out/dl/$name" "$out/src/$name" <<'PY'
import os, sys, tarfile, zipfile
folder, dest = sys.argv[1], sys.argv[2]
archive = os.path.join(folder, os.listdir(folder)[0])
if archive.endswith(".whl"):
    with zipfile.ZipFile(archive) as z:
        for member in z.namelist():
            if member.endswith(".py"):
                z.extract(member, dest)
else:  # an sdist: drop its top folder, so paths read as in the installed package
    with tarfile.open(archive) as t:
        for member in t.getmembers():
            parts = member.name.split("/")[1:]
            if member.isfile() and member.name.endswith(".py") and parts and ".." not in parts:
                member.name = "/".join(parts)
                t.extract(member, dest, filter="data")
PY
    touch "$out/src/$name/.done"
  fi
  (cd "$out/src/$name" && "$RACELINT" check . --select ALL --no-cache --exit-zero \
     --output-format json > "$out/runs/$name.json")
done
python3 bench/recall.py bench/recall/cases.tsv "$out/runs"
