#!/usr/bin/env bash
# find_or_start_postgres: prints a database URL for the app's `xmp` database.
# DATABASE_URL wins; else PostgreSQL on 127.0.0.1:5432; else a throwaway cluster on port 5433
# when PostgreSQL's binaries are installed; else it explains what to do and fails.

pg_reachable() { # host port
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

find_or_start_postgres() {
  mkdir -p .spin
  if [ -n "${DATABASE_URL:-}" ]; then
    echo "$DATABASE_URL"
    return
  fi
  if pg_reachable 127.0.0.1 5432; then
    psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='xmp'" 2>/dev/null | grep -q 1 \
      || psql -h 127.0.0.1 -p 5432 -U postgres -d postgres -qc "CREATE DATABASE xmp" >&2 \
      || { echo "xmp: could not create database xmp on 127.0.0.1:5432; set DATABASE_URL" >&2; return 1; }
    echo "postgres://postgres@127.0.0.1:5432/xmp?sslmode=disable"
    return
  fi
  local bin
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  if [ -n "$bin" ] && [ -x "$bin/initdb" ]; then
    local dir=/tmp/xmp-pg-5433 run=()
    if [ "$(id -u)" = 0 ]; then run=(runuser -u postgres --); fi
    if ! pg_reachable 127.0.0.1 5433; then
      echo "xmp: no PostgreSQL on 127.0.0.1:5432; starting a throwaway cluster in $dir on port 5433" >&2
      if [ ! -f "$dir/PG_VERSION" ]; then
        mkdir -p "$dir" && { [ -z "${run[*]}" ] || chown postgres "$dir"; }
        "${run[@]}" "$bin/initdb" -D "$dir" -U postgres --auth=trust >/dev/null
      fi
      "${run[@]}" "$bin/pg_ctl" -D "$dir" -o "-p 5433 -k /tmp -c listen_addresses=127.0.0.1" -l "$dir/log" -w start >/dev/null
    fi
    psql -h 127.0.0.1 -p 5433 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='xmp'" | grep -q 1 \
      || psql -h 127.0.0.1 -p 5433 -U postgres -d postgres -qc "CREATE DATABASE xmp" >&2
    echo "postgres://postgres@127.0.0.1:5433/xmp?sslmode=disable"
    return
  fi
  cat >&2 <<'MSG'
xmp: no PostgreSQL found.
  Either point at one:   DATABASE_URL=postgres://user:pass@host:5432/xmp make run
  or install it locally: sudo apt-get install -y postgresql && sudo service postgresql start
MSG
  return 1
}
