#!/usr/bin/env python3
"""Writes bench/results/50-realworld.md from two compare.py outputs.

Usage: report.py BEFORE.txt AFTER.txt BEFORE_LABEL AFTER_LABEL NOTES.md

BEFORE.txt and AFTER.txt are the stdout of run.sh for the two builds
(MG=... OUT=... bench/realworld/run.sh > X.txt); NOTES.md is the prose
appended under the tables (what changed, what is left).
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def parse(path):
    t = open(path).read()
    repos, rules, sec = {}, {}, 0
    for line in t.splitlines():
        if line.startswith("| repository"):
            sec = 1
            continue
        if line.startswith("| rule"):
            sec = 2
            continue
        m = re.match(r"\| (\S+) \| (\d+) \| (\d+) \|(?: (\d+) \|)?$", line)
        if m and sec == 1:
            repos[m[1]] = (int(m[2]), int(m[3]), int(m[4]))
        elif m and sec == 2:
            rules[m[1]] = (int(m[2]), int(m[3]))

    def g(k):
        return re.search(k + r": ([^\n]+)", t)[1]

    errs = re.match(r"(\d+) \(on valid input: (\d+)\)", g("errors"))
    return {"repos": repos, "rules": rules, "precision": g("precision"),
            "recall": g("should-find recall"), "errors": f"{errs[1]} ({errs[2]})"}


def main(argv):
    if len(argv) != 6:
        print(__doc__, file=sys.stderr)
        return 2
    b, a = parse(argv[1]), parse(argv[2])
    o = ["## Real-world precision on public MLflow repositories (issue 14)", ""]
    o.append(
        f"Measured by `bench/realworld/run.sh` over the {len(a['repos'])} public repositories that use MLflow listed with "
        "their commits in `bench/realworld/manifest.tsv` (tutorials, a kedro plugin, MLOps projects, "
        "Databricks notebooks, Helm charts, operators, docker-compose, CDK and Traefik deployments, "
        "mlflow-export-import, mlflow-tools, mlflow-oidc-auth, MLflow Recipes templates, LLMOps/genai "
        "examples, three books' example code with Jupyter notebooks). The snapshots are not committed: `bench/realworld/run.sh --fetch` clones them into "
        "`$REALWORLD_DIR` (default `/work/realworld`). Every finding of both runs was triaged by reading the "
        "code (`bench/realworld/triage.csv`: repo, path, line, rule, TP/FP, reason), so precision is "
        "TP / (TP + FP) over all findings, not a sample. Known true problems that must be found are in "
        "`bench/realworld/must-find.csv`; errors on input that really is invalid are listed in "
        "`bench/realworld/errors.csv`, every other error counts as misreading valid input.")
    o.append("")
    o.append(f"Before: {argv[3]}. After: {argv[4]}. Same snapshots, default settings "
             "(`mlflow-guard scan --format json --fail-on never .` in each snapshot).")
    o.append("")
    o.append("| | findings | TP | FP | precision | should-find recall | errors (on valid input) |")
    o.append("|---|---:|---:|---:|---:|---:|---:|")
    for label, x in (("before", b), ("after", a)):
        tp = sum(v[0] for v in x["repos"].values())
        fp = sum(v[1] for v in x["repos"].values())
        o.append(f"| {label} | {tp + fp} | {tp} | {fp} | {x['precision']} | {x['recall']} | {x['errors']} |")
    o += ["", "Per rule:", "", "| rule | before TP | before FP | after TP | after FP |", "|---|---:|---:|---:|---:|"]
    for r in sorted(set(b["rules"]) | set(a["rules"])):
        x, y = b["rules"].get(r, (0, 0)), a["rules"].get(r, (0, 0))
        o.append(f"| {r} | {x[0]} | {x[1]} | {y[0]} | {y[1]} |")
    o += ["", "Per repository:", "",
          "| repository | before TP | before FP | before errors | after TP | after FP | after errors |",
          "|---|---:|---:|---:|---:|---:|---:|"]
    for r in b["repos"]:
        x, y = b["repos"][r], a["repos"].get(r, (0, 0, 0))
        o.append(f"| {r} | {x[0]} | {x[1]} | {x[2]} | {y[0]} | {y[1]} | {y[2]} |")
    o.append("")
    o.append(open(argv[5]).read().rstrip("\n"))
    out = os.path.join(HERE, "..", "results", "50-realworld.md")
    with open(out, "w") as f:
        f.write("\n".join(o) + "\n")
    print(f"wrote {os.path.normpath(out)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
