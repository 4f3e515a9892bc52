#!/usr/bin/env bash
# Builds every example plugin as a Wasm component (wasm32-wasip2, release) into
# target/wasm32-wasip2/release/. rust-toolchain.toml brings the target.
set -euo pipefail
cd "$(dirname "$0")/.."
# rust-toolchain.toml names the target; older rustup versions do not add it by themselves.
if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx wasm32-wasip2; then
  rustup target add wasm32-wasip2
fi
plugins=(order-summary bank-account event-store order-notifications hostile)
args=()
for p in "${plugins[@]}"; do args+=(-p "$p"); done
cargo build --release --target wasm32-wasip2 "${args[@]}"
