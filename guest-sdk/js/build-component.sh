#!/usr/bin/env bash
# Builds a JavaScript plugin into a weir component (world weir:plugin/projection).
#
#   guest-sdk/js/build-component.sh ENTRY.js OUT.wasm
#
# ENTRY.js is the plugin's entry module (it exports `handle`, made with weir-sdk/guest's
# `projection`). Installs the pinned toolchain
# (guest-sdk/js/toolchain: componentize-js 0.23.0, jco 1.35.0) into target/toolchains/js
# the first time, from its lock file (npm ci); afterwards it needs no network.
#
# Environment:
#   WEIR_JS_ROOT      the directory the build sees as its file system (default: the
#                     repository root); the entry and every module it imports, the SDK
#                     included, must be inside it (a plugin outside this repository can
#                     vendor guest-sdk/js/src next to itself and set this to its own dir)
#   WEIR_JS_FEATURES  StarlingMonkey features to keep, space-separated, from
#                     "stdio random clocks" (default: none, so the component imports
#                     only weir:plugin; "stdio" makes console.log and uncaught errors
#                     print to the host's stderr, at the price of wasi:cli imports).
set -euo pipefail

repo="$(cd "$(dirname "$0")/../.." && pwd)"
sdk="$repo/guest-sdk/js"
tools="$repo/target/toolchains/js"

if [ $# -ne 2 ]; then
  echo "usage: $0 ENTRY.js OUT.wasm" >&2
  exit 2
fi
entry="$(realpath -m "$1")"
out="$(realpath -m "$2")"
root="$(realpath "${WEIR_JS_ROOT:-$repo}")"
case "$entry" in
  "$root"/*) ;;
  *) echo "build-component: $1 is not inside $root (set WEIR_JS_ROOT)" >&2; exit 2 ;;
esac

# --- Node.js (componentize-js 0.23 needs Node 18 or newer) ---------------------------------
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "build-component: installing Node.js and npm from Debian" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "build-component: Node.js 18+ and npm are needed (e.g. apt-get install nodejs npm)" >&2
    exit 1
  fi
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -lt 18 ]; then
  echo "build-component: Node.js $(node --version) is too old; componentize-js needs 18+" >&2
  exit 1
fi

# --- the pinned toolchain, installed once ---------------------------------------------------
# The stamp is the lock file's hash: a changed pin reinstalls, an unchanged one skips npm.
stamp="$tools/.installed"
want="$(sha256sum "$sdk/toolchain/package-lock.json" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || [ ! -x "$tools/node_modules/.bin/componentize-js" ]; then
  echo "build-component: installing componentize-js 0.23.0 and jco 1.35.0 into $tools" >&2
  mkdir -p "$tools"
  cp "$sdk/toolchain/package.json" "$sdk/toolchain/package-lock.json" "$tools/"
  (cd "$tools" && CI=true npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
fi
componentize="$tools/node_modules/.bin/componentize-js"

# --- the component --------------------------------------------------------------------------
keep=" ${WEIR_JS_FEATURES:-} "
disable=(http fetch-event)
for f in stdio random clocks; do
  [[ "$keep" == *" $f "* ]] || disable+=("$f")
done

mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
# componentize-js maps the current directory into the build's file system, so the entry
# module may import the SDK by a relative path. No --aot: it downloads weval at build time
# (fails offline).
cd "$root"
"$componentize" "${entry#"$root"/}" \
  --wit "$repo/guest-sdk/wit" \
  --world-name projection \
  --disable "${disable[@]}" \
  -o "$tmp"
mv "$tmp" "$out"
trap - EXIT
echo "build-component: $out ($(du -h "$out" | cut -f1))" >&2
