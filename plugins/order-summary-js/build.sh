#!/usr/bin/env bash
# Builds target/plugins/order-summary-js.wasm from src/main.js (installing the pinned
# JavaScript toolchain into target/toolchains/js the first time). Then test it with
#   node --test plugins/order-summary-js/test/
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
exec "$repo/guest-sdk/js/build-component.sh" \
  "$repo/plugins/order-summary-js/src/main.js" \
  "$repo/target/plugins/order-summary-js.wasm"
