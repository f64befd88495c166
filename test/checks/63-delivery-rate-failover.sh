#!/usr/bin/env bash
# 63-delivery-rate-failover: per-provider rate limits, provider-wide 429 pauses, provider failover
# (circuit breaker) and channel fallback, end to end on a cluster of its own.
#  - own PostgreSQL 15 (build/delivery-rate, port AFP_RATE_PGPORT=54391, shared_preload_libraries
#    'afp', afp.delivery_database 'afp', afp.failover_threshold 3, afp.failover_cooldown_ms 4000);
#  - SMS simulators (test/delivery/sms_sim.py): 54392 primary "sms-a" (first answering 500 to
#    everything, later healthy), 54393 secondary "sms-b", 54396 "rate-sms" (rate_per_sec 5, burst 2,
#    Retry-After 3 on its 429 scenario); SMTP sinks (test/delivery/smtp_sink.py): 54394 primary
#    "mail-a" (not listening at first), 54395 secondary "mail-b";
#  - checks: the send rate measured at the simulator never exceeds rate_per_sec + burst over any
#    window (also across batches, with rows given back when the wait is too long; SMS and email);
#    a 429 pauses the whole provider until Retry-After; failover to the secondary while the primary is down (SMS: 500,
#    email: connection refused), the provider tried recorded in the outbox and the events; back to
#    the primary after the cool-down and a successful probe; an email batch mixing a rate-limited
#    provider's rows with another provider's rows (those are not held up); a permanent SMS failure
#    (400 21211 invalid number) falls back to email (new outbox row linked by fallback_of), delivered to the sink.
set -uo pipefail
NAME=63-delivery-rate-failover
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PGBIN=${AFP_PGBIN:-/usr/lib/postgresql/15/bin}
PGPORT_D=${AFP_RATE_PGPORT:-54391}
SIM_A_PORT=54392 SIM_B_PORT=54393 SMTP_A_PORT=54394 SMTP_B_PORT=54395 SIM_C_PORT=54396
BASE=$ROOT/build/delivery-rate
DATA=$BASE/data SOCK=$BASE/sock LOGDIR=$BASE/log WORK=$BASE/work
PY=/usr/bin/python3
PIDS=()
SIM_A_PID="" SMTP_A_PID=""
RATE=5 BURST=2 COOLDOWN_MS=4000

. "$ROOT/test/delivery/lib.sh"

stop_all() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
  PIDS=()
  stop_pg
}
trap stop_all EXIT

# start_sim PORT DIR [OPTIONS...]: starts an SMS simulator; its pid in LAST_PID
start_sim() {
  local port=$1 dir=$2; shift 2
  mkdir -p "$dir"; rm -f "$dir/ready"
  (cd "$BASE" && exec $PY "$ROOT/test/delivery/sms_sim.py" "$port" "$dir" "$@" >>"$LOGDIR/sim-$port.log" 2>&1) &
  LAST_PID=$!; PIDS+=("$LAST_PID")
  for _ in $(seq 50); do [ -f "$dir/ready" ] && return 0; sleep 0.1; done
  fail "setup" "simulator on $port did not start: $(tail -n 5 "$LOGDIR/sim-$port.log")"; finish
}
# start_sink PORT DIR: starts an SMTP sink; its pid in LAST_PID
start_sink() {
  local port=$1 dir=$2
  mkdir -p "$dir"; rm -f "$dir/ready"
  (cd "$BASE" && exec $PY "$ROOT/test/delivery/smtp_sink.py" "$port" "$dir" >>"$LOGDIR/sink-$port.log" 2>&1) &
  LAST_PID=$!; PIDS+=("$LAST_PID")
  for _ in $(seq 50); do [ -f "$dir/ready" ] && return 0; sleep 0.1; done
  fail "setup" "SMTP sink on $port did not start: $(tail -n 5 "$LOGDIR/sink-$port.log")"; finish
}
# stop_pid PID: stops one component started here
stop_pid() { kill "$1" 2>/dev/null && wait "$1" 2>/dev/null; }
# dispatch SQL-CONDITION: the query dispatching the documents of the customers matching the condition
dispatch() { echo "SELECT count(*) FROM afp_dispatch_bulk(ARRAY(SELECT d.id FROM afp.documents d JOIN afp.customers c ON c.id = d.customer_id WHERE $1 ORDER BY d.id))"; }
# drained SQL-CONDITION: true when every outbox row of those customers is sent or dead
drained() { echo "SELECT count(*) = 0 FROM afp.outbox o JOIN afp.customers c ON c.id = o.customer_id WHERE ($1) AND o.status NOT IN ('sent', 'dead')"; }
# wait_cooldown PROVIDER: sleeps until the provider's cool-down has ended
wait_cooldown() {
  local ms
  ms=$(q -c "SELECT coalesce(ceil(extract(epoch FROM down_until - now()) * 1000), 0)::int FROM afp_provider_status() WHERE provider = '$1'")
  [ -n "$ms" ] && [ "$ms" -gt 0 ] && sleep "$(awk -v m="$ms" 'BEGIN { printf "%.2f", m / 1000 + 0.3 }')"
  return 0
}

# ---------------------------------------------------------------- setup
start_cluster outbox_fallback <<EOF2
afp.sms_batch_size = 50
afp.sms_concurrency = 8
afp.email_batch_size = 20
afp.email_concurrency = 4
afp.max_attempts = 30
afp.retry_base_ms = 300
afp.retry_max_ms = 1000
afp.http_timeout_ms = 5000
afp.smtp_timeout_ms = 5000
afp.failover_threshold = 3
afp.failover_cooldown_ms = $COOLDOWN_MS
afp.rate_max_wait_ms = 2500
EOF2

start_sim $SIM_C_PORT "$BASE/sim-c" --retry-after 3
start_sim $SIM_A_PORT "$BASE/sim-a-down" --status-all 500; SIM_A_PID=$LAST_PID
start_sim $SIM_B_PORT "$BASE/sim-b"
start_sink $SMTP_B_PORT "$BASE/sink-b"
# mail-a (54394) is not listening yet

# Customers by group: r rate (30), p pause (p00 gets the 429, p01-p10), f sms failover (20),
# g sms back on the primary (10), e email failover (10), h email back on the primary (5),
# x fallback sms -> email (x01-x06 invalid number; x07 also, its email suppressed).
if ! q -v a="$SIM_A_PORT" -v b="$SIM_B_PORT" -v c="$SIM_C_PORT" -v ma="$SMTP_A_PORT" -v mb="$SMTP_B_PORT" \
       -v rate="$RATE" -v burst="$BURST" >"$WORK/setup.out" 2>&1 <<'SQL'
CREATE EXTENSION afp;
DELETE FROM afp.quiet_hours;
INSERT INTO afp.providers (name, channel, kind, endpoint, config, secret, priority, enabled, rate_per_sec, rate_burst) VALUES
  ('rate-sms', 'sms', 'http', 'http://127.0.0.1:' || :'c' || '/2010-04-01', '{"from": "+15005550006"}',
   '{"account_sid": "ACtest", "auth_token": "sim-auth-token"}', 1, true, :'rate', :'burst'),
  ('sms-a', 'sms', 'http', 'http://127.0.0.1:' || :'a' || '/2010-04-01', '{"from": "+15005550006"}',
   '{"account_sid": "ACtest", "auth_token": "sim-auth-token"}', 10, false, NULL, NULL),
  ('sms-b', 'sms', 'http', 'http://127.0.0.1:' || :'b' || '/2010-04-01', '{"from": "+15005550006"}',
   '{"account_sid": "ACtest", "auth_token": "sim-auth-token"}', 20, false, NULL, NULL),
  ('mail-a', 'email', 'smtp', 'smtp://127.0.0.1:' || :'ma', '{"from": "Bank <noreply@bank.example>", "starttls": "none"}', '{}', 10, true, NULL, NULL),
  ('mail-b', 'email', 'smtp', 'smtp://127.0.0.1:' || :'mb', '{"from": "Bank <noreply@bank.example>", "starttls": "none"}', '{}', 20, true, NULL, NULL);
INSERT INTO afp.customers (external_id, name, time_zone)
SELECT k, 'Customer ' || k, 'UTC'
  FROM (SELECT 'r' || lpad(g::text, 2, '0') FROM generate_series(1, 30) g
        UNION ALL SELECT 'p' || lpad(g::text, 2, '0') FROM generate_series(0, 10) g
        UNION ALL SELECT 'f' || lpad(g::text, 2, '0') FROM generate_series(1, 20) g
        UNION ALL SELECT 'g' || lpad(g::text, 2, '0') FROM generate_series(1, 10) g
        UNION ALL SELECT 'e' || lpad(g::text, 2, '0') FROM generate_series(1, 10) g
        UNION ALL SELECT 'h' || lpad(g::text, 2, '0') FROM generate_series(1, 5) g
        UNION ALL SELECT 'x' || lpad(g::text, 2, '0') FROM generate_series(1, 7) g) AS v(k);
-- numbers: +1555 <group digit> <4 digits> <scenario digit: 0 ok, 2 429 once, 4 400 invalid>
INSERT INTO afp.contact_points (customer_id, channel, address, verified)
SELECT id, 'sms', '+1555' || strpos('rpfgehx', left(external_id, 1)) || lpad(substr(external_id, 2), 4, '0')
                  || CASE WHEN external_id = 'p00' THEN '2' WHEN external_id LIKE 'x%' THEN '4' ELSE '0' END, true
  FROM afp.customers;
INSERT INTO afp.contact_points (customer_id, channel, address, verified)
SELECT id, 'email', external_id || '@example.test', true FROM afp.customers;
INSERT INTO afp.suppressions (channel, address, reason) VALUES ('email', 'x07@example.test', 'manual');
INSERT INTO afp.preferences (customer_id, channels, opt_in, consent_source)
SELECT id, CASE WHEN external_id ~ '^[eh]' THEN '{email}' WHEN external_id ~ '^x' THEN '{sms,email}' ELSE '{sms}' END::text[],
       true, 'test' FROM afp.customers;
INSERT INTO afp.documents (customer_id, document_type, afp) SELECT id, 'statement', '\x5a'::bytea FROM afp.customers;
SQL
then
  fail "setup SQL" "$(tail -n 20 "$WORK/setup.out")"; finish
fi
pass

# ---------------------------------------------------------------- 1. rate limit
# 30 messages through rate-sms (5/s, burst 2). afp.rate_max_wait_ms = 2500 makes the worker give
# rows back to the queue mid-batch, so the limit must also hold across batches.
expect "rate: 30 rows dispatched" "30" "$(dispatch "c.external_id LIKE 'r%'")"
if wait_for 40 "$(drained "c.external_id LIKE 'r%'")"; then pass; else
  fail "rate: drained within 40 s" "$(q -c "SELECT status, count(*) FROM afp.outbox GROUP BY 1")"; fi
expect "rate: all 30 sent through rate-sms" "30" \
  "SELECT count(*) FROM afp.outbox o JOIN afp.customers c ON c.id = o.customer_id WHERE c.external_id LIKE 'r%' AND o.status = 'sent' AND o.provider = 'rate-sms'"
expect "rate: rows given back mid-batch (deferred, attempt not counted)" "true|true" \
  "SELECT (count(*) > 0)::text || '|' || bool_and(o.attempts = 1)::text FROM afp.delivery_events e JOIN afp.outbox o ON o.id = e.outbox_id
    WHERE e.outcome = 'deferred' AND e.detail->>'provider' = 'rate-sms'"
$PY - "$BASE/sim-c/requests.jsonl" "$RATE" "$BURST" >"$WORK/rate.out" 2>&1 <<'PYEOF'
import json, sys
reqs = sorted(json.loads(l)["t"] for l in open(sys.argv[1]))
rate, burst = float(sys.argv[2]), float(sys.argv[3])
n = len(reqs)
# token bucket bound: any k consecutive requests span at least (k - burst) / rate seconds
# (100 ms allowance for the time between taking the token and the request's arrival: a new
# connection, the simulator's threads on a busy machine)
worst = max(((j - i + 1) - (burst + rate * (reqs[j] - reqs[i] + 0.1)), i, j)
            for i in range(n) for j in range(i, n))
win = max(sum(1 for u in reqs if t <= u < t + 1.0) for t in reqs)
span = reqs[-1] - reqs[0]
print("MEASURE requests %d over %.2f s: %.2f msgs/s (limit %.1f/s, burst %d), max in any 1 s window %d"
      % (n, span, (n - 1) / span if span > 0 else 0, rate, burst, win))
print(("OK" if n == 30 else "FAIL") + " rate: one request per message at the simulator (%d)" % n)
print(("OK" if worst[0] <= 0 else "FAIL") + " rate: never more than burst + rate x (window + 0.1 s) (worst excess %.2f, requests %d..%d)" % worst)
print(("OK" if win <= rate + burst else "FAIL") + " rate: at most rate + burst = %d in any 1 s window (%d)" % (rate + burst, win))
print(("OK" if span >= (n - burst) / rate - 0.1 else "FAIL") + " rate: 30 messages took >= (30 - burst) / rate s (%.2f)" % span)
PYEOF
while IFS= read -r line; do
  case "$line" in OK\ *) pass ;; FAIL\ *) fail "${line#FAIL }" ;; MEASURE\ *) echo "  ${line#MEASURE }" ;; *) fail "rate check" "$line" ;; esac
done <"$WORK/rate.out"

# ---------------------------------------------------------------- 2. provider-wide pause after 429
# p00's number answers 429 with Retry-After: 3; the ten messages dispatched right after it must
# wait for the end of the pause although tokens are available.
expect "pause: p00 dispatched" "1" "$(dispatch "c.external_id = 'p00'")"
T429=""
for _ in $(seq 100); do
  T429=$($PY -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("status") == 429: print(r["t"]); break' "$BASE/sim-c/requests.jsonl" 2>/dev/null)
  [ -n "$T429" ] && break; sleep 0.1
done
TDISP=$(date +%s.%N)
expect "pause: p01-p10 dispatched" "10" "$(dispatch "c.external_id ~ '^p(0[1-9]|10)$'")"
if [ -n "$T429" ] && awk -v a="$TDISP" -v b="$T429" 'BEGIN { exit !(a - b < 2.0) }'; then pass; else
  fail "pause: the 429 was seen and the others dispatched within 2 s of it" "t429=$T429 dispatch=$TDISP"; fi
if wait_for 30 "$(drained "c.external_id LIKE 'p%'")"; then pass; else
  fail "pause: drained within 30 s" "$(q -c "SELECT status, count(*) FROM afp.outbox GROUP BY 1")"; fi
expect "pause: all 11 sent" "11" \
  "SELECT count(*) FROM afp.outbox o JOIN afp.customers c ON c.id = o.customer_id WHERE c.external_id LIKE 'p%' AND o.status = 'sent'"
$PY - "$BASE/sim-c/requests.jsonl" "${T429:-0}" >"$WORK/pause.out" 2>&1 <<'PYEOF'
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
t429 = float(sys.argv[2])
after = sorted(r["t"] for r in reqs if r["t"] > t429)
first = after[0] - t429 if after else -1
print("MEASURE first request after the 429 came %.2f s later (Retry-After: 3); %d requests after it" % (first, len(after)))
print(("OK" if len(after) == 11 else "FAIL") + " pause: 10 messages and the retried one after the 429 (%d)" % len(after))
print(("OK" if first >= 2.9 else "FAIL") + " pause: no request to the provider until Retry-After passed (%.2f s)" % first)
PYEOF
while IFS= read -r line; do
  case "$line" in OK\ *) pass ;; FAIL\ *) fail "${line#FAIL }" ;; MEASURE\ *) echo "  ${line#MEASURE }" ;; *) fail "pause check" "$line" ;; esac
done <"$WORK/pause.out"
expect "pause: recorded in shared memory" "t" "SELECT pauses >= 1 FROM afp_provider_status() WHERE provider = 'rate-sms'"

# ---------------------------------------------------------------- 3. failover to the secondary
# sms-a answers 500 to everything, mail-a does not listen: after 3 consecutive faults each is
# marked down and the rest of the messages go to sms-b / mail-b. Transfers admitted before the
# third fault came back still go out: at most concurrency + threshold - 1 reach the primary.
q -c "UPDATE afp.providers SET enabled = (name IN ('sms-a', 'sms-b')) WHERE channel = 'sms'" >/dev/null
expect "failover: 20 sms + 10 email dispatched, to the primaries" "email:mail-a:10,sms:sms-a:20" \
  "SELECT string_agg(x, ',' ORDER BY x) FROM (SELECT channel || ':' || provider || ':' || count(*) AS x
     FROM afp_dispatch_bulk(ARRAY(SELECT d.id FROM afp.documents d JOIN afp.customers c ON c.id = d.customer_id
                                   WHERE c.external_id ~ '^[fe]')) GROUP BY channel, provider) s"
if wait_for 40 "$(drained "c.external_id ~ '^[fe]'")"; then pass; else
  fail "failover: drained within 40 s" "$(q -c "SELECT channel, status, provider, count(*), max(last_error) FROM afp.outbox GROUP BY 1, 2, 3")" \
    "$(grep -E 'afp' "$LOGDIR/postgres.log" | tail -n 10)"; fi
expect "failover: every sms sent through sms-b" "20" \
  "SELECT count(*) FROM afp.outbox o JOIN afp.customers c ON c.id = o.customer_id WHERE c.external_id LIKE 'f%' AND o.status = 'sent' AND o.provider = 'sms-b'"
expect "failover: every email sent through mail-b" "10" \
  "SELECT count(*) FROM afp.outbox o JOIN afp.customers c ON c.id = o.customer_id WHERE c.external_id LIKE 'e%' AND o.status = 'sent' AND o.provider = 'mail-b'"
expect "failover: attempts on the primaries recorded with their provider and code" "true|true" \
  "SELECT (count(*) FILTER (WHERE e.detail->>'provider' = 'sms-a' AND e.detail->>'code' = '500' AND e.outcome = 'retry') BETWEEN 3 AND 10)::text || '|' ||
          (count(*) FILTER (WHERE e.detail->>'provider' = 'mail-a' AND e.detail->>'code' LIKE 'curl:%' AND e.outcome = 'retry') BETWEEN 3 AND 6)::text
     FROM afp.delivery_events e"
expect "failover: the rows that failed on a primary were sent by the secondary" "0" \
  "SELECT count(*) FROM afp.outbox o WHERE o.provider NOT IN ('sms-b', 'mail-b') AND o.id IN
     (SELECT outbox_id FROM afp.delivery_events WHERE detail->>'provider' IN ('sms-a', 'mail-a'))"
expect "failover: circuits of the primaries open, secondaries closed" "mail-a:open,mail-b:closed,sms-a:open,sms-b:closed" \
  "SELECT string_agg(provider || ':' || circuit, ',' ORDER BY provider) FROM afp_provider_status() WHERE provider IN ('sms-a', 'sms-b', 'mail-a', 'mail-b')"
NA=$(wc -l <"$BASE/sim-a-down/requests.jsonl")
if [ "$NA" -ge 3 ] && [ "$NA" -le 10 ]; then pass; else fail "failover: sms-a got between 3 and 10 requests (threshold 3, concurrency 8)" "got $NA"; fi
NB=$(ls "$BASE/sink-b"/*.json 2>/dev/null | wc -l)
if [ "$NB" = 10 ]; then pass; else fail "failover: mail-b's sink received the 10 emails" "got $NB"; fi
if grep -q 'provider "sms-a" marked down' "$LOGDIR/postgres.log" && grep -q 'provider "mail-a" marked down' "$LOGDIR/postgres.log"; then pass; else
  fail "failover: logged" "$(grep -E 'marked down' "$LOGDIR/postgres.log" | tail -n 3)"; fi

# ---------------------------------------------------------------- 3b. back to the primaries
stop_pid "$SIM_A_PID"
start_sim $SIM_A_PORT "$BASE/sim-a-up"
start_sink $SMTP_A_PORT "$BASE/sink-a"
# the email worker's rate limit too: mail-a 2/s, burst 1
q -c "UPDATE afp.providers SET rate_per_sec = 2, rate_burst = 1 WHERE name = 'mail-a'" >/dev/null
wait_cooldown sms-a; wait_cooldown mail-a
expect "recovery: 10 sms + 5 email dispatched to the primaries" "sms-a:10|mail-a:5" \
  "SELECT (SELECT min(provider) || ':' || count(*) FROM afp_dispatch_bulk(ARRAY(SELECT d.id FROM afp.documents d JOIN afp.customers c ON c.id = d.customer_id WHERE c.external_id LIKE 'g%'))) || '|' ||
          (SELECT min(provider) || ':' || count(*) FROM afp_dispatch_bulk(ARRAY(SELECT d.id FROM afp.documents d JOIN afp.customers c ON c.id = d.customer_id WHERE c.external_id LIKE 'h%')))"
if wait_for 30 "$(drained "c.external_id ~ '^[gh]'")"; then pass; else
  fail "recovery: drained within 30 s" "$(q -c "SELECT channel, status, provider, count(*), max(last_error) FROM afp.outbox WHERE status <> 'sent' GROUP BY 1, 2, 3")"; fi
expect "recovery: sent through the primaries" "10|5" \
  "SELECT count(*) FILTER (WHERE c.external_id LIKE 'g%' AND o.provider = 'sms-a' AND o.status = 'sent') || '|' ||
          count(*) FILTER (WHERE c.external_id LIKE 'h%' AND o.provider = 'mail-a' AND o.status = 'sent')
     FROM afp.outbox o JOIN afp.customers c ON c.id = o.customer_id"
expect "recovery: the probes closed the circuits" "mail-a:closed,sms-a:closed" \
  "SELECT string_agg(provider || ':' || circuit, ',' ORDER BY provider) FROM afp_provider_status() WHERE provider IN ('sms-a', 'mail-a')"
if grep -q 'provider "sms-a" is up again' "$LOGDIR/postgres.log" && grep -q 'provider "mail-a" is up again' "$LOGDIR/postgres.log"; then pass; else
  fail "recovery: logged" "$(grep -E 'up again' "$LOGDIR/postgres.log" | tail -n 3)"; fi
NA=$(grep -c '"status": 201' "$BASE/sim-a-up/requests.jsonl")
if [ "$NA" = 10 ]; then pass; else fail "recovery: sms-a accepted the 10 messages" "got $NA"; fi
$PY - "$BASE/sink-a" >"$WORK/mailrate.out" 2>&1 <<'PYEOF'
import glob, json, sys
t = sorted(json.load(open(f))["received_at"] for f in glob.glob(sys.argv[1] + "/*.json"))
n = len(t)
worst = max((j - i + 1) - (1 + 2 * (t[j] - t[i] + 0.1)) for i in range(n) for j in range(i, n)) if n else 0
span = t[-1] - t[0] if n > 1 else 0
print("MEASURE email rate limit: %d messages at mail-a over %.2f s (limit 2/s, burst 1)" % (n, span))
print(("OK" if n == 5 and worst <= 0 and span >= 1.9 else "FAIL")
      + " email rate: mail-a never above 1 + 2 x (window + 0.1 s) (n %d, excess %.2f, span %.2f)" % (n, worst, span))
PYEOF
while IFS= read -r line; do
  case "$line" in OK\ *) pass ;; FAIL\ *) fail "${line#FAIL }" ;; MEASURE\ *) echo "  ${line#MEASURE }" ;; *) fail "email rate check" "$line" ;; esac
done <"$WORK/mailrate.out"
q -c "UPDATE afp.providers SET rate_per_sec = NULL, rate_burst = NULL WHERE name = 'mail-a'" >/dev/null

# ---------------------------------------------------------------- 3c. email: other providers' rows go on
# One email batch: m01-m04 through mail-a (1/s, burst 1) first, m05-m08 through mail-b. The rows
# of mail-a that wait for a token must not hold up mail-b's rows behind them in the batch.
q -c "UPDATE afp.providers SET rate_per_sec = 1, rate_burst = 1 WHERE name = 'mail-a'" >/dev/null
q -c "INSERT INTO afp.customers (external_id, name, time_zone) SELECT 'm0' || g, 'Mixed ' || g, 'UTC' FROM generate_series(1, 8) g;
      INSERT INTO afp.contact_points (customer_id, channel, address, verified)
        SELECT id, 'email', external_id || '@example.test', true FROM afp.customers WHERE external_id LIKE 'm0%';
      INSERT INTO afp.preferences (customer_id, channels, opt_in, consent_source)
        SELECT id, '{email}', true, 'test' FROM afp.customers WHERE external_id LIKE 'm0%';
      INSERT INTO afp.documents (customer_id, document_type, afp)
        SELECT id, 'statement', '\\x5a' FROM afp.customers WHERE external_id LIKE 'm0%' ORDER BY external_id;
      CREATE TEMP TABLE md AS SELECT * FROM afp_dispatch_bulk(ARRAY(SELECT d.id FROM afp.documents d
          JOIN afp.customers c ON c.id = d.customer_id WHERE c.external_id LIKE 'm0%' ORDER BY d.id));
      UPDATE afp.outbox SET provider = 'mail-b' WHERE id IN (SELECT id FROM md) AND recipient ~ '^m0[5-8]@'" >/dev/null
if wait_for 20 "$(drained "c.external_id LIKE 'm0%'")"; then pass; else
  fail "mixed batch: drained within 20 s" "$(q -c "SELECT o.recipient, o.status, o.provider, o.last_error FROM afp.outbox o WHERE o.recipient LIKE 'm0%'")"; fi
expect "mixed batch: m01-m04 sent through mail-a, m05-m08 through mail-b" "mail-a:4,mail-b:4" \
  "SELECT string_agg(provider || ':' || n, ',' ORDER BY provider) FROM (SELECT provider, count(*) AS n FROM afp.outbox
     WHERE recipient LIKE 'm0%' AND status = 'sent' GROUP BY 1) x"
$PY - "$BASE/sink-a" "$BASE/sink-b" >"$WORK/mixed.out" 2>&1 <<'PYEOF'
import glob, json, sys
def times(d):
    return sorted(m["received_at"] for m in (json.load(open(f)) for f in glob.glob(d + "/*.json"))
                  if any(r.startswith("m0") for r in m["rcpt_tos"]))
a, b = times(sys.argv[1]), times(sys.argv[2])
print("MEASURE mixed batch: mail-b's 4 emails arrived within %.2f s of the first mail-a email; mail-a's 4 over %.2f s (1/s)"
      % ((b[-1] - a[0]) if a and b else -1, (a[-1] - a[0]) if a else -1))
print(("OK" if len(a) == 4 and len(b) == 4 and b[-1] < a[1] else "FAIL")
      + " mixed batch: every mail-b email arrived before mail-a's second (rate-limited) one (a %s, b %s)"
      % ([round(t - a[0], 2) for t in a] if a else a, [round(t - a[0], 2) for t in b] if a else b))
print(("OK" if len(a) == 4 and a[-1] - a[0] >= 2.5 else "FAIL") + " mixed batch: mail-a kept to 1/s")
PYEOF
while IFS= read -r line; do
  case "$line" in OK\ *) pass ;; FAIL\ *) fail "${line#FAIL }" ;; MEASURE\ *) echo "  ${line#MEASURE }" ;; *) fail "mixed batch check" "$line" ;; esac
done <"$WORK/mixed.out"
q -c "UPDATE afp.providers SET rate_per_sec = NULL, rate_burst = NULL WHERE name = 'mail-a'" >/dev/null

# ---------------------------------------------------------------- 4. channel fallback
# x01-x07 prefer sms, their numbers are invalid (400, permanent): x01-x06 fall back to email,
# x07's email address is suppressed, so it only ends dead.
expect "fallback: 7 sms dispatched" "7" "$(dispatch "c.external_id LIKE 'x%'")"
if wait_for 30 "$(drained "c.external_id LIKE 'x%'") AND (SELECT count(*) FROM afp.outbox WHERE fallback_of IS NOT NULL) >= 6"; then pass; else
  fail "fallback: drained within 30 s" "$(q -c "SELECT channel, status, count(*), max(last_error) FROM afp.outbox o JOIN afp.customers c ON c.id = o.customer_id WHERE c.external_id LIKE 'x%' GROUP BY 1, 2")"; fi
expect "fallback: sms rows dead with 400 21211" "7" \
  "SELECT count(*) FROM afp.outbox o JOIN afp.customers c ON c.id = o.customer_id WHERE c.external_id LIKE 'x%' AND o.channel = 'sms' AND o.status = 'dead' AND o.last_code = '400 21211'"
expect "fallback: one email row per dead sms except the suppressed address, linked by fallback_of" "6|6" \
  "SELECT count(*) || '|' || count(*) FILTER (WHERE s.channel = 'sms' AND s.status = 'dead' AND s.document_id = f.document_id AND f.idempotency_key = 'doc' || f.document_id || '.email')
     FROM afp.outbox f JOIN afp.outbox s ON s.id = f.fallback_of"
expect "fallback: the email rows were sent through mail-a" "6" \
  "SELECT count(*) FROM afp.outbox WHERE fallback_of IS NOT NULL AND status = 'sent' AND provider = 'mail-a' AND channel = 'email'"
$PY - "$BASE/sink-a" >"$WORK/fb.out" 2>&1 <<'PYEOF'
import glob, json, sys
rcpts = sorted(r for f in glob.glob(sys.argv[1] + "/*.json") for r in json.load(open(f))["rcpt_tos"])
want = sorted("x%02d@example.test" % i for i in range(1, 7))
got = [r for r in rcpts if r.startswith("x")]
print(("OK" if got == want else "FAIL") + " fallback: mail-a's sink received exactly x01-x06 %s" % got)
PYEOF
while IFS= read -r line; do
  case "$line" in OK\ *) pass ;; FAIL\ *) fail "${line#FAIL }" ;; *) fail "fallback sink check" "$line" ;; esac
done <"$WORK/fb.out"
expect "fallback: x07 (email suppressed) has only its dead sms" "1" \
  "SELECT count(*) FROM afp.outbox o JOIN afp.customers c ON c.id = o.customer_id WHERE c.external_id = 'x07'"

ERRS=$(grep -cE 'ERROR|PANIC|server process .* was terminated' "$LOGDIR/postgres.log")
if [ "$ERRS" = 0 ]; then pass; else fail "server log without ERROR/PANIC" "$(grep -E 'ERROR|PANIC|terminated' "$LOGDIR/postgres.log" | tail -n 5)"; fi

finish
