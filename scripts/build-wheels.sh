#!/usr/bin/env bash
# Build mlflow-guard platform wheels into dist/.
#
#   scripts/build-wheels.sh            the host's wheel only (what CI builds)
#   scripts/build-wheels.sh all        every target below
#   scripts/build-wheels.sh linux-arm64 windows-amd64 ...
#
# The cgo part (tree-sitter) is compiled for each target with Zig's C
# compiler from the `ziglang` PyPI package (pinned in
# scripts/requirements-test.txt); nothing is downloaded from anywhere else.
# darwin targets also link against our own .tbd stubs for the Apple
# frameworks (scripts/macos-stubs.txt) through scripts/zig-cc-darwin.sh;
# those binaries are checked here and in internal/release, not run.
# The version comes from VERSION at the repository root and is stamped into
# the binary with -ldflags -X .../internal/cli.Version, so `mlflow-guard
# version`, SARIF tool.driver.version and the wheel agree.
#
# Environment: PYTHON (default $MLFLOW_GUARD_VENV/bin/python, else python3)
# must have ziglang installed. OUT_DIR (default: the repository root) gets
# dist/ (the wheels) and build/ (binaries, zig cache). Timings and sizes are
# printed per target.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
version=$(tr -d ' \n\r' < VERSION)
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+([a-z0-9.+-]*)?$ ]] || { echo "build-wheels: bad VERSION '$version'" >&2; exit 2; }
py=${PYTHON:-${MLFLOW_GUARD_VENV:+$MLFLOW_GUARD_VENV/bin/python}}
py=${py:-python3}
"$py" -c 'import ziglang' 2>/dev/null || { echo "build-wheels: $py has no ziglang (pip install -r scripts/requirements-test.txt)" >&2; exit 2; }

# target -> GOOS GOARCH zig-target wheel-platform-tag
# glibc 2.17 = manylinux2014; Go 1.26 needs macOS 12 or newer.
declare -A targets=(
  [linux-amd64]="linux amd64 x86_64-linux-gnu.2.17 manylinux_2_17_x86_64.manylinux2014_x86_64"
  [linux-arm64]="linux arm64 aarch64-linux-gnu.2.17 manylinux_2_17_aarch64.manylinux2014_aarch64"
  [darwin-amd64]="darwin amd64 x86_64-macos.12.0 macosx_12_0_x86_64"
  [darwin-arm64]="darwin arm64 aarch64-macos.12.0 macosx_12_0_arm64"
  [windows-amd64]="windows amd64 x86_64-windows-gnu win_amd64"
)
# what `file` must say about each binary
declare -A magic=(
  [linux-amd64]="ELF 64-bit LSB .*x86-64"
  [linux-arm64]="ELF 64-bit LSB .*ARM aarch64"
  [darwin-amd64]="Mach-O 64-bit x86_64 executable"
  [darwin-arm64]="Mach-O 64-bit arm64 executable"
  [windows-amd64]="PE32\+ executable .*x86-64"
)
order=(linux-amd64 linux-arm64 darwin-amd64 darwin-arm64 windows-amd64)

host="$(go env GOOS)-$(go env GOARCH)"
if [[ $# -eq 0 ]]; then
  set -- "$host"
elif [[ $1 == all ]]; then
  set -- "${order[@]}"
fi

out_dir=${OUT_DIR:-$root}
mkdir -p "$out_dir/dist" "$out_dir/build"
# zig keeps its cache in the repository's build tree, not in $HOME
export ZIG_GLOBAL_CACHE_DIR="$root/build/zig-cache" ZIG_LOCAL_CACHE_DIR="$root/build/zig-cache"

# macOS: Go's runtime, crypto/x509 and net link against CoreFoundation,
# Security and libresolv, which ziglang does not ship (Apple's SDK is not on
# any package registry). We write our own text-based stubs (.tbd: install
# name + exported symbols) from scripts/macos-stubs.txt and point the linker
# at them; dyld binds to the real libraries on the Mac by install name.
stub_root="$out_dir/build/macos-stubs"
write_macos_stubs() {
  rm -rf "$stub_root"
  local path="" name="" syms=() line
  flush() {
    [[ -n $path ]] || return 0
    [[ ${#syms[@]} -gt 0 ]] || { echo "build-wheels: macos-stubs.txt: $path lists no symbols" >&2; exit 2; }
    mkdir -p "$(dirname "$stub_root/$path")"
    {
      printf -- "--- !tapi-tbd\ntbd-version: 4\ntargets: [ x86_64-macos, arm64-macos ]\n"
      printf "install-name: '%s'\ncurrent-version: 1\ncompatibility-version: 1\nexports:\n" "$name"
      printf "  - targets: [ x86_64-macos, arm64-macos ]\n    symbols: [ "
      local IFS=,; printf '%s' "${syms[*]/#/ _}" | sed 's/^ //'
      printf " ]\n...\n"
    } > "$stub_root/$path"
    syms=()
  }
  while IFS= read -r line; do
    line=${line%%#*}; line=$(tr -d '\r' <<<"$line"); [[ $line =~ [^[:space:]] ]] || continue
    if [[ $line =~ ^\[([^]]+)\][[:space:]]+(/[^[:space:]]+)[[:space:]]*$ ]]; then
      flush; path=${BASH_REMATCH[1]}; name=${BASH_REMATCH[2]}
    elif [[ $line =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*$ && -n $path ]]; then
      syms+=("${BASH_REMATCH[1]}")
    else
      echo "build-wheels: scripts/macos-stubs.txt: cannot read line '$line'" >&2; exit 2
    fi
  done < "$root/scripts/macos-stubs.txt"
  flush
}
for t in "$@"; do
  [[ -n ${targets[$t]:-} ]] || { echo "build-wheels: unknown target '$t' (have: ${order[*]})" >&2; exit 2; }
  read -r goos goarch zt tag <<<"${targets[$t]}"
  exe=mlflow-guard; [[ $goos == windows ]] && exe=mlflow-guard.exe
  out="$out_dir/build/$t/$exe"
  start=$(date +%s)
  ldflags=${CGO_LDFLAGS:-} cc="$py -m ziglang cc -target $zt" cxx="$py -m ziglang c++ -target $zt"
  if [[ $goos == darwin ]]; then
    write_macos_stubs
    ldflags="$ldflags -F$stub_root/Frameworks -L$stub_root/lib"
    cc="$root/scripts/zig-cc-darwin.sh $py $zt cc" cxx="$root/scripts/zig-cc-darwin.sh $py $zt c++"
  fi
  CGO_ENABLED=1 GOOS=$goos GOARCH=$goarch CGO_LDFLAGS="$ldflags" CC="$cc" CXX="$cxx" \
    go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/mlflow-guard/mlflow-guard/internal/cli.Version=$version" \
      -o "$out" ./cmd/mlflow-guard
  # the binary is what the wheel says it is: `file` for the format and CPU,
  # `go version -m` for the Go target and the build settings
  desc=$(file -b "$out")
  [[ $desc =~ ${magic[$t]} ]] || { echo "build-wheels: $out is '$desc', want /${magic[$t]}/" >&2; exit 1; }
  info=$(go version -m "$out")
  for want in "GOOS=$goos" "GOARCH=$goarch" "CGO_ENABLED=1"; do
    grep -qF -- "$want" <<<"$info" || { echo "build-wheels: go version -m $out lacks $want" >&2; exit 1; }
  done
  whl=$("$py" scripts/make_wheel.py --binary "$out" --version "$version" --platform-tag "$tag" --out "$out_dir/dist")
  secs=$(( $(date +%s) - start ))
  printf '%-14s %4ds  binary %6s KiB  wheel %6s KiB  %s\n' "$t" "$secs" \
    "$(( $(stat -c %s "$out") / 1024 ))" "$(( $(stat -c %s "$whl") / 1024 ))" "$whl"
done
