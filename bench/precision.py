#!/usr/bin/env python3
"""Scores a run's findings against the verdicts readers recorded (bench/precision/*.tsv).

Usage: bench/precision.py RUN.json VERDICTS.tsv [CODE ...]

RUN.json is `racelint check --select ALL --output-format json` run from the corpus root
(`/tmp/racelint-apps` for apps.tsv), so that paths match. A finding is matched to a
verdict by rule, state, path and line. Prints, per rule: true and false positives among
the findings still reported, the findings no reader has judged yet (read them before
quoting a precision), and the judged ones that are gone, by verdict.
"""
import collections
import json
import sys


def key(code, state, path, line):
    return (code, state or "", path, str(line))


def read_verdicts(path):
    verdicts = {}
    with open(path) as lines:
        for number, line in enumerate(lines, 1):
            if line.startswith("#") or not line.strip():
                continue
            fields = line.rstrip("\n").split("\t", 6)
            if len(fields) != 7 or fields[4] not in ("TRUE", "FALSE", "UNSURE"):
                sys.exit(f"{path}:{number}: expected 7 tab-separated fields, the fifth TRUE, FALSE or UNSURE")
            code, state, place, at, verdict, cause, _ = fields
            verdicts[key(code, state, place, at)] = (verdict, cause)
    return verdicts


def read_findings(path):
    try:
        with open(path) as run:
            return json.load(run)["findings"]
    except (ValueError, KeyError, TypeError):
        sys.exit(f"{path}: not the JSON output of `racelint check --output-format json`")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    run, verdicts_file, codes = sys.argv[1], sys.argv[2], set(sys.argv[3:])
    try:
        verdicts = read_verdicts(verdicts_file)
        findings = read_findings(run)
    except OSError as error:
        sys.exit(f"cannot read {error.filename}: {error.strerror}")
    judged_codes = {k[0] for k in verdicts}
    seen = set()
    tally = collections.defaultdict(collections.Counter)
    unjudged = []
    for f in findings:
        code = f["code"]
        if code not in judged_codes or (codes and code not in codes):
            continue
        k = key(code, f.get("state"), f["path"], f["line"])
        seen.add(k)
        if k in verdicts:
            verdict, cause = verdicts[k]
            tally[code][verdict] += 1
            if verdict == "FALSE":
                tally[code]["FALSE:" + cause] += 1
        else:
            unjudged.append(k)
    for code in sorted(tally):
        t, f = tally[code]["TRUE"], tally[code]["FALSE"]
        causes = ", ".join(
            f"{c.split(':', 1)[1]} {n}" for c, n in sorted(tally[code].items()) if c.startswith("FALSE:")
        )
        share = f"{100 * t / (t + f):.0f}%" if t + f else "-"
        print(f"{code}: {t} true / {f} false ({share}); false by cause: {causes or 'none'}")
    for k in unjudged:
        print("unjudged:", "\t".join(k))
    for k, (verdict, cause) in sorted(verdicts.items()):
        if k not in seen and (not codes or k[0] in codes):
            print(f"gone ({verdict} {cause}):", "\t".join(k))


if __name__ == "__main__":
    main()
