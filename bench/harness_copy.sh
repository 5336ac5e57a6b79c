# Sourced by the benchmarks that run sweeps for an hour or more (search.sh, search_shapes.sh,
# pbt.sh): `harness_copy DIR` puts the harness they run in DIR — HARNESS_BIN's, else this
# checkout's release build — and prints its path. A copy, so that a build meanwhile cannot swap
# the binary between sweeps.
harness_copy() {
    if [ -n "${HARNESS_BIN:-}" ]; then
        cp "$HARNESS_BIN" "$1/harness"
    else
        cargo build --release --quiet
        cp "${CARGO_TARGET_DIR:-target}/release/harness" "$1/harness"
    fi
    echo "$1/harness"
}
