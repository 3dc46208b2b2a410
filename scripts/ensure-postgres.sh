#!/usr/bin/env bash
# Make sure a PostgreSQL server answers on 127.0.0.1:5432 (trust auth, database `test`),
# as the test suite's PostgreSQL runs need: start the local cluster if it is stopped, and
# install Debian's postgresql package first if the machine has none.
set -euo pipefail
HOST=127.0.0.1 PORT=${XIETONG_PG_PORT:-5432}
ready() { pg_isready -q -h "$HOST" -p "$PORT" 2>/dev/null; }
if ! { command -v pg_isready >/dev/null && ready; }; then
  if ! command -v pg_ctlcluster >/dev/null; then
    echo "PostgreSQL is not installed: installing Debian's postgresql package" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
  for _ in $(seq 1 60); do ready && break; sleep 0.5; done
  ready || { echo "error: PostgreSQL does not answer on $HOST:$PORT" >&2; exit 1; }
fi
version=$(ls /etc/postgresql | sort -V | tail -1)
# Trust auth for local TCP connections and a `test` database, as the tests expect.
if ! psql -h "$HOST" -p "$PORT" -U postgres -d postgres -tAc "select 1" >/dev/null 2>&1; then
  hba=/etc/postgresql/$version/main/pg_hba.conf
  sed -i 's/^\(host\s\+all\s\+all\s\+127.0.0.1\/32\s\+\)\S\+/\1trust/' "$hba"
  pg_ctlcluster --skip-systemctl-redirect "$version" main reload
fi
# The suite's two workers each hold pools and fresh databases: more than the default 100.
if [ "$(psql -h "$HOST" -p "$PORT" -U postgres -d postgres -tAc "show max_connections")" -lt 300 ]; then
  psql -h "$HOST" -p "$PORT" -U postgres -d postgres -qc "alter system set max_connections = 300"
  pg_ctlcluster --skip-systemctl-redirect "$version" main restart
  for _ in $(seq 1 60); do ready && break; sleep 0.5; done
  ready || { echo "error: PostgreSQL does not answer on $HOST:$PORT after its restart" >&2; exit 1; }
fi
psql -h "$HOST" -p "$PORT" -U postgres -d postgres -tAc "select 1 from pg_database where datname='test'" | grep -q 1 \
  || psql -h "$HOST" -p "$PORT" -U postgres -d postgres -qc "create database test"
