#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: installs tansu (a Kafka-compatible
# broker) when missing, builds the example plugins (each installs its pinned toolchain
# into target/toolchains/ when missing), starts tansu on 127.0.0.1:19092,
# and runs every test (unit, component, golden, end to end against tansu with SQLite
# and PostgreSQL). PostgreSQL is expected at $WEIR_TEST_POSTGRES (default: the local
# server, database `test`, user `postgres`).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

mkdir -p target
# The slow install (tansu, about 15 minutes on two cores) runs once per machine, in the
# background while weir, its tests and the plugins build. (The C and Go bindings are
# committed: wit-bindgen is installed only by a build after the WIT changed.)
source scripts/lib/tansu.sh
tansu_install_in_background

echo "==> building the Rust plugins, weir and the tests"
scripts/build-plugins.sh rust
cargo test --release --workspace --no-run
echo "==> building the Python, JavaScript, C and Go plugins (toolchains install into target/toolchains once)"
scripts/build-plugins.sh others
tansu_wait_installed

port=${WEIR_TEST_TANSU_PORT:-19092}
export WEIR_TEST_BROKERS="127.0.0.1:$port"
export WEIR_TEST_POSTGRES=${WEIR_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}
echo "==> starting tansu on $WEIR_TEST_BROKERS"
tansu_start "$port" "$root/target/tansu.log"
trap 'kill $tansu_pid 2>/dev/null || true' EXIT

echo "==> running the tests"
set +e
cargo test --release --workspace --no-fail-fast "$@" 2>&1 | tee target/test-output.log
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole run: cargo prints one summary per test binary.
awk '/^test result:/ { p += $4; f += $6; s += $8 } END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' target/test-output.log
exit "$status"
