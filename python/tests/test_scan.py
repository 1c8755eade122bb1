"""Tests of the mlflow_guard module against the real binary.

Run with a python that has mlflow_guard installed from the wheel (the Go
test internal/release does that in a fresh venv), or with PYTHONPATH=python
and MLFLOW_GUARD_BIN pointing at a built binary.
"""

from __future__ import annotations

import os
import pathlib
import pickle
import subprocess
import sys

import pytest

import mlflow_guard
from mlflow_guard import Finding, MlflowGuardError, ScanError

REPO = pathlib.Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "ml-service"


def test_example_findings_are_typed() -> None:
    findings = mlflow_guard.scan(EXAMPLE)
    assert findings, "the example project has known findings"
    assert all(isinstance(f, Finding) for f in findings)
    ids = {f.rule_id for f in findings}
    # hard-coded credentials in churn/batch.py and an unvalidated model URI
    assert {"MLG403", "MLG103"} <= ids, ids
    f = next(f for f in findings if f.rule_id == "MLG103")
    assert f.path.endswith(".py") and f.line > 0 and f.level == "strict"
    assert f.cwe and all(c.startswith("CWE-") for c in f.cwe)
    assert len(f.fingerprint) >= 16


def test_fail_on_does_not_change_findings() -> None:
    a = mlflow_guard.scan([EXAMPLE], fail_on="never")
    b = mlflow_guard.scan([str(EXAMPLE)], fail_on="advisory")
    assert [f.fingerprint for f in a] == [f.fingerprint for f in b]
    code, _ = mlflow_guard.scan_report(EXAMPLE, fail_on="never")
    assert code == 0
    code, _ = mlflow_guard.scan_report(EXAMPLE)
    assert code == 1


def test_clean_file(tmp_path: pathlib.Path) -> None:
    p = tmp_path / "ok.py"
    p.write_text("import mlflow\nmlflow.log_param('alpha', 0.5)\n")
    assert mlflow_guard.scan(p) == []


class _Evil:
    # pickling this writes a call of os.system; it is never unpickled here
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, ("echo owned",))


def test_malicious_pickle(tmp_path: pathlib.Path) -> None:
    p = tmp_path / "model.pkl"
    p.write_bytes(pickle.dumps(_Evil(), protocol=4))
    findings = mlflow_guard.scan(tmp_path)
    assert any(f.rule_id == "MLG106" and f.path == "model.pkl" for f in findings), findings


def test_incomplete_scan_raises(tmp_path: pathlib.Path) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(ScanError) as ei:
        mlflow_guard.scan(missing)
    e = ei.value
    assert e.exit_code == 3
    assert e.errors and e.errors[0].kind == "read"
    assert "missing" in str(e)
    assert e.report is not None and e.report.incomplete


def test_bad_config_raises(tmp_path: pathlib.Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text("bogus: [\n")
    with pytest.raises(ScanError) as ei:
        mlflow_guard.scan(tmp_path, config=cfg)
    assert ei.value.exit_code == 2
    assert "bad.yaml" in str(ei.value)


def test_argument_checks() -> None:
    with pytest.raises(ValueError):
        mlflow_guard.scan([])
    with pytest.raises(ValueError):
        mlflow_guard.scan(EXAMPLE, fail_on="everything")


def test_path_like_a_flag(tmp_path: pathlib.Path) -> None:
    # "--" keeps a path that starts with "-" from being read as a flag
    d = tmp_path / "-q"
    d.mkdir()
    (d / "ok.py").write_text("x = 1\n")
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        assert mlflow_guard.scan("-q") == []
    finally:
        os.chdir(old)


def test_parse_report_rejects_garbage() -> None:
    with pytest.raises(MlflowGuardError):
        mlflow_guard.parse_report("{}")
    with pytest.raises(MlflowGuardError):
        mlflow_guard.parse_report("not json")


def test_python_dash_m_runs_the_binary() -> None:
    out = subprocess.run([sys.executable, "-m", "mlflow_guard", "version"],
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith("mlflow-guard ")
    expected = os.environ.get("MLFLOW_GUARD_EXPECT_VERSION")
    if expected:
        assert out.split()[1] == expected
