#!/usr/bin/env bash
# A throw-away PostgreSQL primary (127.0.0.1:5433) and hot standby (127.0.0.1:5434), for the
# replica tests (issue 14).
#
#   pg-standby.sh start [--sync]   initdb the primary, create `test`, clone the standby with
#                                  pg_basebackup -R, wait until it streams (and, with --sync or
#                                  STATUSGUARD_PG_SYNC=1, until it is the synchronous standby)
#   pg-standby.sh stop             fast shutdown of exactly the recorded postmaster PIDs
#                                  (SIGINT, bounded; then SIGQUIT, then SIGKILL) and remove the folder
#   pg-standby.sh status           both servers and the replication state; exit 0 when streaming
#   pg-standby.sh env              print the two STATUSGUARD_TEST_PG_*_URL exports
#   pg-standby.sh sync on|off      switch at run time: on = synchronous_standby_names names the
#                                  standby and synchronous_commit=remote_apply; off = asynchronous
#   pg-standby.sh stall | resume   SIGSTOP / SIGCONT the standby's walreceiver and startup
#                                  processes (their PIDs are recorded; resume continues exactly them)
#   pg-standby.sh crash-primary    immediate shutdown of the primary (no checkpoint, as a crash)
#   pg-standby.sh promote          promote the standby to a primary (it stays on 5434)
#   pg-standby.sh pid primary|standby
#   pg-standby.sh sql primary|standby STATEMENT   run a statement through psql as postgres
#
# Everything lives under STATUSGUARD_PG_STANDBY_DIR (default ${TMPDIR:-/tmp}/statusguard-pg-standby),
# created and removed by this script; the servers run as the `postgres` OS user. The system
# cluster on 5432 is never touched.
set -euo pipefail

DIR="${STATUSGUARD_PG_STANDBY_DIR:-${TMPDIR:-/tmp}/statusguard-pg-standby}"
WAIT_S="${STATUSGUARD_PG_WAIT:-120}"
STOP_S="${STATUSGUARD_PG_STOP_WAIT:-30}"
PRIMARY_PORT=5433
STANDBY_PORT=5434
APP_NAME=statusguard_standby
MARKER=.statusguard-pg-standby

say() { echo "pg-standby: $*"; }
die() { echo "pg-standby: error: $*" >&2; exit 1; }
now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
port_of() { case $1 in primary) echo $PRIMARY_PORT ;; standby) echo $STANDBY_PORT ;; *) die "primary or standby, got '$1'" ;; esac; }

bindir() {
  if [ -n "${STATUSGUARD_PG_BINDIR:-}" ]; then echo "$STATUSGUARD_PG_BINDIR"; return; fi
  if [ -x /usr/lib/postgresql/15/bin/postgres ]; then echo /usr/lib/postgresql/15/bin; return; fi
  local b; b=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$b" ] && echo "$b"
}
need_packages() {
  if [ -z "$(bindir)" ]; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 \
      postgresql >/dev/null
  fi
  BIN=$(bindir); [ -x "$BIN/postgres" ] || die "no PostgreSQL server binaries (looked in /usr/lib/postgresql)"
}
as_pg() { runuser -u postgres -- "$@"; }

psql_() { # psql_ primary|standby STATEMENT: unaligned, tuples only, over TCP on loopback
  "$(bindir)/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$(port_of "$1")" -U postgres \
    -d "${3:-postgres}" -c "$2"
}
q() { PGCONNECT_TIMEOUT=3 psql_ "$@" 2>/dev/null || true; }

# --- PIDs: only the postmasters this script started, checked by name and data directory
pid_of() { # the PID recorded after pg_ctl start; else the postmaster's own (start interrupted)
  cat "$DIR/$1.pid" 2>/dev/null || head -n 1 "$DIR/$1/postmaster.pid" 2>/dev/null || true
}
ours() { # ours PID ROLE
  local pid=$1 role=$2
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = postgres ] || return 1
  { tr '\0' '\n' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qxF -- "$DIR/$role"
}
alive() { ours "$(pid_of "$1")" "$1"; }
record_pid() { head -n 1 "$DIR/$1/postmaster.pid" >"$DIR/$1.pid"; }
child_pid() { # child_pid ROLE NAME: the postmaster's child whose title is "postgres: NAME..."
  local pp; pp=$(pid_of "$1")
  ps -o pid=,args= --ppid "$pp" 2>/dev/null | awk -v n="postgres: $2" 'index($0, n) { print $1; exit }'
}

log_tail() { [ -f "$DIR/$1.log" ] && tail -n 25 "$DIR/$1.log" >&2 || true; }

wait_until() { # wait_until WHAT COMMAND...: bounded poll
  local what=$1 deadline=$((SECONDS + WAIT_S)); shift
  while [ "$SECONDS" -lt "$deadline" ]; do "$@" && return 0; sleep 0.2; done
  log_tail primary; log_tail standby
  die "$what not reached after ${WAIT_S}s (STATUSGUARD_PG_WAIT); logs above"
}
rep_state() { q primary "SELECT state || '/' || sync_state FROM pg_stat_replication WHERE application_name = '$APP_NAME'"; }
is_streaming() { [[ "$(rep_state)" == streaming/* ]]; }
is_sync() { [ "$(rep_state)" = streaming/sync ]; }
is_async() { [ "$(rep_state)" = streaming/async ]; }

pg_start() { # pg_start ROLE: pg_ctl start (waits until it accepts connections), record the PID
  as_pg "$BIN/pg_ctl" -D "$DIR/$1" -l "$DIR/$1.log" -w -t "$WAIT_S" start >/dev/null \
    || { log_tail "$1"; die "the $1 did not start; log above"; }
  record_pid "$1"
}

cmd_start() {
  local want_sync=${STATUSGUARD_PG_SYNC:-0}
  [ "${1:-}" = --sync ] && want_sync=1
  need_packages
  if [ -e "$DIR" ] && alive primary && alive standby && is_streaming; then
    [ "$want_sync" = 1 ] && cmd_sync on
    say "already running, standby $(rep_state)"; return 0
  fi
  if [ -e "$DIR" ]; then say "a partial or stale pair is in $DIR: stopping it first"; cmd_stop; fi
  local p
  for p in $PRIMARY_PORT $STANDBY_PORT; do
    ! ss -Htln "sport = :$p" | grep -q . || die "port $p is in use; free it or run 'pg-standby.sh stop'"
  done
  mkdir -p "$DIR"; chmod 755 "$DIR"; : >"$DIR/$MARKER"; chown postgres: "$DIR"
  local t0 t; t0=$(now); t=$t0
  as_pg "$BIN/initdb" -D "$DIR/primary" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
    --no-sync >"$DIR/initdb.log" 2>&1 || { tail -n 25 "$DIR/initdb.log" >&2; die "initdb failed"; }
  cat >>"$DIR/primary/postgresql.conf" <<EOF
port = $PRIMARY_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR'
wal_level = replica
max_wal_senders = 4
hot_standby = on
shared_buffers = 32MB
max_connections = 100
EOF
  cat >"$DIR/primary/pg_hba.conf" <<EOF
local all all trust
host all all 127.0.0.1/32 trust
host replication postgres 127.0.0.1/32 trust
EOF
  local t_init; t_init=$(since "$t")
  t=$(now); pg_start primary
  psql_ primary "CREATE DATABASE test" >/dev/null
  local t_primary; t_primary=$(since "$t")

  t=$(now)
  as_pg "$BIN/pg_basebackup" -h 127.0.0.1 -p $PRIMARY_PORT -U postgres -D "$DIR/standby" -R \
    -X stream -c fast --no-sync >"$DIR/basebackup.log" 2>&1 \
    || { tail -n 25 "$DIR/basebackup.log" >&2; die "pg_basebackup failed; log above"; }
  # Later lines win: the standby's own port, and a name the primary can list as synchronous.
  cat >>"$DIR/standby/postgresql.auto.conf" <<EOF
port = $STANDBY_PORT
primary_conninfo = 'host=127.0.0.1 port=$PRIMARY_PORT user=postgres application_name=$APP_NAME'
EOF
  local t_backup; t_backup=$(since "$t")
  t=$(now); pg_start standby; wait_until "the standby streaming" is_streaming
  local t_standby; t_standby=$(since "$t")
  [ "$want_sync" = 1 ] && cmd_sync on
  say "primary :$PRIMARY_PORT and standby :$STANDBY_PORT ($(rep_state)) up in $(since "$t0") s" \
    "(initdb ${t_init} s, primary ${t_primary} s, basebackup ${t_backup} s, standby ${t_standby} s);" \
    "PIDs $(pid_of primary) $(pid_of standby)"
}

stop_one() { # stop_one ROLE: SIGINT (fast shutdown), bounded; SIGQUIT (immediate); SIGKILL
  local role=$1 pid; pid=$(pid_of "$1")
  ours "$pid" "$role" || return 0
  local kids; kids=$(ps -o pid= --ppid "$pid" 2>/dev/null | tr '\n' ' ')
  local sig deadline
  for sig in INT QUIT KILL; do
    kill -"$sig" "$pid" 2>/dev/null || true
    deadline=$((SECONDS + STOP_S))
    while ours "$pid" "$role" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    ours "$pid" "$role" || break
    say "the $role (PID $pid) is still up after SIG$sig and ${STOP_S}s"
  done
  # Children of a SIGKILLed postmaster: the ones listed above, if still its processes.
  local k
  for k in $kids; do
    [ "$(stat -c %U "/proc/$k" 2>/dev/null)" = postgres ] && kill -KILL "$k" 2>/dev/null || true
  done
}

cmd_stop() {
  if [ ! -e "$DIR" ]; then say "not running (no $DIR)"; return 0; fi
  [ -e "$DIR/$MARKER" ] || die "$DIR has no $MARKER file: not a folder this script made; not touching it"
  local t0; t0=$(now)
  cmd_resume quiet # a stopped (SIGSTOP) process would hold its postmaster's shutdown forever
  stop_one standby
  stop_one primary
  rm -rf "$DIR"
  say "stopped in $(since "$t0") s"
}

cmd_status() {
  if [ ! -e "$DIR" ]; then say "not running"; return 3; fi
  local role ok=0 pid
  for role in primary standby; do
    pid=$(pid_of "$role")
    if alive "$role"; then
      echo "$role: PID $pid, port $(port_of "$role"), in recovery: $(q "$role" 'SELECT pg_is_in_recovery()')," \
        "synchronous_commit=$(q "$role" 'SHOW synchronous_commit')," \
        "postmaster RSS $(awk '/VmRSS/ {print $2, $3}' "/proc/$pid/status")"
    else
      echo "$role: down (recorded PID ${pid:-none})"; ok=1
    fi
  done
  echo "replication: ${APP_NAME} $(rep_state || true)$([ -s "$DIR/stalled.pids" ] && echo ", stalled: $(cat "$DIR/stalled.pids")")"
  is_streaming || ok=1
  return $ok
}

cmd_env() {
  echo "export STATUSGUARD_TEST_PG_PRIMARY_URL=postgresql+psycopg://postgres@127.0.0.1:$PRIMARY_PORT/test"
  echo "export STATUSGUARD_TEST_PG_STANDBY_URL=postgresql+psycopg://postgres@127.0.0.1:$STANDBY_PORT/test"
}

cmd_sync() {
  alive primary || die "the primary is not running"
  case ${1:-} in
    on)
      psql_ primary "ALTER SYSTEM SET synchronous_standby_names = '$APP_NAME'" >/dev/null
      psql_ primary "ALTER SYSTEM SET synchronous_commit = 'remote_apply'" >/dev/null
      psql_ primary "SELECT pg_reload_conf()" >/dev/null
      wait_until "a synchronous standby" is_sync ;;
    off)
      psql_ primary "ALTER SYSTEM RESET synchronous_standby_names" >/dev/null
      psql_ primary "ALTER SYSTEM RESET synchronous_commit" >/dev/null
      psql_ primary "SELECT pg_reload_conf()" >/dev/null
      wait_until "an asynchronous standby" is_async ;;
    *) die "sync on|off" ;;
  esac
  say "standby is $(rep_state), primary synchronous_commit=$(q primary 'SHOW synchronous_commit')"
}

cmd_stall() {
  alive standby || die "the standby is not running"
  [ ! -s "$DIR/stalled.pids" ] || { say "already stalled: $(cat "$DIR/stalled.pids")"; return 0; }
  local pids="" p
  for p in "$(child_pid standby walreceiver)" "$(child_pid standby startup)"; do
    [ -n "$p" ] && pids="$pids $p"
  done
  [ -n "$pids" ] || die "found no walreceiver or startup process under the standby's postmaster"
  # Recorded first, so that stop and resume can always continue them.
  echo "$pids" | xargs >"$DIR/stalled.pids"
  for p in $pids; do kill -STOP "$p"; done
  say "stalled the standby's walreceiver and startup (PIDs $(cat "$DIR/stalled.pids")) with SIGSTOP"
}

cmd_resume() {
  [ -s "$DIR/stalled.pids" ] || { [ "${1:-}" = quiet ] || say "nothing stalled"; return 0; }
  local p
  for p in $(cat "$DIR/stalled.pids"); do
    [ "$(stat -c %U "/proc/$p" 2>/dev/null)" = postgres ] && kill -CONT "$p" 2>/dev/null || true
  done
  [ "${1:-}" = quiet ] || say "resumed PIDs $(cat "$DIR/stalled.pids") with SIGCONT"
  rm -f "$DIR/stalled.pids"
}

cmd_crash_primary() {
  alive primary || die "the primary is not running"
  need_packages
  as_pg "$BIN/pg_ctl" -D "$DIR/primary" -m immediate -w -t "$STOP_S" stop >/dev/null
  say "primary (PID $(pid_of primary)) stopped in immediate mode (no shutdown checkpoint)"
}

cmd_promote() {
  alive standby || die "the standby is not running"
  need_packages
  cmd_resume quiet
  local t; t=$(now)
  as_pg "$BIN/pg_ctl" -D "$DIR/standby" -w -t "$WAIT_S" promote >/dev/null
  say "standby promoted in $(since "$t") s; in recovery: $(q standby 'SELECT pg_is_in_recovery()')"
}

cmd=${1:-}; shift || true
case $cmd in
  start) cmd_start "${1:-}" ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  sync) cmd_sync "${1:-}" ;;
  stall) cmd_stall ;;
  resume) cmd_resume ;;
  crash-primary) cmd_crash_primary ;;
  promote) cmd_promote ;;
  pid) port_of "${1:-}" >/dev/null; pid_of "$1" ;;
  sql) port_of "${1:-}" >/dev/null; psql_ "$1" "${2:?a statement}" test ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
esac
