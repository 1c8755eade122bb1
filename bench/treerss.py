#!/usr/bin/env python3
"""Run a command and sample the summed RSS of its whole process tree.

/usr/bin/time -v reports the peak RSS of the single largest process; tools
that fork workers (semgrep) use more than that in total. This samples the
tree every 100 ms (following /proc/PID/task/TID/children) and writes the
peak of the sum (KiB) to --out. Put /usr/bin/time INSIDE this wrapper
(treerss.py -- /usr/bin/time -v CMD) so the sampler's own CPU time is not
charged to the measured command.
"""
import os
import subprocess
import sys
import time

PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def children(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out.extend(int(c) for c in f.read().split())
    except OSError:
        pass
    return out


def tree_rss_kib(root):
    total, stack = 0, [root]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * PAGE_KIB
        except OSError:
            continue
        stack.extend(children(p))
    return total


def main():
    args = sys.argv[1:]
    if len(args) < 3 or args[0] != "--out" or args[2] != "--":
        sys.exit("usage: treerss.py --out FILE -- CMD...")
    out, cmd = args[1], args[3:]
    proc = subprocess.Popen(cmd)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss_kib(proc.pid))
        time.sleep(0.1)
    with open(out, "w") as f:
        f.write(f"{peak}\n")
    sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
