#!/usr/bin/env bash
# Builds a Go plugin into a weir component (world weir:plugin/projection), or tests it.
#
#   guest-sdk/go/build-component.sh DIR OUT.wasm            # DIR: the plugin's main package
#   guest-sdk/go/build-component.sh --test DIR [PKG...]     # go vet + go test, natively (default ./...)
#
# DIR is a Go module (its go.mod requires weir.local/sdk) whose main package registers the
# handler with guest.Register from a file built only for wasip1 (see docs/languages/go.md).
# Its go.mod replaces weir.local/sdk with this directory and go.bytecodealliance.org/pkg
# with the copy toolchain.sh installs (<repo>/target/toolchains/go-pkg-v0.4.0): the build
# never uses a Go module proxy (GOPROXY=off).
#
# Steps: install what is missing (toolchain.sh: Go 1.27.3, the pkg module; wasm-tools and the
# WASI preview1 adapters: scripts/toolchains/wasm-tools.sh); regenerate the bindings in
# internal/wit with `wit-bindgen go` 0.63.0 only when guest-sdk/wit changed (stamp:
# internal/wit/bindings.stamp; the hand-written exports/export_wit_world is kept), which is
# the only step that needs wit-bindgen (installed with `cargo install` when missing); then
#   GOOS=wasip1 GOARCH=wasm go build -trimpath -buildmode=c-shared -ldflags=-checklinkname=0
#   wasm-tools component embed guest-sdk/wit --world projection
#   wasm-tools component new --adapt wasi_snapshot_preview1=<reactor adapter>
#   wasm-tools validate
set -euo pipefail

sdk="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$sdk/../.." && pwd)"
toolchains="${WEIR_TOOLCHAINS:-$repo/target/toolchains}"
wit="$repo/guest-sdk/wit"
WIT_BINDGEN_VERSION=0.63.0
GO_PKG_VERSION=v0.4.0

usage() {
  echo "usage: $0 DIR OUT.wasm | $0 --test DIR [PACKAGE...]" >&2
  exit 2
}
mode=build
if [ "${1:-}" = --test ]; then
  mode=test
  shift
  [ "$#" -ge 1 ] || usage
else
  [ "$#" -eq 2 ] || usage
fi
[ -f "$1/go.mod" ] || { echo "build-component: $1 has no go.mod" >&2; exit 2; }
dir="$(cd "$1" && pwd)"
shift

# shellcheck source=toolchain.sh
source "$sdk/toolchain.sh"

# The module must take the pkg module from the installed copy (a `replace` directive).
got="$(cd "$dir" && go list -m -f '{{.Dir}}' go.bytecodealliance.org/pkg 2>/dev/null || true)"
if [ -z "$got" ] || [ "$(realpath -m "$got")" != "$(realpath -m "$WEIR_GO_PKG")" ]; then
  echo "build-component: $dir/go.mod must say" >&2
  echo "  require go.bytecodealliance.org/pkg $GO_PKG_VERSION // indirect" >&2
  echo "  replace go.bytecodealliance.org/pkg => $WEIR_GO_PKG" >&2
  echo "(it resolves to '${got:-nothing}')" >&2
  exit 1
fi

if [ "$mode" = test ]; then
  cd "$dir"
  [ "$#" -gt 0 ] || set -- ./...
  go vet "$@"
  go test "$@"
  exit 0
fi
out="$(realpath -m "$1")"

# --- bindings: regenerated only when the WIT (or the pinned wit-bindgen) changed ---
stamp="$sdk/internal/wit/bindings.stamp"
want="wit-bindgen-cli $WIT_BINDGEN_VERSION, guest-sdk/wit sha256 $(cat "$wit"/*.wit | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  mkdir -p "$toolchains"
  exec 7>"$toolchains/.go-bindings.lock"
  flock 7
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    # wit-bindgen 0.63.0: the one on PATH (or cargo's bin) at that version; else a pinned install.
    cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
    wb=""
    for c in "$(command -v wit-bindgen || true)" "$cargo_bin/wit-bindgen" \
             "$toolchains/wit-bindgen-$WIT_BINDGEN_VERSION/bin/wit-bindgen"; do
      if [ -n "$c" ] && [ -x "$c" ] && [ "$("$c" --version 2>/dev/null)" = "wit-bindgen-cli $WIT_BINDGEN_VERSION" ]; then
        wb="$c"
        break
      fi
    done
    if [ -z "$wb" ]; then
      echo "build-component: installing wit-bindgen-cli $WIT_BINDGEN_VERSION into $toolchains (cargo install, several minutes, once)" >&2
      cargo install wit-bindgen-cli --version "$WIT_BINDGEN_VERSION" --locked \
        --root "$toolchains/wit-bindgen-$WIT_BINDGEN_VERSION" >&2
      wb="$toolchains/wit-bindgen-$WIT_BINDGEN_VERSION/bin/wit-bindgen"
    fi
    gen="$(mktemp -d)"
    pkgv="$("$wb" go --pkg-name x --print-remote-pkg-version --out-dir "$gen/check" "$wit" 2>/dev/null \
      | grep '^go.bytecodealliance.org/pkg ' || true)"
    [ "$pkgv" = "go.bytecodealliance.org/pkg $GO_PKG_VERSION" ] \
      || { echo "build-component: wit-bindgen wants '$pkgv', the SDK pins $GO_PKG_VERSION" >&2; exit 1; }
    "$wb" go --quiet --world projection --pkg-name weir.local/sdk/internal/wit \
      --out-dir "$gen/out" "$wit" >"$gen/log" 2>&1 || { cat "$gen/log" >&2; rm -rf "$gen"; exit 1; }
    rm -rf "$sdk/internal/wit/imports" "$sdk/internal/wit/exports/wit_exports"
    cp -r "$gen/out/imports" "$sdk/internal/wit/imports"
    cp -r "$gen/out/exports/wit_exports" "$sdk/internal/wit/exports/wit_exports"
    rm -rf "$gen"
    echo "$want" >"$stamp"
  fi
  flock -u 7
  exec 7>&-
fi

# --- wasm-tools and the adapter ---
# shellcheck source=../../scripts/toolchains/wasm-tools.sh
source "$repo/scripts/toolchains/wasm-tools.sh"

# --- compile (a wasip1 reactor) and componentize ---
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(
  cd "$dir"
  # -buildmode=c-shared: a reactor (`_initialize`, `init` functions run once per instance).
  # -checklinkname=0: the pkg module links to runtime.sbrk (for cabi_realloc before init).
  GOOS=wasip1 GOARCH=wasm go build -trimpath -buildmode=c-shared \
    -ldflags=-checklinkname=0 -o "$work/core.wasm" .
)
# `wit-bindgen go` does not embed the world in the module (its Rust and C generators do).
"$WASM_TOOLS" component embed "$wit" --world projection "$work/core.wasm" -o "$work/embedded.wasm"
mkdir -p "$(dirname "$out")"
"$WASM_TOOLS" component new "$work/embedded.wasm" \
  --adapt "wasi_snapshot_preview1=$WASI_ADAPTER_REACTOR" -o "$work/component.wasm"
"$WASM_TOOLS" validate "$work/component.wasm"
mv "$work/component.wasm" "$out.tmp$$"
mv "$out.tmp$$" "$out"
echo "built $out ($(du -h "$out" | cut -f1))"
