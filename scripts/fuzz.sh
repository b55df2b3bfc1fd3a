#!/usr/bin/env bash
# Coverage-guided fuzzing of the parsers (fuzz/, cargo-fuzz + libFuzzer), each target for N
# minutes under `nice`, one after the other; prints per target: executions, crashes found.
# The toolchain is stable: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its nightly-only flags.
# Usage: scripts/fuzz.sh [minutes-per-target] [target ...]   (needs `cargo install cargo-fuzz`)
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
MINUTES="${1:-3}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(http_query_router post_request_json bulk_csv_json multipart media_sniff post_text)
export RUSTC_BOOTSTRAP=1
# Safe Rust: no AddressSanitizer needed; coverage instrumentation only.
FLAGS=(--sanitizer none --release)
for t in "${TARGETS[@]}"; do nice -n 10 cargo fuzz build "${FLAGS[@]}" "$t"; done
SECS=$((MINUTES * 60))
for t in "${TARGETS[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  # Valid inputs to start from (kept in git); libFuzzer mutates from there.
  [ -d "seeds/$t" ] && cp -n seeds/"$t"/* "corpus/$t/" 2>/dev/null || true
  log="artifacts/$t/run.log"
  # -timeout: an input running over 10 s is a hang; -rss_limit_mb: 2 GB is a leak.
  set +e
  nice -n 10 cargo fuzz run "${FLAGS[@]}" "$t" "corpus/$t" -- \
    -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="artifacts/$t/" > "$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
  crashes=$(find "artifacts/$t" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) | wc -l)
  echo "$t: ${MINUTES} min, executions ${execs:-?}, exit $rc, crashes/hangs/ooms saved: $crashes"
done
