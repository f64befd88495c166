#!/usr/bin/env bash
# bench/delivery.sh — `make bench-delivery`: email delivery throughput of the afp email worker
# against the no-op job throughput of graphile-worker and pg-boss on the same PostgreSQL.
#
#  1. builds and installs afp (make install; BENCH_NO_INSTALL=1 skips it), makes one small real
#     PDF with bin/afp (examples/letter, `afp generate` + `afp pdf` with the standard-14 fonts)
#     and installs graphile-worker 0.17.3 and pg-boss 10.4.2 from npm into build/bench-node
#     (bench/delivery/package.json);
#  2. starts its own PostgreSQL 15 (build/bench-delivery, port BENCH_PGPORT=54431,
#     shared_preload_libraries='afp', afp.delivery_database='afp') and postfix's smtp-sink on
#     127.0.0.1:BENCH_SMTP_PORT=54432 (`-c` counts the messages it accepted);
#  3. afp: BENCH_MESSAGES (100,000) customers with a verified email address and an opt-in, one
#     document each carrying the PDF, then one afp_dispatch_bulk() of all of them. The email
#     worker(s) drain the outbox to smtp-sink. msgs/s = messages / (max(sent_at) − T0) from
#     afp.outbox, T0 = the clock just before the dispatch transaction commits (the commit wakes
#     the workers, so T0 is at or before the first claim). Asserts: every row `sent`, and the sink
#     counted exactly as many messages;
#  4. graphile-worker and pg-boss (bench/delivery/peers.js), each in a database of its own on the
#     same server: BENCH_JOBS (= BENCH_MESSAGES) no-op jobs inserted in bulk, then processed with
#     batched settings (see the knobs below);
#  5. the sink's ceiling: postfix's own C client smtp-source sends BENCH_MESSAGES messages of the
#     same size to a fresh smtp-sink (workers x concurrency sessions, connections reused, no
#     database): the most any client can deliver to this sink on this machine;
#  6. prints the rates (medians of BENCH_RUNS runs), the ceiling, and last `ratio R` = afp msgs/s
#     over the better peer's jobs/s. Everything is stopped at exit. Log and data under
#     build/bench-delivery.
#
# Knobs (environment): BENCH_MESSAGES 100000, BENCH_JOBS, BENCH_RUNS 1, BENCH_PEERS
# ("graphile pgboss"; empty = afp only), BENCH_SKIP_AFP 0 (1 = peers only), BENCH_SKIP_CEILING 0,
# BENCH_EMAIL_BATCH 1000,
# BENCH_EMAIL_CONCURRENCY 8, BENCH_EMAIL_WORKERS 4 (afp.email_workers), BENCH_EMAIL_THREADS off
# (afp.email_threads: off = one libcurl multi handle per worker, cheaper against a sink that answers
# at once; on = the server default), BENCH_DKIM 0 (1 = sign every message),
# BENCH_PERF 0 (1 = perf record -a during the afp drain into build/bench-delivery/perf.data;
# strace = strace -c of the first email worker into build/bench-delivery/log/strace.txt),
# BENCH_PG_CONF (extra postgresql.conf lines, e.g. auto_explain settings),
# graphile-worker: GW_PROCS 4, GW_CONCURRENCY 16, GW_LOCAL_QUEUE 500, GW_COMPLETE_DELAY 0;
# pg-boss: BOSS_PROCS 2, BOSS_WORKERS 2, BOSS_BATCH 2000, BOSS_POOL 10 (the best of the settings
# tried, docs/BENCHMARKS.md).
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGBIN=${AFP_PGBIN:-/usr/lib/postgresql/15/bin}
PGPORT=${BENCH_PGPORT:-54431}
SMTP_PORT=${BENCH_SMTP_PORT:-54432}
N=${BENCH_MESSAGES:-100000}
JOBS=${BENCH_JOBS:-$N}
RUNS=${BENCH_RUNS:-1}
PEERS=${BENCH_PEERS-graphile pgboss}
EMAIL_BATCH=${BENCH_EMAIL_BATCH:-1000}
EMAIL_CONC=${BENCH_EMAIL_CONCURRENCY:-8}
EMAIL_WORKERS=${BENCH_EMAIL_WORKERS:-4}
# the sink answers at once: one libcurl multi handle per worker needs less CPU than a thread per
# transfer (afp.email_threads, the default for real servers, which take time to answer)
EMAIL_THREADS=${BENCH_EMAIL_THREADS:-off}
DKIM=${BENCH_DKIM:-0}
PERF=${BENCH_PERF:-0}
GW_PROCS=${GW_PROCS:-4} GW_CONC=${GW_CONCURRENCY:-16} GW_LQ=${GW_LOCAL_QUEUE:-500} GW_DELAY=${GW_COMPLETE_DELAY:-0}
BOSS_PROCS=${BOSS_PROCS:-2} BOSS_WORKERS=${BOSS_WORKERS:-2} BOSS_BATCH=${BOSS_BATCH:-2000} BOSS_POOL=${BOSS_POOL:-10}
BASE=$ROOT/build/bench-delivery
DATA=$BASE/data SOCK=$BASE/sock LOGDIR=$BASE/log WORK=$BASE/work
NODE_DIR=$ROOT/build/bench-node
SINK_PID=""

# Runs a command as the cluster owner (postgres when root: the server refuses root).
as_owner() { if [ "$(id -u)" -eq 0 ]; then (cd "$BASE" && runuser -u postgres -- "$@"); else (cd "$BASE" && "$@"); fi; }
# psql against the benchmark cluster (database afp unless DB is set).
q() { "$PGBIN/psql" -h "$SOCK" -p "$PGPORT" -U postgres -d "${DB:-afp}" -XAtq -v ON_ERROR_STOP=1 "$@"; }
# Prints a message and exits non-zero.
die() { echo "bench-delivery: $*" >&2; exit 1; }
# Median of the numbers given as arguments.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
# CPU seconds (user+system) a process has used so far.
cpu_s() { awk -v t="$(getconf CLK_TCK)" '{print ($14+$15)/t}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# Stops the sink and the server.
stop_sink() { [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null && wait "$SINK_PID" 2>/dev/null; SINK_PID=""; }
stop_all() {
  stop_sink
  if [ -f "$DATA/postmaster.pid" ]; then as_owner "$PGBIN/pg_ctl" stop -D "$DATA" -m fast -w -t 60 >/dev/null 2>&1; fi
}
trap stop_all EXIT

# Starts smtp-sink (-c: counts the messages it accepted) and waits until it accepts
# connections; refuses to start when something else listens on the port already.
start_sink() {
  stop_sink
  (exec 3<>"/dev/tcp/127.0.0.1/$SMTP_PORT") 2>/dev/null && die "port $SMTP_PORT is in use already"
  : >"$LOGDIR/sink.out"
  smtp-sink -c -4 -u nobody -m 1024 "127.0.0.1:$SMTP_PORT" 1024 >"$LOGDIR/sink.out" 2>"$LOGDIR/sink.err" &
  SINK_PID=$!
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$SMTP_PORT") 2>/dev/null && return 0
    sleep 0.1
  done
  die "smtp-sink did not start: $(cat "$LOGDIR/sink.err")"
}
# Messages the sink has accepted (its -c counter "mesg=N", updated when "." is received).
sink_count() { tr '\r' '\n' <"$LOGDIR/sink.out" | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -n 1; }

# ---------------------------------------------------------------- prerequisites
command -v smtp-sink >/dev/null || die "postfix's smtp-sink is missing (bash scripts/install-deps.sh)"
command -v node >/dev/null && command -v npm >/dev/null || die "node and npm are needed (Node 20)"
if [ "${BENCH_NO_INSTALL:-0}" != 1 ]; then
  make -s -C "$ROOT" >"$BASE.make.log" 2>&1 && make -s -C "$ROOT" install >>"$BASE.make.log" 2>&1 ||
    die "make install failed: $(grep -m5 'error' "$BASE.make.log")"
fi
[ -x "$ROOT/bin/afp" ] || die "bin/afp is missing (make)"

stop_all
rm -rf "$BASE"
mkdir -p "$DATA" "$SOCK" "$LOGDIR" "$WORK" "$NODE_DIR"
[ "$(id -u)" -eq 0 ] && chown postgres: "$BASE" "$DATA" "$SOCK" "$LOGDIR"
chmod 700 "$DATA"

# the attachment: one real PDF made by bin/afp from examples/letter
"$ROOT/bin/afp" generate "$ROOT/examples/letter/template.json" "$ROOT/examples/letter/data.json" \
  -o "$WORK/letter.afp" --resources "$ROOT/examples/resources" >/dev/null 2>&1 || die "afp generate failed"
"$ROOT/bin/afp" pdf "$WORK/letter.afp" "$WORK/letter.pdf" --options '{"fonts":"base14"}' --quiet || die "afp pdf failed"
if command -v qpdf >/dev/null; then qpdf --check "$WORK/letter.pdf" >/dev/null || die "the PDF does not pass qpdf --check"; fi
PDF_BYTES=$(stat -c %s "$WORK/letter.pdf")

# the peers, from npm
if [ -n "$PEERS" ]; then
  cp "$ROOT/bench/delivery/package.json" "$NODE_DIR/package.json"
  (cd "$NODE_DIR" && npm install --no-audit --no-fund --loglevel=error >"$LOGDIR/npm.log" 2>&1) ||
    die "npm install failed: $(tail -n 5 "$LOGDIR/npm.log")"
  GW_VERSION=$(node -p "require('$NODE_DIR/node_modules/graphile-worker/package.json').version")
  BOSS_VERSION=$(node -p "require('$NODE_DIR/node_modules/pg-boss/package.json').version")
fi

# ---------------------------------------------------------------- server
as_owner "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$LOGDIR/initdb.log" 2>&1 ||
  die "initdb failed: $(tail -n 5 "$LOGDIR/initdb.log")"
echo "include_if_exists = 'afp_bench.conf'" | as_owner tee -a "$DATA/postgresql.conf" >/dev/null
as_owner tee "$DATA/afp_bench.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $PGPORT
unix_socket_directories = '$SOCK'
shared_preload_libraries = 'afp'
max_connections = 100
max_worker_processes = 16
shared_buffers = 512MB
max_wal_size = 4GB
checkpoint_timeout = 30min
log_line_prefix = '%m [%p] %q%u@%d '
afp.delivery_database = 'afp'
afp.email_batch_size = $EMAIL_BATCH
afp.email_concurrency = $EMAIL_CONC
afp.email_workers = $EMAIL_WORKERS
afp.email_threads = $EMAIL_THREADS
afp.poll_interval_ms = 1000
afp.max_attempts = 3
afp.smtp_timeout_ms = 30000
${BENCH_PG_CONF:-}
EOF
as_owner "$PGBIN/pg_ctl" start -D "$DATA" -l "$LOGDIR/postgres.log" -w -t 60 >/dev/null ||
  die "server did not start: $(tail -n 20 "$LOGDIR/postgres.log")"
DB=postgres q -c "CREATE DATABASE afp" -c "CREATE DATABASE bench_graphile" -c "CREATE DATABASE bench_pgboss" >/dev/null ||
  die "create databases"
URL_BASE="postgres://postgres@127.0.0.1:$PGPORT"

# ---------------------------------------------------------------- afp data
if [ "${BENCH_SKIP_AFP:-0}" != 1 ]; then
openssl genrsa -out "$WORK/dkim.key" 2048 2>/dev/null || die "openssl genrsa"
PDFHEX=$(od -An -v -tx1 "$WORK/letter.pdf" | tr -d ' \n')
AFPHEX=$(od -An -v -tx1 "$WORK/letter.afp" | tr -d ' \n')
q -v n="$N" -v pdfhex="$PDFHEX" -v afphex="$AFPHEX" -v smtp_port="$SMTP_PORT" -v dkim="$DKIM" \
  -v dkim_key="$(cat "$WORK/dkim.key")" >"$LOGDIR/setup.log" 2>&1 <<'SQL' || die "setup failed: $(tail -n 5 "$LOGDIR/setup.log")"
CREATE EXTENSION afp;
INSERT INTO afp.providers (name, channel, kind, endpoint, config, secret) VALUES
  ('bench-smtp', 'email', 'smtp', 'smtp://127.0.0.1:' || :'smtp_port',
   '{"from": "Northwind Insurance <letters@insurer.example>", "starttls": "none",
     "unsubscribe_url": "https://insurer.example/unsubscribe?k={{key}}"}',
   CASE WHEN :'dkim' = '1' THEN jsonb_build_object('dkim_private_key', :'dkim_key', 'dkim_selector', 'bench',
                                                    'dkim_domain', 'insurer.example')
        ELSE '{}' END);
INSERT INTO afp.message_templates (document_type, channel, locale, subject, body_text, body_html) VALUES
  ('letter', 'email', 'en', 'Your policy letter {{index.Policy}}',
   E'Dear {{name}}\n\nPlease find your letter attached.\n', '<p>Dear {{name}}</p><p>Please find your letter attached.</p>');
INSERT INTO afp.customers (external_id, name)
  SELECT 'c' || g, 'Customer ' || g FROM generate_series(1, :n) g;
INSERT INTO afp.contact_points (customer_id, channel, address, verified)
  SELECT id, 'email', external_id || '@example.test', true FROM afp.customers;
INSERT INTO afp.preferences (customer_id, channels, opt_in, consent_source)
  SELECT id, '{email}', true, 'bench' FROM afp.customers;
INSERT INTO afp.documents (customer_id, document_type, afp, pdf, index)
  SELECT id, 'letter', decode(:'afphex', 'hex'), decode(:'pdfhex', 'hex'), jsonb_build_object('Policy', 'HOM-' || id)
    FROM afp.customers;
VACUUM ANALYZE afp.customers;
VACUUM ANALYZE afp.contact_points;
VACUUM ANALYZE afp.preferences;
VACUUM ANALYZE afp.documents;
SQL

# the email workers must be up (and idle) before the dispatch
for _ in $(seq 100); do
  [ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'afp email worker'")" -ge 1 ] && break
  sleep 0.1
done
[ "$(q -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'afp email worker'")" -ge 1 ] ||
  die "no email worker running: $(tail -n 20 "$LOGDIR/postgres.log")"
fi

# run_afp RUN: one drain; sets RUN_RATE, RUN_SECS, RUN_SINK_CPU, RUN_WORKER_CPU.
run_afp() {
  local run=$1 t0 left got sink0 sink1 sent0 wcpu0=0 wcpu1=0 pids p perf_pid="" sunk
  # outbox first: the workers lock it before delivery_events (a deadlock otherwise); retried
  for _ in 1 2 3; do q -c "TRUNCATE afp.outbox, afp.delivery_events" >/dev/null 2>&1 && break; sleep 1; done
  q -c "CHECKPOINT" >/dev/null
  start_sink
  pids=$(q -c "SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE backend_type = 'afp email worker'")
  for p in $pids; do wcpu0=$(awk -v a="$wcpu0" -v b="$(cpu_s "$p")" 'BEGIN{print a+b}'); done
  sink0=$(cpu_s "$SINK_PID")
  sent0=$(q -c "SELECT coalesce(sum(sent), 0) FROM afp_delivery_workers() WHERE role = 'email'")
  if [ "$PERF" = 1 ]; then
    perf record -F 499 -g -a -o "$BASE/perf.data" >"$LOGDIR/perf.log" 2>&1 &
    perf_pid=$!
    sleep 0.5
  elif [ "$PERF" = strace ]; then
    # system calls of the first email worker (slows it down; counts per message stay valid)
    strace -c -f -p "${pids%% *}" -o "$LOGDIR/strace.txt" 2>/dev/null &
    perf_pid=$!
    sleep 0.5
  fi
  # one bulk dispatch; T0 is read just before the commit that makes the rows visible and wakes
  # the workers
  t0=$(q <<'SQL' | tail -n 1
BEGIN;
SELECT count(*) FROM afp_dispatch_bulk(ARRAY(SELECT id FROM afp.documents ORDER BY id)) \g /dev/null
ANALYZE afp.outbox;
SELECT clock_timestamp();
COMMIT;
SQL
)
  [ -n "$t0" ] || die "dispatch failed"
  local end=$((SECONDS + 600))
  # wait for the workers' shared-memory counter (afp_delivery_workers: no table scan, so the
  # harness does not compete with the drain for the 2 cores), then check the outbox itself
  while :; do
    left=$(q -c "SELECT $N - (coalesce(sum(sent), 0) - $sent0) FROM afp_delivery_workers() WHERE role = 'email'")
    [ "$left" -le 0 ] && break
    [ $SECONDS -gt $end ] && die "run $run: $left messages not sent after 600 s"
    sleep 0.5
  done
  for _ in $(seq 100); do
    left=$(q -c "SELECT count(*) FROM afp.outbox WHERE channel = 'email' AND status IN ('queued', 'failed', 'sending')")
    [ "$left" = 0 ] && break
    sleep 0.2
  done
  if [ -n "$perf_pid" ]; then kill -INT "$perf_pid"; wait "$perf_pid" 2>/dev/null; fi
  sink1=$(cpu_s "$SINK_PID")
  for p in $pids; do wcpu1=$(awk -v a="$wcpu1" -v b="$(cpu_s "$p")" 'BEGIN{print a+b}'); done
  read -r RUN_SECS got <<<"$(echo "SELECT extract(epoch FROM max(sent_at) - :'t0'::timestamptz),
       count(*) FILTER (WHERE status = 'sent') FROM afp.outbox" | q -v t0="$t0" | tr '|' ' ')"
  [ "$got" = "$N" ] || die "run $run: $got of $N outbox rows sent: $(q -c "SELECT status, last_code, count(*) FROM afp.outbox GROUP BY 1, 2")
$(q -c "SELECT e.outbox_id, e.at, e.outcome, e.detail FROM afp.delivery_events e JOIN afp.outbox o ON o.id = e.outbox_id WHERE o.status <> 'sent' ORDER BY e.id LIMIT 20")"
  sleep 0.2
  sunk=$(sink_count)
  stop_sink
  [ "$sunk" = "$N" ] || die "run $run: smtp-sink counted ${sunk:-0} messages, expected $N"
  # the size of one message as sent (MIME with the base64 PDF), for the sink's ceiling below
  [ -n "${MSG_BYTES:-}" ] || MSG_BYTES=$(q -c "SELECT octet_length(afp_email_preview(min(id))) FROM afp.outbox")
  RUN_RATE=$(awk -v n="$N" -v s="$RUN_SECS" 'BEGIN{printf "%d", n/s}')
  RUN_SINK_CPU=$(awk -v a="$sink0" -v b="$sink1" 'BEGIN{printf "%.2f", b-a}')
  RUN_WORKER_CPU=$(awk -v a="$wcpu0" -v b="$wcpu1" 'BEGIN{printf "%.2f", b-a}')
}

echo "bench-delivery: $N emails with a $PDF_BYTES-byte PDF (examples/letter), $RUNS run(s);" \
     "afp.email_workers=$EMAIL_WORKERS afp.email_batch_size=$EMAIL_BATCH afp.email_concurrency=$EMAIL_CONC afp.email_threads=$EMAIL_THREADS dkim=$DKIM"
afp_rates=()
for r in $(seq "$RUNS"); do
  [ "${BENCH_SKIP_AFP:-0}" = 1 ] && break
  run_afp "$r"
  echo "  afp run $r: $N messages in ${RUN_SECS}s = $RUN_RATE msgs/s (smtp-sink CPU ${RUN_SINK_CPU}s, email worker CPU ${RUN_WORKER_CPU}s; all rows sent, sink counted $N)"
  afp_rates+=("$RUN_RATE")
done
AFP_RATE=$(median "${afp_rates[@]:-0}")

# ---------------------------------------------------------------- the sink's own ceiling
# How many messages of the same size smtp-sink takes per second from postfix's own C client
# (smtp-source: as many sessions as the afp workers have transfers, connections reused, no
# database at all): the most any client can deliver to this sink on this machine.
CEIL_SESSIONS=$((EMAIL_WORKERS * EMAIL_CONC))
ceil_rates=() bound_rates=()
if [ "${BENCH_SKIP_CEILING:-0}" != 1 ] && command -v smtp-source >/dev/null; then
  MSG_BYTES=${MSG_BYTES:-5000}
  for r in $(seq "$RUNS"); do
    start_sink
    c0=$(cpu_s "$SINK_PID")
    t0=$(date +%s.%N)
    smtp-source -4 -d -s "$CEIL_SESSIONS" -m "$N" -l "$MSG_BYTES" -f bench@insurer.example \
      -t customer@example.test "127.0.0.1:$SMTP_PORT" >"$LOGDIR/smtp-source.log" 2>&1 ||
      die "smtp-source failed: $(tail -n 3 "$LOGDIR/smtp-source.log")"
    t1=$(date +%s.%N)
    sleep 0.2
    c1=$(cpu_s "$SINK_PID")
    sunk=$(sink_count)
    stop_sink
    [ "$sunk" = "$N" ] || die "ceiling run $r: smtp-sink counted ${sunk:-0} messages, expected $N"
    rate=$(awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN{printf "%d", n/(b-a)}')
    # the sink's own bound: the rate at which one whole core would run smtp-sink alone
    bound=$(awk -v n="$N" -v a="$c0" -v b="$c1" 'BEGIN{printf "%d", (b>a) ? n/(b-a) : 0}')
    echo "  smtp-sink ceiling run $r: $N messages of $MSG_BYTES bytes from smtp-source ($CEIL_SESSIONS sessions) in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}')s = $rate msgs/s (smtp-sink CPU $(awk -v a="$c0" -v b="$c1" 'BEGIN{printf "%.2f", b-a}')s: $bound msgs per CPU second of the sink)"
    ceil_rates+=("$rate")
    bound_rates+=("$bound")
  done
fi
CEIL_RATE=$(median "${ceil_rates[@]:-0}")
SINK_BOUND=$(median "${bound_rates[@]:-0}")

# ---------------------------------------------------------------- peers
export NODE_PATH=$NODE_DIR/node_modules
GW_RATE="" BOSS_RATE=""
for peer in $PEERS; do
  rates=()
  for r in $(seq "$RUNS"); do
    # a fresh database per run: nothing left over from the previous run (pg-boss keeps
    # completed jobs, and its start/end times are read from the job table)
    DB=postgres q -c "DROP DATABASE IF EXISTS bench_$peer" -c "CREATE DATABASE bench_$peer" >/dev/null ||
      die "could not recreate database bench_$peer"
    q -c "CHECKPOINT" >/dev/null
    case $peer in
      graphile) line=$(node "$ROOT/bench/delivery/peers.js" graphile "$URL_BASE/bench_graphile" "$JOBS" "$GW_PROCS" "$GW_CONC" "$GW_LQ" "$GW_DELAY" 2>"$LOGDIR/graphile.err" | grep '^RESULT') ;;
      pgboss) line=$(node "$ROOT/bench/delivery/peers.js" pgboss "$URL_BASE/bench_pgboss" "$JOBS" "$BOSS_PROCS" "$BOSS_WORKERS" "$BOSS_BATCH" "$BOSS_POOL" 2>"$LOGDIR/pgboss.err" | grep '^RESULT') ;;
      *) die "unknown peer $peer" ;;
    esac
    [ -n "$line" ] || die "$peer run $r failed: $(tail -n 5 "$LOGDIR/$peer.err")"
    echo "  $peer run $r: ${line#RESULT }"
    rates+=("$(sed -n 's/.*jobs_per_s=\([0-9]*\).*/\1/p' <<<"$line")")
  done
  case $peer in
    graphile) GW_RATE=$(median "${rates[@]}") ;;
    pgboss) BOSS_RATE=$(median "${rates[@]}") ;;
  esac
done

# ---------------------------------------------------------------- summary
[ "${BENCH_SKIP_AFP:-0}" = 1 ] || echo "afp email worker: $AFP_RATE msgs/s (median of $RUNS; $N emails with PDF to smtp-sink)"
[ -n "$GW_RATE" ] && echo "graphile-worker $GW_VERSION: $GW_RATE no-op jobs/s (median of $RUNS; procs=$GW_PROCS concurrency=$GW_CONC localQueue=$GW_LQ completeJobBatchDelay=$GW_DELAY)"
[ -n "$BOSS_RATE" ] && echo "pg-boss $BOSS_VERSION: $BOSS_RATE no-op jobs/s (median of $RUNS; procs=$BOSS_PROCS work() loops per proc=$BOSS_WORKERS batchSize=$BOSS_BATCH pool max=$BOSS_POOL)"
[ "$CEIL_RATE" != 0 ] && echo "smtp-sink ceiling: $CEIL_RATE msgs/s (median of $RUNS; postfix smtp-source, $CEIL_SESSIONS sessions, same message size, no database); smtp-sink alone: $SINK_BOUND msgs per CPU second"
BEST=$(printf '%s\n' ${GW_RATE:-} ${BOSS_RATE:-} | sort -g | tail -n 1)
if [ -n "$BEST" ] && [ "$CEIL_RATE" != 0 ]; then
  awk -v c="$CEIL_RATE" -v k="$SINK_BOUND" -v b="$BEST" -v n="$(nproc)" 'BEGIN{printf "R >= 2 needs %d msgs/s: %.2f cores of smtp-sink alone (%d cores here); its ceiling here is %.2f x the best peer\n", 2*b, 2*b/k, n, c/b}'
fi
if [ -n "$BEST" ] && [ "${BENCH_SKIP_AFP:-0}" != 1 ]; then
  awk -v a="$AFP_RATE" -v b="$BEST" 'BEGIN{printf "ratio %.2f\n", a/b}'
fi
