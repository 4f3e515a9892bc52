#!/usr/bin/env bash
# Instruction-count regression guard for the engine benchmarks (issue 11).
#
#   scripts/bench-instructions.sh [--check]   count, compare with bench/instructions.json,
#                                             exit 1 if any case rose more than 5 %
#   scripts/bench-instructions.sh --record    count, write bench/instructions.json
#   scripts/bench-instructions.sh --check noop_call_1 ...   only the cases named
#
# Each case of runtime/benches/instructions.rs (the no-op call through Instance::run and
# bare, order-summary through the component with and without the host's decoding,
# order-summary natively, instantiation)
# runs under valgrind's callgrind twice, with 2 and with 12 iterations, counting only
# inside `weir_bench_measured` on the main thread; (count(12) - count(2)) / 10 is the
# instructions per iteration, so start-up, loading and the first iterations cancel out.
# Instruction counts do not depend on the machine's load, unlike times: a rise is code
# that does more. A fall never fails; re-record after an intended change.
# Needs valgrind and python3. WEIR_INSTRUCTIONS_THRESHOLD overrides the 5 (per cent).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

mode=check
cases=()
for a in "$@"; do
  case "$a" in
    --record) mode=record ;;
    --check) mode=check ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "unknown option $a (--record | --check)" >&2; exit 2 ;;
    *) cases+=("$a") ;;
  esac
done
baseline=bench/instructions.json
threshold=${WEIR_INSTRUCTIONS_THRESHOLD:-5}
low=2
high=12
target=${CARGO_TARGET_DIR:-target}
work=$target/bench-instructions
cache=$work/cache # compiled components for the valgrind runs (its CPU differs from the host's)
mkdir -p "$work"

for tool in valgrind python3; do
  command -v "$tool" >/dev/null || { echo "bench-instructions: needs $tool" >&2; exit 2; }
done
if [ "$mode" = check ] && [ ! -f "$baseline" ]; then
  echo "bench-instructions: no $baseline yet; record one with --record" >&2
  exit 2
fi

started=$SECONDS
# The two plugins the cases load, from the current tree (as scripts/build-plugins.sh rust).
echo "==> building the no-op and order-summary plugins (wasm32-wasip2)"
cargo build --release --target wasm32-wasip2 -p noop -p order-summary 2>&1 | { grep -v '^\s*\(Compiling\|Blocking\)' || true; }
echo "==> building the workload (cargo bench -p weir --bench instructions --no-run)"
bin=$(cargo bench -p weir --bench instructions --no-run --message-format=json-render-diagnostics \
  | python3 -c '
import json, sys
exe = [m["executable"] for m in map(json.loads, sys.stdin)
       if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "instructions" and m.get("executable")]
print(exe[-1])')
[ ${#cases[@]} -gt 0 ] || mapfile -t cases < <("$bin" --list)

# Compile (or fetch) the components under valgrind once, outside any count: valgrind's
# CPU has other features than the host's, so its compiled components are cached apart.
echo "==> compiling the components under valgrind (cached in $cache after the first time)"
for c in "${cases[@]}"; do
  valgrind --tool=none -q "$bin" "$c" --iterations 0 --cache-dir "$cache" >/dev/null
done

count() { # case iterations -> instructions counted inside weir_bench_measured
  local out="$work/$1.$2.callgrind"
  valgrind --tool=callgrind --callgrind-out-file="$out" --collect-atstart=no \
    --toggle-collect=weir_bench_measured "$bin" "$1" --iterations "$2" --cache-dir "$cache" \
    >"$work/$1.$2.log" 2>&1 || { echo "valgrind failed on $1:" >&2; tail -20 "$work/$1.$2.log" >&2; exit 2; }
  awk '/^(totals|summary):/ { print $2; exit }' "$out"
}

results=$work/current.tsv
: >"$results"
echo "==> counting instructions under callgrind ($low and $high iterations per case)"
for c in "${cases[@]}"; do
  t=$SECONDS
  a=$(count "$c" $low)
  b=$(count "$c" $high)
  per=$(( (b - a + (high - low) / 2) / (high - low) ))
  printf '    %-32s %14d instructions per iteration  (%d s)\n' "$c" "$per" $((SECONDS - t))
  printf '%s\t%s\t%s\t%s\n' "$c" "$per" "$a" "$b" >>"$results"
done

status=0
RUSTC="$(rustc --version)" VALGRIND="$(valgrind --version)" LOW=$low HIGH=$high THRESHOLD=$threshold \
  python3 - "$mode" "$baseline" "$results" <<'EOF' || status=$?
import datetime, json, os, sys

mode, baseline, results = sys.argv[1:4]
low, high, threshold = int(os.environ["LOW"]), int(os.environ["HIGH"]), float(os.environ["THRESHOLD"])
def wasmtime_version():
    lines = open("Cargo.lock").read().split("\n")
    for i, line in enumerate(lines):
        if line == 'name = "wasmtime"':
            return lines[i + 1].split('"')[1]
    return None

current = {}
for line in open(results):
    case, per, a, b = line.split("\t")
    current[case] = {"instructions_per_iteration": int(per), f"total_{low}": int(a), f"total_{high}": int(b.strip())}

if mode == "record":
    old = {}
    if os.path.exists(baseline):
        old = json.load(open(baseline)).get("cases", {})
    cases = {**old, **current}  # recording a few cases keeps the others
    doc = {
        "what": "instructions per iteration of each case of runtime/benches/instructions.rs, counted by "
                f"callgrind inside weir_bench_measured: (count({high}) - count({low})) / {high - low}; "
                "written by scripts/bench-instructions.sh --record, checked by scripts/bench-instructions.sh",
        "recorded": datetime.date.today().isoformat(),
        "rustc": os.environ["RUSTC"],
        "valgrind": os.environ["VALGRIND"],
        "wasmtime": wasmtime_version(),
        "threshold_percent": threshold,
        "cases": {k: {"instructions_per_iteration": v["instructions_per_iteration"]} for k, v in sorted(cases.items())},
    }
    with open(baseline, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    print(f"wrote {baseline}")
    sys.exit(0)

doc = json.load(open(baseline))
old = doc["cases"]
print(f"\nagainst {baseline} (recorded {doc.get('recorded')}, {doc.get('rustc')}, {doc.get('valgrind')}, "
      f"wasmtime {doc.get('wasmtime')}); now {os.environ['RUSTC']}, {os.environ['VALGRIND']}, wasmtime {wasmtime_version()}")
print(f"{'case':<32} {'recorded':>14} {'now':>14} {'change':>9}")
failed = []
for case, v in current.items():
    new = v["instructions_per_iteration"]
    if case not in old:
        print(f"{case:<32} {'-':>14} {new:>14} {'new':>9}")
        continue
    was = old[case]["instructions_per_iteration"]
    change = (new - was) / was * 100 if was else 0.0
    mark = ""
    if change > threshold:
        failed.append(case)
        mark = f"  ROSE more than {threshold:g} %"
    print(f"{case:<32} {was:>14} {new:>14} {change:>+8.2f}%{mark}")
if failed:
    print(f"\nFAIL: {', '.join(failed)} rose more than {threshold:g} %; if intended, re-record with "
          "scripts/bench-instructions.sh --record")
    sys.exit(1)
print(f"\nOK: no case rose more than {threshold:g} %")
EOF
echo "(took $((SECONDS - started)) s)"
exit $status
