#!/usr/bin/env python3
"""Scores racelint's runs against real, fixed bugs (bench/recall/cases.tsv).

Usage: bench/recall.py CASES.tsv RUNS_FOLDER

RUNS_FOLDER holds `<package>-<version>.json`, the JSON output of `racelint check .
--select ALL` run in each release's folder (bench/recall.sh makes them). A bug counts as
found when a finding of one of its rules names its state (or any state, for `-`) and
anchors within 3 lines of its place, or names that place among its related locations.
Prints each bug, found or missed, and the recall.
"""
import json
import os
import sys

NEAR = 3


def read_cases(path):
    cases = []
    with open(path) as lines:
        for number, line in enumerate(lines, 1):
            if line.startswith("#") or not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 9 or not fields[4].isdigit():
                sys.exit(f"{path}:{number}: expected 9 tab-separated fields, the fifth a line number")
            package, version, _, place, at, state, rules, reference, bug = fields
            cases.append((package, version, place, int(at), state, rules.split(","), reference, bug))
    return cases


def places(finding):
    yield finding["path"], finding["line"]
    for related in finding.get("related") or []:
        yield related["path"], related["line"]


def found(case, findings):
    _, _, place, at, state, rules, _, _ = case
    for finding in findings:
        if finding["code"] not in rules or state not in ("-", finding.get("state")):
            continue
        for path, line in places(finding):
            if os.path.normpath(path) == place and abs(line - at) <= NEAR:
                return finding
    return None


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    cases = read_cases(sys.argv[1])
    hits = 0
    unmeasured = []
    for case in cases:
        package, version, place, at, state, rules, _, bug = case
        run = os.path.join(sys.argv[2], f"{package}-{version}.json")
        if not os.path.exists(run):
            unmeasured.append(f"{package} {version}")
            print(f"{'NOT MEASURED (no run: the release could not be downloaded)':60} {package} {version} {place}:{at}  {bug}")
            continue
        try:
            with open(run) as output:
                findings = json.load(output)["findings"]
        except (OSError, ValueError, KeyError) as error:
            sys.exit(f"{run}: not a racelint JSON run ({error})")
        finding = found(case, findings)
        hits += finding is not None
        verdict = f"found  {finding['code']} {finding.get('state') or ''}".rstrip() if finding else "MISSED"
        print(f"{verdict:60} {package} {version} {place}:{at}  {bug}")
    print(f"recall: {hits} of {len(cases)} real bugs ({100 * hits // max(len(cases), 1)}%)")
    if unmeasured:
        # The recall above counts them as missed: say so, and fail, so that nobody
        # quotes it as a measurement of racelint.
        sys.exit(f"{len(unmeasured)} of {len(cases)} bugs not measured: {', '.join(sorted(set(unmeasured)))}")


if __name__ == "__main__":
    main()
