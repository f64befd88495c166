#!/usr/bin/env bash
# 62-delivery-push: the push worker end to end (FCM HTTP v1 and APNs over HTTP/2), on a cluster
# of its own.
#  - starts its own PostgreSQL 15 (build/delivery-push, port AFP_PUSH_PGPORT=54381,
#    shared_preload_libraries='afp', afp.delivery_database='afp') and the provider simulator
#    (test/delivery/push_sim.js, Node 20 stdlib: FCM token + send endpoints over HTTP on 54382,
#    APNs over HTTP/2 + TLS on 54383 with a throwaway self-signed certificate passed as the
#    provider's config.ca_file, TLS verification on);
#  - makes a service-account RSA key and an APNs EC P-256 key with openssl; the simulator verifies
#    every RS256 assertion and ES256 provider token with the public keys;
#  - 40 customers preferring push, android (FCM) and ios (APNs) tokens, scenario by token (see
#    push_sim.js): accepted, 429 + Retry-After once, 500 once, unregistered, bad token;
#  - checks: sent rows with provider ids, JWTs verified, one access token fetched and reused, one
#    APNs provider token reused, APNs over HTTP/2 with all streams of the drain on one connection,
#    Retry-After respected, unregistered/bad tokens dead + suppressed + removed from
#    afp.contact_points, idempotency key at the providers (FCM header + data, APNs apns-id = UUID v5
#    of the key), 401 -> one token refresh, pg_cancel_backend aborts a stalled FCM request and a
#    stalled APNs stream within 1 s, restart after pg_terminate_backend.
set -uo pipefail
NAME=62-delivery-push
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PGBIN=${AFP_PGBIN:-/usr/lib/postgresql/15/bin}
PGPORT_D=${AFP_PUSH_PGPORT:-54381}
FCM_PORT=${AFP_PUSH_FCM_PORT:-54382}
APNS_PORT=${AFP_PUSH_APNS_PORT:-54383}
BASE=$ROOT/build/delivery-push
DATA=$BASE/data SOCK=$BASE/sock LOGDIR=$BASE/log SIMDIR=$BASE/sim WORK=$BASE/work KEYS=$BASE/keys
PY=/usr/bin/python3
NODE=${AFP_NODE:-node}
SIM_PID=""

. "$ROOT/test/delivery/lib.sh"

stop_all() { stop_pids SIM_PID; stop_pg; }
[ -n "${AFP_PUSH_KEEP:-}" ] || trap stop_all EXIT   # AFP_PUSH_KEEP=1 leaves cluster and simulator running (debugging)

# ---------------------------------------------------------------- setup
command -v "$NODE" >/dev/null || { fail "setup" "node (Node 20) not found"; finish; }
start_cluster push_claim "$SIMDIR" "$KEYS" <<EOF2
afp.push_batch_size = 50
afp.push_concurrency = 8
afp.max_attempts = 5
afp.retry_base_ms = 300
afp.retry_max_ms = 1000
afp.http_timeout_ms = 5000
EOF2

# keys: service account (RSA 2048), APNs .p8 (EC P-256, PKCS#8), TLS certificate for the APNs simulator
# (and sa-wrong.pem, apns-wrong.p8: keys the simulator does not know)
push_keys wrong

push_sim_conf "$WORK/sim.json"
start_bg SIM_PID "$LOGDIR/sim.log" "$NODE" "$ROOT/test/delivery/push_sim.js" "$WORK/sim.json" "$SIMDIR"
wait_files 50 "$SIMDIR/ready" || { fail "setup" "simulator did not start: $(cat "$LOGDIR/sim.log")"; finish; }

# ---------------------------------------------------------------- data
# 5 scenarios x 2 platforms; ok x 6, r429 x 3, r500 x 3, unreg x 3, bad x 2 per platform. Quiet
# hours for push are moved away from "now" (customers in UTC).
if ! q -v fcm_port="$FCM_PORT" -v apns_port="$APNS_PORT" -v sa_key="$KEYS/sa.pem" \
       -v apns_key="$KEYS/apns.p8" -v ca="$KEYS/tls.crt" >"$WORK/setup.out" 2>&1 <<'SQL'
CREATE EXTENSION afp;
INSERT INTO afp.providers (name, channel, kind, endpoint, config, secret) VALUES
  ('fcmsim', 'push', 'http', 'http://127.0.0.1:' || :'fcm_port',
   '{"service": "fcm"}',
   jsonb_build_object('service_account', jsonb_build_object(
       'type', 'service_account', 'project_id', 'afp-test',
       'client_email', 'afp-sender@afp-test.iam.gserviceaccount.com',
       'private_key', pg_read_file(:'sa_key'),
       'token_uri', 'http://127.0.0.1:' || :'fcm_port' || '/token'))),
  ('apnssim', 'push', 'http', 'https://localhost:' || :'apns_port',
   jsonb_build_object('service', 'apns', 'topic', 'com.example.bank', 'ca_file', :'ca'),
   jsonb_build_object('key_id', 'KEY1234567', 'team_id', 'TEAM123456', 'private_key', pg_read_file(:'apns_key')));
UPDATE afp.quiet_hours SET starts_at = (now() AT TIME ZONE 'UTC')::time + interval '2 hours',
                           ends_at = (now() AT TIME ZONE 'UTC')::time + interval '3 hours'
 WHERE channel = 'push';
CREATE TABLE public.scen AS
SELECT row_number() OVER () AS n, plat, sc, i
  FROM unnest(ARRAY['android', 'ios']) AS plat,
       (VALUES ('ok', 6), ('r429', 3), ('r500', 3), ('unreg', 3), ('bad', 2)) AS s(sc, cnt),
       generate_series(1, s.cnt) AS i;
INSERT INTO afp.customers (external_id, name, time_zone)
SELECT 'push' || lpad(n::text, 2, '0'), 'Push ' || n, 'UTC' FROM public.scen;
INSERT INTO afp.contact_points (customer_id, channel, address, platform, verified)
SELECT c.id, 'push', s.plat || '-' || s.sc || '-' || lpad(s.n::text, 2, '0') || '-tok', s.plat, true
  FROM public.scen s JOIN afp.customers c ON c.external_id = 'push' || lpad(s.n::text, 2, '0');
INSERT INTO afp.contact_points (customer_id, channel, address, verified)
SELECT id, 'email', external_id || '@example.test', true FROM afp.customers;
INSERT INTO afp.preferences (customer_id, channels, opt_in, consent_source)
SELECT id, '{push,email}', true, 'test' FROM afp.customers;
INSERT INTO afp.documents (customer_id, document_type, afp) SELECT id, 'statement', '\x5a'::bytea FROM afp.customers;
CREATE TABLE public.dispatched AS SELECT * FROM afp_dispatch_bulk(ARRAY(SELECT id FROM afp.documents ORDER BY id));
SQL
then
  fail "setup SQL" "$(tail -n 20 "$WORK/setup.out")"; finish
fi
pass

expect "bulk dispatch: 34 push rows" "34" "SELECT count(*) FROM public.dispatched WHERE channel = 'push'"

# ---------------------------------------------------------------- drain
if wait_for 60 "SELECT count(*) = 0 FROM afp.outbox WHERE channel = 'push' AND status NOT IN ('sent', 'dead')"; then
  pass
else
  fail "push rows drained within 60 s" "$(q -c "SELECT status, count(*), max(last_error) FROM afp.outbox GROUP BY 1")" \
    "$(grep -E 'afp|ERROR|FATAL' "$LOGDIR/postgres.log" | tail -n 10)"
fi
SC="split_part(recipient, '-', 2)"
PLAT="split_part(recipient, '-', 1)"
expect "every push row sent or dead with a reason" "" \
  "SELECT string_agg(recipient || ':' || status || ':' || coalesce(last_error, 'NULL'), ', ') FROM afp.outbox
    WHERE channel = 'push' AND NOT (status = 'sent' OR (status = 'dead' AND last_error <> ''))"
expect "ok, r429, r500 rows sent on both platforms" "12|12" \
  "SELECT count(*) FILTER (WHERE $PLAT = 'android') || '|' || count(*) FILTER (WHERE $PLAT = 'ios')
     FROM afp.outbox WHERE channel = 'push' AND status = 'sent' AND $SC IN ('ok', 'r429', 'r500')"
expect "rows sent through the provider of their platform" "android:fcmsim,ios:apnssim" \
  "SELECT string_agg(DISTINCT $PLAT || ':' || provider, ',') FROM afp.outbox WHERE channel = 'push' AND status = 'sent'"
expect "FCM provider_message_id = the simulator's message name" "0" \
  "SELECT count(*) FROM afp.outbox WHERE channel = 'push' AND status = 'sent' AND $PLAT = 'android'
      AND provider_message_id IS DISTINCT FROM 'projects/afp-test/messages/' || md5(idempotency_key)"
expect "APNs provider_message_id is the apns-id (a version 5 UUID)" "0" \
  "SELECT count(*) FROM afp.outbox WHERE channel = 'push' AND status = 'sent' AND $PLAT = 'ios'
      AND provider_message_id !~ '^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'"
expect "ok rows: one attempt; 429 and 500 rows: two" "12|12" \
  "SELECT count(*) FILTER (WHERE $SC = 'ok' AND attempts = 1) || '|' ||
          count(*) FILTER (WHERE $SC IN ('r429', 'r500') AND attempts = 2) FROM afp.outbox WHERE channel = 'push' AND status = 'sent'"
expect "unregistered / bad tokens: dead at once with the provider's code" \
  "android:400 UNREGISTERED:2,android:404 UNREGISTERED:3,ios:400 BadDeviceToken:2,ios:410 Unregistered:3" \
  "SELECT string_agg(k || ':' || n, ',' ORDER BY k) FROM
     (SELECT $PLAT || ':' || last_code AS k, count(*) AS n FROM afp.outbox
       WHERE channel = 'push' AND status = 'dead' AND attempts = 1 GROUP BY 1) x"
expect "unregistered / bad tokens suppressed as hard_bounce" "10" \
  "SELECT count(*) FROM afp.suppressions s JOIN afp.outbox o ON o.recipient = s.address
    WHERE s.channel = 'push' AND s.reason = 'hard_bounce' AND o.status = 'dead'"
expect "unregistered / bad tokens removed from afp.contact_points, the others kept" "0|24" \
  "SELECT count(*) FILTER (WHERE split_part(address, '-', 2) IN ('unreg', 'bad')) || '|' ||
          count(*) FILTER (WHERE split_part(address, '-', 2) NOT IN ('unreg', 'bad'))
     FROM afp.contact_points WHERE channel = 'push'"
expect "429 recorded as retry with its next attempt >= Retry-After" "6" \
  "SELECT count(*) FROM afp.delivery_events e JOIN afp.outbox o ON o.id = e.outbox_id
    WHERE split_part(o.recipient, '-', 2) = 'r429' AND e.outcome = 'retry' AND e.detail->>'code' LIKE '429 %'
      AND (e.detail->>'next_attempt_at')::timestamptz >= e.at + interval '2 s'"
expect "new documents for customers whose token was removed go by email" "email|10" \
  "INSERT INTO afp.documents (customer_id, document_type, afp)
     SELECT customer_id, 'statement', '\\x5a' FROM afp.outbox WHERE channel = 'push' AND status = 'dead';
   SELECT string_agg(DISTINCT channel, ',') || '|' || count(*)
     FROM afp_dispatch_bulk(ARRAY(SELECT d.id FROM afp.documents d WHERE NOT EXISTS
                                   (SELECT 1 FROM afp.outbox o WHERE o.document_id = d.id)))"
expect "afp_delivery_workers(): push worker counted 24 sent" "t|24" \
  "SELECT CASE WHEN pid IS NOT NULL THEN 't' ELSE 'f' END || '|' || sent FROM afp_delivery_workers() WHERE role = 'push'"
expect "push worker visible in pg_stat_activity" "1" \
  "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'afp push worker' AND application_name = 'afp push worker' AND datname = 'afp'"

# ---------------------------------------------------------------- what the providers received
check_sim() {  # PHASE: runs the Python checks of that phase over the simulator's log
  q -c "COPY (SELECT idempotency_key, recipient, payload->>'title', payload->>'body', status, attempts,
                     coalesce(provider_message_id, ''), document_id FROM afp.outbox WHERE channel = 'push')
        TO STDOUT WITH (FORMAT csv)" >"$WORK/outbox.csv"
  $PY - "$1" "$SIMDIR/requests.jsonl" "$WORK/outbox.csv" >"$WORK/sim-checks-$1.out" 2>&1 <<'PYEOF'
import csv, json, sys, time, uuid
phase = sys.argv[1]
reqs = [json.loads(l) for l in open(sys.argv[2])]
rows = {r[0]: r for r in csv.reader(open(sys.argv[3]))}
def check(name, ok, detail=""):
    print(("OK " if ok else "FAIL ") + name + ("" if ok else " :: " + str(detail)[:400]))
NS = uuid.UUID("5b3e3f0c-8d3a-4c52-9a1e-6a0f4d7c2b91")
tok = [r for r in reqs if r["svc"] == "token"]
fcm = [r for r in reqs if r["svc"] == "fcm"]
apns = [r for r in reqs if r["svc"] == "apns"]
errs = [r for r in reqs if r["svc"] == "error"]
by_key = {}
for r in fcm:
    by_key.setdefault(r["key"], []).append(r)
apns_keys = {str(uuid.uuid5(NS, k)): k for k in rows}
for r in apns:
    by_key.setdefault(apns_keys.get(r["key"], r["key"]), []).append(r)
if phase == "drain":
    check("one access token fetched (RS256 assertion verified: iss, scope, aud, iat, exp)",
          len(tok) == 1 and tok[0]["auth_ok"], tok)
    check("every FCM send used that access token", fcm and all(r["auth_ok"] and r["bearer"] == tok[0]["access_token"] for r in fcm),
          [(r["bearer"], r.get("auth_error")) for r in fcm if not r["auth_ok"]][:3])
    check("every APNs provider token verified (ES256 raw r||s, kid, iss = team id, iat)",
          apns and all(r["auth_ok"] for r in apns), [r.get("auth_error") for r in apns if not r["auth_ok"]][:3])
    check("one APNs provider token reused for all requests", len({r["bearer"] for r in apns}) == 1,
          len({r["bearer"] for r in apns}))
    check("APNs over HTTP/2", all(r["proto"] == "2.0" for r in apns), {r["proto"] for r in apns})
    sessions = {r["session"] for r in apns}
    check("APNs requests multiplexed over one HTTP/2 connection (%d streams)" % len(apns), len(sessions) == 1, sessions)
    bad = [r for r in fcm if r["key"] not in rows or r["data_key"] != r["key"]]
    check("FCM: Idempotency-Key header and data.idempotency_key = the outbox key", fcm and not bad, bad[:2])
    bad = [r for r in apns if r["key"] not in apns_keys or r["data_key"] != apns_keys[r["key"]]]
    check("APNs: apns-id = UUIDv5(namespace, idempotency key), key also in the payload", apns and not bad, bad[:2])
    bad = [r for r in fcm if r["path"] != "/v1/projects/afp-test/messages:send" or r["ctype"] != "application/json"
           or r["body"]["message"]["token"] != rows[r["key"]][1]
           or r["body"]["message"]["notification"] != {"title": rows[r["key"]][2], "body": rows[r["key"]][3]}
           or r["body"]["message"]["data"].get("document_id") != rows[r["key"]][7]]
    check("FCM: path, token, notification title/body and data as in the outbox", not bad, bad[:1])
    now = time.time()
    bad = [r for r in apns if r["path"] != "/3/device/" + rows[apns_keys[r["key"]]][1] or r["topic"] != "com.example.bank"
           or r["push_type"] != "alert" or r["priority"] != "10"
           or not (now + 86400 - 300 < int(r["expiration"] or 0) <= now + 86400 + 5)
           or r["body"]["aps"]["alert"] != {"title": rows[apns_keys[r["key"]]][2], "body": rows[apns_keys[r["key"]]][3]}]
    check("APNs: path, apns-topic, apns-push-type alert, apns-priority 10, apns-expiration now+24h, alert", not bad, bad[:1])
    sent_ids = [rows[k][6] for k, v in by_key.items() if k in rows and rows[k][1].startswith("ios") and rows[k][4] == "sent"]
    check("APNs provider ids are the apns-ids sent", all(i in apns_keys for i in sent_ids) and len(sent_ids) == 12, sent_ids[:3])
    per = {}
    for k, row in rows.items():
        per.setdefault(row[1].split("-")[1], []).append(len(by_key.get(k, [])))
    check("requests per message: ok 1, r429 2, r500 2, unreg 1, bad 1",
          per["ok"] == [1] * 12 and per["r429"] == [2] * 6 and per["r500"] == [2] * 6
          and per["unreg"] == [1] * 6 and per["bad"] == [1] * 4, per)
    gaps = [round(v[1]["t"] - v[0]["t"], 3) for k, v in by_key.items() if k in rows and "-r429-" in rows[k][1] and len(v) == 2]
    check("Retry-After respected (>= 2 s between attempts, FCM and APNs)", len(gaps) == 6 and min(gaps) >= 2.0, gaps)
    check("simulator saw no stream errors", not errs, errs[:3])
PYEOF
  while IFS= read -r line; do
    case "$line" in OK\ *) pass ;; FAIL\ *) fail "${line#FAIL }" ;; *) fail "simulator check ($1)" "$line" ;; esac
  done <"$WORK/sim-checks-$1.out"
}
check_sim drain

# ---------------------------------------------------------------- 401: one token refresh
# new_push EXTERNAL_ID TOKEN PLATFORM: a customer with a push token and one dispatched document
new_push() {
  q -c "INSERT INTO afp.customers (external_id, name, time_zone) VALUES ('$1', '$1', 'UTC');
        INSERT INTO afp.contact_points (customer_id, channel, address, platform, verified)
          SELECT id, 'push', '$2', '$3', true FROM afp.customers WHERE external_id = '$1';
        INSERT INTO afp.preferences (customer_id, channels, opt_in, consent_source) SELECT id, '{push}', true, 'test' FROM afp.customers WHERE external_id = '$1';
        INSERT INTO afp.documents (customer_id, document_type, afp) SELECT id, 'statement', '\\x5a' FROM afp.customers WHERE external_id = '$1';
        SELECT idempotency_key FROM afp_dispatch_bulk(ARRAY(SELECT max(id) FROM afp.documents));"
}
$PY -c 'import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=b"", method="POST")).read()' "http://127.0.0.1:$FCM_PORT/control/revoke" >/dev/null
KEY=$(new_push refresh android-ok-refresh-tok android)
if wait_for 15 "SELECT status = 'sent' AND attempts = 1 FROM afp.outbox WHERE idempotency_key = '$KEY'"; then pass; else
  fail "401: sent after one token refresh, in the same attempt" "$(q -c "SELECT status, attempts, last_code, last_error FROM afp.outbox WHERE idempotency_key = '$KEY'")"; fi
check_sim_phase_refresh() {
  $PY - "$SIMDIR/requests.jsonl" "$KEY" >"$WORK/sim-checks-refresh.out" 2>&1 <<'PYEOF'
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
key = sys.argv[2]
def check(name, ok, detail=""):
    print(("OK " if ok else "FAIL ") + name + ("" if ok else " :: " + str(detail)[:400]))
tok = [r for r in reqs if r["svc"] == "token"]
last = [r for r in reqs if r["svc"] == "fcm" and r["key"] == key]
check("after the revoke: a second access token fetched", len(tok) == 2 and all(t["auth_ok"] for t in tok), len(tok))
check("401 with the revoked token, then 200 with the new one",
      [(r["status"], r["bearer"] == tok[-1].get("access_token")) for r in last] == [(401, False), (200, True)],
      [(r["status"], r.get("auth_error")) for r in last])
PYEOF
  while IFS= read -r line; do
    case "$line" in OK\ *) pass ;; FAIL\ *) fail "${line#FAIL }" ;; *) fail "simulator check (refresh)" "$line" ;; esac
  done <"$WORK/sim-checks-refresh.out"
}
check_sim_phase_refresh

# ---------------------------------------------------------------- wrong keys
# a service-account key the provider does not know: the simulator rejects the RS256 assertion
# (bad signature), the row fails with config:oauth (transient) and is sent once the key is right
q -c "UPDATE afp.providers SET secret = jsonb_set(secret, '{service_account,private_key}', to_jsonb(pg_read_file('$KEYS/sa-wrong.pem')))
       WHERE name = 'fcmsim'" >/dev/null
KEY=$(new_push wrongsa android-ok-wrongsa-tok android)
if wait_for 15 "SELECT status = 'failed' AND last_code = 'config:oauth' FROM afp.outbox WHERE idempotency_key = '$KEY'"; then pass; else
  fail "FCM with a wrong service-account key: config:oauth, retried" "$(q -c "SELECT status, last_code, last_error FROM afp.outbox WHERE idempotency_key = '$KEY'")"; fi
got=$($PY -c 'import json, sys
print(sum(1 for r in map(json.loads, open(sys.argv[1])) if r["svc"] == "token" and not r["auth_ok"] and r["auth_error"] == "bad signature"))' "$SIMDIR/requests.jsonl")
[ "$got" -ge 1 ] && pass || fail "the simulator rejected the wrongly signed assertion" "rejected: $got"
q -c "UPDATE afp.providers SET secret = jsonb_set(secret, '{service_account,private_key}', to_jsonb(pg_read_file('$KEYS/sa.pem')))
       WHERE name = 'fcmsim'" >/dev/null
if wait_for 15 "SELECT status = 'sent' FROM afp.outbox WHERE idempotency_key = '$KEY'"; then pass; else
  fail "FCM: sent once the key is right" "$(q -c "SELECT status, last_code, last_error FROM afp.outbox WHERE idempotency_key = '$KEY'")"; fi
# a wrong APNs key: 403 InvalidProviderToken, one new token, 403 again -> transient; sent once the key is right
q -c "UPDATE afp.providers SET secret = jsonb_set(secret, '{private_key}', to_jsonb(pg_read_file('$KEYS/apns-wrong.p8')))
       WHERE name = 'apnssim'" >/dev/null
KEY=$(new_push wrongp8 ios-ok-wrongp8-tok ios)
if wait_for 15 "SELECT status = 'failed' AND last_code = '403 InvalidProviderToken' FROM afp.outbox WHERE idempotency_key = '$KEY'"; then pass; else
  fail "APNs with a wrong key: 403 InvalidProviderToken, transient" "$(q -c "SELECT status, last_code, last_error FROM afp.outbox WHERE idempotency_key = '$KEY'")"; fi
got=$($PY -c 'import json, sys, uuid
k = str(uuid.uuid5(uuid.UUID("5b3e3f0c-8d3a-4c52-9a1e-6a0f4d7c2b91"), sys.argv[2]))
r = [x for x in map(json.loads, open(sys.argv[1])) if x["svc"] == "apns" and x["key"] == k]
print(",".join("%s:%s" % (x["status"], x["auth_error"]) for x in r[:2]), len({x["bearer"] for x in r[:2]}))' "$SIMDIR/requests.jsonl" "$KEY")
[ "$got" = "403:bad signature,403:bad signature 2" ] && pass || fail "APNs: refused token signed anew once per attempt" "got: $got"
q -c "UPDATE afp.providers SET secret = jsonb_set(secret, '{private_key}', to_jsonb(pg_read_file('$KEYS/apns.p8')))
       WHERE name = 'apnssim'" >/dev/null
if wait_for 15 "SELECT status = 'sent' FROM afp.outbox WHERE idempotency_key = '$KEY'"; then pass; else
  fail "APNs: sent once the key is right" "$(q -c "SELECT status, last_code, last_error FROM afp.outbox WHERE idempotency_key = '$KEY'")"; fi

# ---------------------------------------------------------------- rate limit
# apnssim limited to 5 messages/s (burst 1, token bucket in shared memory, afp_ratelimit.c):
# 8 messages dispatched at once reach the simulator spread over about 1.4 s (checked: >= 1.2 s)
q -c "UPDATE afp.providers SET rate_per_sec = 5, rate_burst = 1 WHERE name = 'apnssim'" >/dev/null
q -c "INSERT INTO afp.customers (external_id, name, time_zone) SELECT 'rate' || g, 'Rate ' || g, 'UTC' FROM generate_series(1, 8) g;
      INSERT INTO afp.contact_points (customer_id, channel, address, platform, verified)
        SELECT id, 'push', 'ios-ok-' || external_id || '-tok', 'ios', true FROM afp.customers WHERE external_id LIKE 'rate%';
      INSERT INTO afp.preferences (customer_id, channels, opt_in, consent_source)
        SELECT id, '{push}', true, 'test' FROM afp.customers WHERE external_id LIKE 'rate%';
      INSERT INTO afp.documents (customer_id, document_type, afp)
        SELECT id, 'statement', '\\x5a' FROM afp.customers WHERE external_id LIKE 'rate%';
      SELECT count(*) FROM afp_dispatch_bulk(ARRAY(SELECT d.id FROM afp.documents d JOIN afp.customers c ON c.id = d.customer_id
                                                    WHERE c.external_id LIKE 'rate%'));" >/dev/null
if wait_for 20 "SELECT count(*) = 8 FROM afp.outbox WHERE recipient LIKE 'ios-ok-rate%' AND status = 'sent'"; then pass; else
  fail "rate-limited APNs messages sent" "$(q -c "SELECT status, count(*), max(last_error) FROM afp.outbox WHERE recipient LIKE 'ios-ok-rate%' GROUP BY 1")"; fi
span=$($PY -c 'import json, sys
t = sorted(r["t"] for r in map(json.loads, open(sys.argv[1])) if r["svc"] == "apns" and "-rate" in (r["token"] or ""))
print("%d %.3f" % (len(t), t[-1] - t[0] if t else 0))' "$SIMDIR/requests.jsonl")
if [ "${span%% *}" = 8 ] && [ "$(echo "${span#* } >= 1.2" | bc)" = 1 ]; then pass; else
  fail "rate_per_sec = 5 spreads 8 APNs requests over >= 1.2 s (1.4 s ideal)" "requests, span: $span"; fi
echo "rate limit: 8 APNs requests at rate_per_sec 5 spread over ${span#* } s"
q -c "UPDATE afp.providers SET rate_per_sec = NULL, rate_burst = NULL WHERE name = 'apnssim'" >/dev/null

# ---------------------------------------------------------------- interrupts
# a stalled provider: pg_cancel_backend aborts the request within a second, the row goes back to
# the queue without counting the attempt and is sent on the next claim (FCM over HTTP/1.1 and an
# APNs HTTP/2 stream)
cancel_test() {  # LABEL TOKEN PLATFORM
  local key pid t0 dt
  key=$(new_push "$2" "$2" "$3")
  local end=$((SECONDS + 10))
  while [ $SECONDS -lt $end ] && ! grep -q "\"stalled\":true.*$2\|$2.*\"stalled\":true" "$SIMDIR/requests.jsonl"; do sleep 0.1; done
  if ! grep -q "$2.*\"stalled\":true\|\"stalled\":true.*$2" "$SIMDIR/requests.jsonl"; then
    fail "$1: stalled request reached the simulator"; return
  fi
  pass
  pid=$(q -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'afp push worker'")
  t0=$(q -c "SELECT clock_timestamp()")
  q -c "SELECT pg_cancel_backend($pid)" >/dev/null
  if wait_for 5 "SELECT count(*) > 0 FROM afp.delivery_events e JOIN afp.outbox o ON o.id = e.outbox_id WHERE o.idempotency_key = '$key' AND e.outcome = 'aborted'"; then
    # the aborted attempt's event is written by the record transaction right after the abort
    dt=$(q -c "SELECT round(extract(epoch FROM min(e.at) - '$t0'::timestamptz)::numeric, 3) FROM afp.delivery_events e
                 JOIN afp.outbox o ON o.id = e.outbox_id WHERE o.idempotency_key = '$key' AND e.outcome = 'aborted'")
    if [ "$(echo "$dt < 1.0" | bc)" = 1 ]; then pass; else fail "$1: cancel aborts the stalled request within 1 s" "took $dt s"; fi
    echo "$1: request aborted and recorded $dt s after pg_cancel_backend"
  else
    fail "$1: cancel aborts the stalled request" "$(q -c "SELECT status, attempts FROM afp.outbox WHERE idempotency_key = '$key'")"
  fi
  if wait_for 15 "SELECT status = 'sent' AND attempts = 1 FROM afp.outbox WHERE idempotency_key = '$key'"; then pass; else
    fail "$1: canceled message sent later, the aborted attempt not counted" "$(q -c "SELECT status, attempts, last_error FROM afp.outbox WHERE idempotency_key = '$key'")"; fi
  expect "$1: worker survives a cancel" "$pid" "SELECT pid FROM pg_stat_activity WHERE backend_type = 'afp push worker'"
}
cancel_test "FCM cancel" android-slow-fcm-tok android
cancel_test "APNs cancel" ios-slow-apns-tok ios

# SIGTERM (pg_terminate_backend): the worker exits, the launcher starts a new one, which sends
OLD_PID=$(q -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'afp push worker'")
q -c "SELECT pg_terminate_backend($OLD_PID)" >/dev/null
if wait_for 15 "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'afp push worker' AND pid <> $OLD_PID"; then pass; else
  fail "launcher restarts the push worker after pg_terminate_backend"; fi
KEY=$(new_push after-restart android-ok-restart-tok android)
KEY2=$(new_push after-restart-ios ios-ok-restart-tok ios)
if wait_for 15 "SELECT bool_and(status = 'sent') FROM afp.outbox WHERE idempotency_key IN ('$KEY', '$KEY2')"; then pass; else
  fail "the restarted worker sends (FCM and APNs)" "$(q -c "SELECT idempotency_key, status, last_error FROM afp.outbox WHERE idempotency_key IN ('$KEY', '$KEY2')")"; fi

if grep -qE 'PANIC|server process .* was terminated|TRAP' "$LOGDIR/postgres.log"; then
  fail "no crash in the server log" "$(grep -E 'PANIC|terminated|TRAP' "$LOGDIR/postgres.log" | head -n 5)"
else pass; fi

finish
