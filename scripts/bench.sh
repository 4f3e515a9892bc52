#!/usr/bin/env bash
# The whole benchmark harness, one command, on a fresh machine too:
#   scripts/bench.sh            full run (about 20 minutes on two cores once built), writes BENCHMARKS.md,
#                               bench/results/results.json and bench/results/*.svg
#   scripts/bench.sh --quick    smoke run (a few minutes, small loads, no thresholds), writes
#                               the same files under target/bench-quick/ instead
# It installs what it needs (tansu, the Python and Node baselines' packages), builds weir,
# the plugins and the harness, starts tansu on 127.0.0.1:$WEIR_BENCH_TANSU_PORT (19292), and
# uses PostgreSQL at $WEIR_BENCH_POSTGRES (default: the local server; it creates the database
# weir_bench and drops its tables between runs). Every section prints its progress.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
quick=false
[ "${1:-}" = --quick ] && quick=true
mkdir -p target
source scripts/lib/tansu.sh
tansu_install_in_background

if $quick; then
  results=target/bench-quick/results; markdown=target/bench-quick/BENCHMARKS.md; assets=target/bench-quick/assets
  events=20000; embedded_events=5000; reps=1; criterion_args=(--quick --noplot); duration=3; mode="quick (smoke test: small loads, one repetition; figures not meaningful)"
else
  results=target/bench-results; markdown=BENCHMARKS.md; assets=bench/results
  events=${WEIR_BENCH_EVENTS:-1000000}; embedded_events=10000; reps=${WEIR_BENCH_REPS:-3}; criterion_args=(--noplot); duration=20; mode="full"
fi
# WEIR_BENCH_FROM=SECTION (engine, e2e, latency, scaling, profile) resumes a run: the
# sections before it keep the results they wrote.
from=${WEIR_BENCH_FROM:-engine}
order=(engine e2e latency scaling profile)
run_section() { # name: whether to run it
  local i
  for i in "${order[@]}"; do
    [ "$i" = "$from" ] && return 0
    [ "$i" = "$1" ] && return 1
  done
  return 0
}
if [ "$from" = engine ]; then rm -rf "$results"; fi
mkdir -p "$results"
load_at_start=$(cut -d' ' -f1-3 /proc/loadavg)

echo "==> building weir, the Rust plugins and the harness"
scripts/build-plugins.sh rust
cargo build --release -p weir -p weir-bench
echo "==> installing the Python and Node baselines' packages"
bench/baselines/setup.sh

if run_section engine; then
  echo "==> engine benchmarks (criterion)"
  rm -rf target/criterion
  rm -f target/bench-results/engine.json
  cargo bench -p weir --bench engine -- "${criterion_args[@]}"
  [ "$results" = target/bench-results ] || cp target/bench-results/engine.json "$results/engine.json"
fi

tansu_wait_installed
port=${WEIR_BENCH_TANSU_PORT:-19292}
brokers="127.0.0.1:$port"
echo "==> starting tansu on $brokers"
tansu_start "$port" "$root/target/tansu-bench.log"
trap 'kill $tansu_pid 2>/dev/null || true' EXIT
postgres=${WEIR_BENCH_POSTGRES:-postgres://postgres@127.0.0.1:5432/weir_bench}
admin_url=${postgres%/*}/postgres
psql "$admin_url" -qtAc "SELECT 1 FROM pg_database WHERE datname = '${postgres##*/}'" | grep -q 1 \
  || psql "$admin_url" -qc "CREATE DATABASE \"${postgres##*/}\""

bench=target/release/weir-bench
if run_section e2e; then
echo "==> end to end at maximum throughput: $events events, $reps interleaved repetitions"
$bench e2e --brokers "$brokers" --postgres "$postgres" --events "$events" --reps "$reps" --embedded-events "$embedded_events" --out "$results/e2e.json"
fi
if run_section latency; then
echo "==> end to end latency at fixed rates"
$bench latency --brokers "$brokers" --throughput "$results/e2e.json" --seconds "$duration" --out "$results/latency.json"
# The mock cluster keeps at most 100,000 records per partition: at 90 % a consumer that
# falls behind would find its records deleted, so 25 % and 50 % only. Settings for
# latency: batches close 2 ms after their first record, fetches wait at most 1 ms.
echo "==> end to end latency at fixed rates, on a mock cluster hosted by the harness"
$bench latency --mock-broker --batch-wait-ms 2 --fetch-wait-ms 1 --fractions 0.25,0.5 --throughput "$results/e2e.json" --seconds "$duration" --out "$results/latency-mock.json"
fi
if run_section scaling; then
echo "==> scaling"
$bench scaling --brokers "$brokers" --postgres "$postgres" $($quick && echo --quick) --out "$results/scaling.json"

fi
if ! run_section profile; then
  :
elif command -v perf >/dev/null 2>&1 || { ! $quick && apt-get install -y -qq linux-perf >/dev/null 2>&1; }; then
  echo "==> profile of weir into SQLite (perf, cpu-clock samples)"
  WEIR_BENCH_WRAP="perf record -q -e cpu-clock -F 999 -g -o $results/weir.perf" \
    $bench e2e --brokers "$brokers" --postgres "$postgres" --events "$events" --reps 1 --consumers weir --sinks sqlite --out "$results/profile-run.json"
  perf report -i "$results/weir.perf" --stdio --no-children -g none --sort comm,dso,sym 2>/dev/null >"$results/perf-report.txt"
  $bench profile-summary --report "$results/perf-report.txt" --out "$results/profile.json"
else
  echo "==> no perf on this machine: the profile section is left out"
fi

echo "==> report"
py_versions=$(target/toolchains/bench-python/bin/python -c 'import confluent_kafka, sys; print(sys.version.split()[0], "confluent-kafka", confluent_kafka.version()[0], "(librdkafka", confluent_kafka.libversion()[0] + ")")')
kafkajs_version=$(node -p 'require("./bench/baselines/node/node_modules/kafkajs/package.json").version')
wasmtime_version=$(cargo tree -p weir -i wasmtime --depth 0 -e normal 2>/dev/null | head -1 | awk '{print $2}')
$bench report --results "$results" --criterion target/criterion --markdown "$markdown" --assets "$assets" \
  --setting "date: $(date -u +%Y-%m-%dT%H:%MZ); mode: $mode" \
  --setting "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -sr); load average at the start: $load_at_start" \
  --setting "versions: $(rustc --version); weir $(git rev-parse --short HEAD)$(git diff --quiet || echo '+changes'); wasmtime $wasmtime_version; tansu $TANSU_VERSION (memory storage); $(psql "$postgres" -qtAc 'SHOW server_version' | sed 's/^/PostgreSQL /'); Python $py_versions; Node $(node --version), kafkajs $kafkajs_version" \
  --setting "client settings, for weir and every baseline: fetch.wait.max.ms=10, fetch.queue.backoff.ms=10 (kafkajs maxWaitTimeInMs=10); batches of up to 1,000 records or 20 ms; one database transaction per batch, offsets committed after it; SQLite in WAL mode with synchronous=NORMAL. kafkajs's eachBatch batches hold 5,000-11,000 records on tansu (it ignores maxBytesPerPartition); the Node baseline applies them 1,000 at a time"
if ! $quick && [ -x scripts/bench-instructions.sh ]; then
  echo "==> instruction counts against bench/instructions.json"
  scripts/bench-instructions.sh --check
fi
echo "==> done: $markdown"
