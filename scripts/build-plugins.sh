#!/usr/bin/env bash
# Builds the example plugins as Wasm components.
#   scripts/build-plugins.sh          every plugin
#   scripts/build-plugins.sh rust     the Rust plugins only (cargo, wasm32-wasip2, release)
#                                     into target/wasm32-wasip2/release/
#   scripts/build-plugins.sh others   the plugins in other languages (each plugins/*/build.sh)
#                                     into target/plugins/; each installs its pinned toolchain
#                                     into target/toolchains/ when missing
# rust-toolchain.toml brings the wasm32-wasip2 target.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
export PATH="$HOME/.cargo/bin:$PATH"

if [ "$what" = all ] || [ "$what" = rust ]; then
  # rust-toolchain.toml names the target; older rustup versions do not add it by themselves.
  if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx wasm32-wasip2; then
    rustup target add wasm32-wasip2
  fi
  plugins=(order-summary bank-account event-store order-notifications hostile noop)
  args=()
  for p in "${plugins[@]}"; do args+=(-p "$p"); done
  cargo build --release --target wasm32-wasip2 "${args[@]}"
fi

if [ "$what" = all ] || [ "$what" = others ]; then
  for build in plugins/*/build.sh; do
    echo "==> $build"
    "$build"
  done
fi
