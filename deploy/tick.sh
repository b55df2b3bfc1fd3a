#!/bin/sh
# Drives the scheduler where no cron trigger runs (Fermyon Cloud, Akamai Functions, Spin
# without the trigger-cron plugin): POST /internal/scheduler/tick every 10 seconds with the
# bearer `scheduler_secret`. Each call runs in the foreground (a tick stops claiming after 8 s)
# and the loop sleeps what is left of the 10 s. Ticks may overlap freely, so running this on
# two machines for availability is safe.
#   XMP_URL=https://xmp.example.com SCHEDULER_SECRET=... deploy/tick.sh
set -eu
: "${XMP_URL:?set XMP_URL to the app origin, e.g. https://xmp.example.com}"
: "${SCHEDULER_SECRET:?set SCHEDULER_SECRET to the app variable scheduler_secret}"
interval=${TICK_INTERVAL_SECONDS:-10}
while true; do
  start=$(date +%s)
  curl -sS --max-time 30 -X POST -H "Authorization: Bearer ${SCHEDULER_SECRET}" \
    -o /dev/null -w "tick %{http_code} %{time_total}s\n" "${XMP_URL%/}/internal/scheduler/tick" ||
    echo "tick failed to connect" >&2
  left=$((interval - ($(date +%s) - start)))
  if [ "$left" -gt 0 ]; then sleep "$left"; fi
done
