#!/usr/bin/env bash
# Native tests of the C guest SDK (host compiler, sanitizers on).
#   guest-sdk/c/test.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${WEIR_C_TEST_DIR:-$here/../../target/c-tests}"
mkdir -p "$out"
cc="${CC:-cc}"
flags=(-std=c11 -O1 -g -Wall -Wextra -Werror -fno-omit-frame-pointer)
if [ "${WEIR_C_SANITIZE:-1}" = 1 ]; then flags+=(-fsanitize=address,undefined -fno-sanitize-recover=undefined); fi
"$cc" "${flags[@]}" -I"$here/include" -I"$here/src" -I"$here/testing" \
  "$here/src/weir.c" "$here/src/weir_json.c" "$here/testing/weir_testing.c" "$here/tests/test_sdk.c" \
  -lm -o "$out/test_sdk"

# The Wasm glue (src/weir_wasm.c) over the real (committed) bindings, with this test
# playing the host at the canonical-ABI level.
gen="$("$here/bindings.sh")"
# The bindings carry Wasm-only attributes (import/export names): not our warnings.
"$cc" "${flags[@]}" -w -c "$gen/projection.c" -I"$gen" -o "$out/projection.o"
"$cc" "${flags[@]}" -I"$here/include" -I"$here/src" -I"$here/testing" -I"$gen" \
  "$here/src/weir.c" "$here/src/weir_json.c" "$here/src/weir_wasm.c" "$here/tests/test_abi.c" \
  "$out/projection.o" -lm -o "$out/test_abi"
"$out/test_abi"
"$out/test_sdk"
