#!/usr/bin/env bash
# Proves that the C plugin behaves as its Rust twin, through the real runtime: both
# pipelines run the same inputs with `weir test` (fresh embedded broker and SQLite per
# case); the Rust twin's output is blessed as the golden files and the C plugin's output
# is compared with them.
#
#   plugins/bank-account-c/equivalence.sh
#
# Cases: `samples` (samples/account-events.jsonl) and `bad-data` (tests/bad-data: invalid
# data, unknown accounts, overdrafts, numeric ids, escapes, float edge cases). Rows and
# emitted events must be identical; in dead letters only the `error` text may differ (the
# C plugin words its errors its own way), so that field is compared separately, by eye.
#
# Needs target/release/weir (WEIR=... to use another), the Rust twin's component
# (scripts/build-plugins.sh) and the C one (plugins/bank-account-c/build.sh).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
weir="${WEIR:-$repo/target/release/weir}"
rust_wasm="$repo/target/wasm32-wasip2/release/bank_account.wasm"
c_wasm="$repo/target/plugins/bank-account-c.wasm"
for f in "$weir" "$rust_wasm" "$c_wasm"; do
  [ -f "$f" ] || { echo "equivalence.sh: missing $f" >&2; exit 1; }
done

tmp="$(mktemp -d "${TMPDIR:-/tmp}/bank-account-c-eq.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# The same pipeline (the Rust one, name included, so that envelopes and dead letters
# match) with each plugin.
for lang in rust c; do
  mkdir -p "$tmp/$lang"
  wasm="$rust_wasm"
  [ "$lang" = c ] && wasm="$c_wasm"
  sed -e "s|^plugin = .*|plugin = \"$wasm\"|" "$repo/pipelines/bank-account.toml" >"$tmp/$lang/bank-account.toml"
  mkdir -p "$tmp/$lang/bank-account.tests/samples" "$tmp/$lang/bank-account.tests/bad-data"
  cp "$repo/samples/account-events.jsonl" "$tmp/$lang/bank-account.tests/samples/input.jsonl"
  cp "$here/tests/bad-data/input.jsonl" "$tmp/$lang/bank-account.tests/bad-data/input.jsonl"
done

export WEIR_CACHE_DIR="$tmp/cache"
echo "== the Rust twin (blessed as golden)"
BLESS=1 "$weir" test "$tmp/rust/bank-account.toml" >"$tmp/rust.log" 2>&1 || { cat "$tmp/rust.log"; exit 1; }
grep '^test ' "$tmp/rust.log"

# Dead letters: the error texts aside.
strip_errors() { sed -E 's/"error":"([^"\\]|\\.)*"/"error":"…"/g' "$1"; }
for case in samples bad-data; do
  for g in rows.golden emitted.golden; do
    strip_errors "$tmp/rust/bank-account.tests/$case/$g" >"$tmp/c/bank-account.tests/$case/$g"
  done
done

echo "== the C plugin against them"
mkdir -p "$tmp/c-out"
cp -r "$tmp/c/bank-account.tests" "$tmp/c-out/expected"
BLESS=1 "$weir" test "$tmp/c/bank-account.toml" >"$tmp/c.log" 2>&1 || { cat "$tmp/c.log"; exit 1; }
grep '^test ' "$tmp/c.log"

status=0
for case in samples bad-data; do
  for g in rows.golden emitted.golden; do
    actual="$tmp/c/bank-account.tests/$case/$g"
    if ! diff -u "$tmp/c-out/expected/$case/$g" <(strip_errors "$actual") >"$tmp/diff"; then
      echo "DIFFERENT: $case/$g"
      cat "$tmp/diff"
      status=1
    else
      echo "identical: $case/$g ($(grep -c . "$actual" || true) lines)"
    fi
  done
done

echo "== dead-letter errors, Rust | C"
paste -d'\n' \
  <(grep -o '"error":"\([^"\\]\|\\.\)*"' "$tmp/rust/bank-account.tests/bad-data/emitted.golden" | sed 's/^/  rust: /') \
  <(grep -o '"error":"\([^"\\]\|\\.\)*"' "$tmp/c/bank-account.tests/bad-data/emitted.golden" | sed 's/^/  c:    /')

if [ "${KEEP:-0}" = 1 ]; then
  trap - EXIT
  echo "kept $tmp"
fi
[ "$status" = 0 ] && echo "equivalence: 2 cases, rows and emitted events identical" || echo "equivalence: FAILED"
exit "$status"
