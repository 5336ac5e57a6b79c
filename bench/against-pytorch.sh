# Sourced by bench/run.sh, models.sh and sequence.sh, from the repository's root: PyTorch
# 2.9.0's venv (scripts/setup-libtorch.sh, created on the first run), the commit measured
# (taken before the build: the work tree may change while a bench runs), a release build of
# ours, and `$lines`, a file for the JSON line each measurement prints (speed_table.py reads it).
eval "$(scripts/setup-libtorch.sh)"  # a failure here stops the script (set -e)
python="$HARNESS_TORCH_VENV/bin/python"
commit=$(cd bench && python3 -c "import doc_table; print(doc_table.commit())")
cargo build --release --quiet
harness="${CARGO_TARGET_DIR:-target}/release/harness"
lines=$(mktemp)
trap 'rm -f "$lines"' EXIT
