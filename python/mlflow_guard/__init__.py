"""mlflow-guard from Python.

``scan(paths)`` runs the bundled ``mlflow-guard`` binary and returns typed
findings. ``python -m mlflow_guard`` runs the binary itself.

Verified loading (``load_model``: pull an approved, scanned, digest-checked
model version, then load it) needs the ``pull`` command and is not in this
release.
"""

from __future__ import annotations

from ._binary import BinaryNotFoundError, find_binary
from ._scan import (
    Finding,
    MlflowGuardError,
    Report,
    ReportError,
    ScanError,
    Suppression,
    parse_report,
    scan,
    scan_report,
)

__all__ = [
    "BinaryNotFoundError",
    "Finding",
    "MlflowGuardError",
    "Report",
    "ReportError",
    "ScanError",
    "Suppression",
    "find_binary",
    "parse_report",
    "scan",
    "scan_report",
]
