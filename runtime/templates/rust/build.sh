#!/usr/bin/env bash
# Builds the plugin as a Wasm component into plugin.wasm (next to this script).
set -euo pipefail
cd "$(dirname "$0")"
if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx wasm32-wasip2; then
  rustup target add wasm32-wasip2
fi
cargo build --release --target wasm32-wasip2
cp "${CARGO_TARGET_DIR:-target}/wasm32-wasip2/release/{{crate_name}}.wasm" plugin.wasm
echo "built $(pwd)/plugin.wasm"
