#!/usr/bin/env bash
# Runs the composite action's shell steps (action.yml) the way a runner does, on a
# fixture project: its install step builds and installs the wheel, its check step
# writes SARIF and reports racelint's exit code (1: findings), and with a baseline of
# those findings the same check reports none (0). The upload step is GitHub's own.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/yaml"
"$work/yaml/bin/pip" install --quiet pyyaml
project=fixtures/python/RL101/shop_service
racelint_baseline="$work/baseline.json"
cargo run --release --locked --quiet -- check "$project" --write-baseline "$racelint_baseline" >/dev/null
"$work/yaml/bin/python" - "$work" "$project" "$racelint_baseline" <<'PY'
import json, os, re, subprocess, sys

work, project, baseline = sys.argv[1:]
action = __import__("yaml").safe_load(open("action.yml"))
steps = {step["name"]: step for step in action["runs"]["steps"]}
defaults = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
path_file = os.path.join(work, "github_path")
open(path_file, "w").close()


def run(name, inputs):
    """One `run:` step, with `${{ inputs.* }}` and `${{ github.action_path }}` as a runner expands them."""
    step = steps[name]
    def expand(value):
        value = value.replace("${{ github.action_path }}", os.getcwd())
        return re.sub(r"\$\{\{ inputs\.([\w-]+) \}\}", lambda m: inputs[m.group(1)], value)
    output = os.path.join(work, "github_output")
    open(output, "w").close()
    extra_path = ":".join(line.strip() for line in open(path_file) if line.strip())
    env = dict(os.environ, RUNNER_TEMP=work, GITHUB_PATH=path_file, GITHUB_OUTPUT=output,
               PATH=f"{extra_path}:{os.environ['PATH']}" if extra_path else os.environ["PATH"])
    env.update({key: expand(value) for key, value in step.get("env", {}).items()})
    done = subprocess.run(["bash", "-c", step["run"]], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"action-test: step {name!r} failed ({done.returncode}):\n{done.stderr}")
    return dict(line.split("=", 1) for line in open(output).read().split())


run("Install racelint", defaults)
inputs = dict(defaults, paths=project, args="--select ALL", **{"sarif-file": os.path.join(work, "out.sarif")})
outputs = run("Check", inputs)
assert outputs["exit-code"] == "1", f"findings should give exit code 1, got {outputs}"
sarif = json.load(open(inputs["sarif-file"]))
results = sarif["runs"][0]["results"]
assert results, "the SARIF report has no results"
outputs = run("Check", dict(inputs, args="", baseline=baseline))
assert outputs["exit-code"] == "0", f"with a baseline of every finding, exit code 0, got {outputs}"
print(f"action-test: the action installs racelint, writes {len(results)} SARIF results, and passes with a baseline")
PY
