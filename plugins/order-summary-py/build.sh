#!/usr/bin/env bash
# Builds the Python order-summary plugin as a Wasm component:
#   target/plugins/order-summary-py.wasm
# Installs componentize-py (pinned) into target/toolchains/python-venv when it is missing.
# Needs python3 (3.9 or newer, with venv) and PyPI; safe to run again (skips what is there).
#
# WEIR_PY_STUB_WASI=0 keeps the component's WASI imports (stdio, clocks, random,
# filesystem...); by default they are replaced by trapping stubs, so the plugin imports
# only weir:plugin interfaces (see docs/languages/python.md).
set -euo pipefail

COMPONENTIZE_PY_VERSION=0.25.1
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/target/toolchains/python-venv"
out="$root/target/plugins/order-summary-py.wasm"
python="${PYTHON:-python3}"

if [[ ! -x "$venv/bin/componentize-py" ]] ||
  [[ "$("$venv/bin/componentize-py" --version 2>/dev/null)" != "componentize-py $COMPONENTIZE_PY_VERSION" ]]; then
  echo "installing componentize-py $COMPONENTIZE_PY_VERSION into $venv"
  if [[ ! -x "$venv/bin/python" ]]; then
    "$python" -m venv "$venv" || {
      echo "error: '$python -m venv' failed (on Debian: apt-get install python3-venv)" >&2
      rm -rf "$venv"
      exit 1
    }
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    "componentize-py==$COMPONENTIZE_PY_VERSION"
fi

stub=()
if [[ "${WEIR_PY_STUB_WASI:-1}" != 0 ]]; then stub=(--stub-wasi); fi

mkdir -p "$(dirname "$out")"
tmp="$out.tmp$$"
trap 'rm -f "$tmp"' EXIT
# Only the app's directory and the SDK: componentize-py bundles every module it finds on
# these paths that the app imports. VIRTUAL_ENV is cleared so the venv's own site-packages
# (componentize-py itself) are not searched.
(
  cd "$here"
  env -u VIRTUAL_ENV "$venv/bin/componentize-py" \
    -d "$root/guest-sdk/wit" -w projection \
    componentize "${stub[@]}" \
    -p "$here" -p "$root/guest-sdk/python" \
    -o "$tmp" app
)
mv "$tmp" "$out"
trap - EXIT
echo "built $out ($(du -h "$out" | cut -f1))"
