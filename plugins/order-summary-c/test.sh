#!/usr/bin/env bash
# Native test of the order-summary C plugin against the C SDK's fake host (sanitizers on;
# WEIR_C_SANITIZE=0 turns them off).
#   plugins/order-summary-c/test.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/../../guest-sdk/c/test-plugin.sh" order-summary-c "$here/order_summary.c" "$here/test_native.c"
