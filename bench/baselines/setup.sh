#!/usr/bin/env bash
# Installs what the hand-written baseline consumers need, idempotently and quietly:
#   - a Python venv at target/toolchains/bench-python with bench/baselines/python/requirements.txt
#     (confluent-kafka and psycopg, binary wheels from PyPI);
#   - bench/baselines/node/node_modules from the committed package-lock.json (`npm ci`;
#     better-sqlite3 is compiled from source against the installed Node's headers).
# A step runs again only when its requirements or lockfile changed. Prints nothing on
# success; on failure prints the failing step's log and exits non-zero.
#
#   bench/baselines/setup.sh            # then:
#   target/toolchains/bench-python/bin/python bench/baselines/python/consumer.py ...
#   node bench/baselines/node/consumer.js ...
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/bench/baselines"
venv="$root/target/toolchains/bench-python"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

fail() {
  echo "bench/baselines/setup.sh: $1 failed:" >&2
  cat "$log" >&2
  exit 1
}

digest() { cat "$@" | sha256sum | cut -d' ' -f1; }

# --- Python -----------------------------------------------------------------------------
command -v python3 >/dev/null || { echo "bench/baselines/setup.sh: python3 not found" >&2; exit 1; }
want="$(digest "$here/python/requirements.txt")"
if [[ ! -x "$venv/bin/python" || "$(cat "$venv/.weir-requirements" 2>/dev/null)" != "$want" ]]; then
  if [[ ! -x "$venv/bin/python" ]]; then
    mkdir -p "$(dirname "$venv")"
    python3 -m venv "$venv" >"$log" 2>&1 || fail "python3 -m venv $venv (on Debian: apt-get install python3-venv)"
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input --only-binary=:all: \
    -r "$here/python/requirements.txt" >"$log" 2>&1 || fail "pip install -r bench/baselines/python/requirements.txt"
  "$venv/bin/python" -c 'import confluent_kafka, psycopg' >"$log" 2>&1 || fail "importing the Python dependencies"
  echo "$want" >"$venv/.weir-requirements"
fi

# --- Node -------------------------------------------------------------------------------
command -v node >/dev/null && command -v npm >/dev/null \
  || { echo "bench/baselines/setup.sh: node and npm are needed" >&2; exit 1; }
node_dir="$here/node"
want="$(digest "$node_dir/package.json" "$node_dir/package-lock.json"; node --version)"
stamp="$node_dir/node_modules/.weir-lock"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  # better-sqlite3 has no prebuilt binary we can fetch: build it from source, against the
  # Node headers installed with node when there are any (node-gyp would download them).
  export npm_config_build_from_source=true
  if [[ -z "${npm_config_nodedir:-}" ]] && [[ "$(npm config get nodedir 2>/dev/null)" =~ ^(|undefined|null)$ ]]; then
    node_prefix="$(dirname "$(dirname "$(command -v node)")")"
    [[ -f "$node_prefix/include/node/node.h" ]] && export npm_config_nodedir="$node_prefix"
  fi
  (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error) >"$log" 2>&1 || fail "npm ci in bench/baselines/node"
  (cd "$node_dir" && node -e "new (require('better-sqlite3'))(':memory:').close(); require('kafkajs'); require('pg')") \
    >"$log" 2>&1 || fail "loading the Node dependencies"
  echo "$want" >"$stamp"
fi
