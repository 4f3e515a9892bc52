#!/usr/bin/env bash
# Builds the plugin as a Wasm component into plugin.wasm (next to this script) with the weir
# C SDK, which installs its pinned toolchain when missing (clang-14, wasi-libc, wit-bindgen,
# wasm-tools: {{sdk}}/c/toolchain.sh).
set -euo pipefail
cd "$(dirname "$0")"
"{{sdk}}/c/build-component.sh" "$(pwd)/plugin.wasm" "$(pwd)/plugin.c"
