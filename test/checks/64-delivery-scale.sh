#!/usr/bin/env bash
# 64-delivery-scale: acceptance run of issue 5 — 10,000 customers, one bulk dispatch, faults.
#  - starts its own PostgreSQL 15 (build/accept-scale, port AFP_SCALE_PGPORT=54401,
#    afp.delivery_database='afp'), the SMTP sink (test/delivery/smtp_sink.py, port 54406 or the next
#    free one up to 54420,
#    --fault-rate 0.2) and the SMS simulator (test/delivery/sms_sim.py, port 54407, --fault-rate 0.2:
#    3 % of the keys 429 + Retry-After 1-2 s, which pauses the provider for everyone, 17 % 500);
#  - test/delivery/scale_model.py generates 10,000 customers (AFP_SCALE_N) with mixed preferences
#    (email/sms/push orders, per-type rows), consent on/off, suppressions (active, expired, other
#    case), unverified and superseded contact points, 32 time zones; sms quiet hours 21:00-08:00
#    defer, push 21:00-08:00 fallback (without a push worker, verified push tokens only where push
#    is quiet, so no push row can be chosen); one afp_dispatch_bulk for all documents;
#  - waits until everything due is sent or dead, then scale_model.py check computes the expected
#    decision of every document on its own (Python zoneinfo, its own template renderer) and
#    compares: the rows, their payloads, next_attempt_at of deferred rows, final states, every
#    message at the right sink once with the right recipient and content, 20 % transient faults
#    (SMTP 451/452, HTTP 500/429 + Retry-After) retried and sent, Retry-After respected at the
#    simulator, permanent errors dead (+ hard_bounce suppression for 550 5.1.1) and followed by a
#    channel-fallback row on the customer's next usable channel (checked like dispatch).
set -uo pipefail
NAME=64-delivery-scale
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PGBIN=${AFP_PGBIN:-/usr/lib/postgresql/15/bin}
PGPORT_D=${AFP_SCALE_PGPORT:-54401}
PY=/usr/bin/python3
# sink and simulator ports: free ones of 54406-54420 unless given
PORTS=$($PY "$ROOT/test/delivery/free_ports.py" 4 54406 54420) || PORTS="54406 54407 54408 54409"
read -r p1 p2 p3 p4 <<<"$PORTS"
SMTP_PORT=${AFP_SCALE_SMTP_PORT:-$p1}
SIM_PORT=${AFP_SCALE_SIM_PORT:-$p2}
FCM_PORT=${AFP_SCALE_FCM_PORT:-$p3}
APNS_PORT=${AFP_SCALE_APNS_PORT:-$p4}
NODE=${AFP_NODE:-node}
N=${AFP_SCALE_N:-10000}
SEED=${AFP_SCALE_SEED:-$(date +%s)}
BASE=$ROOT/build/accept-scale
DATA=$BASE/data SOCK=$BASE/sock LOGDIR=$BASE/log SINK=$BASE/sink SIMDIR=$BASE/sim WORK=$BASE/work
SINK_PID="" SIM_PID="" PUSH_PID="" PUSHDIR=""

. "$ROOT/test/delivery/lib.sh"

stop_all() { stop_pids SINK_PID SIM_PID PUSH_PID; stop_pg; }
trap stop_all EXIT

# ---------------------------------------------------------------- setup
need_aiosmtpd
# small retry delays so that the run finishes in a few minutes; two attempts suffice for every
# injected fault, six leave room
start_cluster sms_claim "$SINK" "$SIMDIR" <<EOF2
afp.email_batch_size = 100
afp.email_concurrency = 8
afp.sms_batch_size = 100
afp.sms_concurrency = 16
afp.push_batch_size = 100
afp.push_concurrency = 16
afp.max_attempts = 6
afp.retry_base_ms = 200
afp.retry_max_ms = 1000
afp.smtp_timeout_ms = 10000
afp.http_timeout_ms = 10000
afp.failover_cooldown_ms = 2000
EOF2
own "$WORK"

start_bg SINK_PID "$LOGDIR/sink.log" $PY "$ROOT/test/delivery/smtp_sink.py" "$SMTP_PORT" "$SINK" --fault-rate 0.2
start_bg SIM_PID "$LOGDIR/sim.log" $PY "$ROOT/test/delivery/sms_sim.py" "$SIM_PORT" "$SIMDIR" --fault-rate 0.2 --rate-429 0.03
wait_files 50 "$SINK/ready" "$SIMDIR/ready"
[ -f "$SINK/ready" ] || { fail "setup" "SMTP sink did not start: $(cat "$LOGDIR/sink.log")"; finish; }
[ -f "$SIMDIR/ready" ] || { fail "setup" "SMS simulator did not start: $(cat "$LOGDIR/sim.log")"; finish; }

# push: with the push worker installed (and Node for test/delivery/push_sim.js), customers get
# push tokens too: FCM for android, APNs (HTTP/2, TLS) for ios, keys made here with openssl
if installed push_claim && command -v "$NODE" >/dev/null && [ -f "$ROOT/test/delivery/push_sim.js" ]; then
  PUSHDIR=$BASE/push KEYS=$BASE/keys
  mkdir -p "$PUSHDIR" "$KEYS"
  push_keys
  push_sim_conf "$WORK/push_sim.json"
  start_bg PUSH_PID "$LOGDIR/push_sim.log" "$NODE" "$ROOT/test/delivery/push_sim.js" "$WORK/push_sim.json" "$PUSHDIR"
  wait_files 50 "$PUSHDIR/ready" || { fail "setup" "push simulator did not start: $(cat "$LOGDIR/push_sim.log")"; finish; }
  export AFP_PUSH_WORKER=1
  echo "push: push worker installed; FCM simulator on $FCM_PORT, APNs on $APNS_PORT"
else
  echo "push: no push worker or no node: push tokens only where push falls back"
fi

# ---------------------------------------------------------------- data (generated, seed printed)
echo "seed $SEED (AFP_SCALE_SEED=$SEED reproduces the data), $N customers"
$PY "$ROOT/test/delivery/scale_model.py" gen "$WORK" "$N" "$SEED" || { fail "setup" "scale_model.py gen failed"; finish; }
[ "$(id -u)" -eq 0 ] && chown postgres: "$WORK"/*.csv
if ! q -v smtp_port="$SMTP_PORT" -v sim_port="$SIM_PORT" -v work="$WORK" -v fcm_port="$FCM_PORT" -v apns_port="$APNS_PORT" \
       -v keys="${KEYS:-}" -v push="$([ -n "$PUSHDIR" ] && echo true || echo false)" >"$WORK/setup.out" 2>&1 <<'SQL'
CREATE EXTENSION afp;
INSERT INTO afp.providers (name, channel, kind, endpoint, config) VALUES
  ('sink', 'email', 'smtp', 'smtp://127.0.0.1:' || :'smtp_port', '{"from": "Example Bank <statements@bank.example>"}');
INSERT INTO afp.providers (name, channel, kind, endpoint, config, secret) VALUES
  ('twsim', 'sms', 'http', 'http://127.0.0.1:' || :'sim_port' || '/2010-04-01', '{"from": "+15005550006"}',
   '{"account_sid": "ACtest", "auth_token": "sim-auth-token"}');
\if :push
INSERT INTO afp.providers (name, channel, kind, endpoint, config, secret) VALUES
  ('fcmsim', 'push', 'http', 'http://127.0.0.1:' || :'fcm_port', '{"service": "fcm"}',
   jsonb_build_object('service_account', jsonb_build_object(
       'type', 'service_account', 'project_id', 'afp-test',
       'client_email', 'afp-sender@afp-test.iam.gserviceaccount.com',
       'private_key', pg_read_file(:'keys' || '/sa.pem'),
       'token_uri', 'http://127.0.0.1:' || :'fcm_port' || '/token'))),
  ('apnssim', 'push', 'http', 'https://localhost:' || :'apns_port',
   jsonb_build_object('service', 'apns', 'topic', 'com.example.bank', 'ca_file', :'keys' || '/tls.crt'),
   jsonb_build_object('key_id', 'KEY1234567', 'team_id', 'TEAM123456', 'private_key', pg_read_file(:'keys' || '/apns.p8')));
\endif
UPDATE afp.quiet_hours SET starts_at = '21:00', ends_at = '08:00',
       action = CASE channel WHEN 'push' THEN 'fallback' ELSE 'defer' END;
INSERT INTO afp.message_templates (document_type, channel, locale, subject, body_text, body_html) VALUES
  ('*', 'email', 'de', 'Ihr {{document_type}} {{index.Month}} ist bereit', E'Hallo {{name}}\n\nKonto {{index.Account}}\n',
   '<p>Hallo {{name}}</p><p>Konto {{index.Account}}</p>'),
  ('*', 'sms', 'de', NULL, 'Ihr {{document_type}} ist da, Konto {{index.Account}}.', NULL);
BEGIN;
CREATE TABLE public.t_load AS SELECT now() AS t;
\set f :work '/customers.csv'
COPY afp.customers (id, external_id, name, locale, time_zone) FROM :'f' WITH (FORMAT csv);
\set f :work '/contacts.csv'
COPY afp.contact_points (id, customer_id, channel, address, platform, verified) FROM :'f' WITH (FORMAT csv);
\set f :work '/preferences.csv'
COPY afp.preferences (customer_id, document_type, channels, opt_in, consent_source) FROM :'f' WITH (FORMAT csv);
CREATE TEMP TABLE supp_in (channel text, address text, reason text, created_days int, expires_days int);
\set f :work '/suppressions.csv'
COPY supp_in FROM :'f' WITH (FORMAT csv);
INSERT INTO afp.suppressions (channel, address, reason, created_at, expires_at)
SELECT channel, address, reason, now() + created_days * interval '1 day', now() + expires_days * interval '1 day' FROM supp_in;
\set f :work '/documents.csv'
COPY afp.documents (id, customer_id, document_type, afp, pdf, index) FROM :'f' WITH (FORMAT csv);
SELECT setval('afp.customers_id_seq', (SELECT max(id) FROM afp.customers));
SELECT setval('afp.contact_points_id_seq', (SELECT max(id) FROM afp.contact_points));
SELECT setval('afp.documents_id_seq', (SELECT max(id) FROM afp.documents));
COMMIT;
ANALYZE;
SQL
then
  fail "setup SQL" "$(tail -n 20 "$WORK/setup.out")"; finish
fi
expect "customers loaded" "$N" "SELECT count(*) FROM afp.customers"

# ---------------------------------------------------------------- one bulk dispatch
T0=$(date +%s.%N)
if ! q >"$WORK/dispatch.out" 2>&1 <<'SQL'
BEGIN;
CREATE TABLE public.t0 AS SELECT now() AS t;
CREATE TABLE public.dispatched AS SELECT * FROM afp_dispatch_bulk(ARRAY(SELECT id FROM afp.documents ORDER BY id));
COMMIT;
SQL
then
  fail "afp_dispatch_bulk" "$(tail -n 10 "$WORK/dispatch.out")"; finish
fi
DISPATCH_S=$(echo "$(date +%s.%N) - $T0" | bc)
echo "dispatch: $(q -c "SELECT count(*) FROM public.dispatched") rows for $N documents in one afp_dispatch_bulk, $DISPATCH_S s"
pass

# ---------------------------------------------------------------- drain
DRAINED="SELECT NOT EXISTS (SELECT 1 FROM afp.outbox WHERE status IN ('sending', 'failed')
                               OR (status = 'queued' AND next_attempt_at <= now()))"
if wait_for 240 "$DRAINED"; then
  pass
  echo "drain: everything due sent or dead $(echo "$(date +%s.%N) - $T0" | bc) s after the dispatch started"
else
  fail "everything due drained within 240 s" "$(q -c "SELECT channel, status, count(*), max(last_error) FROM afp.outbox GROUP BY 1, 2")" \
    "$(grep -E 'afp|ERROR|FATAL' "$LOGDIR/postgres.log" | tail -n 10)"
fi

q -c "SELECT to_json(t) FROM public.t0" | tr -d '"' >"$WORK/t0"
q -c "SELECT to_json(t) FROM public.t_load" | tr -d '"' >"$WORK/t_load"
q -c "SELECT to_json(now())" | tr -d '"' >"$WORK/checked_at"
q -c "SELECT json_agg(to_jsonb(o) || jsonb_build_object('first_next_attempt_at', d.next_attempt_at))
      FROM afp.outbox o LEFT JOIN public.dispatched d ON d.id = o.id" >"$WORK/outbox.json"
q -c "SELECT coalesce(json_agg(s), '[]') FROM afp.suppressions s" >"$WORK/suppressions_after.json"

# ---------------------------------------------------------------- independent comparison
$PY "$ROOT/test/delivery/scale_model.py" check "$WORK" "$SINK" "$SIMDIR" $PUSHDIR >"$WORK/check.out" 2>&1
grep '^INFO' "$WORK/check.out" | sed 's/^INFO //'
while IFS= read -r line; do
  case "$line" in OK\ *) pass ;; FAIL\ *) fail "${line#FAIL }" ;; esac
done < <(grep -E '^(OK|FAIL) ' "$WORK/check.out")
grep -qE '^(OK|FAIL) ' "$WORK/check.out" || fail "scale_model.py check ran" "$(tail -n 20 "$WORK/check.out")"
grep -q Traceback "$WORK/check.out" && fail "scale_model.py check finished" "$(tail -n 10 "$WORK/check.out")"

# ---------------------------------------------------------------- bookkeeping in SQL
expect "outbox rows = dispatched rows + channel-fallback rows" "0" \
  "SELECT count(*) FROM afp.outbox o FULL JOIN public.dispatched d ON d.id = o.id WHERE o.id IS NULL OR (d.id IS NULL AND o.fallback_of IS NULL)"
expect "one 'sent' event per sent row" "0" \
  "SELECT count(*) FROM afp.outbox o WHERE status = 'sent'
      AND (SELECT count(*) FROM afp.delivery_events e WHERE e.outbox_id = o.id AND e.outcome = 'sent') <> 1"
expect "one event per attempt" "0" \
  "SELECT count(*) FROM afp.outbox o WHERE status IN ('sent', 'dead')
      AND (SELECT count(*) FROM afp.delivery_events e WHERE e.outbox_id = o.id AND e.kind = 'attempt'
                                                        AND e.outcome IN ('sent', 'retry', 'dead')) <> o.attempts"
expect "every retry event carries its next attempt time" "0" \
  "SELECT count(*) FROM afp.delivery_events WHERE outcome = 'retry' AND (detail->>'next_attempt_at') IS NULL"
expect "dead_letters = the dead rows, each with a reason" "t" \
  "SELECT (SELECT count(*) FROM afp.dead_letters) = (SELECT count(*) FROM afp.outbox WHERE status = 'dead' AND last_error <> '')
      AND (SELECT count(*) FROM afp.outbox WHERE status = 'dead') > 0"
expect "delivery_report adds up to the outbox" "t" \
  "SELECT sum(messages) = (SELECT count(*) FROM afp.outbox) FROM afp.delivery_report"
expect "afp_delivery_workers() counted every sent row" "t" \
  "SELECT sum(sent) = (SELECT count(*) FROM afp.outbox WHERE status = 'sent') FROM afp_delivery_workers() WHERE role IN ('email', 'sms', 'push')"
q -c "SELECT channel || ' ' || status || ': ' || count(*) || ' rows, ' || sum(attempts) || ' attempts' FROM afp.outbox GROUP BY channel, status ORDER BY 1" |
  sed 's/^/outbox: /'

if grep -qE 'PANIC|terminated by signal|TRAP' "$LOGDIR/postgres.log"; then
  fail "no crash in the server log" "$(grep -E 'PANIC|terminated by signal|TRAP' "$LOGDIR/postgres.log" | head -n 5)"
else pass; fi

finish
