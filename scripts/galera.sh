#!/usr/bin/env bash
# A throwaway three-node MariaDB Galera cluster on loopback, for the Galera tests.
#
#   bash scripts/galera.sh start   # install if missing, start the three nodes, print the export
#   bash scripts/galera.sh env     # print the export without starting anything
#   bash scripts/galera.sh stop    # stop the three nodes (the data directories are kept)
#   bash scripts/galera.sh status  # say which nodes run, the cluster size and their states
#
#   eval "$(bash scripts/galera.sh start)" && npx vitest run test/reliability/galera.test.ts
#
# Three mariadbd processes (the binary of scripts/databases.sh's MariaDB, which can run beside
# them), each with its own data directory, socket, pid file and option file under /tmp, and
# its own ports on 127.0.0.1: SQL, Galera replication (gcomm), incremental state transfer (IST)
# and full state transfer (SST, rsync). Node 1 bootstraps the cluster (--wsrep-new-cluster)
# when no node runs; the others join it and copy its data by rsync. `start` returns once
# wsrep_cluster_size is 3 and every node is Synced. Tuned for tests (no fsync, a small buffer
# pool): never put data you care about in it.
# Needs root on Debian 12 (apt-get); no Docker. Only the export line goes to stdout, so that
# `eval "$(...)"` works; progress goes to stderr.
set -euo pipefail

GALERA_DIR="${THROUGHLINE_GALERA_DIR:-/tmp/throughline-galera}"
# Node n (1..3) listens on SQL_BASE+n for SQL, GCOMM_BASE+n for replication, IST_BASE+n and
# SST_BASE+n for state transfers: 53401-53403, 54401-54403, 54411-54413, 54421-54423.
SQL_BASE="${THROUGHLINE_GALERA_SQL_PORT_BASE:-53400}"
GCOMM_BASE="${THROUGHLINE_GALERA_GCOMM_PORT_BASE:-54400}"
IST_BASE=$((GCOMM_BASE + 10))
SST_BASE=$((GCOMM_BASE + 20))
NODES=(1 2 3)
CLUSTER_NAME=throughline
DB_NAME=throughline
DB_USER=throughline
DB_PASSWORD=throughline
# How long a node may take to start or join (an rsync SST of a fresh data directory takes seconds).
WAIT_SECONDS="${THROUGHLINE_GALERA_WAIT:-120}"

log() { printf '[galera] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

sql_port() { echo $((SQL_BASE + $1)); }
gcomm_port() { echo $((GCOMM_BASE + $1)); }
node_data() { echo "$GALERA_DIR/node$1/data"; }
node_run() { echo "$GALERA_DIR/node$1/run"; }
node_socket() { echo "$(node_run "$1")/mariadb.sock"; }
node_pid() { echo "$(node_run "$1")/mariadb.pid"; }
node_log() { echo "$(node_run "$1")/mariadb.log"; }
node_cnf() { echo "$GALERA_DIR/node$1/my.cnf"; }
node_url() { echo "mysql://$DB_USER:$DB_PASSWORD@127.0.0.1:$(sql_port "$1")/$DB_NAME"; }

print_env() {
  local urls=() n
  for n in "${NODES[@]}"; do urls+=("$(node_url "$n")"); done
  printf 'export GALERA_URLS=%s\n' "$(IFS=,; echo "${urls[*]}")"
}

mariadb_server() {
  command -v mariadbd 2>/dev/null || { [[ -x /usr/sbin/mariadbd ]] && echo /usr/sbin/mariadbd; } || true
}

mariadb_client() {
  command -v mariadb 2>/dev/null || command -v mysql
}

# The Galera library of the galera-4 package.
galera_provider() {
  local path
  for path in /usr/lib/galera/libgalera_smm.so /usr/lib/libgalera_smm.so /usr/lib/galera-4/libgalera_smm.so; do
    [[ -f "$path" ]] && { echo "$path"; return 0; }
  done
  return 0
}

install_packages() {
  local wanted=()
  [[ -n "$(mariadb_server)" ]] || wanted+=(mariadb-server)
  [[ -n "$(galera_provider)" ]] || wanted+=(galera-4)
  command -v rsync >/dev/null 2>&1 || wanted+=(rsync)
  # The rsync SST script finds the joiner's rsync daemon with ss (iproute2) or lsof.
  command -v ss >/dev/null 2>&1 || command -v lsof >/dev/null 2>&1 || wanted+=(iproute2)
  ((${#wanted[@]} > 0)) || return 0
  [[ "$(id -u)" == 0 ]] || die "installing ${wanted[*]} needs root"
  log "installing ${wanted[*]} (apt-get)..."
  # Packages start their own services on the default ports when installed; a policy-rc.d that
  # answers 101 ("action forbidden") stops that. Ours run elsewhere.
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    created_policy=1
  fi
  local status=0
  {
    DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${wanted[@]}"
  } >&2 || status=$?
  ((created_policy == 0)) || rm -f "$policy"
  ((status == 0)) || die "apt-get install ${wanted[*]} failed"
  [[ -n "$(mariadb_server)" ]] || die "mariadbd not found after install"
  [[ -n "$(galera_provider)" ]] || die "libgalera_smm.so not found after install"
}

# The option file of node n: the server reads it (--defaults-file), and so do the SST scripts
# it runs, which is why the settings are in a file rather than on the command line.
write_cnf() {
  local n=$1 addresses=() m
  for m in "${NODES[@]}"; do addresses+=("127.0.0.1:$(gcomm_port "$m")"); done
  cat >"$(node_cnf "$n")" <<CNF
# Written by scripts/galera.sh: node $n of the test cluster. Edits are overwritten.
[mysqld]
user = mysql
datadir = $(node_data "$n")
socket = $(node_socket "$n")
pid-file = $(node_pid "$n")
log-error = $(node_log "$n")
port = $(sql_port "$n")
bind-address = 127.0.0.1
character-set-server = utf8mb4
collation-server = utf8mb4_unicode_ci
max-connections = 200
performance-schema = OFF
skip-name-resolve

# What Galera needs: row-based replication events, InnoDB, interleaved auto-increment locks.
binlog-format = ROW
default-storage-engine = InnoDB
innodb-autoinc-lock-mode = 2

# Tests only: no fsync, a small buffer pool (three nodes on a small machine).
innodb-buffer-pool-size = 64M
innodb-log-file-size = 48M
innodb-flush-log-at-trx-commit = 0
innodb-doublewrite = 0
innodb-flush-method = nosync

wsrep-on = ON
wsrep-provider = $(galera_provider)
wsrep-cluster-name = $CLUSTER_NAME
wsrep-cluster-address = gcomm://$(IFS=,; echo "${addresses[*]}")
wsrep-node-name = node$n
wsrep-node-address = 127.0.0.1:$(gcomm_port "$n")
wsrep-provider-options = "gmcast.listen_addr=tcp://127.0.0.1:$(gcomm_port "$n");ist.recv_addr=127.0.0.1:$((IST_BASE + n));gcache.size=64M;pc.wait_prim_timeout=PT60S"
wsrep-sst-method = rsync
wsrep-sst-receive-address = 127.0.0.1:$((SST_BASE + n))
wsrep-slave-threads = 2

[client]
socket = $(node_socket "$n")
CNF
}

client() {
  local n=$1
  shift
  "$(mariadb_client)" --no-defaults -S "$(node_socket "$n")" -u root "$@"
}

node_running() {
  local n=$1 pid
  [[ -f "$(node_pid "$n")" ]] || return 1
  pid="$(cat "$(node_pid "$n")" 2>/dev/null)" || return 1
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && client "$n" -e 'SELECT 1' >/dev/null 2>&1
}

# A wsrep status variable of node n (empty when the node does not answer).
wsrep_status() {
  client "$1" -N -B -e "SHOW GLOBAL STATUS LIKE '$2'" 2>/dev/null | awk '{ print $2 }' || true
}

node_synced() {
  node_running "$1" && [[ "$(wsrep_status "$1" wsrep_local_state_comment)" == Synced && "$(wsrep_status "$1" wsrep_ready)" == ON ]]
}

# Starts node n in the background; `bootstrap` makes it a new cluster of its own.
start_node() {
  local n=$1 mode=$2 server
  server="$(mariadb_server)"
  install -d -o mysql -g mysql -m 750 "$(node_data "$n")"
  install -d -o mysql -g mysql -m 755 "$(node_run "$n")"
  write_cnf "$n"
  local extra=()
  if [[ "$mode" == bootstrap ]]; then
    if [[ ! -d "$(node_data "$n")/mysql" ]]; then
      log "node $n: initialising $(node_data "$n")"
      local installer
      installer="$(command -v mariadb-install-db || command -v mysql_install_db)"
      "$installer" --defaults-file="$(node_cnf "$n")" --user=mysql --datadir="$(node_data "$n")" \
        --auth-root-authentication-method=socket --skip-test-db --wsrep-on=OFF \
        >"$GALERA_DIR/node$n/install.log" 2>&1 || die "mariadb-install-db failed; see $GALERA_DIR/node$n/install.log"
    fi
    # The data is ours and the cluster is down: node 1 may start it again whichever node
    # stopped last (Galera refuses otherwise, to protect data a later node may have).
    local state="$(node_data "$n")/grastate.dat"
    [[ ! -f "$state" ]] || sed -i 's/^safe_to_bootstrap: 0/safe_to_bootstrap: 1/' "$state"
    extra+=(--wsrep-new-cluster)
    log "node $n: bootstrapping the cluster (SQL 127.0.0.1:$(sql_port "$n"), gcomm $(gcomm_port "$n"))"
  else
    log "node $n: joining (SQL 127.0.0.1:$(sql_port "$n"), gcomm $(gcomm_port "$n"))"
  fi
  rm -f "$(node_socket "$n")" "$(node_pid "$n")"
  setsid "$server" --defaults-file="$(node_cnf "$n")" "${extra[@]}" </dev/null >/dev/null 2>&1 &
  echo $! >"$GALERA_DIR/node$n/launcher.pid"
}

wait_synced() {
  local n=$1 i launcher
  launcher="$(cat "$GALERA_DIR/node$n/launcher.pid" 2>/dev/null || true)"
  for i in $(seq 1 "$WAIT_SECONDS"); do
    node_synced "$n" && return 0
    if [[ -n "$launcher" ]] && ! kill -0 "$launcher" 2>/dev/null; then
      die "node $n exited; see $(node_log "$n")"
    fi
    sleep 1
  done
  die "node $n is not Synced after ${WAIT_SECONDS}s; see $(node_log "$n")"
}

create_user() {
  # DDL and account statements replicate to every node (total order isolation).
  client "$1" <<SQL
CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS '$DB_USER'@'%' IDENTIFIED BY '$DB_PASSWORD';
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$DB_USER'@'%';
GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$DB_USER'@'localhost';
-- Each test run works in a database of its own (throughline_run_..., throughline_galera_...).
GRANT ALL PRIVILEGES ON \`${DB_NAME}\\_%\`.* TO '$DB_USER'@'%';
GRANT ALL PRIVILEGES ON \`${DB_NAME}\\_%\`.* TO '$DB_USER'@'localhost';
SQL
}

start_cluster() {
  install_packages
  install -d -m 755 "$GALERA_DIR"
  local n started=$SECONDS any=0
  for n in "${NODES[@]}"; do node_running "$n" && any=1; done
  if ((any == 0)); then
    start_node 1 bootstrap
    wait_synced 1
  elif ! node_running 1; then
    start_node 1 join
    wait_synced 1
  fi
  # Joiners one at a time: each takes a state transfer from a running node.
  for n in "${NODES[@]:1}"; do
    if node_running "$n"; then
      log "node $n: already running"
    else
      start_node "$n" join
      wait_synced "$n"
    fi
  done
  for n in "${NODES[@]}"; do wait_synced "$n"; done
  local size
  size="$(wsrep_status 1 wsrep_cluster_size)"
  [[ "$size" == "${#NODES[@]}" ]] || die "wsrep_cluster_size is '$size', not ${#NODES[@]}"
  create_user 1
  log "cluster of $size nodes, all Synced, in $((SECONDS - started))s"
}

stop_node() {
  local n=$1 pid
  [[ -f "$(node_pid "$n")" ]] || return 0
  pid="$(cat "$(node_pid "$n")" 2>/dev/null || true)"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
  log "stopping node $n"
  kill "$pid"
  local i
  for i in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 1
  done
  log "node $n did not stop in 60s; killing it"
  kill -9 "$pid" 2>/dev/null || true
}

stop_cluster() {
  # The last one first, so that node 1, which bootstraps next time, stops last.
  local n
  for n in 3 2 1; do stop_node "$n"; done
}

status_cluster() {
  local n
  for n in "${NODES[@]}"; do
    if node_running "$n"; then
      log "node $n: running on 127.0.0.1:$(sql_port "$n"), $(wsrep_status "$n" wsrep_local_state_comment), cluster size $(wsrep_status "$n" wsrep_cluster_size)"
    else
      log "node $n: stopped"
    fi
  done
}

case "${1:-}" in
  start)
    start_cluster
    print_env
    ;;
  stop)
    stop_cluster
    ;;
  env)
    print_env
    ;;
  status)
    status_cluster
    ;;
  *)
    echo "usage: bash scripts/galera.sh start|stop|env|status" >&2
    exit 2
    ;;
esac
