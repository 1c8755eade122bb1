#!/usr/bin/env python3
"""Compares mlflow-guard JSON reports of the real-world snapshots with the
committed triage (triage.csv), the known true problems (must-find.csv) and
the reviewed inputs that really are invalid (errors.csv).

Usage: compare.py REPORT_DIR [--draft FILE]

REPORT_DIR holds one <name>.json per manifest entry. Prints precision over
all findings, should-find recall, the error count and every untriaged
finding; exits 1 when a finding is untriaged, a report is missing, a
must-find entry is not found or an error is reported on valid input. --draft writes the untriaged findings as
triage rows (verdict left empty) to FILE for a reviewer to fill in.
"""
import csv
import json
import os
import sys
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))


def read_csv(name):
    with open(os.path.join(HERE, name), newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("repo") and not r["repo"].startswith("#")]
    return rows


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    report_dir = argv[1]
    draft = argv[argv.index("--draft") + 1] if "--draft" in argv else None
    with open(os.path.join(HERE, "manifest.tsv"), newline="") as f:
        names = [r["name"] for r in csv.DictReader(f, delimiter="\t")]

    triage = {}
    bad = 0
    for r in read_csv("triage.csv"):
        key = (r["repo"], r["path"], int(r["line"]), r["rule"])
        if r["verdict"] not in ("TP", "FP"):
            print(f"triage.csv: bad verdict {r['verdict']!r} for {key}", file=sys.stderr)
            bad += 1
        if key in triage:
            print(f"triage.csv: duplicate row {key}", file=sys.stderr)
            bad += 1
        triage[key] = r
    must = read_csv("must-find.csv")
    # errors on input that really is invalid (reviewed); every other error
    # is the tool misreading valid input
    invalid = {(r["repo"], r["path"], int(r["line"])) for r in read_csv("errors.csv")}
    valid_errors = []

    found = set()
    per_repo = []
    tp = fp = errors = 0
    by_rule = defaultdict(Counter)
    untriaged = []
    missing = []
    for n in names:
        p = os.path.join(report_dir, n + ".json")
        if not os.path.exists(p):
            missing.append(n)
            continue
        with open(p) as f:
            rep = json.load(f)
        rtp = rfp = 0
        for x in rep["findings"]:
            if x.get("suppressed"):
                continue
            key = (n, x["path"], x["line"], x["rule_id"])
            found.add(key)
            t = triage.get(key)
            if t is None:
                untriaged.append((key, x["message"]))
                continue
            if t["verdict"] == "TP":
                rtp += 1
            else:
                rfp += 1
            by_rule[x["rule_id"]][t["verdict"]] += 1
        rerr = len(rep["errors"])
        for e in rep["errors"]:
            if (n, e["path"], e.get("line", 0)) not in invalid:
                valid_errors.append((n, e))
        tp += rtp
        fp += rfp
        errors += rerr
        per_repo.append((n, rtp, rfp, rerr))

    print("| repository | TP | FP | errors |")
    print("|---|---:|---:|---:|")
    for n, a, b, e in per_repo:
        print(f"| {n} | {a} | {b} | {e} |")
    print()
    print("| rule | TP | FP |")
    print("|---|---:|---:|")
    for rule in sorted(by_rule):
        print(f"| {rule} | {by_rule[rule]['TP']} | {by_rule[rule]['FP']} |")
    print()
    hit = [m for m in must if (m["repo"], m["path"], int(m["line"]), m["rule"]) in found]
    print(f"findings: {tp + fp + len(untriaged)}  TP: {tp}  FP: {fp}  untriaged: {len(untriaged)}")
    print("precision: " + (f"{tp / (tp + fp):.3f}" if tp + fp else "n/a (nothing triaged)"))
    print(f"should-find recall: {len(hit)}/{len(must)}")
    print(f"errors: {errors} (on valid input: {len(valid_errors)})")
    for m in must:
        if m not in hit:
            print(f"NOT FOUND (must-find): {m['repo']} {m['path']}:{m['line']} {m['rule']} ({m['reason']})")
    for n, e in valid_errors:
        print(f"ERROR ON VALID INPUT: {n} {e['path']}:{e.get('line', 0)} {e['message'][:140]}")
    for n in missing:
        print(f"MISSING REPORT: {n}")
    for key, msg in untriaged:
        print(f"UNTRIAGED: {key[0]} {key[1]}:{key[2]} {key[3]} {msg[:160]}")
    if draft:
        with open(draft, "w", newline="") as f:
            w = csv.writer(f)
            for key, msg in untriaged:
                w.writerow([*key, "", msg[:200]])
    stale = [k for k in triage if k[0] in names and k not in found]
    if stale:
        print(f"({len(stale)} triage rows match no current finding: fixed or moved)")
    failed = bad or untriaged or missing or valid_errors or len(hit) < len(must)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
