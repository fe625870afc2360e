#!/usr/bin/env bash
# Throwaway PostgreSQL and MariaDB servers for the Knex conformance suites.
#
#   bash scripts/databases.sh start   # install if missing, start both, print the exports
#   bash scripts/databases.sh env     # print the exports without starting anything
#   bash scripts/databases.sh stop    # stop both servers (the data directory is kept)
#   bash scripts/databases.sh status  # say which servers are running
#
#   eval "$(bash scripts/databases.sh start)" && npx vitest run test/adapters
#
# The servers are our own instances, started from a data directory under /tmp and listening
# on 127.0.0.1 on non-default ports, so they never clash with a system PostgreSQL or MySQL.
# They are tuned for tests (no fsync): never put data you care about in them.
# Needs root on Debian 12 (apt-get, runuser); no Docker. Only the export lines go to stdout,
# so `eval "$(...)"` works; progress goes to stderr.
set -euo pipefail

DB_DIR="${THROUGHLINE_DB_DIR:-/tmp/throughline-db}"
PG_PORT="${THROUGHLINE_PG_PORT:-55432}"
MY_PORT="${THROUGHLINE_MYSQL_PORT:-53306}"
DB_NAME=throughline
DB_USER=throughline
DB_PASSWORD=throughline

PG_DATA="$DB_DIR/postgres"
PG_SOCKET="$DB_DIR/postgres-run"
PG_LOG="$PG_SOCKET/postgres.log"
MY_DATA="$DB_DIR/mariadb"
MY_RUN="$DB_DIR/mariadb-run"
MY_SOCKET="$MY_RUN/mariadb.sock"
MY_PID="$MY_RUN/mariadb.pid"
MY_LOG="$MY_RUN/mariadb.log"

PG_URL="postgres://$DB_USER:$DB_PASSWORD@127.0.0.1:$PG_PORT/$DB_NAME"
MYSQL_URL="mysql://$DB_USER:$DB_PASSWORD@127.0.0.1:$MY_PORT/$DB_NAME"

log() { printf '[databases] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

print_env() {
  printf 'export PG_URL=%s\n' "$PG_URL"
  printf 'export MYSQL_URL=%s\n' "$MYSQL_URL"
}

# The newest installed PostgreSQL server binaries (Debian keeps them out of PATH).
pg_bin() {
  local dir
  dir="$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  [[ -n "$dir" && -x "$dir/initdb" ]] && printf '%s\n' "$dir"
}

mariadb_server() {
  command -v mariadbd 2>/dev/null || { [[ -x /usr/sbin/mariadbd ]] && echo /usr/sbin/mariadbd; } || true
}

install_packages() {
  local wanted=()
  [[ -n "$(pg_bin)" ]] || wanted+=(postgresql)
  [[ -n "$(mariadb_server)" ]] || wanted+=(mariadb-server)
  ((${#wanted[@]} > 0)) || return 0
  [[ "$(id -u)" == 0 ]] || die "installing ${wanted[*]} needs root"
  log "installing ${wanted[*]} (apt-get)..."
  # The packages start their own services on the default ports when they are installed;
  # a policy-rc.d that answers 101 ("action forbidden") stops that. Ours run elsewhere.
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
  [[ -n "$(pg_bin)" ]] || die "PostgreSQL binaries not found after install"
  [[ -n "$(mariadb_server)" ]] || die "mariadbd not found after install"
}

# ------------------------------------------------------------------ PostgreSQL

pg_running() {
  local bin
  bin="$(pg_bin)" || return 1
  [[ -f "$PG_DATA/postmaster.pid" ]] && runuser -u postgres -- "$bin/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}

pg_psql() {
  # As the superuser over the private socket (trust auth for local connections only).
  runuser -u postgres -- "$(pg_bin)/psql" -h "$PG_SOCKET" -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"
}

start_postgres() {
  local bin
  bin="$(pg_bin)"
  if pg_running; then
    log "PostgreSQL already running on 127.0.0.1:$PG_PORT"
    return 0
  fi
  # The socket and the log live in a directory the postgres user owns.
  install -d -o postgres -g postgres -m 755 "$PG_SOCKET"
  if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
    log "initialising PostgreSQL in $PG_DATA"
    rm -rf "$PG_DATA"
    install -d -o postgres -g postgres -m 700 "$PG_DATA"
    # PostgreSQL refuses to run as root: everything runs as the postgres user.
    runuser -u postgres -- "$bin/initdb" -D "$PG_DATA" -U postgres -E UTF8 --no-locale \
      --auth-local=trust --auth-host=scram-sha-256 >&2
  fi
  log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  runuser -u postgres -- "$bin/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start \
    -o "-p $PG_PORT -k $PG_SOCKET -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >&2 ||
    die "PostgreSQL did not start; see $PG_LOG"
  local i
  for i in $(seq 1 60); do
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && break
    ((i < 60)) || die "PostgreSQL does not accept connections; see $PG_LOG"
    sleep 1
  done
  if [[ "$(pg_psql -c "SELECT 1 FROM pg_roles WHERE rolname = '$DB_USER'")" != 1 ]]; then
    pg_psql -c "CREATE ROLE $DB_USER LOGIN PASSWORD '$DB_PASSWORD'"
  fi
  if [[ "$(pg_psql -c "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'")" != 1 ]]; then
    # A linguistic collation, as most real databases have ('a' < 'B'), so that the tests
    # prove the adapter orders by code unit itself rather than by luck of a "C" database.
    pg_psql -c "CREATE DATABASE $DB_NAME OWNER $DB_USER TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US'" ||
      pg_psql -c "CREATE DATABASE $DB_NAME OWNER $DB_USER"
  fi
}

stop_postgres() {
  if pg_running; then
    log "stopping PostgreSQL"
    runuser -u postgres -- "$(pg_bin)/pg_ctl" -D "$PG_DATA" -m fast -w stop >&2
  fi
}

# --------------------------------------------------------------------- MariaDB

mariadb_client() {
  command -v mariadb 2>/dev/null || command -v mysql
}

mariadb_running() {
  [[ -S "$MY_SOCKET" ]] && "$(mariadb_client)" --no-defaults -S "$MY_SOCKET" -u root -e 'SELECT 1' >/dev/null 2>&1
}

start_mariadb() {
  local server
  server="$(mariadb_server)"
  if mariadb_running; then
    log "MariaDB already running on 127.0.0.1:$MY_PORT"
    return 0
  fi
  if [[ ! -d "$MY_DATA/mysql" ]]; then
    log "initialising MariaDB in $MY_DATA"
    rm -rf "$MY_DATA"
    install -d -o mysql -g mysql -m 750 "$MY_DATA"
    local installer
    installer="$(command -v mariadb-install-db || command -v mysql_install_db)"
    "$installer" --no-defaults --user=mysql --datadir="$MY_DATA" --auth-root-authentication-method=socket \
      --skip-test-db >"$DB_DIR/mariadb-install.log" 2>&1 || die "mariadb-install-db failed; see $DB_DIR/mariadb-install.log"
  fi
  # The socket, pid file and log live in a directory the mysql user owns.
  install -d -o mysql -g mysql -m 755 "$MY_RUN"
  log "starting MariaDB on 127.0.0.1:$MY_PORT"
  # --no-defaults: ignore /etc/mysql, whose settings belong to the system service.
  setsid "$server" --no-defaults --user=mysql --datadir="$MY_DATA" --port="$MY_PORT" --bind-address=127.0.0.1 \
    --socket="$MY_SOCKET" --pid-file="$MY_PID" --log-error="$MY_LOG" \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci --skip-log-bin \
    --innodb-flush-log-at-trx-commit=0 --innodb-doublewrite=0 --innodb-buffer-pool-size=256M \
    --max-connections=200 </dev/null >/dev/null 2>&1 &
  local server_pid=$! i
  for i in $(seq 1 60); do
    mariadb_running && break
    kill -0 "$server_pid" 2>/dev/null || die "MariaDB exited; see $MY_LOG"
    ((i < 60)) || die "MariaDB does not accept connections; see $MY_LOG"
    sleep 1
  done
  "$(mariadb_client)" --no-defaults -S "$MY_SOCKET" -u root <<SQL
CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS '$DB_USER'@'%' IDENTIFIED BY '$DB_PASSWORD';
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$DB_USER'@'%';
GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$DB_USER'@'localhost';
-- The test harness gives each run a database of its own (throughline_run_...), so that two
-- runs against one server never touch each other's tables.
GRANT ALL PRIVILEGES ON \`${DB_NAME}\\_%\`.* TO '$DB_USER'@'%';
GRANT ALL PRIVILEGES ON \`${DB_NAME}\\_%\`.* TO '$DB_USER'@'localhost';
SQL
}

stop_mariadb() {
  if [[ -f "$MY_PID" ]]; then
    local pid
    pid="$(cat "$MY_PID")"
    if kill -0 "$pid" 2>/dev/null; then
      log "stopping MariaDB"
      kill "$pid"
      local i
      for i in $(seq 1 60); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 1
      done
    fi
  fi
}

# ------------------------------------------------------------------------ main

case "${1:-}" in
  start)
    install_packages
    mkdir -p "$DB_DIR"
    chmod 755 "$DB_DIR"
    start_postgres
    start_mariadb
    print_env
    ;;
  stop)
    stop_postgres
    stop_mariadb
    ;;
  env)
    print_env
    ;;
  status)
    if pg_running; then log "PostgreSQL: running on 127.0.0.1:$PG_PORT"; else log "PostgreSQL: stopped"; fi
    if [[ -n "$(mariadb_server)" ]] && mariadb_running; then log "MariaDB: running on 127.0.0.1:$MY_PORT"; else log "MariaDB: stopped"; fi
    ;;
  *)
    echo "usage: bash scripts/databases.sh start|stop|env|status" >&2
    exit 2
    ;;
esac
