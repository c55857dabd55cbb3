#!/usr/bin/env bash
# Make sure a PostGIS database is reachable for the tests and print its URL.
# Uses $DATABASE_URL when given; otherwise starts the local cluster and creates the
# database "onemap_test" with the postgis extension, owned by a role named after you.
set -euo pipefail
if [ -n "${DATABASE_URL:-}" ]; then
  echo "$DATABASE_URL"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
pgver=$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1 || true)
if [ -z "$pgver" ]; then
  echo "PostgreSQL is not installed; run scripts/install_system.sh test" >&2
  exit 1
fi
if ! pg_lsclusters -h 2>/dev/null | awk -v v="$pgver" '$1==v' | grep -q .; then
  $SUDO pg_createcluster "$pgver" main >&2
fi
cluster=$(pg_lsclusters -h | awk -v v="$pgver" '$1==v {print $2; exit}')
port=$(pg_lsclusters -h | awk -v v="$pgver" '$1==v {print $3; exit}')
if ! pg_lsclusters -h | awk -v v="$pgver" '$1==v {print $4; exit}' | grep -q online; then
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$pgver" "$cluster" start >&2
fi
me=$(id -un)
as_pg() { $SUDO -u postgres "$@" 2>/dev/null || runuser -u postgres -- "$@"; }
if [ "$(id -u)" -eq 0 ]; then as_pg() { runuser -u postgres -- "$@"; }; fi
for _ in $(seq 1 30); do
  as_pg psql -p "$port" -Atqc "SELECT 1" >/dev/null 2>&1 && break
  sleep 1
done
exists=$(as_pg psql -p "$port" -Atqc "SELECT 1 FROM pg_roles WHERE rolname = '$me'")
[ "$exists" = "1" ] || as_pg psql -p "$port" -qc "CREATE ROLE \"$me\" LOGIN SUPERUSER" >&2
exists=$(as_pg psql -p "$port" -Atqc "SELECT 1 FROM pg_database WHERE datname = 'onemap_test'")
[ "$exists" = "1" ] || as_pg psql -p "$port" -qc "CREATE DATABASE onemap_test OWNER \"$me\"" >&2
as_pg psql -p "$port" -d onemap_test -qc "CREATE EXTENSION IF NOT EXISTS postgis" >&2
echo "postgresql+psycopg:///onemap_test?host=/var/run/postgresql&port=${port}"
