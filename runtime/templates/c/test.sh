#!/usr/bin/env bash
# Native test of the plugin's logic: plugin.c and test_plugin.c against the weir C SDK's
# fake host, with sanitizers when the compiler has them (WEIR_C_SANITIZE=0 turns them off).
set -euo pipefail
cd "$(dirname "$0")"
WEIR_C_SANITIZE="${WEIR_C_SANITIZE:-auto}" "{{sdk}}/c/test-plugin.sh" {{name}} plugin.c test_plugin.c
