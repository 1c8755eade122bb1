#!/usr/bin/env python3
"""Write one platform wheel for mlflow-guard: the Go binary plus the
mlflow_guard Python package.

Layout (the one pip and uv use for native tools): the binary goes to
mlflow_guard-V.data/scripts/, which the installer copies into the
environment's bin/ (Scripts\\ on Windows) so `mlflow-guard` is on PATH;
the package sits at the top level and finds that binary at run time.

Usage: make_wheel.py --binary PATH --version V --platform-tag TAG --out DIR
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import pathlib
import stat
import sys
import zipfile

NAME = "mlflow_guard"
DIST = "mlflow-guard"
REPO = "https://github.com/mlflow-guard/mlflow-guard"
LICENSE = "Apache-2.0"
SUMMARY = "Security scanner, auditor and gateway for MLflow: unsafe model loading, leaked secrets, open servers"

# One classifier per platform tag family, plus the common ones.
PLATFORM_CLASSIFIERS = {
    "manylinux": "Operating System :: POSIX :: Linux",
    "macosx": "Operating System :: MacOS",
    "win": "Operating System :: Microsoft :: Windows",
}
COMMON_CLASSIFIERS = [
    "Development Status :: 3 - Alpha",
    "Environment :: Console",
    "Intended Audience :: Developers",
    "Programming Language :: Go",
    "Programming Language :: Python :: 3",
    "Topic :: Security",
    "Topic :: Scientific/Engineering :: Artificial Intelligence",
    "Typing :: Typed",
]

# Fixed timestamp so two builds of the same inputs give the same bytes.
ZIP_DATE = (2020, 1, 1, 0, 0, 0)


def platform_classifier(tag: str) -> str:
    for prefix, cls in PLATFORM_CLASSIFIERS.items():
        if tag.startswith(prefix):
            return cls
    raise SystemExit(f"make_wheel: no classifier for platform tag {tag!r}")


def metadata(version: str, tag: str, readme: str) -> str:
    lines = [
        "Metadata-Version: 2.4",
        f"Name: {DIST}",
        f"Version: {version}",
        f"Summary: {SUMMARY}",
        f"License-Expression: {LICENSE}",
        "License-File: LICENSE",
        f"Project-URL: Homepage, {REPO}",
        f"Project-URL: Source, {REPO}",
        f"Project-URL: Issues, {REPO}/issues",
        f"Project-URL: Changelog, {REPO}/blob/main/CHANGELOG.md",
        f"Project-URL: Documentation, {REPO}/tree/main/docs",
        "Keywords: mlflow,security,pickle,sast,sarif",
        "Requires-Python: >=3.9",
    ]
    for c in COMMON_CLASSIFIERS + [platform_classifier(tag)]:
        lines.append(f"Classifier: {c}")
    lines.append("Description-Content-Type: text/markdown")
    return "\n".join(lines) + "\n\n" + readme


def wheel_file(tag: str) -> str:
    return (
        "Wheel-Version: 1.0\n"
        "Generator: mlflow-guard scripts/make_wheel.py\n"
        "Root-Is-Purelib: false\n"
        f"Tag: py3-none-{tag}\n"
    )


def record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode()


def build(binary: pathlib.Path, version: str, tag: str, out: pathlib.Path, root: pathlib.Path) -> pathlib.Path:
    exe = DIST + (".exe" if tag.startswith("win") else "")
    data_dir = f"{NAME}-{version}.data"
    info_dir = f"{NAME}-{version}.dist-info"
    entries: list[tuple[str, bytes, int]] = []  # (arcname, bytes, unix mode)

    pkg = root / "python" / NAME
    for path in sorted(pkg.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            entries.append((f"{NAME}/{path.relative_to(pkg).as_posix()}", path.read_bytes(), 0o644))
    entries.append((f"{data_dir}/scripts/{exe}", binary.read_bytes(), 0o755))
    readme = (root / "python" / "README.md").read_text(encoding="utf-8")
    entries.append((f"{info_dir}/METADATA", metadata(version, tag, readme).encode(), 0o644))
    entries.append((f"{info_dir}/WHEEL", wheel_file(tag).encode(), 0o644))
    entries.append((f"{info_dir}/licenses/LICENSE", (root / "LICENSE").read_bytes(), 0o644))

    record_name = f"{info_dir}/RECORD"
    record = "".join(f"{n},{record_hash(b)},{len(b)}\n" for n, b, _ in entries) + f"{record_name},,\n"
    entries.append((record_name, record.encode(), 0o644))

    out.mkdir(parents=True, exist_ok=True)
    whl = out / f"{NAME}-{version}-py3-none-{tag}.whl"
    tmp = whl.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    os.replace(tmp, whl)
    return whl


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--binary", required=True, type=pathlib.Path)
    ap.add_argument("--version", required=True)
    ap.add_argument("--platform-tag", required=True)
    ap.add_argument("--out", required=True, type=pathlib.Path)
    ap.add_argument("--root", type=pathlib.Path, default=pathlib.Path(__file__).resolve().parent.parent)
    a = ap.parse_args(argv)
    print(build(a.binary, a.version, a.platform_tag, a.out, a.root))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
