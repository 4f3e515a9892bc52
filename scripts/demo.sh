#!/usr/bin/env bash
# The seed scenario end to end on the embedded default: builds weir and the plugins,
# starts weir with its in-process Kafka broker, produces the seeds' sample events,
# runs the four Rust seed pipelines until they are idle, and prints the read model.
# (The same scenarios in Python, JavaScript, C and Go run in scripts/test.sh.)
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_QUIET=${CARGO_TERM_QUIET:-true}
echo "==> building the plugins (wasm32-wasip2) and weir"
scripts/build-plugins.sh rust
cargo build --release -p weir
weir=target/release/weir
db=target/demo/weir.db
rm -f "$db" "$db-wal" "$db-shm"
mkdir -p target/demo
echo "==> checking the pipelines"
pipelines=(pipelines/order-summary.toml pipelines/bank-account.toml pipelines/event-store.toml pipelines/order-notifications.toml)
"$weir" check "${pipelines[@]}"
echo "==> running them on the embedded broker with the seeds' events"
"$weir" run --exit-when-idle --metrics-addr off --database "sqlite://$PWD/$db" \
  --input order-events=samples/order-events.jsonl \
  --input account-events=samples/account-events.jsonl \
  "${pipelines[@]}"
echo "==> the read model ($db)"
"$weir" show --database "sqlite://$PWD/$db" "${pipelines[@]}"
