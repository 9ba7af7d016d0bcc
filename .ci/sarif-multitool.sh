#!/usr/bin/env bash
# Validates racelint's SARIF with Microsoft's SARIF Multitool, GitHub's ingestion rules
# included (`--rule-kind "Sarif;Gh"`), as ../shared/sarif/README.md describes. The tool is
# installed from npm into a temporary folder, never into the repository. Every rule is
# selected; one log per fixtures/<language>/<folder>/, and one for the whole fixtures tree.
# (The schema itself is checked by `cargo test`: tests/sarif.rs.)
# Exit 1 on any `error` the Multitool reports (it exits 0 even then), or if it fails.
set -euo pipefail
cd "$(dirname "$0")/.."

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

if ! command -v npm >/dev/null; then
    echo "sarif-multitool: npm is needed to install @microsoft/sarif-multitool" >&2
    exit 1
fi
npm install --prefix "$tmp" --no-audit --no-fund --loglevel=error @microsoft/sarif-multitool >/dev/null
case "$(uname -s)" in
    Darwin) platform=darwin ;;
    MINGW* | MSYS* | CYGWIN*) platform=win32 ;;
    *) platform=linux ;;
esac
tool="$tmp/node_modules/@microsoft/sarif-multitool-$platform/Sarif.Multitool"
[ -e "$tool.exe" ] && tool="$tool.exe"
# npm may skip the package's install script (its `chmod u+x`).
chmod u+x "$tool"
# The tool is a self-contained .NET program: do not depend on the machine's ICU.
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

cargo build --locked --quiet
target_dir="$(cargo metadata --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
racelint="${target_dir:-target}/debug/racelint"

mkdir "$tmp/logs"
# One log per fixture folder: a named file is analysed with its whole project (this
# repository), so one run per file would repeat that hundreds of times.
targets=(fixtures)
for folder in fixtures/python/*/ fixtures/rust/*/; do
    targets+=("${folder%/}")
done
count=0
for target in "${targets[@]}"; do
    count=$((count + 1))
    log="$tmp/logs/$count.sarif"
    status=0
    "$racelint" check "$target" --select ALL --output-format sarif >"$log" || status=$?
    # 0: nothing found, 1: findings; anything else is a failure of racelint itself.
    if [ "$status" -gt 1 ]; then
        echo "sarif-multitool: racelint exited $status on $target" >&2
        exit 1
    fi
    echo "$count.sarif: $target" >>"$tmp/logs/index.txt"
done

output="$tmp/multitool.txt"
status=0
"$tool" validate "$tmp"/logs/*.sarif --rule-kind "Sarif;Gh" \
    -o "$tmp/validation.sarif" --log ForceOverwrite >"$output" 2>&1 || status=$?
cat "$output"
if [ "$status" -ne 0 ]; then
    echo "sarif-multitool: the Multitool exited $status" >&2
    exit 1
fi
if grep -q ": error " "$output"; then
    echo "sarif-multitool: errors in racelint's SARIF (logs by target:)" >&2
    cat "$tmp/logs/index.txt" >&2
    exit 1
fi
echo "sarif-multitool: ${#targets[@]} SARIF logs, no errors"
