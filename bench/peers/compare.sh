#!/usr/bin/env bash
# Leasehold's banking bench beside the systems a .NET developer would pick instead, back to back in one
# run on this machine, each across a sweep of client counts; then each system at its best client count
# (highest throughput) with its latency, the ratios issue 14 targets, and a throughput-latency plot.
#
# Usage: bench/peers/compare.sh [--quick] [--clients "16 64 256 1024"] [--seconds 10] [--warmup 3]
#                               [--out DIR] [--systems "leasehold redis postgres orleans"]
#                               [--leasehold-args "EXTRA BENCH FLAGS"]
#   --quick    a trial: 3 s per point after 1 s of warm-up, clients "64 1024"
#   --out      where the points (points/*.json), the logs, summary.md and throughput-latency.png go
#              (default: a new /tmp/leasehold-peers-UTCDATE directory)
# What each system runs and why the comparison is fair: docs/peers.md. A system not installed on the
# machine is reported as missing, never dropped. The servers (PostgreSQL, Redis) are throwaways on free
# loopback ports, started and stopped here; nothing else on the machine is touched.
set -uo pipefail
# All of it in one function, read whole before it runs: editing this file during a run cannot change it.
main() {
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
clients="16 64 256 1024" secs=10 warmup=3 out="" systems="leasehold redis postgres orleans" lh_extra=""
usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --quick) clients="64 1024" secs=3 warmup=1 ;;
    --clients) clients=${2:?--clients needs a list}; shift ;;
    --seconds) secs=${2:?--seconds needs a number}; shift ;;
    --warmup) warmup=${2:?--warmup needs a number}; shift ;;
    --out) out=${2:?--out needs a directory}; shift ;;
    --systems) systems=${2:?--systems needs a list}; shift ;;
    --leasehold-args) lh_extra=${2?--leasehold-args needs a value}; shift ;;
    -h|--help) usage ;;
    *) echo "compare.sh: unknown argument '$1'" >&2; usage ;;
  esac
  shift
done
for c in $clients; do [[ $c =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: --clients: '$c' is not a positive whole number" >&2; exit 2; }; done
[[ $secs =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: --seconds: '$secs' is not a positive whole number" >&2; exit 2; }
[[ $warmup =~ ^[0-9]+$ ]] || { echo "compare.sh: --warmup: '$warmup' is not a whole number" >&2; exit 2; }
for s in $systems; do case $s in leasehold|redis|postgres|orleans) ;; *) echo "compare.sh: --systems: unknown system '$s'" >&2; exit 2 ;; esac; done
out=${out:-/tmp/leasehold-peers-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$out/points" "$out/logs" || exit 1
out=$(cd "$out" && pwd)
# Each point gets its whole budget plus start-up and the invariant check, then it is stopped as failed.
limit=$((secs + warmup + 180))

wants() { [[ " $systems " == *" $1 "* ]]; }
log() { echo "compare.sh: $*" >&2; }
json_text() { printf '%s' "$1" | tr -d '"\\' | tr '\n\t' '  '; }

# point NAME SYSTEM SETTING LABEL CLIENTS (RESULT_FILE | --missing REASON): one point file.
point() {
  local name=$1 system=$2 setting=$3 label=$4 c=$5 f="$out/points/$1.json"
  printf '{"system": "%s", "setting": "%s", "label": "%s", "clients": %s, ' "$system" "$setting" "$(json_text "$label")" "$c" >"$f"
  if [ "$6" = --missing ]; then
    printf '"missing": "%s"}\n' "$(json_text "$7")" >>"$f"
    log "$name: missing ($7)"
  else
    printf '"result": ' >>"$f"; cat "$6" >>"$f"; printf '}\n' >>"$f"
    log "$name: $(grep -o '"throughput_tps": *[0-9.]*' "$6" | head -n 1)"
  fi
}

# run_point NAME SYSTEM SETTING LABEL CLIENTS COMMAND...: runs one measurement whose JSON result lands in
# $out/logs/NAME.json (the command gets that path as $RESULT). A run that wrote its result is a point even
# when it exited non-zero (a broken invariant: the table shows it); one that wrote none is missing, with why.
run_point() {
  local name=$1 system=$2 setting=$3 label=$4 c=$5; shift 5
  local result="$out/logs/$name.json" logf="$out/logs/$name.log"
  RESULT=$result timeout "$limit" "$@" >"$logf" 2>&1
  local rc=$?
  if [ -s "$result" ]; then point "$name" "$system" "$setting" "$label" "$c" "$result"
  else point "$name" "$system" "$setting" "$label" "$c" --missing "run failed (exit $rc$([ $rc -eq 124 ] && echo ', timed out')), see logs/$name.log"; fi
}

# mark_missing SYSTEM SETTING LABEL REASON: one missing point per client count, so the table names it.
mark_missing() { local c; for c in $clients; do point "$1-$2-c$c" "$1" "$2" "$3" "$c" --missing "$4"; done; }

# A free TCP port on loopback at or above $1; callers start below the ephemeral range (32768+), where a
# client socket of this very run may hold the port we probed as free.
free_port() { local p=$1; while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done; echo "$p"; }

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
{ echo "commit $commit, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "clients: $clients; $secs s per point after $warmup s of warm-up; systems: $systems; leasehold extra flags: ${lh_extra:-none}"; } >"$out/run.txt"
log "$(head -n 1 "$out/run.txt"); results in $out"

# ---------------------------------------------------------------- Leasehold, as shipped: ./leasehold
if wants leasehold; then
  lh_settings=("memory 0 memory-theta0" "memory 0.99 memory-theta0.99" "rocksdb 0.99 rocksdb-theta0.99" "rocksdb 0 rocksdb-theta0")
  if (cd "$root" && dotnet build -c Release src/Leasehold.Cli >"$out/logs/leasehold-build.log" 2>&1); then
    for s in "${lh_settings[@]}"; do
      set -- $s; store=$1 theta=$2 setting=$3
      label="Leasehold, $([ "$store" = memory ] && echo memory || echo 'RocksDB (durable)'), θ $theta"
      for c in $clients; do
        # shellcheck disable=SC2086  # the extra flags are a word list by design
        run_point "leasehold-$setting-c$c" leasehold "$setting" "$label" "$c" bash -c \
          'cd "$1" && shift && ./leasehold bench "$@" --json "$RESULT"' _ "$root" \
          --workload banking --store "$store" --theta "$theta" --clients "$c" --duration "$secs" --warmup "$warmup" --quiet $lh_extra
      done
    done
    # The latency target: open loop at half the durable default's throughput at the README's 64 clients
    # (its best over the sweep when 64 was not in it), p99 to stay under 10 ms.
    peak_from=$(ls "$out"/logs/leasehold-rocksdb-theta0.99-c64.json 2>/dev/null || ls "$out"/logs/leasehold-rocksdb-theta0.99-c*.json 2>/dev/null)
    rate=$(cat $peak_from /dev/null | grep -o '"throughput_tps": *[0-9.]*' | awk -F: '$2 > m { m = $2 } END { printf "%d", m / 2 }')
    if [ "${rate:-0}" -gt 0 ]; then
      # shellcheck disable=SC2086
      run_point "leasehold-rocksdb-theta0.99-half-peak" leasehold rocksdb-theta0.99-half-peak "Leasehold, RocksDB (durable), θ 0.99, open loop at half of peak" 0 \
        bash -c 'cd "$1" && shift && ./leasehold bench "$@" --json "$RESULT"' _ "$root" \
        --workload banking --store rocksdb --theta 0.99 --rate "$rate" --duration "$secs" --warmup "$warmup" --quiet $lh_extra
    else
      point leasehold-rocksdb-theta0.99-half-peak leasehold rocksdb-theta0.99-half-peak "Leasehold, RocksDB (durable), θ 0.99, open loop at half of peak" 0 \
        --missing "no closed-loop RocksDB θ 0.99 throughput to take half of"
    fi
  else
    for s in "${lh_settings[@]}"; do set -- $s; mark_missing leasehold "$3" "Leasehold, $1, θ $2" "build failed, see logs/leasehold-build.log"; done
  fi
fi

# ---------------------------------------------------------------- Redis: bank.lua under redis-benchmark
if wants redis; then
  for mode in none always; do
    setting=$mode
    label="Redis $(redis-server --version 2>/dev/null | grep -o 'v=[0-9.]*' | cut -c3-) Lua, $([ $mode = none ] && echo 'no persistence' || echo 'AOF fsync always'), uniform"
    if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null || ! command -v redis-cli >/dev/null; then
      mark_missing redis-lua "$setting" "Redis Lua, $mode" "redis-server, redis-benchmark or redis-cli not installed (scripts/servers.sh install)"
      continue
    fi
    for c in $clients; do
      port=$(free_port 26400)
      run_point "redis-lua-$setting-c$c" redis-lua "$setting" "$label" "$c" bash -c \
        '"$1/redis/run.sh" "$2" "$3" "$4" "$5" "$6" >"$RESULT"' _ "$here" "$port" "$c" "$secs" "$warmup" "$mode"
    done
  done
fi

# ---------------------------------------------------------------- PostgreSQL: transfer() under pgbench
if wants postgres; then
  setting=sync-zipf
  if ! command -v pgbench >/dev/null || ! command -v psql >/dev/null || ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
    mark_missing postgresql "$setting" "PostgreSQL, synchronous_commit on" "pgbench, psql or the server not installed (scripts/servers.sh install)"
  else
    pgdir=$(mktemp -d /tmp/leasehold-peers-pg.XXXXXX); port=$(free_port 25440)
    # An interrupted run must not leave its server behind.
    trap '"$here/postgres/server.sh" stop "$pgdir" >/dev/null 2>&1; rm -rf "$pgdir"' EXIT
    if "$here/postgres/server.sh" start "$pgdir" "$port" >"$out/logs/postgres-server.log" 2>&1; then
      label="PostgreSQL $(psql -X -t -A -h 127.0.0.1 -p "$port" -U postgres -d postgres -c 'SHOW server_version' | cut -d' ' -f1) plpgsql, synchronous_commit on, Zipf 1.001"
      for c in $clients; do
        run_point "postgresql-$setting-c$c" postgresql "$setting" "$label" "$c" bash -c \
          '"$1/postgres/run.sh" "$2" "$3" "$4" "$5" 0.99 >"$RESULT"' _ "$here" "$port" "$c" "$secs" "$warmup"
      done
    else
      mark_missing postgresql "$setting" "PostgreSQL, synchronous_commit on" "the throwaway server did not start, see logs/postgres-server.log"
    fi
    "$here/postgres/server.sh" stop "$pgdir" >/dev/null 2>&1
    rm -rf "$pgdir"
    trap - EXIT
  fi
fi

# ---------------------------------------------------------------- Orleans transactions (own project)
if wants orleans; then
  setting=memory-theta0.99 label="Orleans 10.4 transactions, memory storage, θ 0.99"
  if (cd "$here/orleans" && dotnet build -c Release >"$out/logs/orleans-build.log" 2>&1); then
    for c in $clients; do
      run_point "orleans-$setting-c$c" orleans "$setting" "$label" "$c" bash -c '"$1" "${@:2}" --json "$RESULT"' _ \
        "$here/orleans/bin/Release/net10.0/orleans-bank" --theta 0.99 --concurrency "$c" --duration "$secs" --warmup "$warmup"
    done
  else
    mark_missing orleans "$setting" "$label" "build failed, see logs/orleans-build.log"
  fi
fi

echo "load at the end $(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/run.txt"

# ---------------------------------------------------------------- the table and the plot
if (cd "$here/plot" && dotnet build -c Release >"$out/logs/plot-build.log" 2>&1); then
  "$here/plot/bin/Release/net10.0/peers-plot" "$out" --title "Banking on $(nproc) cores, commit $commit, $(date -u +%Y-%m-%d)"
else
  log "the plot program did not build (see $out/logs/plot-build.log); the points are in $out/points"
  exit 1
fi
}
main "$@"
