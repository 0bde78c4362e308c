#!/usr/bin/env bash
# A throw-away 3-node MariaDB Galera cluster on loopback, for the distributed tests (issue 14).
#
#   galera.sh start            install missing packages, bootstrap node 1, join nodes 2 and 3,
#                              wait until all three are Synced, create the test user and `test`
#   galera.sh stop             SIGTERM exactly the recorded node PIDs (bounded), then SIGKILL,
#                              and remove the cluster's folder
#   galera.sh status           one line per node; exit 0 only when all three are Synced
#   galera.sh env              print `export STATUSGUARD_TEST_GALERA_URLS=...`
#   galera.sh partition N      isolate node N (gmcast.isolate=1): it turns non-Primary
#   galera.sh heal N           undo partition N and wait until the node is Synced again
#   galera.sh kill N           SIGKILL node N's recorded PID
#   galera.sh restart N        start node N again (SIGTERM first if alive); it rejoins by IST
#                              when its recovered position is still in a donor's gcache, else SST
#   galera.sh pid N | url N    node N's server PID / SQLAlchemy URL
#   galera.sh sql N STATEMENT  run a statement on node N as its local root (unix socket)
#
# Node N (1-3) listens on SQL 3306+N, gcomm 4567+10(N-1), IST 4568+10(N-1), SST 4444+10(N-1),
# all on 127.0.0.1. Everything lives under STATUSGUARD_GALERA_DIR (default
# ${TMPDIR:-/tmp}/statusguard-galera), which this script creates and removes; it never touches
# the system MariaDB on 3306. The nodes run as the `mysql` user: as root, a joiner's rsync daemon
# drops to `nobody` and its state transfer fails.
set -euo pipefail

DIR="${STATUSGUARD_GALERA_DIR:-${TMPDIR:-/tmp}/statusguard-galera}"
DB_USER="${STATUSGUARD_GALERA_USER:-statusguard}"
DB_PASSWORD="${STATUSGUARD_GALERA_PASSWORD:-}"
WAIT_S="${STATUSGUARD_GALERA_WAIT:-180}"   # bound on each wait for a node state
STOP_S="${STATUSGUARD_GALERA_STOP_WAIT:-20}"  # a node in a state transfer ignores SIGTERM
PROVIDER=/usr/lib/galera/libgalera_smm.so
MARKER=.statusguard-galera
NODES=(1 2 3)

sql_port() { echo $((3306 + $1)); }
gcomm_port() { echo $((4567 + 10 * ($1 - 1))); }
ist_port() { echo $((4568 + 10 * ($1 - 1))); }
sst_port() { echo $((4444 + 10 * ($1 - 1))); }
node_dir() { echo "$DIR/n$1"; }
all_ports() { for n in "${NODES[@]}"; do sql_port "$n"; gcomm_port "$n"; ist_port "$n"; sst_port "$n"; done; }

say() { echo "galera: $*"; }
die() { echo "galera: error: $*" >&2; exit 1; }
now() { echo "$EPOCHREALTIME"; }
since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
check_node() { [[ "${1:-}" =~ ^[123]$ ]] || die "node must be 1, 2 or 3, got '${1:-}'"; }

need_packages() {
  # Idempotent and quiet: installs only what is missing (as .ci/run does for graphviz).
  if ! command -v mariadbd >/dev/null || [ ! -e "$PROVIDER" ] || ! command -v rsync >/dev/null \
    || ! command -v lsof >/dev/null; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 \
      mariadb-server galera-4 rsync lsof >/dev/null
  fi
}

# --- PIDs: only processes this script started, checked by name and by their own defaults file
pid_of() { # the PID recorded at launch; else the one the server wrote (start interrupted)
  cat "$DIR/n$1.pid" 2>/dev/null || cat "$DIR/n$1/mariadbd.pid" 2>/dev/null || true
}
ours() { # ours PID N: PID is alive and is node N's mariadbd
  local pid=$1 n=$2
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = mariadbd ] || return 1
  { tr '\0' '\n' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qxF -- "--defaults-file=$(node_dir "$n")/my.cnf"
}
alive() { ours "$(pid_of "$1")" "$1"; }

sql() { # sql N STATEMENT: as the node's local root over its unix socket (no TCP, no password)
  mariadb --no-defaults --protocol=socket --socket="$(node_dir "$1")/mysqld.sock" -uroot \
    --connect-timeout=5 -NB -e "$2"
}
status_var() { { sql "$1" "SHOW STATUS LIKE '$2'" 2>/dev/null || true; } | awk '{print $2}'; }

log_tail() { local f; f="$(node_dir "$1")/error.log"; [ -f "$f" ] && tail -n 25 "$f" >&2 || true; }

wait_for() { # wait_for N WHAT: bounded wait until node N is Synced / non-Primary
  local n=$1 what=$2 deadline=$((SECONDS + WAIT_S)) state status
  while [ "$SECONDS" -lt "$deadline" ]; do
    if [ "$what" != gone ] && ! alive "$n"; then
      log_tail "$n"; die "node $n (PID $(pid_of "$n")) exited while waiting for $what; log above"
    fi
    case $what in
      Synced)
        state=$(status_var "$n" wsrep_local_state_comment)
        status=$(status_var "$n" wsrep_cluster_status)
        [ "$state" = Synced ] && [ "$status" = Primary ] && return 0 ;;
      non-Primary)
        status=$(status_var "$n" wsrep_cluster_status)
        [ -n "$status" ] && [ "$status" != Primary ] && return 0 ;;
      gone) alive "$n" || return 0 ;;
    esac
    sleep 0.2
  done
  log_tail "$n"; die "node $n not $what after ${WAIT_S}s (STATUSGUARD_GALERA_WAIT); log above"
}

write_cnf() {
  local n=$1 d; d=$(node_dir "$n")
  mkdir -p "$d/data" "$d/tmp"
  cat >"$d/my.cnf" <<EOF
[mysqld]
user=mysql
datadir=$d/data
tmpdir=$d/tmp
socket=$d/mysqld.sock
pid-file=$d/mariadbd.pid
log-error=$d/error.log
port=$(sql_port "$n")
bind-address=127.0.0.1
skip-name-resolve
character-set-server=utf8mb4
collation-server=utf8mb4_general_ci
performance_schema=OFF
innodb_buffer_pool_size=64M
innodb_log_file_size=48M
innodb_flush_log_at_trx_commit=2
default_storage_engine=InnoDB
binlog_format=ROW
innodb_autoinc_lock_mode=2
wsrep_on=ON
wsrep_provider=$PROVIDER
wsrep_cluster_name=statusguard
wsrep_cluster_address=gcomm://127.0.0.1:$(gcomm_port 1),127.0.0.1:$(gcomm_port 2),127.0.0.1:$(gcomm_port 3)
wsrep_node_name=n$n
wsrep_node_address=127.0.0.1:$(gcomm_port "$n")
wsrep_node_incoming_address=127.0.0.1:$(sql_port "$n")
wsrep_sst_receive_address=127.0.0.1:$(sst_port "$n")
wsrep_sst_method=rsync
wsrep_provider_options="gmcast.listen_addr=tcp://127.0.0.1:$(gcomm_port "$n");ist.recv_addr=127.0.0.1:$(ist_port "$n");gcache.size=64M"
EOF
  chown -R mysql:mysql "$d"
}

launch() { # launch N [extra mariadbd options...]: start node N in the background, record its PID
  local n=$1 d; shift; d=$(node_dir "$n")
  mariadbd --defaults-file="$d/my.cnf" "$@" </dev/null >>"$d/stdout.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$DIR/n$n.pid"
  # Until the forked shell has exec'd mariadbd, the PID does not look like the node yet.
  for _ in $(seq 50); do ours "$pid" "$n" || ! kill -0 "$pid" 2>/dev/null && break; sleep 0.1; done
}

recovered_position() { # the uuid:seqno a crashed node's InnoDB holds (empty if none)
  local d; d=$(node_dir "$1")
  rm -f "$d/recover.log"
  mariadbd --defaults-file="$d/my.cnf" --wsrep-recover --log-error="$d/recover.log" \
    </dev/null >/dev/null 2>&1 || true
  sed -n 's/.*WSREP: Recovered position: *\([0-9a-f-]*:-\{0,1\}[0-9]*\).*/\1/p' "$d/recover.log" \
    | tail -n 1
}

running_synced() {
  [ -d "$DIR" ] || return 1
  for n in "${NODES[@]}"; do
    alive "$n" && [ "$(status_var "$n" wsrep_local_state_comment)" = Synced ] || return 1
  done
}

cmd_start() {
  need_packages
  if running_synced; then say "already running, 3 nodes Synced"; return 0; fi
  if [ -e "$DIR" ]; then say "a partial or stale cluster is in $DIR: stopping it first"; cmd_stop; fi
  local busy=() p
  for p in $(all_ports); do
    if ss -Htln "sport = :$p" | grep -q .; then busy+=("$p"); fi
  done
  [ "${#busy[@]}" -eq 0 ] || die "ports ${busy[*]} are in use (another cluster?); free them or run 'galera.sh stop'"
  mkdir -p "$DIR"; chmod 755 "$DIR"; : >"$DIR/$MARKER"
  runuser -u mysql -- test -x "$DIR" \
    || die "the mysql user cannot reach $DIR; set STATUSGUARD_GALERA_DIR to a world-traversable path"
  local t0 t; t0=$(now)
  for n in "${NODES[@]}"; do write_cnf "$n"; done

  t=$(now)
  mariadb-install-db --defaults-file="$(node_dir 1)/my.cnf" --user=mysql --skip-test-db \
    --auth-root-authentication-method=socket >"$DIR/install.log" 2>&1 \
    || { tail -n 25 "$DIR/install.log" >&2; die "mariadb-install-db failed; log above"; }
  local t_install; t_install=$(since "$t")

  t=$(now); launch 1 --wsrep-new-cluster; wait_for 1 Synced
  local t1; t1=$(since "$t")
  # Created before the joiners start: their state transfer copies the account and the database.
  local ident=""; [ -z "$DB_PASSWORD" ] || ident=" IDENTIFIED BY '$DB_PASSWORD'"
  sql 1 "CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1'$ident;
         GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'127.0.0.1' WITH GRANT OPTION;
         CREATE DATABASE IF NOT EXISTS test"

  local tn=()
  for n in 2 3; do t=$(now); launch "$n"; wait_for "$n" Synced; tn+=("$(since "$t")"); done
  local size; size=$(status_var 3 wsrep_cluster_size)
  [ "$size" = 3 ] || die "node 3 reports wsrep_cluster_size=$size, expected 3"
  say "3 nodes Synced in $(since "$t0") s (install ${t_install} s, bootstrap ${t1} s," \
    "join n2 ${tn[0]} s, join n3 ${tn[1]} s); PIDs $(pid_of 1) $(pid_of 2) $(pid_of 3)"
}

cmd_stop() {
  if [ ! -e "$DIR" ]; then say "not running (no $DIR)"; return 0; fi
  [ -e "$DIR/$MARKER" ] || die "$DIR has no $MARKER file: not a folder this script made; not touching it"
  local t0 pids=() n pid; t0=$(now)
  for n in "${NODES[@]}"; do
    pid=$(pid_of "$n")
    if ours "$pid" "$n"; then kill -TERM "$pid" 2>/dev/null || true; pids+=("$pid:$n"); fi
  done
  local deadline=$((SECONDS + STOP_S)) left
  while :; do
    left=(); for p in "${pids[@]}"; do ours "${p%%:*}" "${p##*:}" && left+=("$p"); done
    [ "${#left[@]}" -gt 0 ] && [ "$SECONDS" -lt "$deadline" ] || break
    sleep 0.2
  done
  for p in "${left[@]}"; do
    say "node ${p##*:} (PID ${p%%:*}) still up after ${STOP_S}s: SIGKILL"
    kill -KILL "${p%%:*}" 2>/dev/null || true
  done
  # Helpers a node spawned and left behind when it was killed mid state transfer (the rsync
  # daemon, wsrep_sst_rsync): found by this cluster's folder in their command line, by PID.
  local stray
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    stray=$(pgrep -u mysql -f -- "$DIR/" || true)
    [ -n "$stray" ] || break
    for pid in $stray; do [ "$pid" != $$ ] && kill -KILL "$pid" 2>/dev/null || true; done
    sleep 0.2
  done
  rm -rf "$DIR"
  say "stopped in $(since "$t0") s"
}

cmd_status() {
  if [ ! -e "$DIR" ]; then say "not running"; return 3; fi
  local ok=0 n pid
  for n in "${NODES[@]}"; do
    pid=$(pid_of "$n")
    if alive "$n"; then
      echo "node $n: PID $pid, port $(sql_port "$n"), $(status_var "$n" wsrep_local_state_comment)," \
        "cluster $(status_var "$n" wsrep_cluster_status) size $(status_var "$n" wsrep_cluster_size)," \
        "RSS $(awk '/VmRSS/ {print $2, $3}' "/proc/$pid/status")"
      [ "$(status_var "$n" wsrep_local_state_comment)" = Synced ] || ok=1
    else
      echo "node $n: down (recorded PID ${pid:-none})"; ok=1
    fi
  done
  return $ok
}

url() { local auth=$DB_USER; [ -z "$DB_PASSWORD" ] || auth="$DB_USER:$DB_PASSWORD"
  echo "mysql+pymysql://$auth@127.0.0.1:$(sql_port "$1")/test"; }
cmd_env() { echo "export STATUSGUARD_TEST_GALERA_URLS=$(url 1),$(url 2),$(url 3)"; }

cmd_partition() {
  check_node "$1"; alive "$1" || die "node $1 is not running"
  local t; t=$(now)
  sql "$1" "SET GLOBAL wsrep_provider_options='gmcast.isolate=1'"
  wait_for "$1" non-Primary
  say "node $1 partitioned: $(status_var "$1" wsrep_cluster_status) after $(since "$t") s"
}

cmd_heal() {
  check_node "$1"; alive "$1" || die "node $1 is not running"
  local t; t=$(now)
  sql "$1" "SET GLOBAL wsrep_provider_options='gmcast.isolate=0'"
  wait_for "$1" Synced
  say "node $1 rejoined: Synced, cluster size $(status_var "$1" wsrep_cluster_size) after $(since "$t") s"
}

cmd_kill() {
  check_node "$1"; local pid; pid=$(pid_of "$1")
  ours "$pid" "$1" || { say "node $1 is not running"; return 0; }
  kill -KILL "$pid"; wait_for "$1" gone
  say "node $1 (PID $pid) killed with SIGKILL"
}

cmd_restart() {
  check_node "$1"; local n=$1 pid t pos how
  if alive "$n"; then
    pid=$(pid_of "$n"); kill -TERM "$pid"
    local deadline=$((SECONDS + STOP_S))
    while alive "$n" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
    alive "$n" && die "node $n (PID $pid) did not stop within ${STOP_S}s"
  fi
  t=$(now)
  local d; d=$(node_dir "$n")
  local before=0; [ -f "$d/error.log" ] && before=$(wc -l <"$d/error.log")
  pos=""
  if grep -q '^seqno: *-1' "$d/data/grastate.dat" 2>/dev/null; then pos=$(recovered_position "$n"); fi
  if [ -n "$pos" ]; then launch "$n" "--wsrep-start-position=$pos"; else launch "$n"; fi
  wait_for "$n" Synced
  local new; new=$(tail -n +"$((before + 1))" "$d/error.log")
  # The rsync script runs for both kinds; its own log line says which one the donor sent.
  if grep -q 'rsync SST completed' <<<"$new"; then how="a full state transfer (SST)"
  elif grep -q 'rsync IST completed\|Receiving IST' <<<"$new"; then
    how="an incremental state transfer (IST, $(sed -n 's/.*Receiving IST: \([0-9]*\) writesets.*/\1/p' <<<"$new" | head -n 1) writesets)"
  elif grep -q 'state transfer needed: no' <<<"$new"; then how="no state transfer (already current)"
  else how="an unlogged path"; fi
  say "node $n restarted (PID $(pid_of "$n")), Synced after $how in $(since "$t") s${pos:+, recovered position $pos}"
}

cmd=${1:-}; shift || true
case $cmd in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  partition) cmd_partition "${1:-}" ;;
  heal) cmd_heal "${1:-}" ;;
  kill) cmd_kill "${1:-}" ;;
  restart) cmd_restart "${1:-}" ;;
  pid) check_node "${1:-}"; pid_of "$1" ;;
  url) check_node "${1:-}"; url "$1" ;;
  sql) check_node "${1:-}"; sql "$1" "${2:?a statement}" ;;
  *) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
esac
