"""Locate the mlflow-guard executable that the wheel installed."""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig


class BinaryNotFoundError(FileNotFoundError):
    """The mlflow-guard executable is not installed next to this package."""


def _exe_name() -> str:
    return "mlflow-guard" + (".exe" if sys.platform == "win32" else "")


def find_binary() -> str:
    """Return the path of the mlflow-guard executable.

    The wheel installs it into the scripts directory of the environment that
    holds this package (``bin/`` or ``Scripts\\``), so that directory is tried
    first, then the user scheme (``pip install --user``). ``MLFLOW_GUARD_BIN``
    overrides both; ``PATH`` is only the last resort, because a different
    mlflow-guard found there could be a different version than this module.
    """
    override = os.environ.get("MLFLOW_GUARD_BIN")
    if override:
        if os.path.isfile(override) and os.access(override, os.X_OK):
            return override
        raise BinaryNotFoundError(f"MLFLOW_GUARD_BIN={override!r} is not an executable file")
    name = _exe_name()
    candidates = [sysconfig.get_path("scripts")]
    user_scheme = {"nt": "nt_user", "posix": "posix_user"}.get(os.name)
    if sys.platform == "darwin" and getattr(sys, "_framework", ""):
        user_scheme = "osx_framework_user"
    if user_scheme and user_scheme in sysconfig.get_scheme_names():
        candidates.append(sysconfig.get_path("scripts", scheme=user_scheme))
    for d in candidates:
        path = os.path.join(d, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    found = shutil.which(name)
    if found:
        return found
    raise BinaryNotFoundError(
        f"{name} not found in {', '.join(candidates)} or on PATH; "
        "reinstall the mlflow-guard wheel for this platform or set MLFLOW_GUARD_BIN"
    )
