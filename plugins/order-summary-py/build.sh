#!/usr/bin/env bash
# Builds the Python order-summary plugin as a Wasm component:
#   target/plugins/order-summary-py.wasm
# The SDK's builder installs the pinned componentize-py into target/toolchains/ when it is
# missing (see guest-sdk/python/build-component.sh for its options).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
"$root/guest-sdk/python/build-component.sh" "$here/app.py" "$root/target/plugins/order-summary-py.wasm"
