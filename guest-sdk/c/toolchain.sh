# The C plugin toolchain, pinned. Source it (`source guest-sdk/c/toolchain.sh`) or run it
# (`bash guest-sdk/c/toolchain.sh` installs and prints the paths). Idempotent, and
# non-interactive (CI=true is fine). Sets and exports:
#
#   WEIR_CLANG        clang-14 (Debian's), targeting wasm32-wasi with Debian's wasi-libc
#   WEIR_WIT_BINDGEN  wit-bindgen 0.63.0 (`cargo install wit-bindgen-cli --locked`)
#   WASM_TOOLS, WASI_ADAPTER_REACTOR, WASI_ADAPTER_COMMAND   (scripts/toolchains/wasm-tools.sh)
#
# Installs, when missing: apt packages clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32
# (Debian 12's 14.0.6 and 0.0~git20220510), wit-bindgen-cli 0.63.0, and wasm-tools 1.262.0.

__weir_c_toolchain() {
  local repo toolchains
  repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  toolchains="${WEIR_TOOLCHAINS:-$repo/target/toolchains}"
  local wit_bindgen_version="0.63.0"

  # clang-14, wasm-ld-14, wasi-libc and compiler-rt's wasm32 builtins (for long double printf).
  local builtins=/usr/lib/llvm-14/lib/clang/14.0.6/lib/wasi/libclang_rt.builtins-wasm32.a
  if ! command -v clang-14 >/dev/null || ! command -v wasm-ld-14 >/dev/null \
     || [ ! -f /usr/lib/wasm32-wasi/libc.a ] || [ ! -f "$builtins" ]; then
    echo "toolchain.sh: installing clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 (apt)" >&2
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32 >&2 || return 1
  fi
  export WEIR_CLANG="$(command -v clang-14)"

  # wit-bindgen 0.63.0: the one on PATH when it is that version; else a pinned install.
  local wb=""
  if command -v wit-bindgen >/dev/null \
     && wit-bindgen --version 2>/dev/null | grep -q " $wit_bindgen_version\b"; then
    wb="$(command -v wit-bindgen)"
  elif [ -x "$toolchains/wit-bindgen-$wit_bindgen_version/bin/wit-bindgen" ]; then
    wb="$toolchains/wit-bindgen-$wit_bindgen_version/bin/wit-bindgen"
  elif ! command -v wit-bindgen >/dev/null; then
    echo "toolchain.sh: installing wit-bindgen-cli $wit_bindgen_version (cargo install)" >&2
    cargo install wit-bindgen-cli --version "$wit_bindgen_version" --locked >&2 || return 1
    wb="$(command -v wit-bindgen || echo "${CARGO_HOME:-$HOME/.cargo}/bin/wit-bindgen")"
  else
    # Another version is on PATH: keep it, install the pinned one beside the toolchains.
    echo "toolchain.sh: installing wit-bindgen-cli $wit_bindgen_version into $toolchains" >&2
    cargo install wit-bindgen-cli --version "$wit_bindgen_version" --locked \
      --root "$toolchains/wit-bindgen-$wit_bindgen_version" >&2 || return 1
    wb="$toolchains/wit-bindgen-$wit_bindgen_version/bin/wit-bindgen"
  fi
  export WEIR_WIT_BINDGEN="$wb"

  # shellcheck source=../../scripts/toolchains/wasm-tools.sh
  source "$repo/scripts/toolchains/wasm-tools.sh" || return 1
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  __weir_c_toolchain
  echo "WEIR_CLANG=$WEIR_CLANG ($("$WEIR_CLANG" --version | head -n1))"
  echo "WEIR_WIT_BINDGEN=$WEIR_WIT_BINDGEN ($("$WEIR_WIT_BINDGEN" --version))"
  echo "WASM_TOOLS=$WASM_TOOLS ($("$WASM_TOOLS" --version))"
  echo "WASI_ADAPTER_REACTOR=$WASI_ADAPTER_REACTOR"
else
  __weir_c_toolchain || { unset -f __weir_c_toolchain; return 1; }
  unset -f __weir_c_toolchain
fi
