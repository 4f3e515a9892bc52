#!/usr/bin/env bash
# Builds every example plugin as a Wasm component (wasm32-wasip2, release) into
# target/wasm32-wasip2/release/. rust-toolchain.toml brings the target.
set -euo pipefail
cd "$(dirname "$0")/.."
plugins=(order-summary bank-account event-store order-notifications hostile)
args=()
for p in "${plugins[@]}"; do args+=(-p "$p"); done
cargo build --release --target wasm32-wasip2 "${args[@]}"
