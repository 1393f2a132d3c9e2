#!/usr/bin/env bash
# SwiftSeg setup: idempotent. Installs the Debian libraries the project links, then fetches the pinned
# libtorch (the torch 2.11.0 wheel, CUDA 13.0 build) and the two CUDA runtime wheels libtorch_cpu needs,
# and unpacks only torch/lib, torch/include and nvidia/cu13/lib into ./libtorch (git-ignored).
# Wheels are kept in ~/.cache/swiftseg/wheels so a fresh clone on the same machine sets up in seconds.
# LIBTORCH=/path/to/torch (a folder with lib/ and include/, tch-rs's convention) skips the download.
# SWIFTSEG_CACHE (wheel cache root) and SWIFTSEG_LIBTORCH_DIR (where libtorch goes) move them elsewhere; .ci/run uses
# both to exercise a first install with an empty cache.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TORCH_VERSION=2.11.0
CUDART="nvidia-cuda-runtime==13.0.96.*"
CUPTI="nvidia-cuda-cupti==13.0.85.*"
CACHE="${SWIFTSEG_CACHE:-$HOME/.cache/swiftseg}/wheels"
DEST="${SWIFTSEG_LIBTORCH_DIR:-$ROOT/libtorch}"

say() { printf "[setup] %s\n" "$*" >&2; }

# 1. Debian packages (image codecs). Only touch apt when something is missing.
APT_PKGS="libjpeg62-turbo-dev libpng-dev"
missing=""
for p in $APT_PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  say "installing Debian packages:$missing"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi

# 2. libtorch
verify() { # $1 = torch folder
  local t="$1"
  [ -f "$t/lib/libtorch_cpu.so" ] && [ -f "$t/lib/libc10.so" ] && [ -d "$t/include/ATen" ] || return 1
  if [ -f "$t/version.py" ]; then
    grep -q "__version__ = '$TORCH_VERSION" "$t/version.py" || { say "warning: $t is not torch $TORCH_VERSION: $(grep __version__ "$t/version.py")"; }
  fi
  # A test load: every dependency of libtorch_cpu must resolve.
  if LD_LIBRARY_PATH="$t/lib:$t/../nvidia/cu13/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ldd "$t/lib/libtorch_cpu.so" | grep -q "not found"; then
    say "libtorch_cpu.so has unresolved dependencies:"; ldd "$t/lib/libtorch_cpu.so" | grep "not found"; return 1
  fi
  return 0
}

if [ -n "${LIBTORCH:-}" ]; then
  verify "$LIBTORCH" || { say "LIBTORCH=$LIBTORCH does not hold a usable libtorch (lib/libtorch_cpu.so, include/ATen)"; exit 1; }
  say "using LIBTORCH=$LIBTORCH"
  exit 0
fi

if [ -f "$DEST/.complete" ] && verify "$DEST/torch"; then
  say "libtorch $TORCH_VERSION already in $DEST"
  exit 0
fi

mkdir -p "$CACHE"
fetch() { # $1 = requirement, $2 = glob of the saved wheel
  if ! ls "$CACHE"/$2 >/dev/null 2>&1; then
    say "downloading $1"
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
      --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_25_x86_64 \
      --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d "$CACHE" "$1"
  fi
  ls "$CACHE"/$2 | head -n 1
}
TORCH_WHL=$(fetch "torch==$TORCH_VERSION" "torch-$TORCH_VERSION-cp312-*.whl")
CUDART_WHL=$(fetch "$CUDART" "nvidia_cuda_runtime-13.0.96-*.whl")
CUPTI_WHL=$(fetch "$CUPTI" "nvidia_cuda_cupti-13.0.85-*.whl")

say "unpacking into $DEST"
rm -rf "$DEST.partial"; mkdir -p "$DEST.partial"
( cd "$DEST.partial"
  python3 - "$TORCH_WHL" "$CUDART_WHL" "$CUPTI_WHL" <<'PY'
import sys, zipfile
keep = ("torch/lib/", "torch/include/", "nvidia/cu13/lib/")
for whl in sys.argv[1:]:
    with zipfile.ZipFile(whl) as z:
        for n in z.namelist():
            if (n.startswith(keep) and not n.endswith("libtorch_python.so")) or n == "torch/version.py":
                z.extract(n, ".")
PY
)
rm -rf "$DEST"; mv "$DEST.partial" "$DEST"
verify "$DEST/torch" || { say "verification failed"; exit 1; }
touch "$DEST/.complete"
say "libtorch $TORCH_VERSION ready in $DEST"
