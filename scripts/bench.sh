#!/usr/bin/env bash
# Print the harness's performance figures: suite compile/load times, overhead per case,
# added latency per OCPP message, load ramp rate and stations per GiB.
# Usage: scripts/bench.sh [--release] [STATIONS]   (default: the dev profile, 9000 stations)
set -euo pipefail
cd "$(dirname "$0")/.."
profile=()
if [[ "${1:-}" == "--release" ]]; then profile=(--release); shift; fi
stations="${1:-9000}"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec cargo run -q "${profile[@]}" -- bench --stations "$stations"
