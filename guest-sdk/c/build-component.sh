#!/usr/bin/env bash
# Builds a weir projection component from C sources with the C SDK.
#
#   guest-sdk/c/build-component.sh OUT.wasm plugin.c [more.c ...] [-- extra clang flags]
#
# Steps: install the pinned toolchain when missing (toolchain.sh), generate the bindings
# of guest-sdk/wit (world `projection`) (committed in bindings/; `wit-bindgen c` only after a WIT change),
# compile and link the plugin, the SDK and the bindings with clang-14 for wasm32-wasi
# (a reactor: no main), then `wasm-tools component new`. The WASI preview1 adapter is
# used only when the core module imports WASI (the SDK itself imports none).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

if [ "$#" -lt 2 ]; then
  echo "usage: $0 OUT.wasm SOURCE.c... [-- CLANG_FLAGS...]" >&2
  exit 2
fi
out="$1"
shift
sources=()
extra=()
while [ "$#" -gt 0 ]; do
  if [ "$1" = "--" ]; then
    shift
    extra=("$@")
    break
  fi
  sources+=("$1")
  shift
done

# shellcheck source=toolchain.sh
source "$here/toolchain.sh"

# Bindings: committed; regenerated only when the WIT changed.
gen="$("$here/bindings.sh")"

name="$(basename "$out" .wasm)"
mkdir -p "$(dirname "$out")"
# One work directory per output path: scaffolds all build a `plugin.wasm`, maybe at once.
out_abs="$(cd "$(dirname "$out")" && pwd)/$(basename "$out")"
work="$repo/target/c-build/$name-$(printf '%s' "$out_abs" | sha256sum | cut -c1-12)"
mkdir -p "$work"

# -mexec-model=reactor: a library-style module (no _start); -O2 as the Rust plugins' release.
# The bindings are generated code: their warnings are not ours.
# -lc-printscan-long-double: wasi-libc's default printf/strtod keep a "long double is not
# supported" path that writes to stderr, which alone would import WASI's fd_write; the full
# version (with compiler-rt's builtins) has no such path, so the module imports no WASI.
cflags=(--target=wasm32-wasi --sysroot=/usr -O2 -std=c11 -mexec-model=reactor
        -Wall -Wextra -I"$here/include" -I"$here/src" -I"$gen")
"$WEIR_CLANG" "${cflags[@]}" "${extra[@]}" \
  "$here/src/weir.c" "$here/src/weir_json.c" "$here/src/weir_wasm.c" "${sources[@]}" \
  -Wno-unused-parameter -Wno-missing-field-initializers -x c "$gen/projection.c" -x none \
  "$gen/projection_component_type.o" \
  -lc-printscan-long-double -lm -Wl,--strip-debug -o "$work/core.wasm"

# A component; with the reactor adapter only if the module imports WASI preview1.
adapt=()
"$WASM_TOOLS" print "$work/core.wasm" >"$work/core.wat"
if grep -q '(import "wasi_snapshot_preview1"' "$work/core.wat"; then
  adapt=(--adapt "wasi_snapshot_preview1=$WASI_ADAPTER_REACTOR")
fi
"$WASM_TOOLS" component new "$work/core.wasm" "${adapt[@]}" -o "$out.tmp"
"$WASM_TOOLS" validate --features component-model "$out.tmp"
mv "$out.tmp" "$out"
echo "built $out ($(wc -c <"$out") bytes$([ ${#adapt[@]} -gt 0 ] && echo ', with the WASI adapter'))"
