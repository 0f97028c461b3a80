#!/usr/bin/env bash
# Fuzz the OCPP-J frame parser and schema validation for a bounded time (default 60 s).
# Usage: scripts/fuzz.sh [SECONDS] [SEED]. A crash is saved under target/tmp/fuzz-crashes/.
set -euo pipefail
cd "$(dirname "$0")/.."
export OCPP_FUZZ_SECONDS="${1:-60}"
export OCPP_FUZZ_SEED="${2:-$RANDOM$RANDOM}"
exec cargo test -p ocpp-harness --test fuzz -- --nocapture mutated_frames_never_panic
