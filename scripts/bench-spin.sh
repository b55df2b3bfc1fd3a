#!/usr/bin/env bash
# The app's responses on a real Spin against a bare spin-sdk "hello" component in the same Spin,
# same run (issue 13's aim: `/api/version` p50 <= 1 ms on one kept-alive connection, and at 16
# connections >= 0.8x the hello's throughput). Spin itself is not part of this repository: build
# it from its upstream source and pass its path.
#
#   SPIN_BIN=/path/to/spin scripts/bench-spin.sh [seconds]
#
# Needs wrk, jq, the release components (`make components`) and `target/release/xmp`
# (`make native`, for the migration). The hello is built here, into target/bench-hello.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${SPIN_BIN:?set SPIN_BIN to a spin binary}"
DUR="${1:-10}"
source scripts/bench-lib.sh

# The hello: spin-sdk's smallest HTTP component, as a new user would write it.
HELLO_DIR=target/bench-hello
mkdir -p "$HELLO_DIR/src"
cat >"$HELLO_DIR/Cargo.toml" <<'EOF'
[package]
name = "hello"
version = "0.1.0"
edition = "2021"

[lib]
crate-type = ["cdylib"]

[dependencies]
spin-sdk = "5.2"
anyhow = "1"

[profile.release]
opt-level = "s"
lto = true
strip = true

[workspace]
EOF
cat >"$HELLO_DIR/src/lib.rs" <<'EOF'
use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::http_component;

#[http_component]
fn hello(_req: Request) -> anyhow::Result<impl IntoResponse> {
    Ok(Response::builder()
        .status(200)
        .header("content-type", "text/plain")
        .body("Hello, Spin")
        .build())
}
EOF
(cd "$HELLO_DIR" && cargo build -q --target wasm32-wasip2 --release)
HELLO_WASM="$PWD/$HELLO_DIR/target/wasm32-wasip2/release/hello.wasm"

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

cat >"$WORK/hello.toml" <<EOF
spin_manifest_version = 2
[application]
name = "hello"
[[trigger.http]]
route = "/..."
component = "hello"
[component.hello]
source = "$HELLO_WASM"
EOF
# The shipping manifest without its cron trigger (no plugin needed to serve HTTP).
awk '/^\[/ { skip = ($0 == "[[trigger.cron]]") } !skip' spin.toml >"$WORK/app.toml"
sed -i "s#source = \"target/#source = \"$PWD/target/#" "$WORK/app.toml"
fresh_db xmp_bench_spin

# spin_up NAME MANIFEST PORT: starts Spin and waits until it answers.
spin_up() {
  "$SPIN_BIN" up --from "$2" --listen "127.0.0.1:$3" --state-dir "$WORK/$1-state" \
    --log-dir "" >"$WORK/$1.log" 2>&1 &
  PIDS+=("$!")
  for _ in $(seq 1 600); do
    curl -fs "http://127.0.0.1:$3/${4:-}" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "spin up $1 did not answer; its log:" >&2
  cat "$WORK/$1.log" >&2
  exit 1
}
spin_up hello "$WORK/hello.toml" 3991
spin_up app "$WORK/app.toml" 3992 api/version

echo "spin: $("$SPIN_BIN" --version)  machine: $(nproc) cores, $(uname -m)  wrk ${DUR}s"
echo
printf '| %-44s | %5s | %9s | %8s | %8s |\n' "route" "conns" "req/s" "p50" "p99"
echo "|---|---:|---:|---:|---:|"
for c in 1 16; do
  BASE="http://127.0.0.1:3991" run_wrk / "$c" "" "hello (spin-sdk, Spin 3.5)"
  BASE="http://127.0.0.1:3992" run_wrk /api/version "$c" "" "GET /api/version (system)"
  BASE="http://127.0.0.1:3992" run_wrk /api/health "$c" "" "GET /api/health (system, PostgreSQL)"
done
