#!/usr/bin/env bash
# Builds the bank-account C plugin into target/plugins/bank-account-c.wasm, installing the
# pinned C toolchain when missing (see guest-sdk/c/toolchain.sh).
#   plugins/bank-account-c/build.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
"$repo/guest-sdk/c/build-component.sh" "$repo/target/plugins/bank-account-c.wasm" "$here/bank_account.c"
