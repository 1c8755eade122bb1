#!/bin/bash
# Entrypoint of the LOCAL STAND-IN postgres image (scripts/docker-local-bases.sh),
# written here, not copied: it implements the part of the official image's
# entrypoint that examples/deploy-guarded uses.
#   - started as root: create and own $PGDATA, then re-run as postgres (999);
#   - first start (empty $PGDATA): initdb with POSTGRES_USER and the password
#     from POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE, scram-sha-256 for
#     every TCP client, listen on all addresses, create POSTGRES_DB;
#   - then exec postgres with the given arguments.
set -Eeuo pipefail
if [ "${1:0:1}" = '-' ]; then set -- postgres "$@"; fi
if [ "$1" != postgres ]; then exec "$@"; fi

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec gosu postgres "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
    [ -z "${POSTGRES_PASSWORD:-}" ] || { echo "set POSTGRES_PASSWORD or POSTGRES_PASSWORD_FILE, not both" >&2; exit 1; }
    POSTGRES_PASSWORD=$(< "$POSTGRES_PASSWORD_FILE")
  fi
  [ -n "${POSTGRES_PASSWORD:-}" ] || { echo "no POSTGRES_PASSWORD(_FILE): refusing to start without a password" >&2; exit 1; }
  user=${POSTGRES_USER:-postgres}
  db=${POSTGRES_DB:-$user}
  initdb --username="$user" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
    --auth-local=trust --auth-host=scram-sha-256 -D "$PGDATA" >/dev/null
  printf "listen_addresses = '*'\n" >> "$PGDATA/postgresql.conf"
  printf 'host all all all scram-sha-256\n' >> "$PGDATA/pg_hba.conf"
  if [ "$db" != postgres ]; then
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w start >/dev/null
    psql -v ON_ERROR_STOP=1 --username "$user" --dbname postgres -q \
      -c "CREATE DATABASE \"$db\"" >/dev/null
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  fi
  unset POSTGRES_PASSWORD
  echo "stand-in entrypoint: initialised $PGDATA (user $user, database $db)"
fi
exec "$@"
