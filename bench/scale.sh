#!/usr/bin/env bash
# Growth of `racelint check --select ALL` with the size of one shared state, on generated
# code (issue 12, goal 2: exponent <= 1.1, N = 200k under 2 s):
#   module     one module, N functions each writing one key of one global dict
#   files      N modules each writing one key of a global that one module defines
#   function   one function making N writes to one global dict
#   class      one class of N methods each writing one key of a dict attribute (a registry)
#   locked     the module case with every write under one module lock: no finding, so
#              a search for a racing pair of accesses finds none to stop at
# In each, a function that calls the writers is handed to `threading.Thread(target=...)`
# and called from an `async def`, so the dict is state shared by a worker thread and the
# event loop. Prints the median wall time per N and the exponent k of t ~ N^k (least
# squares on log t against log N). Then two Rust files: a 100k-link method chain and a
# function of 100k statements, with their time and whether racelint refused them (RL001).
# Usage: bench/scale.sh
#   SCALE_NS="10000 20000"  sizes to run (default 10k 20k 40k 100k 200k)
#   SCALE_MAX_N=40000       skip sizes above this
#   SCALE_TIMEOUT=120       seconds before a run is abandoned (reported as a lower bound)
#   RUNS=1                  runs per measure (median)
#   RACELINT=path           binary to measure (default: cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/.."
ns=${SCALE_NS:-"10000 20000 40000 100000 200000"}
max_n=${SCALE_MAX_N:-200000}
limit=${SCALE_TIMEOUT:-120}
runs=${RUNS:-1}
if [ -z "${RACELINT:-}" ]; then
  cargo build --release --quiet
  RACELINT=${CARGO_TARGET_DIR:-target}/release/racelint
fi

source bench/measure.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Writes one generated case into directory $3: `gen.py KIND N DIR`.
cat > "$work/gen.py" <<'EOF'
import os
import sys

kind, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.makedirs(out, exist_ok=True)

def write(path, lines):
    with open(os.path.join(out, path), "w") as f:
        f.write("\n".join(lines) + "\n")

def entries(run_all="run_all"):
    return [
        "",
        "def main():",
        f"    threading.Thread(target={run_all}).start()",
        "",
        "async def serve():",
        f"    {run_all}()",
    ]

if kind == "module":
    lines = ["import threading", "", "STATE = {}", ""]
    for i in range(n):
        lines += [f"def f{i}():", f"    STATE['k{i}'] = {i}", ""]
    lines += ["def run_all():"] + [f"    f{i}()" for i in range(n)]
    write("scale_module.py", lines + entries())
elif kind == "files":
    pkg = os.path.join(out, "pkg")
    os.makedirs(pkg)
    write("pkg/__init__.py", [""])
    write("pkg/shared.py", ["STATE = {}"])
    for i in range(n):
        write(f"pkg/m{i}.py", ["from pkg.shared import STATE", "", "def f():", f"    STATE['k{i}'] = {i}"])
    lines = ["import threading", ""] + [f"from pkg import m{i}" for i in range(n)]
    lines += ["", "def run_all():"] + [f"    m{i}.f()" for i in range(n)]
    write("pkg/app.py", lines + entries())
elif kind == "function":
    lines = ["import threading", "", "STATE = {}", "", "def run_all():"]
    lines += [f"    STATE['k{i}'] = {i}" for i in range(n)]
    write("scale_function.py", lines + entries())
elif kind == "locked":
    lines = ["import threading", "", "STATE = {}", "LOCK = threading.Lock()", ""]
    for i in range(n):
        lines += [f"def f{i}():", "    with LOCK:", f"        STATE['k{i}'] = {i}", ""]
    lines += ["def run_all():"] + [f"    f{i}()" for i in range(n)]
    write("scale_locked.py", lines + entries())
elif kind == "class":
    lines = ["import threading", "", "class Registry:", "    def __init__(self):", "        self.items = {}", ""]
    for i in range(n):
        lines += [f"    def f{i}(self):", f"        self.items['k{i}'] = {i}", ""]
    lines += ["    def run_all(self):"] + [f"        self.f{i}()" for i in range(n)]
    lines += ["", "REGISTRY = Registry()"]
    write("scale_class.py", lines + entries("REGISTRY.run_all"))
elif kind == "rust-chain":
    chain = "".join(".step()" for _ in range(n))
    write("chain.rs", ["pub fn run(x: Builder) -> Builder {", f"    x{chain}", "}"])
elif kind == "rust-statements":
    body = [f"    total += {i};" for i in range(n)]
    write("statements.rs", ["pub fn run() -> u64 {", "    let mut total = 0;"] + body + ["    total", "}"])
EOF

# Least-squares slope of log t against log N over "N t" lines on stdin.
cat > "$work/fit.py" <<'EOF'
import math
import sys

points = [tuple(map(float, line.split())) for line in sys.stdin if line.strip()]
points = [(n, t) for n, t in points if t > 0]
if len(points) < 2:
    print("n/a")
else:
    xs = [math.log(n) for n, _ in points]
    ys = [math.log(t) for _, t in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    print(f"{slope:.2f}")
EOF

# `run_case KIND N`: generates the case and prints "seconds peak_MiB findings timed_out".
run_case() {
  local dir="$work/$1-$2"
  python3 "$work/gen.py" "$1" "$2" "$dir"
  local t mb out
  read -r t mb < <(measure timeout "$limit" "$RACELINT" check "$dir" --select ALL --exit-zero --output-format concise --no-cache)
  out=$(timeout "$limit" "$RACELINT" check "$dir" --select ALL --exit-zero --output-format concise --no-cache 2>&1 || true)
  local timed_out=no
  if awk -v t="$t" -v l="$limit" 'BEGIN { exit !(t >= l) }'; then timed_out=yes; fi
  echo "$t $mb $(grep -c 'RL[0-9]' <<<"$out" || true) $timed_out $(grep -o 'RL001' <<<"$out" | head -n 1 || true)"
  rm -rf "$dir"
}

printf 'racelint check --select ALL, median of %s run(s), %s cores, timeout %s s\n' "$runs" "$(nproc)" "$limit"
for kind in module files function class locked; do
  fit_input=""
  for n in $ns; do
    [ "$n" -le "$max_n" ] || continue
    read -r t mb found timed_out _ < <(run_case "$kind" "$n")
    if [ "$timed_out" = yes ]; then
      printf '%-9s N=%-7s  >%6.2f s  (timed out)\n' "$kind" "$n" "$t"
    else
      printf '%-9s N=%-7s  %7.2f s  peak %5d MiB  %s findings\n' "$kind" "$n" "$t" "$mb" "$found"
      fit_input+="$n $t"$'\n'
    fi
  done
  printf '%-9s growth exponent %s (goal <= 1.1)\n' "$kind" "$(printf '%s' "$fit_input" | python3 "$work/fit.py")"
done

for kind in rust-chain rust-statements; do
  read -r t mb found timed_out refused < <(run_case "$kind" 100000)
  if [ "$timed_out" = yes ]; then verdict="timed out"
  elif [ -n "$refused" ]; then verdict="refused with RL001"
  else verdict="analysed, $found findings"; fi
  printf '%-16s N=100000  %7.2f s  peak %5d MiB  %s\n' "$kind" "$t" "$mb" "$verdict"
done
