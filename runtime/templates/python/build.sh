#!/usr/bin/env bash
# Builds the plugin (app.py) as a Wasm component into plugin.wasm, next to this script,
# with the weir Python SDK's builder (installs the pinned componentize-py the first time).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"{{sdk}}/python/build-component.sh" "$here/app.py" "$here/plugin.wasm"
echo "built $here/plugin.wasm"
