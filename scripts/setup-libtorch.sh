#!/usr/bin/env bash
# libtorch for the `tch` feature, in one command: creates a venv holding torch==VERSION from
# PyPI (default 2.9.0, the version burn-tch 0.22 is built against; ~4 GB download once, 6.7 GB
# installed) in a cache directory if it is not there yet, then prints the environment the
# build needs as `export` lines, so that
#
#   eval "$(scripts/setup-libtorch.sh)" && cargo build --release --features tch
#
# builds a binary that finds libtorch on its own (harness/build.rs embeds its path as an
# rpath; no LD_LIBRARY_PATH at run time). Progress goes to stderr, the exports to stdout.
# Another version is for a machine with that libtorch (scripts/build-tch-for.sh).
#
#   scripts/setup-libtorch.sh [VERSION]
#
# Cache: $HARNESS_TORCH_VENV, default ~/.cache/makemore-harness/torch-VERSION.
set -euo pipefail

torch_version="${1:-2.9.0}"
venv="${HARNESS_TORCH_VENV:-$HOME/.cache/makemore-harness/torch-$torch_version}"

installed() {
    "$venv/bin/python" -c "import sys, torch; sys.exit(torch.__version__.split('+')[0] != '$torch_version')" 2>/dev/null
}

if ! installed; then
    if ! command -v python3 >/dev/null; then
        echo "setup-libtorch: python3 is needed to install torch==$torch_version from PyPI" >&2
        exit 1
    fi
    echo "setup-libtorch: installing torch==$torch_version into $venv (once; ~4 GB download)" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "torch==$torch_version" >&2
    installed || { echo "setup-libtorch: torch==$torch_version did not install into $venv" >&2; exit 1; }
fi

torch_dir=$("$venv/bin/python" -c 'import os, torch; print(os.path.dirname(torch.__file__))' 2>/dev/null)
echo "setup-libtorch: libtorch $torch_version at $torch_dir" >&2
# LIBTORCH makes torch-sys link this copy (no download, no version probe). Keep the value fixed
# for a build directory: changing any LIBTORCH_* variable rebuilds torch-sys and all above it.
echo "export LIBTORCH=$torch_dir"
echo "export HARNESS_TORCH_VENV=$venv"
