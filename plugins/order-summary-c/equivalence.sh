#!/usr/bin/env bash
# Proves that the C plugin behaves as its Rust twin, through the real runtime: both plugins
# run the same inputs in the same pipeline (pipelines/order-summary.toml, name included, so
# that dead letters match) with `weir test`; the Rust twin's output is blessed as the golden
# files and the C plugin's output is compared with them.
#
#   plugins/order-summary-c/equivalence.sh
#
# Cases: `samples` (samples/order-events.jsonl), `bench-batch` (the 1,000 events of
# payloads() in runtime/benches/common/mod.rs, regenerated here) and `bad-data`
# (tests/bad-data: wrong types, missing and duplicate fields, aliases, escapes, serde's
# sequence form, number edge cases). Rows and emitted events (the dead letters, error
# texts included) must be identical byte for byte.
#
# Needs target/release/weir (WEIR=... to use another), the Rust twin's component
# (scripts/build-plugins.sh) and the C one (plugins/order-summary-c/build.sh).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
weir="${WEIR:-$repo/target/release/weir}"
rust_wasm="$repo/target/wasm32-wasip2/release/order_summary.wasm"
c_wasm="$repo/target/plugins/order-summary-c.wasm"
for f in "$weir" "$rust_wasm" "$c_wasm"; do
  [ -f "$f" ] || { echo "equivalence.sh: missing $f" >&2; exit 1; }
done

tmp="$(mktemp -d "${TMPDIR:-/tmp}/order-summary-c-eq.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
cases=(samples bench-batch bad-data)

# payloads() of runtime/benches/common/mod.rs: serde_json's json! sorts keys, as sort_keys does.
python3 - >"$tmp/bench-batch.jsonl" <<'PY'
import json
for i in range(1000):
    if i % 10 == 9:
        o = f"ord-{i - 5:08}"
        e = {"eventType": "OrderShipped", "eventId": f"evt-{i:08}", "timestamp": "2026-03-30T12:00:00Z",
             "version": 1, "source": "shipping-service", "correlationId": f"req-{i:08}", "aggregateId": o,
             "data": {"orderId": o, "carrier": "DHL", "trackingNumber": "1Z999AA10123456784"}}
    else:
        e = {"eventType": "OrderPlaced", "eventId": f"evt-{i:08}", "timestamp": "2026-03-30T10:00:00Z",
             "version": 1, "source": "order-service", "correlationId": f"req-{i:08}", "aggregateId": f"ord-{i:08}",
             "data": {"orderId": f"ord-{i:08}", "userId": f"user-{i % 977:05}",
                      "items": [{"productId": "prod-789", "quantity": 2, "price": 29.99},
                                {"productId": "prod-123", "quantity": 1, "price": 10.0}],
                      "total": 69.98, "currency": "EUR", "shippingAddress": {"city": "Berlin", "zip": "10115"}}}
    print(json.dumps(e, sort_keys=True, separators=(",", ":")))
PY

for lang in rust c; do
  wasm="$rust_wasm"
  [ "$lang" = c ] && wasm="$c_wasm"
  mkdir -p "$tmp/$lang"
  sed -e "s|^plugin = .*|plugin = \"$wasm\"|" "$repo/pipelines/order-summary.toml" >"$tmp/$lang/order-summary.toml"
  for case in "${cases[@]}"; do mkdir -p "$tmp/$lang/order-summary.tests/$case"; done
  cp "$repo/samples/order-events.jsonl" "$tmp/$lang/order-summary.tests/samples/input.jsonl"
  cp "$tmp/bench-batch.jsonl" "$tmp/$lang/order-summary.tests/bench-batch/input.jsonl"
  cp "$here/tests/bad-data/input.jsonl" "$tmp/$lang/order-summary.tests/bad-data/input.jsonl"
done

export WEIR_CACHE_DIR="$tmp/cache"
echo "== the Rust twin (blessed as golden)"
BLESS=1 "$weir" test "$tmp/rust/order-summary.toml" >"$tmp/rust.log" 2>&1 || { cat "$tmp/rust.log"; exit 1; }
grep '^test ' "$tmp/rust.log"

for case in "${cases[@]}"; do
  for g in rows.golden emitted.golden; do
    cp "$tmp/rust/order-summary.tests/$case/$g" "$tmp/c/order-summary.tests/$case/$g"
  done
done

echo "== the C plugin against them"
mkdir -p "$tmp/c-out"
cp -r "$tmp/c/order-summary.tests" "$tmp/c-out/expected"
BLESS=1 "$weir" test "$tmp/c/order-summary.toml" >"$tmp/c.log" 2>&1 || { cat "$tmp/c.log"; exit 1; }
grep '^test ' "$tmp/c.log"

status=0
for case in "${cases[@]}"; do
  for g in rows.golden emitted.golden; do
    actual="$tmp/c/order-summary.tests/$case/$g"
    if ! diff -u "$tmp/c-out/expected/$case/$g" "$actual" >"$tmp/diff"; then
      echo "DIFFERENT: $case/$g"
      cat "$tmp/diff"
      status=1
    else
      echo "identical: $case/$g ($(grep -c . "$actual" || true) lines)"
    fi
  done
done

if [ "${KEEP:-0}" = 1 ]; then
  trap - EXIT
  echo "kept $tmp"
fi
[ "$status" = 0 ] && echo "equivalence: ${#cases[@]} cases, rows and emitted events (dead letters included) identical" || echo "equivalence: FAILED"
exit "$status"
