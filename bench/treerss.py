#!/usr/bin/env python3
"""Run a command and sample the summed RSS of its whole process tree.

/usr/bin/time -v reports the peak RSS of the single largest process; tools
that fork workers (semgrep) use more than that in total. This samples
/proc every 50 ms and writes the peak of the tree's sum (KiB) to --out.
"""
import os
import subprocess
import sys
import time


def tree_rss_kib(root):
    children = {}
    rss = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
            with open(f"/proc/{pid}/statm") as f:
                pages = int(f.read().split()[1])
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(pid))
        rss[int(pid)] = pages * os.sysconf("SC_PAGE_SIZE") // 1024
    total, stack = 0, [root]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        stack.extend(children.get(p, []))
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
        time.sleep(0.05)
    with open(out, "w") as f:
        f.write(f"{peak}\n")
    sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
