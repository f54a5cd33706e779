#!/usr/bin/env bash
# Real database servers for Leasehold's tests, all on loopback only:
#   - PostgreSQL on 127.0.0.1:55432 (database "leasehold", user "leasehold", password "leasehold")
#   - a Redis Cluster of three masters (no replicas) on 127.0.0.1:7101, 7102, 7103
#
# Usage: scripts/servers.sh install|start|stop|status|env
#   install  installs the Debian packages postgresql, redis-server, redis-tools if missing
#   start    starts the servers (fresh data every time); idempotent: a healthy set is left as is
#   stop     stops them all; idempotent
#   status   one line per server, up or down; exits 0 only if all are up
#   env      prints the `export` lines the tests read: eval "$(scripts/servers.sh env)"
#
# Everything (data, configs, pidfiles, logs, sockets) lives under one state directory,
# ${LEASEHOLD_SERVERS_DIR:-/tmp/leasehold-servers}. The distro's own services (postgresql on
# 5432, redis on 6379) are never used or touched: ours run on their own ports from their own
# configs. Waits are bounded by ${LEASEHOLD_SERVERS_TIMEOUT:-30} seconds per server.
# Ports used: 55432 (postgres), 7101-7103 (redis) and 17101-17103 (redis cluster bus).
# A start from scratch takes about 3-6 s on this machine.
set -euo pipefail

STATE_DIR=${LEASEHOLD_SERVERS_DIR:-/tmp/leasehold-servers}
TIMEOUT=${LEASEHOLD_SERVERS_TIMEOUT:-30}

HOST=127.0.0.1
PG_PORT=55432
PG_DIR=$STATE_DIR/postgres
PG_DATA=$PG_DIR/data
PG_SOCK=$PG_DIR/run            # unix socket dir (used only for the superuser's bootstrap)
PG_LOG=$PG_DIR/postgres.log
PG_USER=leasehold PG_PASSWORD=leasehold PG_DB=leasehold
PG_CONN="Host=$HOST;Port=$PG_PORT;Username=$PG_USER;Password=$PG_PASSWORD;Database=$PG_DB"

REDIS_PORTS=(7101 7102 7103)
REDIS_DIR=$STATE_DIR/redis
REDIS_NODES="$HOST:7101,$HOST:7102,$HOST:7103"

log() { echo "servers.sh: $*"; }
die() { echo "servers.sh: error: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------- helpers

# The newest PostgreSQL server binaries installed by Debian's packages (initdb, pg_ctl, postgres).
pg_bin() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$d" ] && [ -x "$d/pg_ctl" ] || die "no PostgreSQL server under /usr/lib/postgresql/*/bin (run: $0 install)"
  echo "$d"
}

# Runs a command as the OS user that owns the PostgreSQL data: `postgres` when we are root
# (initdb and postgres refuse to run as root), otherwise the current user.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# True if something accepts TCP connections on 127.0.0.1:$1 (bash's /dev/tcp, no extra tools).
port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# Prints the last lines of a log file to stderr, for error messages.
log_tail() {
  if [ -f "$1" ]; then
    echo "---- last lines of $1 ----" >&2
    tail -n 25 "$1" >&2 || true
    echo "----" >&2
  else
    echo "(no log file at $1)" >&2
  fi
}

# True if pid $1 is alive and its command line contains $2 (guards against pid reuse).
pid_is() {
  local pid=$1 what=$2
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$what"
}

# Waits up to $TIMEOUT seconds for the command "$@" to succeed.
wait_for() {
  local deadline=$((SECONDS + TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# ---------------------------------------------------------------------------- health checks

# PostgreSQL is up if the test user can log in over TCP with its password and run a query.
pg_healthy() {
  PGPASSWORD=$PG_PASSWORD PGCONNECT_TIMEOUT=3 psql -X -q -At -w \
    -h "$HOST" -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB" -c 'select 1' 2>/dev/null | grep -qx 1
}

redis_ping() { [ "$(redis-cli -h "$HOST" -p "$1" ping 2>/dev/null)" = PONG ]; }

# A node is healthy if it answers and sees the whole cluster: state ok, all slots, three nodes.
redis_node_healthy() {
  local info
  info=$(redis-cli -h "$HOST" -p "$1" cluster info 2>/dev/null | tr -d '\r') || return 1
  grep -qx 'cluster_state:ok' <<<"$info" &&
    grep -qx 'cluster_slots_assigned:16384' <<<"$info" &&
    grep -qx "cluster_known_nodes:${#REDIS_PORTS[@]}" <<<"$info"
}

redis_cluster_healthy() {
  local p
  for p in "${REDIS_PORTS[@]}"; do redis_node_healthy "$p" || return 1; done
}

all_healthy() {
  command -v psql >/dev/null && command -v redis-cli >/dev/null || return 1
  pg_healthy && redis_cluster_healthy
}

# ---------------------------------------------------------------------------- install

cmd_install() {
  local pkgs=() p
  dpkg -s postgresql >/dev/null 2>&1 && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || pkgs+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || pkgs+=(redis-server)
  command -v redis-cli >/dev/null 2>&1 || pkgs+=(redis-tools)
  # strace: the durability tests watch the store engines' fsync/fdatasync calls.
  command -v strace >/dev/null 2>&1 || pkgs+=(strace)
  if [ "${#pkgs[@]}" -eq 0 ]; then
    log "install: postgresql, redis and strace already installed"
    return 0
  fi
  [ "$(id -u)" -eq 0 ] || die "install: need root to apt-get install ${pkgs[*]}"
  log "install: apt-get install ${pkgs[*]}"

  # Keep apt from auto-starting the distro's own postgresql/redis services while installing
  # (the standard Debian policy-rc.d mechanism, put in place only if none exists, removed after).
  # Even if they did start, they use ports 5432/6379, never ours.
  local policy=/usr/sbin/policy-rc.d added_policy=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# temporary, from leasehold scripts/servers.sh install\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    added_policy=1
    trap 'rm -f "'"$policy"'"' EXIT
  fi

  export DEBIAN_FRONTEND=noninteractive
  local rc=0
  {
    apt-get update -qq &&
      apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${pkgs[@]}"
  } </dev/null >"/tmp/leasehold-servers-apt.log" 2>&1 || rc=$?

  if [ -n "$added_policy" ]; then rm -f "$policy"; trap - EXIT; fi
  if [ "$rc" -ne 0 ]; then
    log_tail /tmp/leasehold-servers-apt.log
    die "install: apt-get failed (exit $rc) for ${pkgs[*]}"
  fi
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || die "install: initdb still missing after apt-get"
  for p in psql redis-server redis-cli; do
    command -v "$p" >/dev/null || die "install: $p still missing after apt-get"
  done
  log "install: done"
}

# ---------------------------------------------------------------------------- start

start_postgres() {
  local bin
  bin=$(pg_bin)
  mkdir -p "$PG_DATA" "$PG_SOCK"
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$PG_DIR"; fi
  chmod 700 "$PG_DATA" "$PG_SOCK"
  # The postgres OS user must be able to reach its directory (e.g. not under /root).
  as_pg test -w "$PG_DIR" || die "postgres: the postgres OS user cannot write $PG_DIR (pick another LEASEHOLD_SERVERS_DIR)"

  # Fresh cluster. Superuser "postgres" gets trust only on the private unix socket (dir mode 700);
  # TCP on loopback requires a scram-sha-256 password. --no-sync only skips initdb's own final
  # fsync of the template files; the server itself runs with fsync=on.
  as_pg "$bin/initdb" -D "$PG_DATA" -U postgres -E UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 --no-sync >"$PG_DIR/initdb.log" 2>&1 ||
    { log_tail "$PG_DIR/initdb.log"; die "postgres: initdb failed"; }

  cat >>"$PG_DATA/postgresql.conf" <<EOF

# ---- Leasehold test server (scripts/servers.sh) ----
listen_addresses = '$HOST'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
fsync = on
synchronous_commit = on
full_page_writes = on
password_encryption = 'scram-sha-256'
max_connections = 200
EOF

  as_pg "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$TIMEOUT" start >"$PG_DIR/pg_ctl.log" 2>&1 ||
    { cat "$PG_DIR/pg_ctl.log" >&2; log_tail "$PG_LOG"; die "postgres on $HOST:$PG_PORT did not start within ${TIMEOUT}s"; }

  # Test user and database, created by the superuser over the unix socket.
  local sql=(psql -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d postgres)
  "${sql[@]}" -c "CREATE ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASSWORD'" &&
    "${sql[@]}" -c "CREATE DATABASE $PG_DB OWNER $PG_USER" ||
    { log_tail "$PG_LOG"; die "postgres: creating user/database $PG_USER failed"; }

  wait_for pg_healthy ||
    { log_tail "$PG_LOG"; die "postgres on $HOST:$PG_PORT does not accept $PG_USER's password login within ${TIMEOUT}s"; }
  log "postgres up on $HOST:$PG_PORT (data $PG_DATA)"
}

start_redis() {
  local p d
  for p in "${REDIS_PORTS[@]}"; do
    d=$REDIS_DIR/$p
    mkdir -p "$d"
    cat >"$d/redis.conf" <<EOF
# Leasehold test cluster node (scripts/servers.sh)
port $p
bind $HOST
protected-mode no
daemonize yes
pidfile $d/redis.pid
logfile $d/redis.log
dir $d
cluster-enabled yes
cluster-config-file nodes.conf
cluster-node-timeout 5000
cluster-announce-ip $HOST
appendonly yes
appendfsync always
# no RDB snapshots: the AOF (fsynced on every write) is the persistence
save ""
EOF
    redis-server "$d/redis.conf" >"$d/start.log" 2>&1 ||
      { cat "$d/start.log" >&2; log_tail "$d/redis.log"; die "redis on $HOST:$p failed to launch"; }
  done
  for p in "${REDIS_PORTS[@]}"; do
    wait_for redis_ping "$p" ||
      { log_tail "$REDIS_DIR/$p/redis.log"; die "redis on $HOST:$p did not accept connections within ${TIMEOUT}s"; }
  done

  # Form the cluster: three masters splitting the 16384 slots, no replicas.
  local nodes=()
  for p in "${REDIS_PORTS[@]}"; do nodes+=("$HOST:$p"); done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes \
    </dev/null >"$REDIS_DIR/cluster-create.log" 2>&1 ||
    { log_tail "$REDIS_DIR/cluster-create.log"; die "redis: 'redis-cli --cluster create' failed"; }

  for p in "${REDIS_PORTS[@]}"; do
    wait_for redis_node_healthy "$p" || {
      redis-cli -h "$HOST" -p "$p" cluster info >&2 || true
      log_tail "$REDIS_DIR/$p/redis.log"
      die "redis on $HOST:$p did not reach cluster_state:ok within ${TIMEOUT}s"
    }
  done
  log "redis cluster up on $REDIS_NODES (3 masters, no replicas)"
}

cmd_start() {
  command -v psql >/dev/null && command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
    die "start: postgresql/redis not installed (run: $0 install)"

  if all_healthy; then
    log "start: already up and healthy (postgres $HOST:$PG_PORT, redis $REDIS_NODES)"
    return 0
  fi

  # Anything left from an earlier run (live but unhealthy, or dead with stale pidfiles/data)
  # is stopped and wiped: every start is from scratch.
  if [ -d "$STATE_DIR" ]; then
    # Only ever wipe a directory this script made, never an arbitrary one (a mistyped
    # LEASEHOLD_SERVERS_DIR): it may hold only our marker file and postgres/ and redis/.
    local foreign
    foreign=$(ls -A "$STATE_DIR" | grep -vxE '\.leasehold-servers|postgres|redis' || true)
    if [ -n "$foreign" ]; then
      die "start: $STATE_DIR holds files this script did not make ($(echo $foreign)); refusing to wipe it"
    fi
    log "start: cleaning previous state in $STATE_DIR"
    cmd_stop >/dev/null
    rm -rf "$STATE_DIR"
  fi

  # Our ports must be free now; if not, someone else holds them and we won't kill them.
  # (Each Redis node also uses its cluster bus port, its port + 10000.)
  local p busy=()
  for p in "$PG_PORT" "${REDIS_PORTS[@]}"; do port_open "$p" && busy+=("$p"); done
  for p in "${REDIS_PORTS[@]}"; do port_open $((p + 10000)) && busy+=($((p + 10000))); done
  if [ "${#busy[@]}" -gt 0 ]; then
    command -v ss >/dev/null && ss -ltnp 2>/dev/null | grep -E ":($(IFS='|'; echo "${busy[*]}"))\b" >&2 || true
    die "start: port(s) ${busy[*]} on $HOST are in use by a process not under $STATE_DIR; stop it first"
  fi

  mkdir -p "$STATE_DIR"
  chmod 755 "$STATE_DIR"   # the postgres OS user must traverse it
  echo "state of scripts/servers.sh; wiped by its next start" >"$STATE_DIR/.leasehold-servers"
  local t0=$SECONDS
  # If any step fails (die exits), stop whatever did start; the logs stay in $STATE_DIR.
  trap 'cmd_stop >/dev/null 2>&1 || true' EXIT
  start_postgres
  start_redis
  trap - EXIT
  log "start: all up in $((SECONDS - t0))s (state in $STATE_DIR)"
}

# ---------------------------------------------------------------------------- stop

stop_postgres() {
  [ -f "$PG_DATA/postmaster.pid" ] || return 0
  local pid bin
  pid=$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null || true)
  if pid_is "$pid" postgres; then
    bin=$(pg_bin)
    if ! as_pg "$bin/pg_ctl" -D "$PG_DATA" -m fast -w -t "$TIMEOUT" stop >/dev/null 2>&1; then
      # fast shutdown did not finish in time: immediate, then kill
      as_pg "$bin/pg_ctl" -D "$PG_DATA" -m immediate -w -t 10 stop >/dev/null 2>&1 || true
      pid_is "$pid" postgres && kill -KILL "$pid" 2>/dev/null || true
    fi
    log "postgres stopped"
  fi
  rm -f "$PG_DATA/postmaster.pid"
}

stop_redis_node() {
  local p=$1 pidfile=$REDIS_DIR/$1/redis.pid pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile" 2>/dev/null || true)
  if pid_is "$pid" redis-server; then
    redis-cli -h "$HOST" -p "$p" shutdown nosave >/dev/null 2>&1 || true
    local deadline=$((SECONDS + 10))
    while pid_is "$pid" redis-server && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    if pid_is "$pid" redis-server; then
      kill -TERM "$pid" 2>/dev/null || true; sleep 1
      pid_is "$pid" redis-server && kill -KILL "$pid" 2>/dev/null || true
    fi
    log "redis $HOST:$p stopped"
  fi
  rm -f "$pidfile"
}

cmd_stop() {
  local p
  for p in "${REDIS_PORTS[@]}"; do stop_redis_node "$p"; done
  stop_postgres
  log "stop: nothing of ours running"
}

# ---------------------------------------------------------------------------- status, env

cmd_status() {
  local ok=0 p
  if command -v psql >/dev/null && pg_healthy; then
    echo "postgres $HOST:$PG_PORT up"
  else
    echo "postgres $HOST:$PG_PORT down"; ok=1
  fi
  for p in "${REDIS_PORTS[@]}"; do
    if command -v redis-cli >/dev/null && redis_node_healthy "$p"; then
      echo "redis    $HOST:$p up (cluster_state:ok)"
    elif command -v redis-cli >/dev/null && redis_ping "$p"; then
      echo "redis    $HOST:$p down (answers, but the cluster is not ok)"; ok=1
    else
      echo "redis    $HOST:$p down"; ok=1
    fi
  done
  return "$ok"
}

cmd_env() {
  echo "export LEASEHOLD_POSTGRES=\"$PG_CONN\""
  echo "export LEASEHOLD_REDIS=\"$REDIS_NODES\""
}

case ${1:-} in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) echo "usage: $0 install|start|stop|status|env" >&2; exit 2 ;;
esac
