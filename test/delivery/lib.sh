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
# now_ms: milliseconds since the epoch
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# wait_for SECONDS SQL: polls every 0.2 s until the query returns t; false after SECONDS, counted
# to the millisecond (bash's SECONDS counts whole seconds: a 1 s wait could end at once)
wait_for() {
  local end=$(( $(now_ms) + $1 * 1000 ))
  while :; do
    [ "$(q -c "$2" 2>/dev/null)" = t ] && return 0
    [ "$(now_ms)" -ge "$end" ] && return 1
    sleep 0.2
  done
}

# installed MARKER: true when the installed afp install script contains MARKER
installed() { grep -qs "$1" "$("$PGBIN/pg_config" --sharedir)"/extension/afp--*.sql; }
# install_if_missing MARKER: make install when the installed script lacks MARKER (unless AFP_PGBIN
# is set; log BASE.make.log); a failure ends the check
install_if_missing() {
  if [ -z "${AFP_PGBIN:-}" ] && ! installed "$1"; then
    make -s -C "$ROOT" install >"$BASE.make.log" 2>&1 || { fail "setup" "make install failed: $(tail -n 5 "$BASE.make.log")"; finish; }
  fi
}
# need_aiosmtpd: ends the check when Debian's python3-aiosmtpd is missing (the sourcing script sets PY)
need_aiosmtpd() { $PY -c 'import aiosmtpd' 2>/dev/null || { fail "setup" "python3-aiosmtpd missing (scripts/install-deps.sh)"; finish; }; }
# own DIR...: gives the directories to the cluster owner (postgres) when running as root
own() { if [ "$(id -u)" -eq 0 ]; then chown postgres: "$@"; fi; }

# start_pg [DIR [LOG]]: starts the server of DIR (default DATA) as the owner, log LOG (default
# LOGDIR/postgres.log); waits up to 60 s, false when it did not start
start_pg() { as_owner "$PGBIN/pg_ctl" start -D "${1:-$DATA}" -l "${2:-$LOGDIR/postgres.log}" -w -t 60 >/dev/null; }
# stop_pg [DIR...]: fast shutdown of those servers of the data directories (default DATA) that run
stop_pg() {
  local d
  for d in "${@:-$DATA}"; do
    if [ -f "$d/postmaster.pid" ]; then as_owner "$PGBIN/pg_ctl" stop -D "$d" -m fast -w -t 60 >/dev/null 2>&1; fi
  done
}

# start_bg VAR LOG CMD...: runs CMD (a sink, a simulator) in BASE in the background with its output
# in LOG and stores its pid in VAR
start_bg() { local _var=$1 _log=$2; shift 2; (cd "$BASE" && exec "$@" >"$_log" 2>&1) & printf -v "$_var" '%s' "$!"; }
# wait_files TENTHS FILE...: waits up to TENTHS tenths of a second until every FILE exists (the
# sinks and simulators write DIR/ready once they listen); false when one is still missing
wait_files() {
  local left=$1 f missing
  shift
  while :; do
    missing=""
    for f in "$@"; do [ -f "$f" ] || missing=1; done
    [ -z "$missing" ] && return 0
    [ "$left" -gt 0 ] || return 1
    left=$((left - 1))
    sleep 0.1
  done
}
# stop_pids VAR...: stops the background processes whose pids the named variables hold (one or
# more, space separated), waits for them and empties the variables
stop_pids() {
  local _v _p
  for _v in "$@"; do
    for _p in ${!_v}; do kill "$_p" 2>/dev/null && wait "$_p" 2>/dev/null; done
    printf -v "$_v" '%s' ""
  done
}

# push_keys [wrong]: keys for test/delivery/push_sim.js in KEYS: service account sa.pem/sa.pub
# (RSA 2048), APNs apns.p8/apns.pub (EC P-256, PKCS#8), TLS certificate tls.crt/tls.key for
# localhost; with "wrong" also sa-wrong.pem and apns-wrong.p8, keys the simulator does not know.
# Readable by the server (pg_read_file); log LOGDIR/openssl.log; a failure ends the check.
push_keys() {
  if ! { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$KEYS/sa.pem" &&
         openssl pkey -in "$KEYS/sa.pem" -pubout -out "$KEYS/sa.pub" &&
         openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$KEYS/apns.p8" &&
         openssl pkey -in "$KEYS/apns.p8" -pubout -out "$KEYS/apns.pub" &&
         openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
           -keyout "$KEYS/tls.key" -out "$KEYS/tls.crt" -subj /CN=localhost \
           -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" &&
         if [ "${1:-}" = wrong ]; then
           openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$KEYS/sa-wrong.pem" &&
           openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$KEYS/apns-wrong.p8"
         fi; } >"$LOGDIR/openssl.log" 2>&1; then
    fail "setup" "openssl: $(tail -n 5 "$LOGDIR/openssl.log")"; finish
  fi
  chmod 755 "$KEYS"; chmod 644 "$KEYS"/*
}
# push_sim_conf FILE: writes push_sim.js's configuration (FCM_PORT, APNS_PORT, the keys in KEYS)
push_sim_conf() {
  cat >"$1" <<EOF2
{"fcm_port": $FCM_PORT, "apns_port": $APNS_PORT,
 "client_email": "afp-sender@afp-test.iam.gserviceaccount.com", "sa_public_key": "$KEYS/sa.pub",
 "project_id": "afp-test", "apns_public_key": "$KEYS/apns.pub", "key_id": "KEY1234567",
 "team_id": "TEAM123456", "topic": "com.example.bank", "tls_cert": "$KEYS/tls.crt", "tls_key": "$KEYS/tls.key"}
EOF2
}

# base_conf PORT SOCKDIR: the settings every delivery check's server starts from (127.0.0.1:PORT,
# socket SOCKDIR, shared_preload_libraries 'afp', fsync off, afp.delivery_database 'afp',
# afp.poll_interval_ms 200); a later line of afp_test.conf overrides one of these
base_conf() {
  cat <<EOF2
listen_addresses = '127.0.0.1'
port = $1
unix_socket_directories = '$2'
shared_preload_libraries = 'afp'
fsync = off
synchronous_commit = off
max_connections = 30
log_line_prefix = '%m [%p] %q%u@%d '
afp.delivery_database = 'afp'
afp.poll_interval_ms = 200
EOF2
}

# start_cluster MARKER [DIR...] <<EOF (more afp_test.conf lines) EOF: the check's own PostgreSQL.
# Installs the extension first when the installed script lacks MARKER (unless AFP_PGBIN is set),
# stops what an earlier run left (stop_all, defined by the sourcing script), moves the old BASE
# aside (deleted in the background: a large one takes long), creates BASE with DATA, SOCK, LOGDIR,
# WORK and the DIRs, runs initdb, writes afp_test.conf (base_conf for PGPORT_D and SOCK, then the
# lines read from stdin, which may override base_conf's), starts the server and creates database
# afp. The sourcing script also sets ROOT, DATA, LOGDIR and WORK. A failure ends the check.
start_cluster() {
  local marker=$1
  shift
  install_if_missing "$marker"
  stop_all
  if [ -e "$BASE" ]; then mv "$BASE" "$BASE.old.$$" && { rm -rf "$BASE.old.$$" & }; fi
  mkdir -p "$DATA" "$SOCK" "$LOGDIR" "$WORK" "$@"
  own "$BASE" "$DATA" "$SOCK" "$LOGDIR"
  chmod 700 "$DATA"
  as_owner "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$LOGDIR/initdb.log" 2>&1 ||
    { fail "setup" "initdb failed: $(tail -n 5 "$LOGDIR/initdb.log")"; finish; }
  echo "include_if_exists = 'afp_test.conf'" | as_owner tee -a "$DATA/postgresql.conf" >/dev/null
  { base_conf "$PGPORT_D" "$SOCK"; cat; } | as_owner tee "$DATA/afp_test.conf" >/dev/null
  start_pg || { fail "setup" "server did not start: $(tail -n 20 "$LOGDIR/postgres.log")"; finish; }
  DB=postgres q -c "CREATE DATABASE afp" >/dev/null || { fail "setup" "create database"; finish; }
}
