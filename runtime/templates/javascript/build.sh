#!/usr/bin/env bash
# Builds the plugin as a Wasm component into plugin.wasm (next to this script), with the
# weir JavaScript SDK's builder (which installs Node.js and the pinned componentize-js
# toolchain the first time).
#
# The build sees only this directory as its file system, so the SDK's modules are first
# copied from {{sdk}}/js/src into weir-sdk/ (refreshed on every run: do not edit them).
# `./build.sh --sdk-only` does only that copy (`npm test` runs it before the tests).
set -euo pipefail
cd "$(dirname "$0")"
sdk="{{sdk}}/js"
rm -rf weir-sdk
mkdir weir-sdk
cp "$sdk/src/index.js" "$sdk/src/guest.js" "$sdk/src/testing.js" weir-sdk/
if [ "${1:-}" = --sdk-only ]; then
  exit 0
fi
WEIR_JS_ROOT="$PWD" "$sdk/build-component.sh" src/main.js plugin.wasm
echo "built $(pwd)/plugin.wasm"
