#!/usr/bin/env bash
# Prints the directory of the C bindings of guest-sdk/wit (world `projection`), generating
# them with `wit-bindgen c` when they are missing or stale (keyed by the WIT's and
# wit-bindgen's version). WEIR_WIT_BINDGEN names the wit-bindgen to use (default: the one
# on PATH; guest-sdk/c/toolchain.sh installs the pinned 0.63.0).
#   guest-sdk/c/bindings.sh    -> target/c-bindings/projection-<hash>
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
wb="${WEIR_WIT_BINDGEN:-wit-bindgen}"
wit="$repo/guest-sdk/wit"
stamp="$( (cat "$wit"/*.wit; "$wb" --version) | sha256sum | cut -c1-16)"
gen="$repo/target/c-bindings/projection-$stamp"
if [ ! -f "$gen/projection.h" ]; then
  mkdir -p "$repo/target/c-bindings"
  tmp="$(mktemp -d "$repo/target/c-bindings/.gen.XXXXXX")"
  "$wb" c "$wit" --world projection --out-dir "$tmp" >/dev/null 2>"$tmp.log" || { cat "$tmp.log" >&2; exit 1; }
  rm -f "$tmp.log"
  # Another build may have raced us here: either copy is the same.
  mv -T "$tmp" "$gen" 2>/dev/null || rm -rf "$tmp"
fi
echo "$gen"
