#!/usr/bin/env bash
# 69-delivery-email-slow-server: the email worker against an SMTP server that takes its time to
# accept a message (as relays do that scan content or forward before they answer).
#  - its own PostgreSQL 15 (build/delivery-email-slow, port AFP_SLOW_PGPORT=54471,
#    shared_preload_libraries='afp', afp.delivery_database='afp', one email worker,
#    afp.email_concurrency = 16) and test/delivery/smtp_sink.py with --delay-ms 200 (every
#    message data answered after 200 ms) on AFP_SLOW_SMTP_PORT=54472;
#  - threaded engine (afp.email_threads = on, the default): 160 messages; every row sent, each
#    message exactly once at the server, the worker runs 16 SMTP threads besides its main thread,
#    and the drain takes a fraction of the 32 s one-at-a-time sending would take;
#  - the libcurl multi engine (afp.email_threads = off, reloaded): 30 more messages, all sent, the
#    threads are gone, and it is at least 3 times slower per message than the threads (libcurl's
#    SMTP waits for the reply to the data in a blocking loop that stalls the handle's other
#    transfers: one message per 200 ms);
#  - on again: SIGTERM of the worker while 16 transfers wait for their replies -> the launcher's
#    new worker sends them (nothing lost, nothing marked failed), and the server saw each message
#    at most twice with the same Message-ID (a reply lost with the connection).
set -uo pipefail
NAME=69-delivery-email-slow-server
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PGBIN=${AFP_PGBIN:-/usr/lib/postgresql/15/bin}
PGPORT_D=${AFP_SLOW_PGPORT:-54471}
SMTP_PORT=${AFP_SLOW_SMTP_PORT:-54472}
BASE=$ROOT/build/delivery-email-slow
DATA=$BASE/data SOCK=$BASE/sock LOGDIR=$BASE/log SINK=$BASE/sink WORK=$BASE/work
PY=/usr/bin/python3
SINK_PID=""
DELAY_MS=200

. "$ROOT/test/delivery/lib.sh"

stop_all() { stop_pids SINK_PID; stop_pg; }
trap stop_all EXIT

need_aiosmtpd
start_cluster afp_email_preview "$SINK" <<EOF2
afp.email_batch_size = 200
afp.email_concurrency = 16
afp.smtp_timeout_ms = 10000
afp.max_attempts = 5
EOF2
start_bg SINK_PID "$LOGDIR/sink.log" $PY "$ROOT/test/delivery/smtp_sink.py" "$SMTP_PORT" "$SINK" --delay-ms "$DELAY_MS"
wait_files 50 "$SINK/ready" || { fail "setup" "SMTP sink did not start: $(cat "$LOGDIR/sink.log")"; finish; }

# Messages the server has accepted (one .eml file each).
sink_count() { find "$SINK" -name '*.eml' | wc -l; }
# The email worker's pid (empty when none runs).
worker_pid() { q -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'afp email worker' LIMIT 1"; }
# Threads of process $1 (1 = only its main thread).
threads_of() { ls "/proc/$1/task" 2>/dev/null | wc -l; }
# dispatch_and_wait FIRST LAST SECONDS: dispatches documents FIRST..LAST (ids) and waits until
# they are sent; prints the seconds from the dispatch to the last sent_at ("" on timeout).
dispatch_and_wait() {
  local t0
  t0=$(q -c "SELECT clock_timestamp()")
  q -c "SELECT count(*) FROM afp_dispatch_bulk(ARRAY(SELECT id FROM afp.documents WHERE id BETWEEN $1 AND $2))" >/dev/null
  wait_for "$3" "SELECT count(*) = $(($2 - $1 + 1)) FROM afp.outbox WHERE document_id BETWEEN $1 AND $2 AND status = 'sent'" || return 1
  q -c "SELECT round(extract(epoch FROM max(sent_at) - '$t0'::timestamptz)::numeric, 3) FROM afp.outbox WHERE document_id BETWEEN $1 AND $2"
}

if ! q -v smtp_port="$SMTP_PORT" >"$WORK/setup.out" 2>&1 <<'SQL'
CREATE EXTENSION afp;
INSERT INTO afp.providers (name, channel, kind, endpoint, config) VALUES
  ('slow-relay', 'email', 'smtp', 'smtp://127.0.0.1:' || :'smtp_port',
   '{"from": "Bank <statements@bank.example>", "starttls": "none"}');
INSERT INTO afp.customers (external_id, name) SELECT 'c' || g, 'Customer ' || g FROM generate_series(1, 210) g;
INSERT INTO afp.contact_points (customer_id, channel, address, verified)
  SELECT id, 'email', external_id || '@example.test', true FROM afp.customers;
INSERT INTO afp.preferences (customer_id, channels, opt_in, consent_source)
  SELECT id, '{email}', true, 'test' FROM afp.customers;
INSERT INTO afp.documents (customer_id, document_type, afp)
  SELECT id, 'statement', '\x5a0008d3a8a80000'::bytea FROM afp.customers ORDER BY id;
SQL
then fail "setup SQL" "$(tail -n 20 "$WORK/setup.out")"; finish; fi
wait_for 20 "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'afp email worker'" ||
  { fail "setup" "no email worker: $(tail -n 20 "$LOGDIR/postgres.log")"; finish; }
ids=$(q -c "SELECT min(id) || ' ' || max(id) FROM afp.documents")
read -r first last <<<"$ids"

# ---------------------------------------------------------------- threads (the default)
expect "afp.email_threads is on by default" "on" "SHOW afp.email_threads"
secs_threads=$(dispatch_and_wait "$first" $((first + 159)) 60)
[ -n "$secs_threads" ] && pass || fail "threads: 160 messages sent" "$(q -c "SELECT status, last_code, count(*) FROM afp.outbox GROUP BY 1, 2")"
echo "threads: 160 messages, the server answering each after ${DELAY_MS} ms: ${secs_threads:-?} s"
awk -v s="${secs_threads:-999}" 'BEGIN{exit !(s < 12)}' && pass ||
  fail "threads: drained in well under the 32 s of one message at a time" "took ${secs_threads:-?} s"
sleep 0.5
expect "threads: each message exactly once at the server" "160" "SELECT $(sink_count)"
wpid=$(worker_pid)
expect "threads: the worker runs 16 SMTP threads besides its main thread" "17" "SELECT $(threads_of "$wpid")"
expect "threads: one attempt per message" "160" \
  "SELECT count(*) FROM afp.delivery_events WHERE kind = 'attempt' AND outcome = 'sent'"

# ---------------------------------------------------------------- the multi engine (off)
q -c "ALTER SYSTEM SET afp.email_threads = off" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
secs_multi=$(dispatch_and_wait $((first + 160)) $((first + 189)) 60)
[ -n "$secs_multi" ] && pass || fail "multi handle: 30 messages sent" "$(q -c "SELECT status, last_code, count(*) FROM afp.outbox GROUP BY 1, 2")"
echo "multi handle: 30 messages: ${secs_multi:-?} s"
awk -v t="${secs_threads:-999}" -v m="${secs_multi:-0}" 'BEGIN{exit !((m / 30) >= 3 * (t / 160))}' && pass ||
  fail "threads at least 3 times faster per message than one multi handle" "threads ${secs_threads:-?} s / 160, multi ${secs_multi:-?} s / 30"
sleep 0.5
expect "multi handle: each message exactly once at the server" "190" "SELECT $(sink_count)"
expect "multi handle: the threads are gone" "1" "SELECT $(threads_of "$(worker_pid)")"

# ---------------------------------------------------------------- SIGTERM with replies pending
q -c "ALTER SYSTEM RESET afp.email_threads" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
q -c "SELECT count(*) FROM afp_dispatch_bulk(ARRAY(SELECT id FROM afp.documents WHERE id BETWEEN $((first + 190)) AND $last))" >/dev/null
pid=""
for _ in $(seq 50); do
  pid=$(q -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'afp email worker' AND query LIKE '%sending%'")
  [ -n "$pid" ] && break
  sleep 0.05
done
sleep 0.1
[ -n "$pid" ] && q -c "SELECT pg_terminate_backend($pid)" >/dev/null
wait_for 30 "SELECT count(*) = 20 FROM afp.outbox WHERE document_id > $((first + 189)) AND status = 'sent'" && pass ||
  fail "SIGTERM: the new worker sends the rest" "$(q -c "SELECT status, last_code, attempts, count(*) FROM afp.outbox WHERE document_id > $((first + 189)) GROUP BY 1, 2, 3")"
grep -q "afp email worker.*stopping\|terminating background worker \"afp email worker\"" "$LOGDIR/postgres.log" && pass ||
  fail "SIGTERM: the worker stopped" "$(tail -n 10 "$LOGDIR/postgres.log")"
expect "SIGTERM: no row failed or died" "0" \
  "SELECT count(*) FROM afp.outbox WHERE status IN ('failed', 'dead') OR last_code IS NOT NULL"
sleep 0.5
dups=$($PY - "$SINK" <<'PYEOF'
import email, glob, sys, collections
ids = collections.Counter()
for f in glob.glob(sys.argv[1] + "/*.eml"):
    with open(f, "rb") as fh:
        ids[email.message_from_binary_file(fh)["Message-ID"]] += 1
print(len(ids), max(ids.values()))
PYEOF
)
read -r distinct most <<<"$dups"
expect "SIGTERM: every message at the server, by Message-ID" "210" "SELECT ${distinct:-0}"
[ "${most:-9}" -le 2 ] && pass || fail "SIGTERM: no message more than twice" "max copies: ${most:-?}"

finish
