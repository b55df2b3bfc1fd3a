#!/bin/sh
# First start and every release on SpinKube, in order: secrets exist, migrations complete,
# then the app and its ticker. Run from a checkout of the release being deployed.
#   NAMESPACE=xmp deploy/kubernetes/apply.sh
set -eu
cd "$(dirname "$0")/../.."
ns=${NAMESPACE:-default}
k() { kubectl -n "$ns" "$@"; }

k get secret xmp-variables xmp-runtime-config >/dev/null ||
  { echo "create the secrets first (deploy/kubernetes/secret.example.yaml)" >&2; exit 1; }
k apply -f deploy/kubernetes/executor.yaml
k create configmap xmp-migrations --from-file=migrations/ --from-file=deploy/migrate.sh \
  --dry-run=client -o yaml | k apply -f -
k delete job xmp-migrate --ignore-not-found
k apply -f deploy/kubernetes/migrate-job.yaml
k wait --for=condition=complete job/xmp-migrate --timeout=15m
k apply -f deploy/kubernetes/spinapp.yaml
k apply -f deploy/kubernetes/scheduler-tick.yaml
