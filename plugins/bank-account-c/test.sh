#!/usr/bin/env bash
# Native test of the bank-account C plugin against the C SDK's fake host (sanitizers on),
# then the SDK's own tests.
#   plugins/bank-account-c/test.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
sdk="$here/../../guest-sdk/c"
"$sdk/test-plugin.sh" bank-account-c "$here/bank_account.c" "$here/test_native.c"
"$sdk/test.sh"
