"""``scan``: run ``mlflow-guard scan --format json`` and return typed findings."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from ._binary import find_binary

PathLike = Union[str, "os.PathLike[str]"]

#: exit codes of ``scan`` (docs/rules.md)
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3

LEVELS = ("strict", "warning", "advisory")


@dataclass(frozen=True)
class Suppression:
    """Why a finding is suppressed: an inline comment, the config or a baseline."""

    kind: str
    reason: str = ""
    where: str = ""


@dataclass(frozen=True)
class Finding:
    """One rule violation, as in the JSON report (``schema/report.schema.json``)."""

    rule_id: str
    rule: str
    level: str
    message: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    fingerprint: str
    suppressed: bool
    cwe: Tuple[str, ...] = ()
    fix: str = ""
    member: str = ""
    suppression: Optional[Suppression] = None


@dataclass(frozen=True)
class ReportError:
    """A file or input the scan could not fully analyze, or a note about one."""

    path: str
    kind: str
    message: str
    line: int = 0
    member: str = ""


@dataclass(frozen=True)
class Report:
    """The whole JSON report: findings, errors and the summary as parsed."""

    version: str
    findings: Tuple[Finding, ...]
    errors: Tuple[ReportError, ...]
    summary: Mapping[str, Any] = field(default_factory=dict)

    @property
    def incomplete(self) -> bool:
        """True when some input was not fully analyzed (the scan exits 3)."""
        return bool(self.summary.get("incomplete", False))


class MlflowGuardError(Exception):
    """Base class of the errors this module raises."""


class ScanError(MlflowGuardError):
    """The scan did not run to completion (exit 2: usage or config error;
    exit 3: some input could not be analyzed, or the run was interrupted).

    ``errors`` holds the report's errors when a report was written, and
    ``stderr`` what the binary logged. A scan that could not look at every
    file must not read as clean, so this is raised instead of returning the
    partial findings; they are still on ``report``.
    """

    def __init__(self, message: str, *, exit_code: int, errors: Sequence[ReportError] = (),
                 stderr: str = "", report: Optional[Report] = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.errors = tuple(errors)
        self.stderr = stderr
        self.report = report


def _finding(d: Mapping[str, Any]) -> Finding:
    sup = d.get("suppression")
    return Finding(
        rule_id=d["rule_id"], rule=d["rule"], level=d["level"], message=d["message"],
        path=d["path"], line=int(d["line"]), column=int(d["column"]),
        end_line=int(d["end_line"]), end_column=int(d["end_column"]),
        fingerprint=d["fingerprint"], suppressed=bool(d["suppressed"]),
        cwe=tuple(d.get("cwe") or ()), fix=d.get("fix", ""), member=d.get("member", ""),
        suppression=Suppression(sup["kind"], sup.get("reason", ""), sup.get("where", "")) if sup else None,
    )


def _error(d: Mapping[str, Any]) -> ReportError:
    return ReportError(path=d["path"], kind=d["kind"], message=d["message"],
                       line=int(d.get("line", 0)), member=d.get("member", ""))


def parse_report(text: str) -> Report:
    """Parse a JSON report written by ``mlflow-guard scan --format json``.

    Raises ``MlflowGuardError`` when the text is not such a report.
    """
    try:
        doc = json.loads(text)
        return Report(
            version=doc["tool"]["version"],
            findings=tuple(_finding(f) for f in doc["findings"]),
            errors=tuple(_error(e) for e in doc["errors"]),
            summary=doc["summary"],
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise MlflowGuardError(f"mlflow-guard wrote an unreadable JSON report: {exc!r}") from exc


def scan_report(paths: Union[PathLike, Iterable[PathLike]], *, config: Optional[PathLike] = None,
                fail_on: Optional[str] = None, binary: Optional[str] = None) -> Tuple[int, Report]:
    """Like :func:`scan`, but return ``(exit_code, report)`` for exit 0 and 1."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    path_list = [os.fspath(p) for p in paths]
    if not path_list:
        raise ValueError("scan: no paths given")
    if fail_on is not None and fail_on not in LEVELS + ("never",):
        raise ValueError(f"scan: fail_on must be one of {LEVELS + ('never',)}, not {fail_on!r}")
    argv = [binary or find_binary(), "scan", "--format", "json", "-q"]
    if config is not None:
        argv += ["--config", os.fspath(config)]
    if fail_on is not None:
        argv += ["--fail-on", fail_on]
    # "--" so a path starting with "-" is never read as a flag
    argv += ["--", *path_list]
    proc = subprocess.run(argv, capture_output=True, text=True, encoding="utf-8")
    report: Optional[Report] = None
    if proc.stdout.strip():
        report = parse_report(proc.stdout)
    if proc.returncode in (EXIT_OK, EXIT_FINDINGS) and report is not None:
        return proc.returncode, report
    errors = report.errors if report else ()
    detail = "; ".join(f"{e.path}: {e.kind}: {e.message}" for e in errors if e.kind != "excluded")
    what = {EXIT_USAGE: "usage or config error", EXIT_FAILED: "scan failed or is incomplete"}.get(
        proc.returncode, f"unexpected exit code {proc.returncode}")
    stderr = proc.stderr.strip()
    raise ScanError(f"mlflow-guard scan: {what}: {detail or stderr or 'no report written'}",
                    exit_code=proc.returncode, errors=errors, stderr=stderr, report=report)


def scan(paths: Union[PathLike, Iterable[PathLike]], *, config: Optional[PathLike] = None,
         fail_on: Optional[str] = None) -> List[Finding]:
    """Scan files and directories and return the findings.

    ``paths`` is one path or several (Python code, deployment config, model
    files). ``config`` is a ``.mlflow-guard.yaml`` to use instead of the one
    found in the first path. ``fail_on`` is passed to ``--fail-on``; it
    changes the exit code only, so the same findings come back whatever it
    is. Suppressed findings are included, with ``suppressed=True``.

    Raises :class:`ScanError` when the scan exits 2 (usage or config error)
    or 3 (an input could not be fully analyzed: the result would not be
    trustworthy), carrying the report's errors.
    """
    _, report = scan_report(paths, config=config, fail_on=fail_on)
    return list(report.findings)
