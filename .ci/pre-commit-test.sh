#!/usr/bin/env bash
# The pre-commit hook for real: pre-commit (from PyPI, in a throwaway venv) installs
# racelint from this repository and runs it in a scratch git repository. The hook must
# fail on a racy file (Python or Rust) and pass on a safe one.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet pre-commit
export PRE_COMMIT_HOME="$tmp/cache"
scratch="$tmp/scratch"
mkdir -p "$scratch"
cp "$repo/fixtures/python/RL104/rl104_lazy_model_loop_and_worker.py" "$scratch/bad.py"
cp "$repo/fixtures/python/RL104/rl104_ok_eager_model.py" "$scratch/good.py"
cp "$repo/fixtures/rust/RL301/rl301_token_refresh_across_await.rs" "$scratch/bad.rs"
cd "$scratch"
git init --quiet
git add bad.py good.py bad.rs
for racy in bad.py bad.rs; do
  if "$tmp/venv/bin/pre-commit" try-repo "$repo" racelint --files "$racy"; then
    echo "pre-commit-test: the hook passed on a racy file: $racy" >&2
    exit 1
  fi
done
"$tmp/venv/bin/pre-commit" try-repo "$repo" racelint --files good.py
echo "pre-commit-test: the hook fails on bad.py and bad.rs and passes on good.py"
