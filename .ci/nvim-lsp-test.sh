#!/usr/bin/env bash
# `racelint server` with a real editor as its client: headless Neovim (installed from
# Debian's packages when missing) opens a file of a two-file project, waits for the
# diagnostics, applies the suppression code action, and what it saw must match.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v nvim >/dev/null; then
    apt-get update -qq >/dev/null && apt-get install -y -qq neovim >/dev/null
fi
cargo build --locked --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/project"
printf 'select = ["ALL"]\n' >"$work/project/racelint.toml"
printf 'JOBS: dict[str, str] = {}\n\n\nasync def submit(job: str) -> None:\n    JOBS[job] = "queued"\n' >"$work/project/a.py"
printf 'import asyncio\n\nimport a\n\n\ndef count() -> int:\n    return len(a.JOBS)\n\n\nasync def report() -> int:\n    return await asyncio.to_thread(count)\n' >"$work/project/b.py"
RACELINT="$PWD/target/debug/racelint" FILE="$work/project/b.py" OUT="$work/seen.txt" \
    timeout 120 nvim --headless -u NONE -i NONE -c "luafile .ci/nvim-lsp-test.lua"
cat >"$work/expected.txt" <<'TXT'
diagnostic racelint RL101 at 7:16
action Suppress RL101 on this line
1| import asyncio
2| 
3| import a
4| 
5| 
6| def count() -> int:
7|     # racelint: ignore[RL101] reason
8|     return len(a.JOBS)
9| 
10| 
11| async def report() -> int:
12|     return await asyncio.to_thread(count)
TXT
if ! diff -u "$work/expected.txt" "$work/seen.txt"; then
    echo "nvim-lsp-test: Neovim saw something else from racelint server" >&2
    exit 1
fi
echo "nvim-lsp-test: Neovim received racelint's diagnostic and applied its code action"
