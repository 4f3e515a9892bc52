#!/usr/bin/env bash
# Builds the Go order-summary plugin as a Wasm component:
#   target/plugins/order-summary-go.wasm
#
#   plugins/order-summary-go/build.sh         # install what is missing, then build
#   plugins/order-summary-go/build.sh test    # install what is missing, then go vet + go test
#                                             # of the plugin, natively (no Wasm)
#
# Everything is the Go SDK's builder, guest-sdk/go/build-component.sh (the pinned
# toolchain, no Go module proxy, go build for wasip1, wasm-tools component new). See
# docs/languages/go.md.
set -euo pipefail
name=order-summary-go
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
builder="$root/guest-sdk/go/build-component.sh"

if [ "${1:-}" = test ]; then
  exec "$builder" --test "$here"
fi
exec "$builder" "$here" "$root/target/plugins/$name.wasm"
