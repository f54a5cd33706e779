#!/usr/bin/env bash
# One measured point of banking on PostgreSQL under pgbench: 50% transfers (the stored function), 50%
# deposits, amounts 1..100, over a freshly loaded table. Prints one JSON object on stdout:
#   {"throughput_tps", "latency_ms": {"p50", "p99"}, "invariant": {"ok", "detail"}, "committed", "failed", "theta"}
# Usage: run.sh PORT CLIENTS SECONDS WARMUP_SECONDS THETA
# THETA 0 is uniform; pgbench's random_zipfian accepts only theta >= 1.001, so 0 < THETA < 1.001 runs
# at 1.001 (slightly more skewed than asked) and the JSON says so.
set -euo pipefail
[ $# -eq 5 ] || { echo "usage: run.sh PORT CLIENTS SECONDS WARMUP_SECONDS THETA" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
port=$1 clients=$2 secs=$3 warmup=$4 theta=$5
theta=$(awk -v t="$theta" 'BEGIN { print (t == 0 ? 0 : (t < 1.001 ? 1.001 : t)) }')
P=(-h 127.0.0.1 -p "$port" -U postgres -d postgres)
psql -X -q -v ON_ERROR_STOP=1 "${P[@]}" -f "$here/schema.sql" >/dev/null
threads=$((clients < 2 ? clients : 2))
bench=(pgbench "${P[@]}" -n -c "$clients" -j "$threads" -D theta="$theta" --max-tries=10
       -f "$here/transfer.pgb@1" -f "$here/deposit.pgb@1")
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
if awk -v w="$warmup" 'BEGIN { exit !(w > 0) }'; then "${bench[@]}" -T "$warmup" >"$logs/warmup.txt" 2>&1; fi
# -l logs every transaction (client, number, latency in µs or "failed", ...): the percentiles come from it.
(cd "$logs" && "${bench[@]}" -T "$secs" -l >out.txt 2>&1) || { cat "$logs/out.txt" >&2; exit 1; }
tps=$(awk '/^tps = / { print $3; exit }' "$logs/out.txt")
[ -n "$tps" ] || { cat "$logs/out.txt" >&2; echo "postgres/run.sh: pgbench printed no tps" >&2; exit 1; }
failed=$(cat "$logs"/pgbench_log.* | awk '$3 == "failed"' | wc -l)
cat "$logs"/pgbench_log.* | awk '$3 ~ /^[0-9]+$/ { print $3 }' | sort -n >"$logs/lat"
read -r n p50 p99 < <(awk '{ v[NR] = $1 } END {
  if (NR == 0) { print 0, 0, 0; exit }
  i50 = int(0.50 * NR); i99 = int(0.99 * NR); if (i50 >= NR) i50 = NR - 1; if (i99 >= NR) i99 = NR - 1
  printf "%d %.3f %.3f\n", NR, v[i50 + 1] / 1000, v[i99 + 1] / 1000 }' "$logs/lat")
check=$(psql -X -q -t -A "${P[@]}" -f "$here/check.sql")
ok=false; [ "${check%%:*}" = ok ] && ok=true
printf '{"throughput_tps": %s, "latency_ms": {"p50": %s, "p99": %s}, "committed": %s, "failed": %s, "theta": %s, "invariant": {"ok": %s, "detail": "%s"}}\n' \
  "$tps" "$p50" "$p99" "$n" "$failed" "$theta" "$ok" "$check"
