"""``pull`` and ``load_model``: deploy only an approved, verified model version."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from typing import Any, Optional, Union

from ._binary import find_binary
from ._scan import EXIT_FINDINGS, EXIT_USAGE, MlflowGuardError

PathLike = Union[str, "os.PathLike[str]"]

_REFUSED = re.compile(r"REFUSED (MLG\d{3}):")


class PullError(MlflowGuardError):
    """``mlflow-guard pull`` did not install the model.

    ``exit_code`` is 2 (usage, configuration or credentials) or 3 (network,
    server, a size cap); ``stderr`` is what the binary printed. The
    destination is unchanged.
    """

    def __init__(self, message: str, *, exit_code: int, stderr: str = "") -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.stderr = stderr


class PullRefused(PullError):
    """The model version was refused (exit 1): not approved, not the approved
    bytes, or unsafe to load. ``rule_id`` names the rule (MLG104, MLG105,
    MLG106, MLG110, ...)."""

    def __init__(self, message: str, *, rule_id: str, stderr: str = "") -> None:
        super().__init__(message, exit_code=EXIT_FINDINGS, stderr=stderr)
        self.rule_id = rule_id


def pull(model_uri: str, dst_path: PathLike, *, public_key: Optional[PathLike] = None,
         allow_unpinned: bool = False, tracking_uri: Optional[str] = None,
         binary: Optional[str] = None) -> str:
    """Run ``mlflow-guard pull MODEL_URI --to DST_PATH`` and return the path.

    ``dst_path`` must not exist (its parent must) or be an empty directory.
    ``public_key`` is the gateway's approval key (a PEM file); without it
    the key is fetched from the tracking server. The tracking server and
    credentials come from ``tracking_uri`` or MLflow's usual environment
    variables (``MLFLOW_TRACKING_URI``, ``MLFLOW_TRACKING_TOKEN`` ...).

    Raises :class:`PullRefused` (exit 1) or :class:`PullError` (exit 2, 3).
    """
    if not isinstance(model_uri, str) or not model_uri.startswith("models:/"):
        raise ValueError(f"pull: model_uri must be a models:/ URI, not {model_uri!r}")
    dst = os.fspath(dst_path)
    argv = [binary or find_binary(), "pull", model_uri, "--to", dst, "-q"]
    if public_key is not None:
        argv += ["--public-key", os.fspath(public_key)]
    if allow_unpinned:
        argv.append("--allow-unpinned")
    if tracking_uri is not None:
        argv += ["--tracking-uri", tracking_uri]
    proc = subprocess.run(argv, capture_output=True, text=True, encoding="utf-8")
    stderr = proc.stderr.strip()
    if proc.returncode == 0:
        return dst
    if proc.returncode == EXIT_FINDINGS:
        m = _REFUSED.search(stderr)
        raise PullRefused(f"mlflow-guard pull refused {model_uri}: {stderr}",
                          rule_id=m.group(1) if m else "", stderr=stderr)
    what = "usage, configuration or credentials error" if proc.returncode == EXIT_USAGE else "pull failed"
    raise PullError(f"mlflow-guard pull {model_uri}: {what}: {stderr}", exit_code=proc.returncode, stderr=stderr)


def load_model(model_uri: str, *, public_key: Optional[PathLike] = None, dst_path: Optional[PathLike] = None,
               allow_unpinned: bool = False, tracking_uri: Optional[str] = None, **kwargs: Any) -> Any:
    """Pull an approved model version with :func:`pull`, then load it with
    ``mlflow.pyfunc.load_model`` from the verified local copy.

    The model is loaded from the directory ``pull`` installed, never from
    the URI again, so what is loaded is what was verified. ``dst_path``
    (new or empty) keeps the copy there; by default it goes to a new
    temporary directory, which is left in place because a pyfunc model may
    read its files after loading (as ``mlflow.pyfunc.load_model`` leaves its
    own downloads). Other keyword arguments go to ``mlflow.pyfunc.load_model``.

    Raises :class:`PullRefused` or :class:`PullError` before anything is
    loaded.
    """
    import mlflow.pyfunc  # imported late: scan() does not need mlflow installed

    if dst_path is None:
        dst_path = os.path.join(tempfile.mkdtemp(prefix="mlflow-guard-model-"), "model")
    local = pull(model_uri, dst_path, public_key=public_key, allow_unpinned=allow_unpinned,
                 tracking_uri=tracking_uri)
    return mlflow.pyfunc.load_model(local, **kwargs)
