#!/usr/bin/env bash
# `make test`'s check of every deployment file (deploy/check.py), offline: installs the
# validator's Python packages from PyPI into a venv under target/ once, then validates.
# promtool (Debian package `prometheus`, installed by .ci/run) checks the alert rules when
# present.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/deploy-check/venv
requirements="kubernetes-validate==1.37.0 jsonschema==4.26.0 referencing==0.37.0 PyYAML==6.0.4"
stamp="$venv/.requirements"
if [[ ! -x "$venv/bin/python" || "$(cat "$stamp" 2>/dev/null)" != "$requirements" ]]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check $requirements
  echo "$requirements" >"$stamp"
fi
exec "$venv/bin/python" deploy/check.py
