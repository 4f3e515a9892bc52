#!/usr/bin/env bash
# Builds the plugin as a Wasm component into plugin.wasm (next to this script), with the
# weir Go SDK's builder (installs its pinned toolchain into the SDK's target/toolchains
# when missing; never uses a Go module proxy).
#   ./build.sh         # -> plugin.wasm
#   ./build.sh test    # go vet + go test ./..., natively (no Wasm)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ "${1:-}" = test ]; then
  exec "{{sdk}}/go/build-component.sh" --test "$here"
fi
exec "{{sdk}}/go/build-component.sh" "$here" "$here/plugin.wasm"
