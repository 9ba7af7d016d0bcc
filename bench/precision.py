#!/usr/bin/env python3
"""Scores a run's findings against the verdicts readers recorded (bench/precision/*.tsv).

Usage: bench/precision.py RUN.json VERDICTS.tsv [CODE ...]

RUN.json is `racelint check python rust --select ALL --output-format json` run from the
corpus's folder (`/tmp/racelint-apps` for apps.tsv, `/tmp/racelint-corpus` for
library.tsv), so that paths match. A finding is matched to a verdict by rule, state,
path and line. Prints, per rule with verdicts: true and false positives (and unsure
ones) among the findings still reported, the findings no reader has judged yet (read
them before quoting a precision), and the judged ones that are gone. CODEs restrict it
to those rules.
"""
import collections
import json
import signal
import sys

VERDICTS = ("TRUE", "FALSE", "UNSURE")


def key(code, state, path, line):
    return (code, state or "", path, str(line))


def read_verdicts(path):
    verdicts = {}
    with open(path) as lines:
        for number, line in enumerate(lines, 1):
            if line.startswith("#") or not line.strip():
                continue
            fields = line.rstrip("\n").split("\t", 6)
            if len(fields) != 7 or fields[4] not in VERDICTS:
                sys.exit(f"{path}:{number}: expected 7 tab-separated fields, the fifth one of {', '.join(VERDICTS)}")
            code, state, place, at, verdict, cause, _ = fields
            found = key(code, state, place, at)
            if found in verdicts:
                sys.exit(f"{path}:{number}: a second verdict on {' '.join(found)}")
            verdicts[found] = (verdict, cause)
    return verdicts


def read_findings(path):
    try:
        with open(path) as run:
            findings = json.load(run)["findings"]
        return [key(f["code"], f.get("state"), f["path"], f["line"]) for f in findings]
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
    for code in sorted(codes - judged_codes):
        print(f"{code}: no verdicts in {verdicts_file}")
    wanted = lambda code: code in judged_codes and (not codes or code in codes)
    seen = set()
    tally = collections.defaultdict(collections.Counter)
    unjudged = []
    for found in findings:
        code = found[0]
        if not wanted(code):
            continue
        seen.add(found)
        if found in verdicts:
            verdict, cause = verdicts[found]
            tally[code][verdict] += 1
            if verdict == "FALSE":
                tally[code]["FALSE:" + cause] += 1
        else:
            unjudged.append(found)
    for code in sorted(tally):
        true, false, unsure = (tally[code][v] for v in VERDICTS)
        causes = ", ".join(
            f"{c.split(':', 1)[1]} {n}" for c, n in sorted(tally[code].items()) if c.startswith("FALSE:")
        )
        share = f"{100 * true / (true + false):.0f}%" if true + false else "-"
        unsure = f", {unsure} unsure" if unsure else ""
        print(f"{code}: {true} true / {false} false ({share}){unsure}; false by cause: {causes or 'none'}")
    for found in unjudged:
        print("unjudged:", "\t".join(found))
    for found, (verdict, cause) in sorted(verdicts.items()):
        if found not in seen and wanted(found[0]):
            print(f"gone ({verdict} {cause}):", "\t".join(found))


if __name__ == "__main__":
    # A reader that stops early (`| head`) wants no traceback.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    main()
