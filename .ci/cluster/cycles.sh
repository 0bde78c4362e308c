#!/usr/bin/env bash
# Start/stop cycles of both cluster scripts from a clean state, for the figures in README.md:
# each cycle starts each script twice (the second start must be a no-op), records its start
# time and memory, runs smoke.py, stops twice (the second stop must be a no-op) and checks that
# no process of the clusters and none of their ports is left.
#
#   cycles.sh [N]     N cycles (default 3); PYTHON names an interpreter with SQLAlchemy,
#                     PyMySQL and psycopg (default python3)
set -euo pipefail
cd "$(dirname "$0")"
cycles=${1:-3}
py=${PYTHON:-python3}
ports="3307 3308 3309 4567 4568 4577 4578 4587 4588 4444 4454 4464 5433 5434"

leftovers() {
  local p
  for p in $ports; do if ss -Htln "sport = :$p" | grep -q .; then echo "port $p"; fi; done
  pgrep -u mysql,postgres -f -a 'statusguard-(galera|pg-standby)' || true
}
fail() { echo "cycles: FAILED: $*" >&2; exit 1; }
kb() { awk '/^(Rss|Pss):/ { v[$1] += $2 } END { printf "%d %d", v["Rss:"], v["Pss:"] }' "$@"; }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }

g_start=() p_start=() g_stop=() p_stop=()
for i in $(seq "$cycles"); do
  [ -z "$(leftovers)" ] || fail "not clean before cycle $i: $(leftovers | xargs)"
  t=$EPOCHREALTIME; line=$(./galera.sh start); g_start+=("$(awk -v a="$t" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')")
  echo "cycle $i: $line"
  [[ "$(./galera.sh start)" == *"already running"* ]] || fail "second galera start was not a no-op"
  t=$EPOCHREALTIME; line=$(./pg-standby.sh start); p_start+=("$(awk -v a="$t" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')")
  echo "cycle $i: $line"
  [[ "$(./pg-standby.sh start)" == *"already running"* ]] || fail "second pg-standby start was not a no-op"

  for n in 1 2 3; do
    pid=$(./galera.sh pid "$n")
    echo "cycle $i: galera node $n RSS/PSS kB: $(kb "/proc/$pid/smaps_rollup")"
  done
  for role in primary standby; do
    pid=$(./pg-standby.sh pid "$role")
    kids=$(ps -o pid= --ppid "$pid" | xargs)
    files=("/proc/$pid/smaps_rollup"); for k in $kids; do files+=("/proc/$k/smaps_rollup"); done
    echo "cycle $i: pg $role, postmaster + $(echo "$kids" | wc -w) children, summed RSS/PSS kB: $(kb "${files[@]}")"
  done
  eval "$(./galera.sh env)"; eval "$(./pg-standby.sh env)"
  "$py" smoke.py --require galera --require pg | sed "s/^/cycle $i: /"

  t=$EPOCHREALTIME; ./galera.sh stop >/dev/null; g_stop+=("$(awk -v a="$t" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')")
  [[ "$(./galera.sh stop)" == *"not running"* ]] || fail "second galera stop was not a no-op"
  t=$EPOCHREALTIME; ./pg-standby.sh stop >/dev/null; p_stop+=("$(awk -v a="$t" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')")
  [[ "$(./pg-standby.sh stop)" == *"not running"* ]] || fail "second pg-standby stop was not a no-op"
  left=$(leftovers)
  [ -z "$left" ] || fail "left after stop in cycle $i: $(echo "$left" | xargs)"
  echo "cycle $i: stopped; no process or port left"
done
list() { printf '%.1f ' "$@"; }
echo "galera start s: $(list "${g_start[@]}")(median $(printf '%s\n' "${g_start[@]}" | median | xargs printf '%.1f'))," \
  "stop s: $(list "${g_stop[@]}")(median $(printf '%s\n' "${g_stop[@]}" | median | xargs printf '%.1f'))"
echo "pg-standby start s: $(list "${p_start[@]}")(median $(printf '%s\n' "${p_start[@]}" | median | xargs printf '%.1f'))," \
  "stop s: $(list "${p_stop[@]}")(median $(printf '%s\n' "${p_stop[@]}" | median | xargs printf '%.1f'))"
