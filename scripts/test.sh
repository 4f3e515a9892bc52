#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: installs tansu (a Kafka-compatible
# broker) when missing, builds the example plugins, starts tansu on 127.0.0.1:19092,
# and runs every test (unit, component, golden, end to end against tansu with SQLite
# and PostgreSQL). PostgreSQL is expected at $WEIR_TEST_POSTGRES (default: the local
# server, database `test`, user `postgres`).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

TANSU_VERSION=0.6.0
if ! command -v tansu >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/tansu" ]; then
  echo "==> installing tansu $TANSU_VERSION (about 15 minutes, once)"
  cargo install tansu --version "$TANSU_VERSION" --locked --features "dynostore libsql"
fi
export PATH="$HOME/.cargo/bin:$PATH"

echo "==> building the example plugins"
scripts/build-plugins.sh

port=${WEIR_TEST_TANSU_PORT:-19092}
export WEIR_TEST_BROKERS="127.0.0.1:$port"
export WEIR_TEST_POSTGRES=${WEIR_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}
log="$root/target/tansu.log"
mkdir -p target
echo "==> starting tansu on $WEIR_TEST_BROKERS"
tansu broker --listener-url "tcp://127.0.0.1:$port" --advertised-listener-url "tcp://127.0.0.1:$port" \
  --storage-engine memory://tansu/ >"$log" 2>&1 &
tansu_pid=$!
trap 'kill $tansu_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  if ! kill -0 $tansu_pid 2>/dev/null; then echo "tansu failed to start:"; cat "$log"; exit 1; fi
  sleep 0.1
done

echo "==> running the tests"
set +e
cargo test --release --workspace --no-fail-fast "$@" 2>&1 | tee target/test-output.log
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole run: cargo prints one summary per test binary.
awk '/^test result:/ { p += $4; f += $6; s += $8 } END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' target/test-output.log
exit "$status"
