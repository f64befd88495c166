#!/usr/bin/env bash
# test/cluster.sh — a throwaway PostgreSQL 15 cluster for afp's tests and demo.
#
#   test/cluster.sh start        initdb if needed, then start (restarts when already running, so a
#                                freshly installed afp library is loaded); creates database afp
#   test/cluster.sh restart      same as start
#   test/cluster.sh stop         stops this cluster (pg_ctl on our data directory only)
#   test/cluster.sh status       running or not, port, paths
#   test/cluster.sh psql [args]  psql against the cluster (database afp unless -d is given)
#   test/cluster.sh env          prints PGHOST/PGPORT/PGUSER/PGDATABASE exports (eval "$(...)")
#   test/cluster.sh destroy      stops the cluster and deletes build/cluster
#
# Data lives in build/cluster/{data,sock,log} (AFP_CLUSTER_DIR overrides the directory, so several
# clusters can run side by side with different AFP_PGPORTs). The server listens on 127.0.0.1 and on its own
# socket directory only, port AFP_PGPORT (default 54329). The server refuses to run as root, so
# when invoked as root, initdb and pg_ctl run as the `postgres` OS user. Authentication is trust
# (the cluster is local and disposable); the database superuser is `postgres`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PGBIN="${AFP_PGBIN:-/usr/lib/postgresql/15/bin}"
CLUSTER="${AFP_CLUSTER_DIR:-$ROOT/build/cluster}"
DATA="$CLUSTER/data"
SOCK="$CLUSTER/sock"
LOGDIR="$CLUSTER/log"
LOGFILE="$LOGDIR/postgres.log"
DEFAULT_PORT="${AFP_PGPORT:-54329}"
DB="afp"
SUPERUSER="postgres"

die() { echo "cluster.sh: $*" >&2; exit 1; }

# Runs a command as the cluster owner (postgres when we are root, else ourselves), from a
# directory that user can read.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd "$CLUSTER" && runuser -u postgres -- "$@")
  else
    (cd "$CLUSTER" && "$@")
  fi
}

# Prints the port of the running server (from postmaster.pid) or the configured default.
port() {
  if [ -r "$DATA/postmaster.pid" ]; then
    local p
    p="$(sed -n 4p "$DATA/postmaster.pid" 2>/dev/null || true)"
    if [ -n "$p" ]; then echo "$p"; return; fi
  fi
  echo "$DEFAULT_PORT"
}

# True when our server is running.
running() {
  [ -f "$DATA/PG_VERSION" ] && as_owner "$PGBIN/pg_ctl" status -D "$DATA" >/dev/null 2>&1
}

# Creates the directories (owned by the cluster owner) and runs initdb once.
init_cluster() {
  mkdir -p "$DATA" "$SOCK" "$LOGDIR"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$CLUSTER" "$DATA" "$SOCK" "$LOGDIR"
  fi
  chmod 700 "$DATA"
  if [ ! -f "$DATA/PG_VERSION" ]; then
    echo "cluster.sh: initdb $DATA"
    as_owner "$PGBIN/initdb" -D "$DATA" -U "$SUPERUSER" --auth=trust --encoding=UTF8 \
      --locale=C.UTF-8 >"$LOGDIR/initdb.log" 2>&1 \
      || { cat "$LOGDIR/initdb.log" >&2; die "initdb failed"; }
    echo "include_if_exists = 'afp_cluster.conf'" | as_owner tee -a "$DATA/postgresql.conf" >/dev/null
  fi
}

# (Re)writes the settings file included by postgresql.conf; preloads afp only once installed.
write_conf() {
  local preload="pg_cron"
  local libdir
  libdir="$("$PGBIN/pg_config" --pkglibdir)"
  if [ -f "$libdir/afp.so" ]; then
    preload="pg_cron,afp"
  else
    echo "cluster.sh: warning: $libdir/afp.so not installed yet; preloading pg_cron only" >&2
  fi
  as_owner tee "$DATA/afp_cluster.conf" >/dev/null <<EOF
# Written by test/cluster.sh on every start; edit the script, not this file.
listen_addresses = '127.0.0.1'
port = $DEFAULT_PORT
unix_socket_directories = '$SOCK'
shared_preload_libraries = '$preload'
cron.database_name = '$DB'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
log_min_messages = warning
log_line_prefix = '%m [%p] %q%u@%d '
EOF
}

# Starts (or restarts) the server and makes sure database afp exists.
start() {
  [ -x "$PGBIN/pg_ctl" ] || die "$PGBIN/pg_ctl not found (install postgresql-15)"
  init_cluster
  if running; then
    as_owner "$PGBIN/pg_ctl" stop -D "$DATA" -m fast -w -t 60 >/dev/null \
      || die "could not stop the running cluster"
  fi
  write_conf
  if ! as_owner "$PGBIN/pg_ctl" start -D "$DATA" -l "$LOGFILE" -w -t 60 >/dev/null; then
    tail -n 30 "$LOGFILE" >&2 || true
    die "server did not start (log: $LOGFILE)"
  fi
  if [ -z "$(run_psql -d postgres -XAtq -c "select 1 from pg_database where datname = '$DB'")" ]; then
    run_psql -d postgres -Xq -c "create database $DB" >/dev/null
  fi
  echo "cluster.sh: running on port $(port), socket $SOCK, data $DATA, log $LOGFILE"
}

# Stops the server if it runs; never touches any other cluster.
stop() {
  if running; then
    as_owner "$PGBIN/pg_ctl" stop -D "$DATA" -m fast -w -t 60 >/dev/null
    echo "cluster.sh: stopped"
  else
    echo "cluster.sh: not running"
  fi
}

# Runs psql against the cluster as the database superuser (default database afp).
run_psql() {
  PGHOST="$SOCK" PGPORT="$(port)" PGUSER="$SUPERUSER" PGDATABASE="${PGDATABASE_OVERRIDE:-$DB}" \
    "$PGBIN/psql" "$@"
}

cmd="${1:-status}"
[ $# -gt 0 ] && shift
case "$cmd" in
  start|restart) start ;;
  stop) stop ;;
  status)
    if running; then
      echo "running: port $(port), socket $SOCK, data $DATA, log $LOGFILE"
    else
      echo "stopped (data $DATA)"
      exit 3
    fi ;;
  psql)
    running || die "not running (test/cluster.sh start)"
    run_psql "$@" ;;
  env)
    echo "export PGHOST='$SOCK' PGPORT='$(port)' PGUSER='$SUPERUSER' PGDATABASE='$DB'" ;;
  destroy)
    stop
    rm -rf "$CLUSTER"
    echo "cluster.sh: removed $CLUSTER" ;;
  *) die "usage: $0 start|stop|restart|status|psql [args]|env|destroy" ;;
esac
