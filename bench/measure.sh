# Shared by the benchmark scripts: `measure CMD...` prints the median wall seconds and
# the peak resident MiB of `runs` runs of a command (its exit status is ignored).
measure() {
  local times=() peaks=() report
  report=$(mktemp)
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %M' -o "$report" "$@" >/dev/null 2>&1 || true
    read -r t p < <(tail -n 1 "$report")
    times+=("$t"); peaks+=("$p")
  done
  rm -f "$report"
  local t p
  t=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
  p=$(printf '%s\n' "${peaks[@]}" | sort -n | tail -n 1)
  echo "$t $((p / 1024))"
}
