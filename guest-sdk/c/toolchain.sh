# The C plugin toolchain, pinned. Source it (`source guest-sdk/c/toolchain.sh`) or run it
# (`bash guest-sdk/c/toolchain.sh` installs and prints the paths). Idempotent, and
# non-interactive (CI=true is fine). Sets and exports:
#
#   WEIR_CLANG        clang-14 (Debian's), targeting wasm32-wasi with Debian's wasi-libc
#   WASM_TOOLS, WASI_ADAPTER_REACTOR, WASI_ADAPTER_COMMAND   (scripts/toolchains/wasm-tools.sh)
#
# Installs, when missing: apt packages clang-14 lld-14 wasi-libc libclang-rt-14-dev-wasm32
# (Debian 12's 14.0.6 and 0.0~git20220510) and wasm-tools 1.262.0. wit-bindgen is needed only
# when the WIT changes (bindings.sh, wit-bindgen.sh).

__weir_c_toolchain() {
  local repo toolchains
  repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  toolchains="${WEIR_TOOLCHAINS:-$repo/target/toolchains}"

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

  # shellcheck source=../../scripts/toolchains/wasm-tools.sh
  source "$repo/scripts/toolchains/wasm-tools.sh" || return 1
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  __weir_c_toolchain
  echo "WEIR_CLANG=$WEIR_CLANG ($("$WEIR_CLANG" --version | head -n1))"
  echo "WASM_TOOLS=$WASM_TOOLS ($("$WASM_TOOLS" --version))"
  echo "WASI_ADAPTER_REACTOR=$WASI_ADAPTER_REACTOR"
else
  __weir_c_toolchain || { unset -f __weir_c_toolchain; return 1; }
  unset -f __weir_c_toolchain
fi
