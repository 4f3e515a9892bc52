#!/usr/bin/env bash
# Prints the path of wit-bindgen-cli 0.63.0, installing it (cargo install, about 15
# minutes, once) when missing. Needed only to regenerate the committed C bindings after
# the WIT changed (see bindings.sh).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
toolchains="${WEIR_TOOLCHAINS:-$repo/target/toolchains}"
version="0.63.0"
pinned="$toolchains/wit-bindgen-$version/bin/wit-bindgen"
cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin/wit-bindgen"
for candidate in "$(command -v wit-bindgen || true)" "$cargo_bin" "$pinned"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ] && [ "$("$candidate" --version 2>/dev/null)" = "wit-bindgen-cli $version" ]; then
    echo "$candidate"
    exit 0
  fi
done
echo "wit-bindgen.sh: installing wit-bindgen-cli $version into $toolchains (cargo install, once)" >&2
cargo install wit-bindgen-cli --version "$version" --locked --root "$toolchains/wit-bindgen-$version" >&2
echo "$pinned"
