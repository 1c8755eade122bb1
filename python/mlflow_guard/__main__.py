"""``python -m mlflow_guard ...`` runs the installed binary with the same arguments."""

from __future__ import annotations

import os
import subprocess
import sys

from ._binary import find_binary


def main() -> int:
    binary = find_binary()
    if sys.platform == "win32":
        # no exec on Windows: run it and hand its exit code back
        return subprocess.run([binary, *sys.argv[1:]]).returncode
    os.execv(binary, [binary, *sys.argv[1:]])
    return 0  # unreachable: execv replaces the process


if __name__ == "__main__":
    sys.exit(main())
