#!/usr/bin/env bash
# 66-delivery-tls: acceptance run of issue 5 — TLS and AUTH against real servers.
#  - makes a private CA, a server certificate for localhost (signed by it) and a second, unrelated
#    CA with openssl, in build/accept-tls;
#  - starts its own PostgreSQL 15 (port AFP_TLS_PGPORT=54404, afp.delivery_database='afp') and
#    aiosmtpd sinks (test/delivery/smtp_sink.py): STARTTLS required + AUTH PLAIN/LOGIN, SMTPS
#    (implicit TLS) + AUTH LOGIN only, plain SMTP without STARTTLS; and the SMS simulator over
#    HTTPS (test/delivery/sms_sim.py --tls-cert); ports: free ones of 54406-54420;
#  - checks: STARTTLS + AUTH PLAIN and SMTPS + AUTH LOGIN deliver (tls_verify on, config.ca_file
#    = the private CA), AUTH only after TLS; a wrong password -> 535 5.7.8, permanent, dead after
#    one attempt, no suppression; the wrong CA and the system CAs (no ca_file) -> certificate
#    verification failure curl:60, transient (retried until afp.max_attempts, then dead with
#    "gave up after N attempts"); starttls 'required' against a server without STARTTLS ->
#    curl:64, nothing sent in clear; HTTPS SMS with ca_file sent, with the wrong CA curl:60.
set -uo pipefail
NAME=66-delivery-tls
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PGBIN=${AFP_PGBIN:-/usr/lib/postgresql/15/bin}
PGPORT_D=${AFP_TLS_PGPORT:-54404}
PY=/usr/bin/python3
# server ports: free ones of 54406-54420 (from 54414 on) unless given
PORTS=$($PY "$ROOT/test/delivery/free_ports.py" 4 54414 54420 || $PY "$ROOT/test/delivery/free_ports.py" 4 54406 54420) ||
  PORTS="54414 54415 54416 54417"
read -r p1 p2 p3 p4 <<<"$PORTS"
P_STARTTLS=${AFP_TLS_STARTTLS_PORT:-$p1}
P_SMTPS=${AFP_TLS_SMTPS_PORT:-$p2}
P_HTTPS=${AFP_TLS_HTTPS_PORT:-$p3}
P_PLAIN=${AFP_TLS_PLAIN_PORT:-$p4}
BASE=$ROOT/build/accept-tls
DATA=$BASE/data SOCK=$BASE/sock LOGDIR=$BASE/log WORK=$BASE/work PKI=$BASE/pki
PIDS=""

. "$ROOT/test/delivery/lib.sh"

stop_all() { stop_pids PIDS; stop_pg; }
trap stop_all EXIT

# ---------------------------------------------------------------- setup
need_aiosmtpd
start_cluster sms_claim "$PKI" <<EOF2
afp.max_attempts = 3
afp.retry_base_ms = 200
afp.retry_max_ms = 500
afp.smtp_timeout_ms = 5000
afp.http_timeout_ms = 5000
# every provider here is one of the same channel: no automatic failover between them (a case
# must end at its own provider; failover is 63-delivery-rate-failover's subject)
afp.failover_threshold = 100000
EOF2

# throwaway PKI: ca (signs the server certificate), ca2 (unrelated), server (localhost, 127.0.0.1)
if ! (cd "$PKI" &&
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=afp test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" &&
  openssl req -x509 -newkey rsa:2048 -nodes -keyout ca2.key -out ca2.pem -days 2 -subj "/CN=afp other CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" &&
  openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost" &&
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >server.ext &&
  openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile server.ext &&
  openssl verify -CAfile ca.pem server.pem) >"$LOGDIR/pki.log" 2>&1; then
  fail "setup" "openssl: $(tail -n 5 "$LOGDIR/pki.log")"; finish
fi
chmod 644 "$PKI"/*.pem "$PKI"/*.key
pass

# start_server NAME SCRIPT PORT OPTIONS...: one sink/simulator with directory $BASE/NAME
start_server() {
  local name=$1 script=$2 port=$3 pid; shift 3
  mkdir -p "$BASE/$name"
  start_bg pid "$LOGDIR/$name.log" $PY "$ROOT/test/delivery/$script" "$port" "$BASE/$name" "$@"
  PIDS="$PIDS $pid"
  wait_files 100 "$BASE/$name/ready" && return 0
  fail "setup: $name started" "$(cat "$LOGDIR/$name.log")"; finish
}
start_server starttls smtp_sink.py "$P_STARTTLS" --tls-cert "$PKI/server.pem" --tls-key "$PKI/server.key" \
  --require-starttls --auth mailer:s3cret-pw --auth-mechs PLAIN,LOGIN
start_server smtps smtp_sink.py "$P_SMTPS" --tls-cert "$PKI/server.pem" --tls-key "$PKI/server.key" --smtps \
  --auth mailer:s3cret-pw --auth-mechs LOGIN
start_server plain smtp_sink.py "$P_PLAIN"
start_server https sms_sim.py "$P_HTTPS" --tls-cert "$PKI/server.pem" --tls-key "$PKI/server.key"

# the servers really speak TLS with that certificate (checked with openssl s_client)
if echo QUIT | openssl s_client -connect "127.0.0.1:$P_STARTTLS" -starttls smtp -CAfile "$PKI/ca.pem" -verify_return_error \
     -verify_hostname localhost >"$LOGDIR/s_client.log" 2>&1 &&
   echo QUIT | openssl s_client -connect "127.0.0.1:$P_SMTPS" -CAfile "$PKI/ca.pem" -verify_return_error \
     -verify_hostname localhost >>"$LOGDIR/s_client.log" 2>&1; then pass; else
  fail "openssl s_client verifies STARTTLS and SMTPS against the private CA" "$(tail -n 5 "$LOGDIR/s_client.log")"; fi

# ---------------------------------------------------------------- providers and messages
if ! q -v ca="$PKI/ca.pem" -v ca2="$PKI/ca2.pem" -v p1="$P_STARTTLS" -v p2="$P_SMTPS" -v p3="$P_HTTPS" -v p4="$P_PLAIN" \
     >"$WORK/setup.out" 2>&1 <<'SQL'
CREATE EXTENSION afp;
DELETE FROM afp.quiet_hours;
INSERT INTO afp.providers (name, channel, kind, endpoint, config, secret) VALUES
  ('starttls', 'email', 'smtp', 'smtp://localhost:' || :'p1',
   jsonb_build_object('from', 'Bank <statements@bank.example>', 'starttls', 'required', 'ca_file', :'ca'),
   '{"username": "mailer", "password": "s3cret-pw"}'),
  ('smtps', 'email', 'smtp', 'smtps://localhost:' || :'p2',
   jsonb_build_object('from', 'Bank <statements@bank.example>', 'ca_file', :'ca'),
   '{"username": "mailer", "password": "s3cret-pw"}'),
  ('badpw', 'email', 'smtp', 'smtp://localhost:' || :'p1',
   jsonb_build_object('from', 'Bank <statements@bank.example>', 'starttls', 'required', 'ca_file', :'ca'),
   '{"username": "mailer", "password": "wrong"}'),
  ('wrongca', 'email', 'smtp', 'smtp://localhost:' || :'p1',
   jsonb_build_object('from', 'Bank <statements@bank.example>', 'starttls', 'required', 'ca_file', :'ca2'),
   '{"username": "mailer", "password": "s3cret-pw"}'),
  ('wrongca-smtps', 'email', 'smtp', 'smtps://localhost:' || :'p2',
   jsonb_build_object('from', 'Bank <statements@bank.example>', 'ca_file', :'ca2'),
   '{"username": "mailer", "password": "s3cret-pw"}'),
  ('systemca', 'email', 'smtp', 'smtps://localhost:' || :'p2',
   jsonb_build_object('from', 'Bank <statements@bank.example>'),
   '{"username": "mailer", "password": "s3cret-pw"}'),
  ('notls', 'email', 'smtp', 'smtp://localhost:' || :'p4',
   jsonb_build_object('from', 'Bank <statements@bank.example>', 'starttls', 'required'),
   '{"username": "mailer", "password": "s3cret-pw"}'),
  ('https', 'sms', 'http', 'https://localhost:' || :'p3' || '/2010-04-01',
   jsonb_build_object('from', '+15005550006', 'ca_file', :'ca'),
   '{"account_sid": "ACtls", "auth_token": "tls-token"}'),
  ('https-wrongca', 'sms', 'http', 'https://localhost:' || :'p3' || '/2010-04-01',
   jsonb_build_object('from', '+15005550006', 'ca_file', :'ca2'),
   '{"account_sid": "ACtls", "auth_token": "tls-token"}');
-- via(provider, tag, n): n customers of the provider's channel, dispatched while that provider
-- has the lowest priority (the outbox row keeps it); returns the rows written
CREATE FUNCTION public.via(prov text, tag text, n int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE ch text; k bigint;
BEGIN
  SELECT channel INTO ch FROM afp.providers WHERE name = prov;
  UPDATE afp.providers SET priority = CASE WHEN name = prov THEN 0 ELSE 100 END WHERE channel = ch;
  INSERT INTO afp.customers (external_id, name) SELECT tag || '-' || g, 'TLS ' || g FROM generate_series(1, n) g;
  INSERT INTO afp.contact_points (customer_id, channel, address, verified)
  SELECT id, ch, CASE ch WHEN 'email' THEN replace(external_id, '-', '.') || '@example.test'
                         ELSE '+1777' || lpad((abs(hashtext(tag)) % 1000)::text, 3, '0') || lpad(split_part(external_id, '-', 2), 4, '0') || '1' END, true
    FROM afp.customers WHERE external_id LIKE tag || '-%';
  INSERT INTO afp.preferences (customer_id, channels, opt_in, consent_source)
  SELECT id, ARRAY[ch], true, 'tls-test' FROM afp.customers WHERE external_id LIKE tag || '-%';
  INSERT INTO afp.documents (customer_id, document_type, afp)
  SELECT id, 'statement', '\x5a'::bytea FROM afp.customers WHERE external_id LIKE tag || '-%';
  SELECT count(*) INTO k FROM afp_dispatch_bulk(ARRAY(SELECT d.id FROM afp.documents d JOIN afp.customers c ON c.id = d.customer_id
                                                      WHERE c.external_id LIKE tag || '-%'));
  RETURN k;
END $$;
SQL
then
  fail "setup SQL" "$(tail -n 20 "$WORK/setup.out")"; finish
fi

# done_sql TAG: true when every row of TAG is sent or dead
done_sql() { echo "SELECT bool_and(o.status IN ('sent', 'dead')) FROM afp.outbox o JOIN afp.customers c ON c.id = o.customer_id WHERE c.external_id LIKE '$1-%'"; }
# outcome TAG: status|attempts|last_code of every row of TAG (distinct values)
outcome() { q -c "SELECT string_agg(DISTINCT o.status || '|' || o.attempts || '|' || coalesce(o.last_code, ''), ',') || '|' || o.provider
                   FROM afp.outbox o JOIN afp.customers c ON c.id = o.customer_id WHERE c.external_id LIKE '$1-%' GROUP BY o.provider"; }
# run_case PROVIDER TAG N EXPECTED WHAT: dispatch N messages through PROVIDER, wait, compare
run_case() {
  local got
  q -c "SELECT public.via('$1', '$2', $3)" >/dev/null
  wait_for 30 "$(done_sql "$2")" || true
  got=$(outcome "$2")
  if [ "$got" = "$4|$1" ]; then pass; else
    fail "$5" "expected: $4|$1" "got: $got" "$(q -c "SELECT DISTINCT last_error FROM afp.outbox o JOIN afp.customers c ON c.id = o.customer_id WHERE c.external_id LIKE '$2-%'")"
  fi
}

# ---------------------------------------------------------------- cases
run_case starttls st 3 "sent|1|" "STARTTLS (required) + AUTH, private CA: sent"
run_case smtps ss 3 "sent|1|" "SMTPS (implicit TLS) + AUTH LOGIN, private CA: sent"
run_case badpw bp 2 "dead|1|535 5.7.8" "wrong password: 535 5.7.8, permanent, dead after one attempt"
run_case wrongca wc 2 "dead|3|curl:60" "STARTTLS with the wrong CA: curl:60 (transient), dead after afp.max_attempts"
run_case wrongca-smtps wcs 1 "dead|3|curl:60" "SMTPS with the wrong CA: curl:60, dead after afp.max_attempts"
run_case systemca sys 1 "dead|3|curl:60" "no ca_file: the system CAs do not trust the private CA (verification on by default)"
run_case notls nt 1 "dead|3|curl:64" "starttls required, server without STARTTLS: curl:64, nothing sent"
run_case https hs 3 "sent|1|" "HTTPS SMS with ca_file: sent"
run_case https-wrongca hw 1 "dead|3|curl:60" "HTTPS SMS with the wrong CA: curl:60, dead after afp.max_attempts"

expect "dead reasons: permanent 535 kept, transient ones 'gave up after 3 attempts'" "true|true" \
  "SELECT bool_and(last_error LIKE '%535%' AND last_error NOT LIKE 'gave up%') FILTER (WHERE provider = 'badpw') || '|' ||
          bool_and(last_error LIKE 'gave up after 3 attempts%') FILTER (WHERE provider IN ('wrongca', 'wrongca-smtps', 'systemca', 'notls', 'https-wrongca'))
     FROM afp.outbox WHERE status = 'dead'"
expect "no suppression for TLS or AUTH failures" "0" "SELECT count(*) FROM afp.suppressions"
expect "retry events carry the transient codes" "t" \
  "SELECT count(*) FILTER (WHERE e.detail->>'code' = 'curl:60') >= 10 AND count(*) FILTER (WHERE e.detail->>'code' = 'curl:64') = 2
     FROM afp.delivery_events e WHERE e.outcome = 'retry'"

# what the servers saw
n=$(ls "$BASE/starttls"/*.eml 2>/dev/null | wc -l); [ "$n" = 3 ] && pass || fail "STARTTLS sink received exactly the 3 good messages" "got $n"
n=$(ls "$BASE/smtps"/*.eml 2>/dev/null | wc -l); [ "$n" = 3 ] && pass || fail "SMTPS sink received exactly the 3 good messages" "got $n"
n=$(ls "$BASE/plain"/*.eml 2>/dev/null | wc -l); [ "$n" = 0 ] && pass || fail "nothing sent in clear to the server without STARTTLS" "got $n"
if ! grep -q '^AUTH' "$BASE/plain/attempts.log" 2>/dev/null && ! grep -q '^RCPT' "$BASE/plain/attempts.log" 2>/dev/null; then pass; else
  fail "no AUTH or RCPT in clear" "$(head -n 3 "$BASE/plain/attempts.log")"; fi
grep -q '^AUTH' "$BASE/starttls/attempts.log" && ! grep -q '^AUTH .* plain$' "$BASE/starttls/attempts.log" "$BASE/smtps/attempts.log" && pass ||
  fail "AUTH only over TLS" "$(grep '^AUTH' "$BASE"/*/attempts.log | head -n 5)"
[ "$(grep -c '^AUTH PLAIN mailer ok' "$BASE/starttls/attempts.log")" -ge 1 ] && pass ||
  fail "STARTTLS sink: AUTH PLAIN with the right password" "$(grep '^AUTH' "$BASE/starttls/attempts.log" | head -n 5)"
[ "$(grep -c '^AUTH PLAIN mailer fail' "$BASE/starttls/attempts.log")" = 2 ] && pass ||
  fail "STARTTLS sink: the wrong password tried once per message (2)" "$(grep '^AUTH' "$BASE/starttls/attempts.log" | sort | uniq -c)"
[ "$(grep -c '^AUTH LOGIN mailer ok' "$BASE/smtps/attempts.log")" -ge 1 ] && ! grep -q '^AUTH PLAIN' "$BASE/smtps/attempts.log" && pass ||
  fail "SMTPS sink (LOGIN only): AUTH LOGIN" "$(grep '^AUTH' "$BASE/smtps/attempts.log" | head -n 5)"
$PY - "$BASE/https/requests.jsonl" <<'PYEOF' >"$WORK/https.out" 2>&1
import base64, json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
ok = [r for r in reqs if r["status"] == 201]
auth = "Basic " + base64.b64encode(b"ACtls:tls-token").decode()
print("OK" if len(ok) == 3 and all(r["auth"] == auth and r["path"] == "/2010-04-01/Accounts/ACtls/Messages.json" for r in reqs)
      else "FAIL %s" % [(r["status"], r["path"]) for r in reqs])
PYEOF
[ "$(cat "$WORK/https.out")" = OK ] && pass || fail "HTTPS simulator: 3 requests with Basic auth, none from the wrong-CA provider" "$(cat "$WORK/https.out")"
expect "sent rows carry provider message ids" "0" "SELECT count(*) FROM afp.outbox WHERE status = 'sent' AND provider_message_id IS NULL"

if grep -qE 'PANIC|TRAP|terminated by signal' "$LOGDIR/postgres.log"; then
  fail "no crash in the server log" "$(grep -E 'PANIC|TRAP|terminated by signal' "$LOGDIR/postgres.log" | head -n 5)"
else pass; fi

finish
