#!/usr/bin/env bash
# Builds a Python plugin into a weir component (world weir:plugin/projection).
#
#   guest-sdk/python/build-component.sh ENTRY.py OUT.wasm
#
# ENTRY.py is the plugin's module whose handler has `@projection` (from weir_sdk); its
# directory and the SDK (guest-sdk/python) are the build's module path, and componentize-py
# bundles the modules the entry imports from them. Installs the pinned componentize-py
# (0.25.1) into target/toolchains/python-venv the first time (needs python3 3.9+ with venv,
# and PyPI; as root on Debian it apt-installs python3 and python3-venv when missing);
# afterwards it needs no network. Safe to run again, and concurrently.
#
# Environment:
#   WEIR_PY_PATH       more module directories, `:`-separated (vendored libraries...)
#   WEIR_PY_STUB_WASI  0 keeps the component's WASI imports (stdio, clocks, random,
#                      filesystem...); by default they are replaced by trapping stubs, so
#                      the component imports only weir:plugin (see docs/languages/python.md)
#   WEIR_TOOLCHAINS    where toolchains go (default: <repo>/target/toolchains)
#   PYTHON             the interpreter that creates the venv (default: python3)
set -euo pipefail

COMPONENTIZE_PY_VERSION=0.25.1

sdk="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$sdk/../.." && pwd)"
toolchains="${WEIR_TOOLCHAINS:-$repo/target/toolchains}"
venv="$toolchains/python-venv"
python="${PYTHON:-python3}"

if [ $# -ne 2 ]; then
  echo "usage: $0 ENTRY.py OUT.wasm" >&2
  exit 2
fi
entry="$(realpath -m "$1")"
out="$(realpath -m "$2")"
if [ ! -f "$entry" ] || [[ "$entry" != *.py ]]; then
  echo "build-component: $1 is not a .py file" >&2
  exit 2
fi
app_dir="$(dirname "$entry")"
module="$(basename "$entry" .py)"
if ! [[ "$module" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || [ "$module" = wit_world ] || [ "$module" = weir_sdk ]; then
  echo "build-component: the entry module's name \`$module\` must be a Python identifier other than wit_world and weir_sdk" >&2
  exit 2
fi
# Without a `@projection` handler there is no WitWorld, and componentize-py fails with a
# trap backtrace that does not say so.
if ! grep -Eq '^[[:space:]]*@([[:alnum:]_]+\.)*projection\b|projection\(' "$entry"; then
  echo "build-component: $1 has no @projection handler (from weir_sdk import projection)" >&2
  exit 2
fi

# --- python3 with venv ------------------------------------------------------------------------
has_venv() { command -v "$python" >/dev/null 2>&1 && "$python" -c 'import venv, ensurepip' 2>/dev/null; }
if [ ! -x "$venv/bin/componentize-py" ] && ! has_venv; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && [ "$python" = python3 ]; then
    echo "build-component: installing python3 and python3-venv from Debian" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
  else
    echo "build-component: python3 (3.9+) with venv is needed (on Debian: apt-get install python3-venv)" >&2
    exit 1
  fi
fi

# --- componentize-py, pinned, installed once ------------------------------------------------
# The venv is shared with scripts/toolchains/wasm-tools.sh: take its lock while changing it.
installed() {
  [ -x "$venv/bin/componentize-py" ] &&
    [ "$("$venv/bin/componentize-py" --version 2>/dev/null)" = "componentize-py $COMPONENTIZE_PY_VERSION" ]
}
if ! installed; then
  mkdir -p "$toolchains"
  exec 9>"$toolchains/.wasm-tools.lock"
  flock 9
  if ! installed; then
    echo "build-component: installing componentize-py $COMPONENTIZE_PY_VERSION into $venv" >&2
    if [ ! -x "$venv/bin/python" ]; then
      "$python" -m venv "$venv" || {
        echo "build-component: '$python -m venv' failed (on Debian: apt-get install python3-venv)" >&2
        rm -rf "$venv"
        exit 1
      }
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
      "componentize-py==$COMPONENTIZE_PY_VERSION"
    installed || { echo "build-component: componentize-py $COMPONENTIZE_PY_VERSION did not install" >&2; exit 1; }
  fi
  flock -u 9
  exec 9>&-
fi

# --- the component ----------------------------------------------------------------------------
paths=(-p "$app_dir" -p "$sdk")
if [ -n "${WEIR_PY_PATH:-}" ]; then
  IFS=: read -r -a extra <<<"$WEIR_PY_PATH"
  for p in "${extra[@]}"; do
    [ -n "$p" ] && paths+=(-p "$(realpath -m "$p")")
  done
fi
stub=()
if [ "${WEIR_PY_STUB_WASI:-1}" != 0 ]; then stub=(--stub-wasi); fi

mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
# VIRTUAL_ENV is cleared so the venv's own site-packages (componentize-py itself) are not
# searched; the current directory is the entry's, as componentize-py expects.
(
  cd "$app_dir"
  env -u VIRTUAL_ENV "$venv/bin/componentize-py" \
    -d "$repo/guest-sdk/wit" -w projection \
    componentize "${stub[@]}" "${paths[@]}" \
    -o "$tmp" "$module"
)
mv "$tmp" "$out"
trap - EXIT
echo "build-component: $out ($(du -h "$out" | cut -f1))" >&2
