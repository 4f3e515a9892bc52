#!/usr/bin/env bash
# Builds the order-summary C plugin into target/plugins/order-summary-c.wasm, installing the
# pinned C toolchain when missing (see guest-sdk/c/toolchain.sh).
#   plugins/order-summary-c/build.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
"$repo/guest-sdk/c/build-component.sh" "$repo/target/plugins/order-summary-c.wasm" "$here/order_summary.c"
