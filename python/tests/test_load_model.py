"""Tests of mlflow_guard.load_model and pull against a real MLflow server.

The Go test internal/pull TestPullLive drives these: it starts the pinned
MLflow server, logs models with the real client, signs approvals as the
gateway would, and runs pytest with the MLFLOW_GUARD_TEST_* variables set.
Anywhere else (the wheel test's fresh venv has no server and no mlflow)
they are skipped.
"""

from __future__ import annotations

import os
import pathlib

import pytest

import mlflow_guard
from mlflow_guard import PullError, PullRefused

ENV = {k: os.environ.get("MLFLOW_GUARD_TEST_" + k, "") for k in ("PUBLIC_KEY", "APPROVED", "EVIL", "MARKER")}
pytestmark = pytest.mark.skipif(not all(ENV.values()),
                                reason="needs a seeded MLflow server: run by internal/pull TestPullLive")


def test_load_model_approved(tmp_path: pathlib.Path) -> None:
    import numpy as np

    dst = tmp_path / "model"
    model = mlflow_guard.load_model(ENV["APPROVED"], public_key=ENV["PUBLIC_KEY"], dst_path=dst)
    pred = model.predict(np.array([[0.0, 1.0], [1.0, 0.0]]))
    assert len(pred) == 2
    assert (dst / "MLmodel").is_file()
    assert not any(os.access(p, os.X_OK) for p in dst.rglob("*") if p.is_file())


def test_load_model_default_tempdir() -> None:
    import numpy as np

    model = mlflow_guard.load_model(ENV["APPROVED"], public_key=ENV["PUBLIC_KEY"])
    assert len(model.predict(np.array([[0.5, 0.5]]))) == 1


def test_load_model_refuses_malicious() -> None:
    with pytest.raises(PullRefused) as exc:
        mlflow_guard.load_model(ENV["EVIL"], public_key=ENV["PUBLIC_KEY"])
    assert exc.value.rule_id == "MLG106"
    assert exc.value.exit_code == 1
    assert not os.path.exists(ENV["MARKER"]), "the payload ran"


def test_load_model_refuses_latest() -> None:
    name = ENV["APPROVED"].split("/")[1].split("@")[0]
    with pytest.raises(PullRefused) as exc:
        mlflow_guard.load_model(f"models:/{name}/latest", public_key=ENV["PUBLIC_KEY"])
    assert exc.value.rule_id == "MLG104"


def test_pull_into_non_empty_dir(tmp_path: pathlib.Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(PullError) as exc:
        mlflow_guard.pull(ENV["APPROVED"], tmp_path, public_key=ENV["PUBLIC_KEY"])
    assert exc.value.exit_code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.txt"]


def test_pull_rejects_non_models_uri(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError):
        mlflow_guard.pull("runs:/abc/model", tmp_path / "m")
