#!/usr/bin/env bash
# One measured point of banking on Redis: each request is bank.lua (a transfer or a deposit, 50/50, as
# one atomic script) sent by redis-benchmark, keys uniform over 100,000 accounts (redis-benchmark has no
# Zipf: compare with Leasehold at theta 0). Starts its own redis-server on 127.0.0.1:PORT with fresh data,
# and stops it after. Prints one JSON object on stdout:
#   {"throughput_tps", "latency_ms": {"p50", "p99"}, "requests", "invariant": {"ok", "detail"}}
# Usage: run.sh PORT CLIENTS SECONDS WARMUP_SECONDS none|always
#   none    no persistence (no RDB snapshots, no AOF): Redis as a cache
#   always  AOF with appendfsync always: every write is fsynced before the reply, Redis's durable setting
set -euo pipefail
[ $# -eq 5 ] || { echo "usage: run.sh PORT CLIENTS SECONDS WARMUP_SECONDS none|always" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
port=$1 clients=$2 secs=$3 warmup=$4 mode=$5
accounts=100000 initial=1000000
case $mode in
  none) persistence=(--appendonly no) ;;
  always) persistence=(--appendonly yes --appendfsync always) ;;
  *) echo "redis/run.sh: persistence '$mode' is neither none nor always" >&2; exit 2 ;;
esac
dir=$(mktemp -d)
cli() { redis-cli -h 127.0.0.1 -p "$port" "$@"; }
cleanup() { cli shutdown nosave >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT
redis-server --port "$port" --bind 127.0.0.1 --save '' "${persistence[@]}" --maxclients 4096 \
  --daemonize yes --dir "$dir" --logfile "$dir/redis.log" --pidfile "$dir/redis.pid" >/dev/null
for _ in $(seq 100); do [ "$(cli ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done
[ "$(cli ping 2>/dev/null)" = PONG ] || { tail -n 20 "$dir/redis.log" >&2; echo "redis/run.sh: no server on port $port" >&2; exit 1; }
cli EVAL "$(cat "$here/load.lua")" 1 bank:deposits "$accounts" "$initial" >/dev/null
sha=$(cli SCRIPT LOAD "$(cat "$here/bank.lua")")
# redis-benchmark runs a number of requests, not a time: a warm-up run measures the rate, and the
# measured run asks for SECONDS of it. Every __rand_int__ is drawn anew, uniform in [0, accounts).
bench() { redis-benchmark -h 127.0.0.1 -p "$port" -c "$clients" -n "$1" -r "$accounts" --csv \
            EVALSHA "$sha" 3 acct:__rand_int__ acct:__rand_int__ bank:deposits __rand_int__; }
# The CSV row: "test","rps","avg","min","p50","p95","p99","max" (milliseconds).
field() { tail -n 1 | tr -d '"' | awk -F, -v f="$1" '{ print $f }'; }
probe=$(bench $((20000 + 20 * clients)) | field 2)
n=$(awk -v r="$probe" -v s="$warmup" -v c="$clients" 'BEGIN { n = int(r * s); print (n < 10 * c ? 10 * c : n) }')
[ "$n" -gt 0 ] && bench "$n" >/dev/null
n=$(awk -v r="$probe" -v s="$secs" -v c="$clients" 'BEGIN { n = int(r * s); print (n < 10 * c ? 10 * c : n) }')
row=$(bench "$n" | tail -n 1)
rps=$(field 2 <<<"$row") p50=$(field 5 <<<"$row") p99=$(field 7 <<<"$row")
[ -n "$rps" ] || { echo "redis/run.sh: redis-benchmark printed no result" >&2; exit 1; }
mapfile -t c < <(cli EVAL "$(cat "$here/check.lua")" 1 bank:deposits "$accounts" "$initial")
ok=false; [ "${c[0]}" = 1 ] && ok=true
detail="total ${c[1]}, expected ${c[2]}, negative ${c[3]}"
printf '{"throughput_tps": %s, "latency_ms": {"p50": %s, "p99": %s}, "requests": %s, "persistence": "%s", "invariant": {"ok": %s, "detail": "%s"}}\n' \
  "$rps" "$p50" "$p99" "$n" "$mode" "$ok" "$detail"
