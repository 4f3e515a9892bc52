#!/usr/bin/env bash
# Native test of the order-summary C plugin: the plugin and the C SDK compiled with the host
# compiler against the SDK's fake host (sanitizers on; WEIR_C_SANITIZE=0 turns them off).
#   plugins/order-summary-c/test.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
sdk="$here/../../guest-sdk/c"
out="${WEIR_C_TEST_DIR:-$here/../../target/c-tests}"
mkdir -p "$out"
cc="${CC:-cc}"
flags=(-std=c11 -O1 -g -Wall -Wextra -Werror -fno-omit-frame-pointer)
if [ "${WEIR_C_SANITIZE:-1}" = 1 ]; then flags+=(-fsanitize=address,undefined -fno-sanitize-recover=undefined); fi
"$cc" "${flags[@]}" -I"$sdk/include" -I"$sdk/testing" \
  "$sdk/src/weir.c" "$sdk/src/weir_json.c" "$sdk/testing/weir_testing.c" \
  "$here/order_summary.c" "$here/test_native.c" -lm -o "$out/order-summary-c-test"
"$out/order-summary-c-test"
