#!/usr/bin/env bash
# A throwaway PostgreSQL server for the peer benchmark, on loopback only, with its own data directory.
#   server.sh start DIR PORT   initdb a fresh cluster in DIR and start it on 127.0.0.1:PORT
#   server.sh stop DIR         stop the server whose data is in DIR (the directory is left for the caller)
# Durability is PostgreSQL's default and full: fsync, synchronous_commit and full_page_writes on.
# max_wal_size is raised so that no checkpoint lands inside a short measured window (RocksDB, on
# Leasehold's side, flushes its memtable outside the commit path too); max_connections admits the
# sweep's 1,024 clients. Trust authentication is safe here: loopback only, and the server dies with
# the run.
set -euo pipefail
die() { echo "postgres/server.sh: $*" >&2; exit 1; }

pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$d" ] && [ -x "$d/pg_ctl" ] || die "no PostgreSQL server under /usr/lib/postgresql/*/bin (apt-get install postgresql)"
  echo "$d"
}

# initdb and postgres refuse to run as root: as root, run them as the postgres OS user.
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start() {
  local dir=$1 port=$2 bin
  bin=$(pg_bin)
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 ||
    { tail -n 20 "$dir/initdb.log" >&2; die "initdb failed in $dir"; }
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 1100
shared_buffers = 1GB
fsync = on
synchronous_commit = on
full_page_writes = on
max_wal_size = 8GB
checkpoint_timeout = 30min
CONF
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null 2>&1 ||
    { tail -n 20 "$dir/server.log" >&2; die "the server on 127.0.0.1:$port did not start"; }
}

stop() {
  local dir=$1
  [ -f "$dir/data/postmaster.pid" ] || return 0
  as_pg "$(pg_bin)/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
}

case ${1:-} in
  start) [ $# -eq 3 ] || die "usage: server.sh start DIR PORT"; start "$2" "$3" ;;
  stop) [ $# -eq 2 ] || die "usage: server.sh stop DIR"; stop "$2" ;;
  *) die "usage: server.sh start DIR PORT | stop DIR" ;;
esac
