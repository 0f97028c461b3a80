#!/usr/bin/env bash
# Print the harness's performance figures: suite compile/load/instantiate times (the built-in
# Rust suites, and the Python and JavaScript suites when their toolchains are installed by
# scripts/install-test-deps.sh), overhead per case, added latency per OCPP message, load ramp
# rate and stations per GiB.
# Usage: scripts/bench.sh [--release] [STATIONS]   (default: the dev profile, 9000 stations)
set -euo pipefail
cd "$(dirname "$0")/.."
profile=()
if [[ "${1:-}" == "--release" ]]; then profile=(--release); shift; fi
stations="${1:-9000}"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
extra=()
mkdir -p target/bench-suites
if [ -x target/guest-tools/py/bin/componentize-py ]; then
  (cd testcases/python && ../../target/guest-tools/py/bin/componentize-py -d ../../wit -w test-suite componentize app -o ../../target/bench-suites/python.wasm >/dev/null)
  extra+=(--suite target/bench-suites/python.wasm)
fi
if [ -d testcases/js/node_modules/@bytecodealliance/componentize-js ]; then
  node testcases/js/build.mjs target/bench-suites/javascript.wasm >/dev/null
  extra+=(--suite target/bench-suites/javascript.wasm)
fi
exec cargo run -q "${profile[@]}" -- bench --stations "$stations" "${extra[@]}"
