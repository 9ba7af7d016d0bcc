#!/usr/bin/env bash
# The pre-commit hook for real: pre-commit (from PyPI, in a throwaway venv) installs
# racelint from this repository and runs it in a scratch git repository. The hook must
# fail on a racy file (Python or Rust) and pass on a safe one.
#
# The repository is given to pre-commit as `try-repo` would give it: a scratch clone
# with the working tree's changes committed. But it is named once, by a configuration
# with that revision, so pre-commit builds the hook's environment once for the three
# runs (`try-repo` clones, and so builds racelint, on every run: three release builds).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet pre-commit
export PRE_COMMIT_HOME="$tmp/cache"
# pre-commit's `cargo install` builds in this repository's target folder: CI has made
# the release build already (the wheel test), so the hook's install compiles racelint
# itself and no dependency again (a fresh folder took 10 of CI's 30 minutes).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"

# The working tree as one commit: tracked changes and new files, not what git ignores.
shadow="$tmp/shadow"
git clone --quiet "$repo" "$shadow"
git -C "$repo" diff HEAD --binary | git -C "$shadow" apply --allow-empty
git -C "$repo" ls-files -z --others --exclude-standard | (cd "$repo" && xargs -0 -r cp --parents -t "$shadow")
git -C "$shadow" add -A
git -C "$shadow" -c user.name=pre-commit-test -c user.email=pre-commit-test@localhost \
  commit --quiet --allow-empty -m "working tree"
rev=$(git -C "$shadow" rev-parse HEAD)

scratch="$tmp/scratch"
mkdir -p "$scratch"
cp "$repo/fixtures/python/RL104/rl104_lazy_model_loop_and_worker.py" "$scratch/bad.py"
cp "$repo/fixtures/python/RL104/rl104_ok_eager_model.py" "$scratch/good.py"
cp "$repo/fixtures/rust/RL301/rl301_token_refresh_across_await.rs" "$scratch/bad.rs"
cat >"$scratch/.pre-commit-config.yaml" <<YAML
repos:
  - repo: $shadow
    rev: $rev
    hooks:
      - id: racelint
YAML
cd "$scratch"
git init --quiet
git add bad.py good.py bad.rs .pre-commit-config.yaml
# Each racy file fails the hook with its finding (not with a failed install).
for racy in bad.py:RL104 bad.rs:RL301; do
  file=${racy%%:*} code=${racy##*:}
  if "$tmp/venv/bin/pre-commit" run racelint --files "$file" >"$tmp/out.txt" 2>&1; then
    cat "$tmp/out.txt" >&2
    echo "pre-commit-test: the hook passed on a racy file: $file" >&2
    exit 1
  fi
  if ! grep -q "^$code(" "$tmp/out.txt"; then
    cat "$tmp/out.txt" >&2
    echo "pre-commit-test: the hook failed on $file without reporting $code" >&2
    exit 1
  fi
done
"$tmp/venv/bin/pre-commit" run racelint --files good.py
echo "pre-commit-test: the hook fails on bad.py and bad.rs and passes on good.py"
