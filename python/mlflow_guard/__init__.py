"""mlflow-guard from Python.

``scan(paths)`` runs the bundled ``mlflow-guard`` binary and returns typed
findings. ``python -m mlflow_guard`` runs the binary itself.

``load_model(uri)`` runs ``mlflow-guard pull`` (an approved, digest-checked,
scanned model version, installed into a new directory) and then
``mlflow.pyfunc.load_model`` on that verified copy; ``pull(uri, dir)`` does
the first half only.
"""

from __future__ import annotations

from ._binary import BinaryNotFoundError, find_binary
from ._pull import PullError, PullRefused, load_model, pull
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
    "load_model",
    "parse_report",
    "pull",
    "PullError",
    "PullRefused",
    "scan",
    "scan_report",
]
