#!/usr/bin/env bash
# 68-delivery-email-workers: several email workers per database (afp.email_workers = 3).
#  - its own PostgreSQL 15 (build/delivery-email-workers, port AFP_EW_PGPORT=54431,
#    shared_preload_libraries='afp', afp.delivery_database='afp', afp.email_workers=3) and
#    postfix's smtp-sink on 127.0.0.1:AFP_EW_SMTP_PORT=54432 counting what it accepts (these are
#    the ports of `make bench-delivery`: do not run both at once);
#  - 600 customers, one document with a bin/afp PDF each, one bulk dispatch;
#  - checks: three email workers run (1 of 3, 2 of 3, 3 of 3), every row sent, the sink counted
#    exactly 600 messages (no loss, no duplicate), all workers count into the email slot of
#    afp_delivery_workers(); a worker's lease release frees only its own share (id % 3) and the
#    freed rows are sent again while the others stay held; pg_terminate_backend of worker 2 ->
#    the launcher starts worker 2 again and three workers run.
set -uo pipefail
NAME=68-delivery-email-workers
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PGBIN=${AFP_PGBIN:-/usr/lib/postgresql/15/bin}
PGPORT_D=${AFP_EW_PGPORT:-54431}
SMTP_PORT=${AFP_EW_SMTP_PORT:-54432}
BASE=$ROOT/build/delivery-email-workers
DATA=$BASE/data SOCK=$BASE/sock LOGDIR=$BASE/log WORK=$BASE/work
N=600
SINK_PID=""

. "$ROOT/test/delivery/lib.sh"

stop_all() {
  [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null && wait "$SINK_PID" 2>/dev/null
  SINK_PID=""
  if [ -f "$DATA/postmaster.pid" ]; then as_owner "$PGBIN/pg_ctl" stop -D "$DATA" -m fast -w -t 60 >/dev/null 2>&1; fi
}
trap stop_all EXIT

# Messages smtp-sink has accepted so far (its -c counter).
sink_count() { tr '\r' '\n' <"$LOGDIR/sink.out" | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -n 1; }
# wait_sink SECONDS COUNT: waits until the sink has counted COUNT messages
wait_sink() { local end=$(( $(now_ms) + $1 * 1000 )); while :; do [ "$(sink_count)" = "$2" ] && return 0; [ "$(now_ms)" -ge "$end" ] && return 1; sleep 0.2; done; }

# ---------------------------------------------------------------- setup
command -v smtp-sink >/dev/null || { fail "setup" "postfix's smtp-sink missing (scripts/install-deps.sh)"; finish; }
SHAREDIR=$("$PGBIN/pg_config" --sharedir)
if [ -z "${AFP_PGBIN:-}" ] && ! grep -qs 'email_release_leases(p_workers' "$SHAREDIR"/extension/afp--*.sql; then
  make -s -C "$ROOT" install >"$BASE.make.log" 2>&1 || { fail "setup" "make install failed"; finish; }
fi
[ -x "$ROOT/bin/afp" ] || make -s -C "$ROOT" bin/afp >/dev/null 2>&1 || { fail "setup" "bin/afp"; finish; }
(exec 3<>"/dev/tcp/127.0.0.1/$SMTP_PORT") 2>/dev/null && { fail "setup" "port $SMTP_PORT in use"; finish; }

stop_all
rm -rf "$BASE"
mkdir -p "$DATA" "$SOCK" "$LOGDIR" "$WORK"
[ "$(id -u)" -eq 0 ] && chown postgres: "$BASE" "$DATA" "$SOCK" "$LOGDIR"
chmod 700 "$DATA"
as_owner "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$LOGDIR/initdb.log" 2>&1 ||
  { fail "setup" "initdb failed"; finish; }
echo "include_if_exists = 'afp_test.conf'" | as_owner tee -a "$DATA/postgresql.conf" >/dev/null
as_owner tee "$DATA/afp_test.conf" >/dev/null <<EOF
listen_addresses = '127.0.0.1'
port = $PGPORT_D
unix_socket_directories = '$SOCK'
shared_preload_libraries = 'afp'
fsync = off
log_line_prefix = '%m [%p] %q%u@%d '
afp.delivery_database = 'afp'
afp.email_workers = 3
afp.email_batch_size = 50
afp.email_concurrency = 4
afp.poll_interval_ms = 200
afp.max_attempts = 3
EOF
as_owner "$PGBIN/pg_ctl" start -D "$DATA" -l "$LOGDIR/postgres.log" -w -t 60 >/dev/null ||
  { fail "setup" "server did not start: $(tail -n 20 "$LOGDIR/postgres.log")"; finish; }
DB=postgres q -c "CREATE DATABASE afp" >/dev/null || { fail "setup" "create database"; finish; }

smtp-sink -c -4 -u nobody "127.0.0.1:$SMTP_PORT" 256 >"$LOGDIR/sink.out" 2>"$LOGDIR/sink.err" &
SINK_PID=$!
sink_up=""
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$SMTP_PORT") 2>/dev/null && { sink_up=1; break; }; sleep 0.1; done
[ -n "$sink_up" ] && kill -0 "$SINK_PID" 2>/dev/null || { fail "setup" "smtp-sink did not start: $(cat "$LOGDIR/sink.err")"; finish; }

"$ROOT/bin/afp" generate "$ROOT/examples/letter/template.json" "$ROOT/examples/letter/data.json" \
  -o "$WORK/letter.afp" --resources "$ROOT/examples/resources" >/dev/null 2>&1 &&
  "$ROOT/bin/afp" pdf "$WORK/letter.afp" "$WORK/letter.pdf" --options '{"fonts":"base14"}' --quiet ||
  { fail "setup" "bin/afp could not make the PDF"; finish; }

if ! q -v n="$N" -v pdfhex="$(od -An -v -tx1 "$WORK/letter.pdf" | tr -d ' \n')" \
     -v afphex="$(od -An -v -tx1 "$WORK/letter.afp" | tr -d ' \n')" -v smtp_port="$SMTP_PORT" \
     >"$LOGDIR/setup.log" 2>&1 <<'SQL'
CREATE EXTENSION afp;
INSERT INTO afp.providers (name, channel, kind, endpoint, config) VALUES
  ('sink', 'email', 'smtp', 'smtp://127.0.0.1:' || :'smtp_port', '{"from": "letters@insurer.example", "starttls": "none"}');
INSERT INTO afp.customers (external_id, name) SELECT 'c' || g, 'Customer ' || g FROM generate_series(1, :n) g;
INSERT INTO afp.contact_points (customer_id, channel, address, verified)
  SELECT id, 'email', external_id || '@example.test', true FROM afp.customers;
INSERT INTO afp.preferences (customer_id, channels, opt_in, consent_source) SELECT id, '{email}', true, 'test' FROM afp.customers;
INSERT INTO afp.documents (customer_id, document_type, afp, pdf)
  SELECT id, 'letter', decode(:'afphex', 'hex'), decode(:'pdfhex', 'hex') FROM afp.customers;
SQL
then fail "setup" "$(tail -n 5 "$LOGDIR/setup.log")"; finish; fi

# ---------------------------------------------------------------- three workers, one drain
wait_for 20 "SELECT count(*) = 3 FROM pg_stat_activity WHERE backend_type = 'afp email worker'" && pass ||
  fail "three email workers run" "$(q -c "SELECT backend_type FROM pg_stat_activity")"
for k in 1 2 3; do
  grep -q "afp email worker $k of 3 started" "$LOGDIR/postgres.log" && pass || fail "worker $k of 3 started (log)"
done

q -c "SELECT count(*) FROM afp_dispatch_bulk(ARRAY(SELECT id FROM afp.documents))" >/dev/null || fail "dispatch"
wait_for 120 "SELECT count(*) = $N FROM afp.outbox WHERE status = 'sent'" && pass ||
  fail "every row sent" "$(q -c "SELECT status, last_code, count(*) FROM afp.outbox GROUP BY 1, 2")"
wait_sink 10 "$N" && pass || fail "the sink counted exactly $N messages" "got: $(sink_count)"
expect "all workers count into the email slot" "$N" \
  "SELECT sent FROM afp_delivery_workers() WHERE role = 'email'"
expect "one attempt per message" "$N" \
  "SELECT count(*) FROM afp.delivery_events WHERE kind = 'attempt' AND outcome = 'sent'"

# ---------------------------------------------------------------- lease release per share
# 30 sent rows made 'sending' with an hour's lease (as if a worker held them); worker 2 of 3
# (share 1) releasing its leases frees only the rows with id % 3 = 1, which are then sent again
q -c "UPDATE afp.outbox SET status = 'sending', attempts = 1, locked_until = now() + interval '1 hour',
             next_attempt_at = now() + interval '1 hour'
       WHERE id IN (SELECT id FROM afp.outbox ORDER BY id LIMIT 30)" >/dev/null
share1=$(q -c "SELECT count(*) FROM afp.outbox WHERE status = 'sending' AND id % 3 = 1")
expect "release frees the share's leases only" "$share1" "SELECT afp.email_release_leases(3, 1)"
expect "other shares stay held" "$((30 - share1))" \
  "SELECT count(*) FROM afp.outbox WHERE status = 'sending' AND id % 3 <> 1 AND locked_until > now() + interval '50 minutes'"
wait_sink 30 "$((N + share1))" && pass || fail "the freed share is sent again" "sink: $(sink_count), expected $((N + share1))"
wait_for 20 "SELECT count(*) = 0 FROM afp.outbox WHERE status = 'sending' AND id % 3 = 1" && pass ||
  fail "the freed rows end sent" "$(q -c "SELECT status, count(*) FROM afp.outbox WHERE id % 3 = 1 GROUP BY 1")"
expect "held rows of other shares are not sent" "$((N + share1))" "SELECT $(sink_count)"
expect "the 5-argument claim takes only its share" "0" \
  "BEGIN; UPDATE afp.outbox SET status = 'queued', next_attempt_at = now(), locked_until = NULL WHERE status = 'sending';
   SELECT count(*) FROM afp.email_claim(100, '1 minute', 3, 3, 2) WHERE id % 3 <> 2; ROLLBACK"
q -c "UPDATE afp.outbox SET status = 'sent', locked_until = NULL WHERE status = 'sending'" >/dev/null

# ---------------------------------------------------------------- restart of one worker
pid2=$(grep "afp email worker 2 of 3 started" "$LOGDIR/postgres.log" | tail -n 1 | sed -n 's/.*\[\([0-9]*\)\].*/\1/p')
if [ -n "$pid2" ] && q -c "SELECT pg_terminate_backend($pid2)" >/dev/null; then
  end=$((SECONDS + 20))
  while [ $SECONDS -lt $end ]; do
    [ "$(grep -c "afp email worker 2 of 3 started" "$LOGDIR/postgres.log")" -ge 2 ] && break
    sleep 0.2
  done
  [ "$(grep -c "afp email worker 2 of 3 started" "$LOGDIR/postgres.log")" -ge 2 ] && pass ||
    fail "the launcher restarts worker 2"
  wait_for 20 "SELECT count(*) = 3 FROM pg_stat_activity WHERE backend_type = 'afp email worker'" && pass ||
    fail "three email workers again"
else
  fail "pg_terminate_backend of worker 2" "pid: ${pid2:-none}"
fi

finish
