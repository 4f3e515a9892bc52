#!/usr/bin/env bash
# Native test of the plugin's logic: plugin.c and test_plugin.c, compiled with the host's C
# compiler ($CC, else cc, else the SDK's clang-14) against the weir C SDK's fake host, with
# sanitizers when the compiler has them (WEIR_C_SANITIZE=0 turns them off).
set -euo pipefail
cd "$(dirname "$0")"
sdk="{{sdk}}/c"
cc="${CC:-}"
if [ -z "$cc" ]; then
  if command -v cc >/dev/null; then cc=cc
  else source "$sdk/toolchain.sh"; cc="$WEIR_CLANG"
  fi
fi
out="$(mktemp -d "${TMPDIR:-/tmp}/{{name}}-test.XXXXXX")"
trap 'rm -rf "$out"' EXIT
flags=(-std=c11 -O1 -g -Wall -Wextra -Werror -fno-omit-frame-pointer)
if [ "${WEIR_C_SANITIZE:-1}" = 1 ]; then
  sanitize=(-fsanitize=address,undefined -fno-sanitize-recover=undefined)
  if echo 'int main(void) { return 0; }' | "$cc" "${sanitize[@]}" -x c - -o "$out/probe" 2>/dev/null; then
    flags+=("${sanitize[@]}")
  else
    echo "test.sh: $cc has no sanitizer runtime: testing without" >&2
  fi
fi
"$cc" "${flags[@]}" -I"$sdk/include" -I"$sdk/testing" \
  "$sdk/src/weir.c" "$sdk/src/weir_json.c" "$sdk/testing/weir_testing.c" \
  plugin.c test_plugin.c -lm -o "$out/test"
"$out/test"
