# test/delivery/lib.sh — helpers shared by the delivery checks (test/checks/6x-delivery-*.sh).
# The sourcing script sets NAME, PGBIN, PGPORT_D, BASE and SOCK first.

tests=0 failed=0
# Records a passing test.
pass() { tests=$((tests + 1)); }
# Records a failing test: fail WHAT [DETAIL LINES...].
fail() { tests=$((tests + 1)); failed=$((failed + 1)); echo "FAIL $1"; shift; for l in "$@"; do printf '%s\n' "$l" | sed 's/^/    /'; done; }
# Prints the count and exits non-zero when anything failed.
finish() { echo "$NAME: $tests tests, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

# Runs a command as the cluster owner (postgres when root: the server refuses root).
as_owner() { if [ "$(id -u)" -eq 0 ]; then (cd "$BASE" && runuser -u postgres -- "$@"); else (cd "$BASE" && "$@"); fi; }
# psql against the check's own cluster (database afp unless DB is set).
q() { "$PGBIN/psql" -h "$SOCK" -p "$PGPORT_D" -U postgres -d "${DB:-afp}" -XAtq -v ON_ERROR_STOP=1 "$@"; }
# expect WHAT EXPECTED SQL: the query's single value equals EXPECTED
expect() { local got; got=$(q -c "$3" 2>&1); if [ "$got" = "$2" ]; then pass; else fail "$1" "expected: $2" "got: $got"; fi; }
# wait_for SECONDS SQL: polls until the query returns t
wait_for() { local end=$((SECONDS + $1)); while [ $SECONDS -lt $end ]; do [ "$(q -c "$2" 2>/dev/null)" = t ] && return 0; sleep 0.2; done; return 1; }

# start_cluster MARKER [DIR...] <<EOF (more afp_test.conf lines) EOF: the check's own PostgreSQL.
# Installs the extension first when the installed script lacks MARKER (unless AFP_PGBIN is set),
# stops what an earlier run left (stop_all, defined by the sourcing script), recreates BASE with
# DATA, SOCK, LOGDIR, WORK and the DIRs, runs initdb, writes afp_test.conf (127.0.0.1:PGPORT_D,
# socket SOCK, shared_preload_libraries 'afp', fsync off, afp.delivery_database 'afp',
# afp.poll_interval_ms 200, then the lines read from stdin), starts the server and creates
# database afp. The sourcing script also sets ROOT, DATA, LOGDIR and WORK. A failure ends the check.
start_cluster() {
  local marker=$1 sharedir
  shift
  sharedir=$("$PGBIN/pg_config" --sharedir)
  if [ -z "${AFP_PGBIN:-}" ] && ! grep -qs "$marker" "$sharedir"/extension/afp--*.sql; then
    make -s -C "$ROOT" install >"$BASE.make.log" 2>&1 || { fail "setup" "make install failed: $(tail -n 5 "$BASE.make.log")"; finish; }
  fi
  stop_all
  rm -rf "$BASE"
  mkdir -p "$DATA" "$SOCK" "$LOGDIR" "$WORK" "$@"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$BASE" "$DATA" "$SOCK" "$LOGDIR"
  chmod 700 "$DATA"
  as_owner "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$LOGDIR/initdb.log" 2>&1 ||
    { fail "setup" "initdb failed: $(tail -n 5 "$LOGDIR/initdb.log")"; finish; }
  echo "include_if_exists = 'afp_test.conf'" | as_owner tee -a "$DATA/postgresql.conf" >/dev/null
  { cat <<EOF2
listen_addresses = '127.0.0.1'
port = $PGPORT_D
unix_socket_directories = '$SOCK'
shared_preload_libraries = 'afp'
fsync = off
synchronous_commit = off
max_connections = 30
log_line_prefix = '%m [%p] %q%u@%d '
afp.delivery_database = 'afp'
afp.poll_interval_ms = 200
EOF2
    cat; } | as_owner tee "$DATA/afp_test.conf" >/dev/null
  as_owner "$PGBIN/pg_ctl" start -D "$DATA" -l "$LOGDIR/postgres.log" -w -t 60 >/dev/null ||
    { fail "setup" "server did not start: $(tail -n 20 "$LOGDIR/postgres.log")"; finish; }
  DB=postgres q -c "CREATE DATABASE afp" >/dev/null || { fail "setup" "create database"; finish; }
}
