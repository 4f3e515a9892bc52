#!/usr/bin/env bash
# Natively tests a C plugin's logic: the plugin's sources and its test, compiled with the
# host's C compiler ($CC, else cc, else the SDK's clang-14) against the SDK's fake host, then
# run.
#   guest-sdk/c/test-plugin.sh NAME SOURCE.c... 
# WEIR_C_SANITIZE: 1 (default) builds with ASan/UBSan; auto uses them when the compiler's
# sanitizer runtime links (a fresh clang-14 has none); 0 leaves them out.
set -euo pipefail
sdk="$(cd "$(dirname "$0")" && pwd)"
if [ $# -lt 2 ]; then
  echo "usage: $0 NAME SOURCE.c..." >&2
  exit 2
fi
name="$1"
shift
cc="${CC:-}"
if [ -z "$cc" ]; then
  if command -v cc >/dev/null; then cc=cc
  else source "$sdk/toolchain.sh"; cc="$WEIR_CLANG"
  fi
fi
out="$(mktemp -d "${TMPDIR:-/tmp}/$name-test.XXXXXX")"
trap 'rm -rf "$out"' EXIT
flags=(-std=c11 -O1 -g -Wall -Wextra -Werror -fno-omit-frame-pointer)
sanitize=(-fsanitize=address,undefined -fno-sanitize-recover=undefined)
case "${WEIR_C_SANITIZE:-1}" in
  1) flags+=("${sanitize[@]}") ;;
  auto)
    if echo 'int main(void) { return 0; }' | "$cc" "${sanitize[@]}" -x c - -o "$out/probe" 2>/dev/null; then
      flags+=("${sanitize[@]}")
    else
      echo "test-plugin.sh: $cc has no sanitizer runtime: testing without" >&2
    fi ;;
  0) ;;
  *) echo "WEIR_C_SANITIZE must be 1, auto or 0" >&2; exit 2 ;;
esac
"$cc" "${flags[@]}" -I"$sdk/include" -I"$sdk/testing" \
  "$sdk/src/weir.c" "$sdk/src/weir_json.c" "$sdk/testing/weir_testing.c" \
  "$@" -lm -o "$out/test"
"$out/test"
