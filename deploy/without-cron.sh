#!/bin/sh
# Writes spin.toml without its `[[trigger.cron]]` block(s) to stdout, for platforms that run
# no cron trigger (SpinKube's shim, Fermyon Cloud, Akamai Functions). There the scheduler is
# driven through POST /internal/scheduler/tick instead. Usage, from the repository root:
#   deploy/without-cron.sh > spin.nocron.toml
#   spin registry push -f spin.nocron.toml ghcr.io/ORG/xmp:0.1.0     # SpinKube
#   spin deploy -f spin.nocron.toml ...                               # Fermyon Cloud
# A block ends at the next table header or blank line.
set -eu
manifest=${1:-spin.toml}
awk '
  /^\[\[trigger\.cron\]\]/ { skip = 1; next }
  /^\[/ || /^[[:space:]]*$/ { skip = 0 }
  !skip { print }
' "$manifest"
