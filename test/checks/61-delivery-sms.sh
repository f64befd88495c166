#!/usr/bin/env bash
# 61-delivery-sms: the SMS worker end to end, on a cluster of its own.
#  - starts its own PostgreSQL 15 (build/delivery-sms, port AFP_SMS_PGPORT=54371,
#    shared_preload_libraries='afp', afp.delivery_database='afp') and the Twilio-shaped provider
#    simulator (test/delivery/sms_sim.py, port AFP_SMS_SIM_PORT=54372);
#  - 40 customers preferring SMS outside quiet hours (scenario by the last digit of the number:
#    0/1 accepted, 2 429 + Retry-After: 2 once, 3 500 once, 4 400 21211) and 2 inside quiet hours,
#    one bulk dispatch; waits until the due rows drain;
#  - checks: every row sent (provider_message_id = the simulator's sid) or dead with the right
#    reason, quiet-hours rows untouched, Basic auth, Idempotency-Key, form fields, Retry-After
#    respected, one request per accepted message, status callbacks through afp_ingest_callback;
#  - provider error codes (Twilio's magic numbers): outcome code "400 <code>", the seeded rules
#    (suppression for invalid / unsubscribed / not mobile numbers), and the provider_fault flag of
#    afp.outcome_rules driving the circuit breaker (a From-number error fails over to another
#    provider only while its rule says provider_fault; the worker picks up rule changes at once).
set -uo pipefail
NAME=61-delivery-sms
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PGBIN=${AFP_PGBIN:-/usr/lib/postgresql/15/bin}
PGPORT_D=${AFP_SMS_PGPORT:-54371}
SIM_PORT=${AFP_SMS_SIM_PORT:-54372}
BASE=$ROOT/build/delivery-sms
DATA=$BASE/data SOCK=$BASE/sock LOGDIR=$BASE/log SIMDIR=$BASE/sim WORK=$BASE/work
PY=/usr/bin/python3
SIM_PID=""

. "$ROOT/test/delivery/lib.sh"

stop_all() { stop_pids SIM_PID; stop_pg; }
trap stop_all EXIT

# ---------------------------------------------------------------- setup
start_cluster sms_claim "$SIMDIR" <<EOF2
afp.sms_batch_size = 10
afp.sms_concurrency = 4
afp.max_attempts = 5
afp.retry_base_ms = 300
afp.retry_max_ms = 1000
afp.http_timeout_ms = 5000
EOF2

start_bg SIM_PID "$LOGDIR/sim.log" $PY "$ROOT/test/delivery/sms_sim.py" "$SIM_PORT" "$SIMDIR"
wait_files 50 "$SIMDIR/ready" || { fail "setup" "simulator did not start: $(cat "$LOGDIR/sim.log")"; finish; }

# ---------------------------------------------------------------- data
# Quiet hours around "now" in local time: customers in UTC are inside them, customers in
# Etc/GMT-6 (UTC+6) outside. Scenario by the number's last digit (see sms_sim.py).
if ! q -v sim_port="$SIM_PORT" >"$WORK/setup.out" 2>&1 <<'SQL'
CREATE EXTENSION afp;
INSERT INTO afp.providers (name, channel, kind, endpoint, config, secret) VALUES
  ('twsim', 'sms', 'http', 'http://127.0.0.1:' || :'sim_port' || '/2010-04-01',
   '{"from": "+15005550006", "status_callback_url": "https://hooks.example.test/afp/sms-status"}',
   '{"account_sid": "ACtest", "auth_token": "sim-auth-token"}');
UPDATE afp.quiet_hours SET starts_at = (now() AT TIME ZONE 'UTC')::time - interval '1 hour',
                           ends_at = (now() AT TIME ZONE 'UTC')::time + interval '1 hour', action = 'defer'
 WHERE channel = 'sms';
INSERT INTO afp.customers (external_id, name, time_zone)
SELECT 'sms' || lpad(g::text, 2, '0'), 'SMS ' || g, CASE WHEN g <= 40 THEN 'Etc/GMT-6' ELSE 'UTC' END
  FROM generate_series(1, 42) g;
INSERT INTO afp.contact_points (customer_id, channel, address, verified)
SELECT id, 'sms', '+1555' || lpad(substr(external_id, 4), 6, '0') || CASE WHEN substr(external_id, 4)::int <= 40
                                                                       THEN (substr(external_id, 4)::int % 5)::text ELSE '1' END, true
  FROM afp.customers;
INSERT INTO afp.preferences (customer_id, channels, opt_in, consent_source)
SELECT id, '{sms,email}', true, 'test' FROM afp.customers;
INSERT INTO afp.documents (customer_id, document_type, afp) SELECT id, 'statement', '\x5a'::bytea FROM afp.customers;
CREATE TABLE public.dispatched AS SELECT * FROM afp_dispatch_bulk(ARRAY(SELECT id FROM afp.documents ORDER BY id));
SQL
then
  fail "setup SQL" "$(tail -n 20 "$WORK/setup.out")"; finish
fi
pass

expect "bulk dispatch: 42 sms rows" "42" "SELECT count(*) FROM public.dispatched WHERE channel = 'sms'"
expect "quiet-hours rows deferred by about an hour" "2" \
  "SELECT count(*) FROM afp.outbox WHERE next_attempt_at BETWEEN now() + interval '55 min' AND now() + interval '65 min'"

# ---------------------------------------------------------------- drain
if wait_for 60 "SELECT count(*) = 0 FROM afp.outbox WHERE channel = 'sms' AND next_attempt_at < now() + interval '10 min' AND status NOT IN ('sent', 'dead')"; then
  pass
else
  fail "due sms rows drained within 60 s" "$(q -c "SELECT status, count(*), max(last_error) FROM afp.outbox GROUP BY 1")" \
    "$(grep -E 'afp|ERROR|FATAL' "$LOGDIR/postgres.log" | tail -n 10)"
fi
DIGIT="right(recipient, 1)"
expect "every due row sent or dead with a reason" "0" \
  "SELECT count(*) FROM afp.outbox o JOIN afp.customers c ON c.id = o.customer_id WHERE c.time_zone <> 'UTC'
      AND NOT (status = 'sent' OR (status = 'dead' AND last_error <> ''))"
expect "accepted (0/1), after 429 (2), after 500 (3): sent" "32" \
  "SELECT count(*) FROM afp.outbox WHERE status = 'sent' AND $DIGIT IN ('0', '1', '2', '3') AND next_attempt_at < now() + interval '10 min'"
expect "400 21211 -> dead at once, code with the provider's error code, reason kept, number suppressed" "8|8|8|8" \
  "SELECT count(*) FILTER (WHERE status = 'dead' AND last_code = '400 21211' AND attempts = 1) || '|' ||
          count(*) FILTER (WHERE last_error LIKE 'HTTP 400: %21211%') || '|' ||
          count(*) FILTER (WHERE status = 'dead') || '|' ||
          (SELECT count(*) FROM afp.suppressions s WHERE s.channel = 'sms' AND s.reason = 'hard_bounce' AND s.detail LIKE '400 21211: %'
              AND s.address IN (SELECT recipient FROM afp.outbox WHERE $DIGIT = '4')) FROM afp.outbox WHERE $DIGIT = '4'"
expect "provider_message_id = the simulator's sid" "0" \
  "SELECT count(*) FROM afp.outbox WHERE status = 'sent' AND provider_message_id IS DISTINCT FROM 'SM' || md5(idempotency_key)"
expect "429 and 500 rows took two attempts" "16" \
  "SELECT count(*) FROM afp.outbox WHERE $DIGIT IN ('2', '3') AND attempts = 2 AND status = 'sent'"
expect "429 recorded as retry with its next attempt >= Retry-After" "8" \
  "SELECT count(*) FROM afp.delivery_events e JOIN afp.outbox o ON o.id = e.outbox_id
    WHERE $DIGIT = '2' AND e.outcome = 'retry' AND e.detail->>'code' = '429 20429'
      AND (e.detail->>'next_attempt_at')::timestamptz >= e.at + interval '2 s'"
expect "quiet-hours rows untouched" "queued|0|2" \
  "SELECT string_agg(DISTINCT status, ',') || '|' || sum(attempts) || '|' || count(*) FROM afp.outbox o
     JOIN afp.customers c ON c.id = o.customer_id WHERE c.time_zone = 'UTC'"
expect "afp_delivery_workers(): sms worker counted 32 sent" "t|32" \
  "SELECT CASE WHEN pid IS NOT NULL THEN 't' ELSE 'f' END || '|' || sent FROM afp_delivery_workers() WHERE role = 'sms'"
expect "sms worker visible in pg_stat_activity" "1" \
  "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'afp sms worker' AND application_name = 'afp sms worker' AND datname = 'afp'"

# ---------------------------------------------------------------- what the provider received
q -c "COPY (SELECT idempotency_key, recipient, payload->>'text', status, attempts FROM afp.outbox) TO STDOUT WITH (FORMAT csv)" >"$WORK/outbox.csv"
$PY - "$SIMDIR/requests.jsonl" "$WORK/outbox.csv" >"$WORK/sim-checks.out" 2>&1 <<'PYEOF'
import base64, csv, json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
rows = {r[0]: r for r in csv.reader(open(sys.argv[2]))}
def check(name, ok, detail=""):
    print(("OK " if ok else "FAIL ") + name + ("" if ok else " :: " + str(detail)[:300]))
auth = "Basic " + base64.b64encode(b"ACtest:sim-auth-token").decode()
check("Basic auth on every request", all(r["auth"] == auth for r in reqs), [r["auth"] for r in reqs][:3])
check("Idempotency-Key = an outbox idempotency key", all(r["key"] in rows for r in reqs), [r["key"] for r in reqs][:3])
check("path /2010-04-01/Accounts/ACtest/Messages.json",
      all(r["path"] == "/2010-04-01/Accounts/ACtest/Messages.json" for r in reqs), {r["path"] for r in reqs})
check("form-encoded POST", all((r["ctype"] or "").startswith("application/x-www-form-urlencoded") for r in reqs))
bad = [r for r in reqs if r["key"] in rows and (r["form"].get("To") != rows[r["key"]][1] or
       r["form"].get("Body") != rows[r["key"]][2] or r["form"].get("From") != "+15005550006" or
       r["form"].get("StatusCallback") != "https://hooks.example.test/afp/sms-status")]
check("To, From, Body, StatusCallback as in the outbox", not bad, bad[:2])
by_key = {}
for r in reqs:
    by_key.setdefault(r["key"], []).append(r)
per = {d: [len(by_key.get(k, [])) for k, row in rows.items() if row[1].endswith(d) and row[3] != "queued"] for d in "01234"}
check("one request per accepted message", per["0"] + per["1"] == [1] * 16, per["0"] + per["1"])
check("429 and 500 rows: two requests each", per["2"] + per["3"] == [2] * 16, per["2"] + per["3"])
check("400 rows: one request each", per["4"] == [1] * 8, per["4"])
gaps = [round(v[1]["t"] - v[0]["t"], 3) for k, v in by_key.items() if rows[k][1].endswith("2") and len(v) == 2]
check("Retry-After respected (>= 2 s between attempts)", len(gaps) == 8 and min(gaps) >= 2.0, gaps)
check("no request for quiet-hours rows", all(rows[r["key"]][3] != "queued" for r in reqs))
PYEOF
while IFS= read -r line; do
  case "$line" in OK\ *) pass ;; FAIL\ *) fail "${line#FAIL }" ;; *) fail "simulator check" "$line" ;; esac
done <"$WORK/sim-checks.out"

# ---------------------------------------------------------------- status callbacks
# signatures computed here with Python's hmac, checked by afp_ingest_callback (OpenSSL)
callback() {  # KEY STATUS ERRORCODE -> outcome|status
  local sid body sig
  sid="SM$(printf '%s' "$1" | md5sum | cut -c1-32)"
  body="MessageSid=$sid&MessageStatus=$2&AccountSid=ACtest${3:+&ErrorCode=$3}"
  sig=$($PY -c 'import sys, hmac, hashlib, base64
from urllib.parse import parse_qsl
p = dict(parse_qsl(sys.argv[1]))
s = sys.argv[2] + "".join(k + p[k] for k in sorted(p))
print(base64.b64encode(hmac.new(b"sim-auth-token", s.encode(), hashlib.sha1).digest()).decode())' "$body" "https://hooks.example.test/afp/sms-status")
  q -c "SELECT outcome || '|' || coalesce(status, '') FROM afp_ingest_callback('twsim', '$body', '$sig')" 2>&1
}
K1=$(q -c "SELECT min(idempotency_key) FROM afp.outbox WHERE status = 'sent' AND right(recipient, 1) = '1'")
K2=$(q -c "SELECT max(idempotency_key) FROM afp.outbox WHERE status = 'sent' AND right(recipient, 1) = '1'")
got=$(callback "$K1" delivered ""); [ "$got" = "delivered|sent" ] && pass || fail "delivered callback accepted" "got: $got"
got=$(callback "$K2" undelivered 30005); [ "$got" = "undelivered|dead" ] && pass || fail "undelivered callback -> dead" "got: $got"
expect "undelivered 30005 -> hard_bounce suppression" "1" \
  "SELECT count(*) FROM afp.suppressions s JOIN afp.outbox o ON o.recipient = s.address WHERE o.idempotency_key = '$K2' AND s.reason = 'hard_bounce'"
got=$(q -c "SELECT * FROM afp_ingest_callback('twsim', 'MessageSid=SMx&MessageStatus=delivered', 'bogus')" 2>&1)
case "$got" in *"invalid X-Twilio-Signature"*) pass ;; *) fail "bad signature rejected" "got: $got" ;; esac

# ---------------------------------------------------------------- provider error codes
# Twilio's magic To numbers (sms_sim.py): the outcome code carries the provider's error code and
# the seeded rules classify it (no email contact point: no channel fallback here).
q -c "INSERT INTO afp.customers (external_id, name, time_zone)
        SELECT 'magic' || n, 'Magic ' || n, 'Etc/GMT-6' FROM unnest('{1,2,3,4,9}'::int[]) n;
      INSERT INTO afp.contact_points (customer_id, channel, address, verified)
        SELECT id, 'sms', '+1500555000' || substr(external_id, 6), true FROM afp.customers WHERE external_id LIKE 'magic%';
      INSERT INTO afp.preferences (customer_id, channels, opt_in, consent_source)
        SELECT id, '{sms,email}', true, 'test' FROM afp.customers WHERE external_id LIKE 'magic%';
      INSERT INTO afp.documents (customer_id, document_type, afp)
        SELECT id, 'statement', '\\x5a' FROM afp.customers WHERE external_id LIKE 'magic%';
      SELECT count(*) FROM afp_dispatch_bulk(ARRAY(SELECT d.id FROM afp.documents d JOIN afp.customers c ON c.id = d.customer_id
                                                   WHERE c.external_id LIKE 'magic%'));" >/dev/null
MAGIC="SELECT o.recipient, o.status, o.last_code FROM afp.outbox o JOIN afp.customers c ON c.id = o.customer_id WHERE c.external_id LIKE 'magic%'"
if wait_for 20 "SELECT count(*) = 5 FROM ($MAGIC) m WHERE status = 'dead'"; then pass; else
  fail "magic numbers: five rows dead within 20 s" "$(q -c "$MAGIC")"; fi
expect "magic numbers: outcome code = status + Twilio code, one attempt each" \
  "+15005550001 400 21211,+15005550002 400 21612,+15005550003 400 21408,+15005550004 400 21610,+15005550009 400 21614" \
  "SELECT string_agg(o.recipient || ' ' || o.last_code, ',' ORDER BY o.recipient) FROM afp.outbox o JOIN afp.customers c ON c.id = o.customer_id
    WHERE c.external_id LIKE 'magic%' AND o.attempts = 1 AND o.last_error LIKE 'HTTP 400: %'"
expect "magic numbers: invalid, unsubscribed and non-mobile numbers suppressed; unroutable and region errors not" \
  "+15005550001,+15005550004,+15005550009" \
  "SELECT string_agg(address, ',' ORDER BY address) FROM afp.suppressions WHERE channel = 'sms' AND address LIKE '+1500555000%'"
expect "magic numbers: each attempt event names the seeded Twilio rule (priority 1035-1038)" "5" \
  "SELECT count(*) FROM afp.delivery_events e JOIN afp.outbox o ON o.id = e.outbox_id JOIN afp.customers c ON c.id = o.customer_id
     JOIN afp.outcome_rules r ON r.id = (e.detail->>'rule')::int
    WHERE c.external_id LIKE 'magic%' AND e.kind = 'attempt' AND r.builtin AND r.priority BETWEEN 1035 AND 1038"

# provider faults from data: provider twbad (preferred, priority 0) sends From +15005550007, which
# the simulator refuses with 400 21606 (seeded rule: transient, provider_fault). Threshold 2.
#  1. rule's provider_fault cleared: a message fails 5 times at twbad, the circuit stays closed;
#  2. flag set again (the running worker reloads the rules): the circuit opens, the messages fail
#     over to twsim and are sent there.
q -c "ALTER SYSTEM SET afp.failover_threshold = 2" -c "ALTER SYSTEM SET afp.failover_cooldown_ms = 60000" -c "SELECT pg_reload_conf()" \
  -c "UPDATE afp.outcome_rules SET provider_fault = false WHERE builtin AND pattern = '^4\d\d (20003|21212|21606|21659)\$';
      INSERT INTO afp.providers (name, channel, kind, endpoint, config, secret, priority)
        SELECT 'twbad', 'sms', 'http', endpoint, '{\"from\": \"+15005550007\"}', secret, 0 FROM afp.providers WHERE name = 'twsim';
      INSERT INTO afp.customers (external_id, name, time_zone)
        SELECT 'flt' || g, 'Fault ' || g, 'Etc/GMT-6' FROM generate_series(1, 4) g;
      INSERT INTO afp.contact_points (customer_id, channel, address, verified)
        SELECT id, 'sms', '+155577700' || substr(external_id, 4) || '1', true FROM afp.customers WHERE external_id LIKE 'flt%';
      INSERT INTO afp.preferences (customer_id, channels, opt_in, consent_source)
        SELECT id, '{sms}', true, 'test' FROM afp.customers WHERE external_id LIKE 'flt%';
      INSERT INTO afp.documents (customer_id, document_type, afp)
        SELECT id, 'statement', '\\x5a' FROM afp.customers WHERE external_id LIKE 'flt%';" >/dev/null
sleep 0.5   # the reload reaches the worker
q -c "SELECT count(*) FROM afp_dispatch_bulk(ARRAY(SELECT d.id FROM afp.documents d JOIN afp.customers c ON c.id = d.customer_id
                                                   WHERE c.external_id = 'flt1'))" >/dev/null
FLT="FROM afp.outbox o JOIN afp.customers c ON c.id = o.customer_id WHERE c.external_id LIKE 'flt%'"
if wait_for 30 "SELECT count(*) = 1 $FLT AND o.status = 'dead'"; then pass; else
  fail "fault flag off: the message gives up within 30 s" "$(q -c "SELECT o.status, o.attempts, o.provider, o.last_code $FLT")"; fi
expect "fault flag off: 5 attempts at twbad with 400 21606, circuit never opened" "dead|5|twbad|400 21606|closed|0" \
  "SELECT o.status || '|' || o.attempts || '|' || o.provider || '|' || o.last_code || '|' ||
          (SELECT circuit || '|' || trips FROM afp_provider_status() WHERE provider = 'twbad') $FLT"
q -c "UPDATE afp.outcome_rules SET provider_fault = true WHERE builtin AND pattern = '^4\d\d (20003|21212|21606|21659)\$';
      SELECT count(*) FROM afp_dispatch_bulk(ARRAY(SELECT d.id FROM afp.documents d JOIN afp.customers c ON c.id = d.customer_id
                                                   WHERE c.external_id IN ('flt2', 'flt3', 'flt4')))" >/dev/null
if wait_for 30 "SELECT count(*) = 3 $FLT AND o.status = 'sent'"; then pass; else
  fail "fault flag on: the three messages sent within 30 s" "$(q -c "SELECT o.status, o.attempts, o.provider, o.last_code $FLT")"; fi
expect "fault flag on: twbad's circuit opened, the messages failed over to twsim" "open|1|3" \
  "SELECT (SELECT circuit || '|' || trips FROM afp_provider_status() WHERE provider = 'twbad') || '|' ||
          count(*) FILTER (WHERE o.status = 'sent' AND o.provider = 'twsim') $FLT AND c.external_id <> 'flt1'"
expect "fault flag on: at most 2 + concurrency - 1 requests reached twbad after the flag was set" "t" \
  "SELECT count(*) BETWEEN 2 AND 5 FROM afp.delivery_events e JOIN afp.outbox o ON o.id = e.outbox_id JOIN afp.customers c ON c.id = o.customer_id
    WHERE c.external_id IN ('flt2', 'flt3', 'flt4') AND e.kind = 'attempt' AND e.detail->>'provider' = 'twbad' AND e.detail->>'code' = '400 21606'"
q -c "UPDATE afp.providers SET enabled = false WHERE name = 'twbad'; SELECT afp_provider_reset('twbad')" \
  -c "ALTER SYSTEM RESET afp.failover_threshold" -c "ALTER SYSTEM RESET afp.failover_cooldown_ms" -c "SELECT pg_reload_conf()" >/dev/null

# ---------------------------------------------------------------- interrupts
# a stalled provider (number ending in 9): pg_cancel_backend aborts the transfer within a second,
# the row goes back to the queue without counting the attempt and is sent on the next claim
q -c "INSERT INTO afp.customers (external_id, name, time_zone) VALUES ('slow', 'Slow', 'Etc/GMT-6');
      INSERT INTO afp.contact_points (customer_id, channel, address, verified)
        SELECT id, 'sms', '+15559999999', true FROM afp.customers WHERE external_id = 'slow';
      INSERT INTO afp.preferences (customer_id, channels, opt_in, consent_source) SELECT id, '{sms}', true, 'test' FROM afp.customers WHERE external_id = 'slow';
      INSERT INTO afp.documents (customer_id, document_type, afp) SELECT id, 'statement', '\\x5a' FROM afp.customers WHERE external_id = 'slow';
      SELECT count(*) FROM afp_dispatch_bulk(ARRAY(SELECT max(id) FROM afp.documents));" >/dev/null
end=$((SECONDS + 10))
while [ $SECONDS -lt $end ] && ! grep -q '"stalled"' "$SIMDIR/requests.jsonl"; do sleep 0.1; done
if grep -q '"stalled"' "$SIMDIR/requests.jsonl"; then
  pass
  SMS_PID=$(q -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'afp sms worker'")
  t0=$(date +%s.%N)
  q -c "SELECT pg_cancel_backend($SMS_PID)" >/dev/null
  if wait_for 5 "SELECT count(*) > 0 FROM afp.delivery_events e JOIN afp.outbox o ON o.id = e.outbox_id WHERE o.recipient = '+15559999999' AND e.outcome = 'aborted'"; then
    dt=$(echo "$(date +%s.%N) - $t0" | bc)
    if [ "$(echo "$dt < 1.0" | bc)" = 1 ]; then pass; else fail "cancel aborts the stalled transfer within 1 s" "took $dt s"; fi
    echo "cancel: transfer aborted and recorded $dt s after pg_cancel_backend"
  else
    fail "cancel aborts the stalled transfer" "$(q -c "SELECT status, attempts FROM afp.outbox WHERE recipient = '+15559999999'")"
  fi
  if wait_for 15 "SELECT status = 'sent' AND attempts = 1 FROM afp.outbox WHERE recipient = '+15559999999'"; then pass; else
    fail "canceled message sent later, the aborted attempt not counted" "$(q -c "SELECT status, attempts, last_error FROM afp.outbox WHERE recipient = '+15559999999'")"; fi
  expect "worker survives a cancel" "$SMS_PID" "SELECT pid FROM pg_stat_activity WHERE backend_type = 'afp sms worker'"
else
  fail "stalled request reached the simulator"
fi

# SIGTERM (pg_terminate_backend): the worker exits, the launcher starts a new one
OLD_PID=$(q -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'afp sms worker'")
q -c "SELECT pg_terminate_backend($OLD_PID)" >/dev/null
if wait_for 15 "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'afp sms worker' AND pid <> $OLD_PID"; then pass; else
  fail "launcher restarts the sms worker after pg_terminate_backend"; fi

if grep -qE 'PANIC|server process .* was terminated|TRAP' "$LOGDIR/postgres.log"; then
  fail "no crash in the server log" "$(grep -E 'PANIC|terminated|TRAP' "$LOGDIR/postgres.log" | head -n 5)"
else pass; fi

finish
