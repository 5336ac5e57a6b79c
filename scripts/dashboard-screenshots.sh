#!/usr/bin/env bash
# The dashboard's screenshots in docs/ (dashboard-*.png), taken from two short real sweeps
# (about 2 minutes on 2 cores) in Debian's headless chromium (`chromium`, `chromium-driver`).
#
#   scripts/dashboard-screenshots.sh [NAMES_TXT]     (default ../shared/data/names.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin harness
python3 scripts/dashboard-screenshots.py --harness "${CARGO_TARGET_DIR:-target}/release/harness" \
    --data "$(realpath "${1:-../shared/data/names.txt}")"
