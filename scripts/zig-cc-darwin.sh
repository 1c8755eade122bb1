#!/usr/bin/env bash
# C compiler/linker for darwin targets: `zig cc` minus two linker flags its
# Mach-O linker rejects ("unsupported linker arg"). cmd/link passes
# -Wl,-flat_namespace -Wl,-bind_at_load whenever the program could load Go
# plugins; ours links the "plugin" package only through kustomize's plugin
# loader, which mlflow-guard never enables. Without them the binary uses the
# default two-level namespace: every import is bound to one named library.
#
#   CC="scripts/zig-cc-darwin.sh PYTHON ZIG-TARGET [cc|c++]"
set -euo pipefail
py=$1 target=$2 driver=$3
shift 3
args=()
for a in "$@"; do
  case $a in
    -Wl,-flat_namespace | -Wl,-bind_at_load) ;;
    *) args+=("$a") ;;
  esac
done
exec "$py" -m ziglang "$driver" -target "$target" ${args[@]+"${args[@]}"}
