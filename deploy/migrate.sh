#!/bin/sh
# Applies migrations/NNNN_name.sql with nothing but `psql`, exactly as `xmp migrate` does, so
# that an operator who has only images and kubectl (SpinKube) can migrate from a stock
# `postgres` image. The two are interchangeable: the same table (`schema_migrations`), the same
# version, name and SHA-256 checksum per file, the same advisory lock, each file in its own
# transaction, and an applied file whose content changed is refused.
#
#   DATABASE_URL=postgres://user:pass@host:5432/xmp deploy/migrate.sh [migrations-dir]
#
# POSIX sh (runs in Debian and Alpine `postgres` images); needs psql and sha256sum.
set -eu

dir=${1:-migrations}
: "${DATABASE_URL:?set DATABASE_URL to the PostgreSQL address}"
# crates/host/src/migrate.rs LOCK_ID, 0x786d_705f_6d69_6772 ("xmp_migr").
lock_id=8677715612172642162

[ -d "$dir" ] || { echo "error: $dir is not a directory" >&2; exit 1; }

script=$(mktemp)
trap 'rm -f "$script"' EXIT INT TERM

# One psql session for the whole run, so that the advisory lock covers every file.
cat >"$script" <<EOF
\\set ON_ERROR_STOP 1
SET client_min_messages = warning;
SELECT pg_advisory_lock($lock_id);
CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now());
\\set applied 0
\\set already 0
EOF

versions=""
# NNNN_ names sort by number; `sort -n` on the prefix also orders unpadded ones as xmp does.
for path in $(ls "$dir" | grep '\.sql$' | sort -t_ -k1,1n); do
  file=$(basename "$path")
  stem=${file%.sql}
  num=${stem%%_*}
  name=${stem#*_}
  if [ "$num" = "$stem" ] || [ -z "$name" ]; then
    echo "error: migration file $file must be named NNNN_name.sql" >&2; exit 1
  fi
  case "$num" in
    ''|*[!0-9]*) echo "error: migration file $file must start with a number" >&2; exit 1 ;;
  esac
  version=$(expr "$num" + 0)
  case " $versions " in
    *" $version "*) echo "error: two migrations share version $version" >&2; exit 1 ;;
  esac
  versions="$versions $version"
  case "$name" in
    *"'"*|*'\'*) echo "error: migration name $name must not contain quotes" >&2; exit 1 ;;
  esac
  checksum=$(sha256sum "$dir/$file" | cut -d' ' -f1)
  label=$(printf '%04d_%s' "$version" "$name")
  cat >>"$script" <<EOF
SELECT count(*) = 0 AS pending, coalesce(bool_or(checksum <> '$checksum'), false) AS changed
  FROM schema_migrations WHERE version = $version \\gset
\\if :changed
DO \$xmp\$ BEGIN RAISE EXCEPTION 'migration $label was changed after it was applied; write a new migration instead of editing an applied one'; END \$xmp\$;
\\elif :pending
BEGIN;
\\i '$dir/$file'
INSERT INTO schema_migrations (version, name, checksum) VALUES ($version, '$name', '$checksum');
COMMIT;
\\echo applied $label
SELECT :applied + 1 AS applied \\gset
\\else
SELECT :already + 1 AS already \\gset
\\endif
EOF
done

cat >>"$script" <<EOF
SELECT pg_advisory_unlock($lock_id) \\gset
\\echo :applied applied, :already already up to date
EOF

exec_status=0
psql "$DATABASE_URL" -X -q -t -A -o /dev/null -f "$script" || exec_status=$?
if [ "$exec_status" -ne 0 ]; then
  echo "error: migration failed (psql exit $exec_status); the failing file was rolled back" >&2
  exit 1
fi
