#!/usr/bin/env bash
# A `tch` binary for a machine whose libtorch is another version than burn-tch's 2.9.0 — a GPU
# machine with its own PyTorch and no package registry — in one command: installs that torch
# from PyPI into a cached venv (scripts/setup-libtorch.sh VERSION), builds `--features tch`
# against its headers in a target directory of its own, runs the tch tests on the CPU there,
# then copies the binary, stripped, to dist/harness-tch-VERSION and trains with it on the CPU
# on that venv's libtorch found through LD_LIBRARY_PATH, as it will be found on the GPU machine.
#
#   scripts/build-tch-for.sh VERSION [NAMES_TXT]   (NAMES_TXT default ../shared/data/names.txt)
#   SKIP_TESTS=1 skips the tch tests.
#
# Find VERSION on the GPU machine with `python3 -c 'import torch; print(torch.__version__)'`
# (without its `+cu130`-style suffix). The script ends by printing the command to run there.
set -euo pipefail
cd "$(dirname "$0")/.."

version="${1:?usage: scripts/build-tch-for.sh VERSION [NAMES_TXT]  (a torch version on PyPI, e.g. 2.11.0)}"
data="$(realpath "${2:-../shared/data/names.txt}")"
binary="dist/harness-tch-$version"

# The venv of this version, never one that HARNESS_TORCH_VENV names for another.
eval "$(HARNESS_TORCH_VENV='' scripts/setup-libtorch.sh "$version")"
# Another libtorch rebuilds torch-sys and everything above it: a target directory per version.
export CARGO_TARGET_DIR="$HOME/.cache/makemore-harness/target-tch-$version"
# torch-sys checks the version only where it asks python; said here in case that changes.
export LIBTORCH_BYPASS_VERSION_CHECK=1
echo "build-tch-for: building --features tch against libtorch $version in $CARGO_TARGET_DIR" >&2
cargo build --release --locked -p harness --features tch
if [ "${SKIP_TESTS:-0}" != 1 ]; then
    cargo test --release --locked -p harness --features tch --test tch
fi

mkdir -p dist
strip -o "$binary" "$CARGO_TARGET_DIR/release/harness"
# The rpath the build embeds must be a RUNPATH, which LD_LIBRARY_PATH overrides.
if ! readelf -d "$binary" | grep -q '(RUNPATH)'; then
    echo "build-tch-for: $binary has no RUNPATH: LD_LIBRARY_PATH could not choose its libtorch" >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The same libtorch under another path than the RUNPATH's: where the loader found it tells
# which of the two it followed.
ln -s "$LIBTORCH" "$work/libtorch"
lib="$work/libtorch/lib"
echo "build-tch-for: training 300 steps with $binary on libtorch $version (CPU, LD_LIBRARY_PATH)" >&2
LD_DEBUG=libs LD_DEBUG_OUTPUT="$work/ld" LD_LIBRARY_PATH="$lib" "$binary" train --backend tch --device cpu \
    --data "$data" --db "$work/check.db" --name tch-check --steps 300 --eval-every 300 > "$work/train.txt"
cat "$work/train.txt"
grep -q "completed after 300" "$work/train.txt"
loaded=$(grep -h "calling init: .*libtorch_cpu.so" "$work"/ld.* | head -1 | sed 's/.*calling init: //')
case "$loaded" in
    "$lib"/*) echo "build-tch-for: libtorch_cpu.so came from LD_LIBRARY_PATH: $loaded" >&2 ;;
    *)
        echo "build-tch-for: libtorch_cpu.so came from ${loaded:-nowhere}, not $lib" >&2
        exit 1
        ;;
esac

size=$(du -m "$binary" | cut -f1)
cat <<EOF
$binary: $size MB, for libtorch $version. On the GPU machine, beside this checkout:

  LD_LIBRARY_PATH=\$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))')/lib \\
      GPU_BACKEND=tch scripts/gpu-check.sh $binary NAMES_TXT
EOF
