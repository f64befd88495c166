#!/usr/bin/env bash
# 65-delivery-crash: acceptance run of issue 5 — outages, crashes, interrupts, standby.
#  - starts its own PostgreSQL 15 (build/accept-crash, port AFP_CRASH_PGPORT=54402,
#    afp.delivery_database='afp'), later a streaming standby of it (pg_basebackup -R, port 54403),
#    the SMTP sink (test/delivery/smtp_sink.py) and the SMS simulator (test/delivery/sms_sim.py),
#    ports 54408/54409 or the next free ones up to 54420; every component is started and stopped here;
#  - outage: SMTP server and SMS provider down for 30 s while a backlog is queued (connection
#    refused, curl:7, transient); with afp.max_attempts = 20, afp.retry_base_ms = 1000 and
#    afp.retry_max_ms = 5000 a message lives through at least 0.5+1+2+16*2.5 = 43.5 s of
#    retries, so nothing may die; besides, after afp.failover_threshold consecutive failures the
#    provider's circuit opens and rows wait without spending attempts (probe every
#    afp.failover_cooldown_ms = 5000); the backlog drains after the servers return, each message once;
#  - crash: kill -9 of the postmaster (pid from postmaster.pid) while rows are being sent, three
#    rounds with restarts: every row sent at the end, every message at the sink at least once,
#    duplicates carry the same Message-ID / Idempotency-Key and the same content;
#  - interrupts: pg_cancel_backend aborts a stalled SMTP / HTTP send within a second (attempt not
#    counted); statement_timeout set for the workers (ALTER DATABASE afp SET statement_timeout)
#    aborts a stalled send within a second of expiring (recorded as curl:28, retried, sent);
#  - standby: shared_preload_libraries='afp' and afp.delivery_database='afp' on a replica: no
#    launcher, no worker, nothing sent while in recovery; after pg_ctl promote the workers start
#    and drain what was queued.
set -uo pipefail
NAME=65-delivery-crash
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PGBIN=${AFP_PGBIN:-/usr/lib/postgresql/15/bin}
PGPORT_D=${AFP_CRASH_PGPORT:-54402}
PGPORT_S=${AFP_CRASH_STANDBY_PGPORT:-54403}
PY=/usr/bin/python3
# sink and simulator ports: free ones of 54406-54420 (from 54408 on) unless given
PORTS=$($PY "$ROOT/test/delivery/free_ports.py" 2 54408 54420 || $PY "$ROOT/test/delivery/free_ports.py" 2 54406 54420) || PORTS="54408 54409"
SMTP_PORT=${AFP_CRASH_SMTP_PORT:-${PORTS% *}}
SIM_PORT=${AFP_CRASH_SIM_PORT:-${PORTS#* }}
BASE=$ROOT/build/accept-crash
DATA=$BASE/data SOCK=$BASE/sock LOGDIR=$BASE/log WORK=$BASE/work
SDATA=$BASE/standby SSOCK=$BASE/ssock
SINK_PID="" SIM_PID="" SINK="" SIMDIR=""

. "$ROOT/test/delivery/lib.sh"

# start_sinks TAG [OPTIONS...]: SMTP sink and SMS simulator with fresh directories sink-TAG, sim-TAG
start_sinks() {
  local tag=$1; shift
  SINK=$BASE/sink-$tag SIMDIR=$BASE/sim-$tag
  mkdir -p "$SINK" "$SIMDIR"
  start_bg SINK_PID "$LOGDIR/sink-$tag.log" $PY "$ROOT/test/delivery/smtp_sink.py" "$SMTP_PORT" "$SINK" "$@"
  start_bg SIM_PID "$LOGDIR/sim-$tag.log" $PY "$ROOT/test/delivery/sms_sim.py" "$SIM_PORT" "$SIMDIR" "$@"
  wait_files 100 "$SINK/ready" "$SIMDIR/ready" && return 0
  fail "sinks $tag started" "$(cat "$LOGDIR/sink-$tag.log" "$LOGDIR/sim-$tag.log")"; finish
}
# stop_sinks: SMTP sink and SMS simulator stop (their ports refuse connections)
stop_sinks() { stop_pids SINK_PID SIM_PID; }
stop_all() { stop_sinks; stop_pg "$SDATA" "$DATA"; }
trap stop_all EXIT
# qs: psql against the standby
qs() { "$PGBIN/psql" -h "$SSOCK" -p "$PGPORT_S" -U postgres -d afp -XAtq -v ON_ERROR_STOP=1 "$@"; }
# worker_pid CHANNEL: pid of the email or sms worker
worker_pid() { q -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'afp $1 worker'"; }
# drained TAG: SQL true when every row of backlog TAG is sent or dead
drained() { echo "SELECT NOT EXISTS (SELECT 1 FROM afp.outbox o JOIN afp.customers c ON c.id = o.customer_id
                                      WHERE c.external_id LIKE '$1-%' AND o.status NOT IN ('sent', 'dead'))"; }

# extra_conf: what either server adds to lib.sh's base_conf (retry settings: see the header)
extra_conf() {
  cat <<EOF2
max_wal_senders = 4
full_page_writes = off
min_wal_size = 32MB
max_wal_size = 128MB
afp.email_batch_size = 50
afp.email_concurrency = 8
afp.sms_batch_size = 50
afp.sms_concurrency = 4
afp.max_attempts = 20
afp.retry_base_ms = 1000
afp.retry_max_ms = 5000
afp.smtp_timeout_ms = 5000
afp.http_timeout_ms = 5000
afp.failover_cooldown_ms = 5000
EOF2
}

# ---------------------------------------------------------------- setup
need_aiosmtpd
start_cluster sms_claim "$SSOCK" < <(extra_conf)
own "$SSOCK"

if ! q -v smtp_port="$SMTP_PORT" -v sim_port="$SIM_PORT" >"$WORK/setup.out" 2>&1 <<'SQL'
CREATE EXTENSION afp;
INSERT INTO afp.providers (name, channel, kind, endpoint, config) VALUES
  ('sink', 'email', 'smtp', 'smtp://127.0.0.1:' || :'smtp_port', '{"from": "Example Bank <statements@bank.example>"}');
INSERT INTO afp.providers (name, channel, kind, endpoint, config, secret) VALUES
  ('twsim', 'sms', 'http', 'http://127.0.0.1:' || :'sim_port' || '/2010-04-01', '{"from": "+15005550006"}',
   '{"account_sid": "ACtest", "auth_token": "sim-auth-token"}');
DELETE FROM afp.quiet_hours;    -- no quiet hours: every row is due at once
-- backlog(tag, emails, sms, base): customers tag-1..tag-N (emails first), one document each,
-- dispatched by one afp_dispatch_bulk; returns the rows written
CREATE FUNCTION public.backlog(tag text, n_email int, n_sms int, base int) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  INSERT INTO afp.customers (external_id, name) SELECT tag || '-' || g, 'Customer ' || tag || g FROM generate_series(1, n_email + n_sms) g;
  INSERT INTO afp.contact_points (customer_id, channel, address, verified)
  SELECT c.id, CASE WHEN g <= n_email THEN 'email' ELSE 'sms' END,
         CASE WHEN g <= n_email THEN tag || g || '@example.test' ELSE '+1' || lpad((base * 100000 + g)::text, 9, '0') || '1' END, true
    FROM afp.customers c, LATERAL (SELECT split_part(c.external_id, '-', 2)::int AS g) x WHERE c.external_id LIKE tag || '-%';
  INSERT INTO afp.preferences (customer_id, channels, opt_in, consent_source)
  SELECT customer_id, ARRAY[channel], true, 'crash-test' FROM afp.contact_points cp JOIN afp.customers c ON c.id = cp.customer_id
   WHERE c.external_id LIKE tag || '-%';
  INSERT INTO afp.documents (customer_id, document_type, afp)
  SELECT id, 'statement', '\x5a'::bytea || decode(md5(external_id), 'hex') FROM afp.customers WHERE external_id LIKE tag || '-%';
  SELECT count(*) INTO n FROM afp_dispatch_bulk(ARRAY(SELECT d.id FROM afp.documents d JOIN afp.customers c ON c.id = d.customer_id
                                                      WHERE c.external_id LIKE tag || '-%'));
  RETURN n;
END $$;
-- one(tag, channel, address): one customer with one document, dispatched; returns its outbox id
CREATE FUNCTION public.one(tag text, ch text, address text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE cid bigint; did bigint; oid bigint;
BEGIN
  INSERT INTO afp.customers (external_id, name) VALUES (tag || '-1', tag) RETURNING id INTO cid;
  INSERT INTO afp.contact_points (customer_id, channel, address, verified) VALUES (cid, ch, address, true);
  INSERT INTO afp.preferences (customer_id, channels, opt_in, consent_source) VALUES (cid, ARRAY[ch], true, 'crash-test');
  INSERT INTO afp.documents (customer_id, document_type, afp) VALUES (cid, 'statement', '\x5a') RETURNING id INTO did;
  SELECT id INTO oid FROM afp_dispatch(did);
  RETURN oid;
END $$;
SQL
then
  fail "setup SQL" "$(tail -n 20 "$WORK/setup.out")"; finish
fi
pass

# sink_report TAG SINKDIR SIMDIR: OK/FAIL lines comparing backlog TAG with what the sinks got
# (every row sent; every message at least once, at most MAXCOPIES; copies identical)
sink_report() {
  q -c "SELECT json_agg(json_build_object('key', o.idempotency_key, 'channel', o.channel, 'recipient', o.recipient,
          'status', o.status, 'attempts', o.attempts, 'pmid', o.provider_message_id, 'text', o.payload->>'text'))
          FROM afp.outbox o JOIN afp.customers c ON c.id = o.customer_id WHERE c.external_id LIKE '$1-%'" >"$WORK/rows-$1.json"
  $PY - "$WORK/rows-$1.json" "$2" "$3" "$4" "$1" <<'PYEOF'
import email, email.policy, glob, json, os, sys
rows = json.load(open(sys.argv[1]))
sink, simdir, maxcopies, tag = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
def check(name, ok, detail=""):
    print(("OK " if ok else "FAIL ") + tag + ": " + name + ("" if ok else " :: " + str(detail)[:400]))
mail = {}
for path in glob.glob(os.path.join(sink, "*.eml")):
    m = email.message_from_binary_file(open(path, "rb"), policy=email.policy.default)
    env = json.load(open(path[:-4] + ".json"))
    mail.setdefault(str(m["Message-ID"]), []).append((str(m["To"]), str(m["Subject"]), env["rcpt_tos"],
                                                      m.get_body(("plain",)).get_content()))
reqs = {}
if os.path.exists(os.path.join(simdir, "requests.jsonl")):
    for l in open(os.path.join(simdir, "requests.jsonl")):
        r = json.loads(l)
        if r["status"] == 201:
            reqs.setdefault(r["key"], []).append((r["form"].get("To"), r["form"].get("Body")))
em = {"<%s@bank.example>" % r["key"]: r for r in rows if r["channel"] == "email"}
sm = {r["key"]: r for r in rows if r["channel"] == "sms"}
check("%d rows, every one sent" % len(rows), rows and all(r["status"] == "sent" for r in rows),
      [(r["key"], r["status"], r["attempts"]) for r in rows if r["status"] != "sent"][:5])
mine = {k: v for k, v in mail.items() if k in em}
check("every email at the SMTP sink at least once", all(k in mail for k in em), [k for k in em if k not in mail][:5])
check("every SMS accepted by the simulator at least once", all(k in reqs for k in sm), [k for k in sm if k not in reqs][:5])
check("provider_message_id = Message-ID / simulator sid", all(r["pmid"] == k for k, r in em.items()) and
      all((r["pmid"] or "").startswith("SM") for r in sm.values()))
dups_e = {k: v for k, v in mine.items() if len(v) > 1}
dups_s = {k: v for k, v in reqs.items() if k in sm and len(v) > 1}
check("email copies identical (same Message-ID, To, Subject, envelope, text)",
      all(len(set((a, b, tuple(c), d) for a, b, c, d in v)) == 1 and v[0][0] == em[k]["recipient"] for k, v in mine.items()),
      list(dups_e.items())[:2])
check("SMS copies identical (same Idempotency-Key, To, Body)",
      all(len(set(v)) == 1 and v[0] == (sm[k]["recipient"], sm[k]["text"]) for k, v in reqs.items() if k in sm))
check("at most %d copies of a message" % maxcopies,
      all(len(v) <= maxcopies for v in mine.values()) and all(len(v) <= maxcopies for k, v in reqs.items() if k in sm),
      [(k, len(v)) for k, v in list(mine.items()) + list(reqs.items()) if len(v) > maxcopies][:5])
print("INFO %s: %d emails, %d SMS; duplicates at the sinks: %d emails, %d SMS" % (tag, len(em), len(sm), len(dups_e), len(dups_s)))
PYEOF
}
# report_lines FILE: turns OK/FAIL lines into tests
report_lines() {
  grep '^INFO' "$1" | sed 's/^INFO //'
  while IFS= read -r line; do case "$line" in OK\ *) pass ;; FAIL\ *) fail "${line#FAIL }" ;; esac; done < <(grep -E '^(OK|FAIL) ' "$1")
  grep -qE '^(OK|FAIL) ' "$1" || fail "sink report ran" "$(tail -n 10 "$1")"
}

# ---------------------------------------------------------------- 1. servers down for 30 s
# nothing listens on the SMTP and SMS ports while the backlog is dispatched: connections are
# refused. The ports are held bound but not listening meanwhile — otherwise the kernel may pick
# the closed port itself as the ephemeral port of a connect() to it (TCP self-connect, both in
# the 32768-60999 range) and the sink could not bind it afterwards.
$PY -c 'import socket, sys, time
socks = []
for p in sys.argv[1:]:
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(p))); socks.append(s)
time.sleep(3600)' "$SMTP_PORT" "$SIM_PORT" &
HOLD_PID=$!
T_DOWN=$SECONDS
expect "outage backlog dispatched (300 emails, 100 SMS)" "400" "SELECT public.backlog('out', 300, 100, 1)"
if wait_for 15 "SELECT count(DISTINCT o.channel) = 2 FROM afp.delivery_events e JOIN afp.outbox o ON o.id = e.outbox_id
                 WHERE e.outcome = 'retry' AND e.detail->>'code' = 'curl:7'"; then pass; else
  fail "connection refused recorded as retry (curl:7) on both channels" \
    "$(q -c "SELECT o.channel, e.outcome, e.detail->>'code', count(*) FROM afp.delivery_events e JOIN afp.outbox o ON o.id = e.outbox_id GROUP BY 1, 2, 3")"
fi
sleep $((30 - (SECONDS - T_DOWN) > 0 ? 30 - (SECONDS - T_DOWN) : 0))
expect "after 30 s down: nothing sent, nothing dead" "0|0" \
  "SELECT count(*) FILTER (WHERE status = 'sent') || '|' || count(*) FILTER (WHERE status = 'dead') FROM afp.outbox"
MAXATT=$(q -c "SELECT max(attempts) FROM afp.outbox")
kill "$HOLD_PID"; wait "$HOLD_PID" 2>/dev/null
start_sinks out
T_UP=$(date +%s.%N)
if wait_for 60 "$(drained out)"; then
  pass; echo "outage: backlog drained $(echo "$(date +%s.%N) - $T_UP" | bc) s after the servers returned (up to $MAXATT attempts during the 30 s)"
else
  fail "backlog drained within 60 s of the servers' return" "$(q -c "SELECT channel, status, count(*), max(attempts), max(last_error) FROM afp.outbox GROUP BY 1, 2")"
fi
expect "no row dead after the outage" "0" "SELECT count(*) FROM afp.outbox WHERE status = 'dead'"
expect "attempts during the outage within afp.max_attempts, each one recorded" "0" \
  "SELECT count(*) FROM afp.outbox o WHERE attempts > 20
      OR attempts <> (SELECT count(*) FROM afp.delivery_events e WHERE e.outbox_id = o.id AND e.outcome IN ('sent', 'retry', 'dead'))"
sink_report out "$SINK" "$SIMDIR" 1 >"$WORK/out.report"
report_lines "$WORK/out.report"
stop_sinks

# ---------------------------------------------------------------- 2. kill -9 of the postmaster
start_sinks crash
expect "crash backlog dispatched (2400 emails, 1200 SMS)" "3600" "SELECT public.backlog('crash', 2400, 1200, 2)"
for round in 1 2 3; do
  SENT0=$(q -c "SELECT count(*) FROM afp.outbox WHERE status = 'sent'")
  # kill while the workers hold rows in flight, after some progress in this round
  if ! wait_for 60 "SELECT count(*) FILTER (WHERE status = 'sent') >= $SENT0 + 300 AND count(*) FILTER (WHERE status = 'sending') > 0 FROM afp.outbox"; then
    fail "round $round: workers sending" "$(q -c "SELECT channel, status, count(*) FROM afp.outbox GROUP BY 1, 2")"; break
  fi
  INFLIGHT=$(q -c "SELECT string_agg(channel || ' ' || n, ', ') FROM (SELECT channel, count(*) n FROM afp.outbox WHERE status = 'sending' GROUP BY 1) x")
  PM=$(head -n 1 "$DATA/postmaster.pid")
  CHILDREN=$(pgrep -P "$PM" | tr '\n' ' ')
  T_KILL=$(date +%s.%N)
  kill -9 "$PM"
  end=$((SECONDS + 20))
  while [ $SECONDS -lt $end ]; do
    alive=""; for c in $PM $CHILDREN; do kill -0 "$c" 2>/dev/null && alive="$alive $c"; done
    [ -z "$alive" ] && break; sleep 0.1
  done
  if [ -z "$alive" ]; then
    pass; echo "crash round $round: kill -9 postmaster $PM with $INFLIGHT rows in flight; all $(echo "$CHILDREN" | wc -w) children gone after $(echo "$(date +%s.%N) - $T_KILL" | bc) s"
  else
    fail "round $round: every server process exits after the postmaster's death" "still alive:$(ps -o pid=,cmd= -p "$(echo $alive | tr ' ' ',')" 2>/dev/null)"
    for c in $alive; do kill -9 "$c" 2>/dev/null; done
  fi
  if start_pg; then pass; else fail "round $round: restart after kill -9" "$(tail -n 20 "$LOGDIR/postgres.log")"; finish; fi
done
if wait_for 120 "$(drained crash)"; then pass; else
  fail "crash backlog drained after the last restart" "$(q -c "SELECT channel, status, count(*), max(attempts), max(last_error) FROM afp.outbox GROUP BY 1, 2")"
fi
expect "no row dead or left sending after the crashes" "0" "SELECT count(*) FROM afp.outbox WHERE status <> 'sent'"
q -c "SELECT 'attempts after the crashes: ' || string_agg(attempts || ' attempts: ' || n || ' rows', ', ') FROM
        (SELECT attempts, count(*) n FROM afp.outbox o JOIN afp.customers c ON c.id = o.customer_id
          WHERE c.external_id LIKE 'crash-%' GROUP BY 1 ORDER BY 1) x"
sink_report crash "$SINK" "$SIMDIR" 4 >"$WORK/crash.report"
report_lines "$WORK/crash.report"
n=$(grep -c 'automatic recovery in progress' "$LOGDIR/postgres.log")
[ "$n" = 3 ] && pass || fail "the server ran crash recovery after each kill -9" "recoveries in the log: $n"

# ---------------------------------------------------------------- 3. cancel and statement_timeout
# stalled_started CHANNEL ADDRESS: epoch when the stalled request reached the server, or empty
stalled_started() {
  if [ "$1" = email ]; then [ -f "$SINK/slow-started" ] && cat "$SINK/slow-started"
  else grep -F "\"$2\"" "$SIMDIR/requests.jsonl" 2>/dev/null | grep '"stalled"' | $PY -c 'import sys, json; print(json.loads(sys.stdin.readline())["t"])' 2>/dev/null; fi
}
# cancel_case CHANNEL ADDRESS TAG: a stalled first send of ADDRESS, pg_cancel_backend of the worker
cancel_case() {
  local ch=$1 addr=$2 tag=$3 id pid t0 dt st=""
  rm -f "$SINK/slow-started"
  id=$(q -c "SELECT public.one('$tag', '$ch', '$addr')")
  for _ in $(seq 100); do st=$(stalled_started "$ch" "$addr"); [ -n "$st" ] && break; sleep 0.1; done
  [ -n "$st" ] || { fail "$ch cancel: stalled send started"; return; }
  pid=$(worker_pid "$ch")
  # the time of the request and of the recorded abort, both from the server's clock
  t0=$(q -c "SELECT extract(epoch FROM clock_timestamp()) || '|' || pg_cancel_backend($pid)")
  t0=${t0%|*}
  if wait_for 3 "SELECT EXISTS (SELECT 1 FROM afp.delivery_events WHERE outbox_id = $id AND outcome = 'aborted')"; then
    dt=$(echo "$(q -c "SELECT extract(epoch FROM min(at)) FROM afp.delivery_events WHERE outbox_id = $id AND outcome = 'aborted'") - $t0" | bc)
    if [ "$(echo "$dt < 1.0" | bc)" = 1 ]; then pass; else fail "$ch: pg_cancel_backend aborts the stalled send within 1 s" "took $dt s"; fi
    echo "cancel ($ch): stalled send aborted and recorded $dt s after pg_cancel_backend"
  else
    fail "$ch: pg_cancel_backend aborts the stalled send" "$(q -c "SELECT status, attempts, last_error FROM afp.outbox WHERE id = $id")"
  fi
  if wait_for 20 "SELECT status = 'sent' AND attempts = 1 FROM afp.outbox WHERE id = $id"; then pass; else
    fail "$ch: canceled message sent later, the aborted attempt not counted" "$(q -c "SELECT status, attempts, last_error FROM afp.outbox WHERE id = $id")"; fi
  expect "$ch: worker survives the cancel" "$pid" "SELECT pid FROM pg_stat_activity WHERE backend_type = 'afp $ch worker'"
}
cancel_case email slow.cancel@example.test cancel1
cancel_case sms +15550000009 cancel2

# statement_timeout for the workers: set for their database, picked up by new workers
q -c "ALTER DATABASE afp SET statement_timeout = '1s'" >/dev/null
for ch in email sms; do
  pid=$(worker_pid $ch)
  q -c "SELECT pg_terminate_backend($pid)" >/dev/null
  wait_for 15 "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'afp $ch worker' AND pid <> $pid" ||
    fail "$ch worker restarted with statement_timeout"
done
# timeout_case CHANNEL ADDRESS TAG: a stalled first send of ADDRESS under statement_timeout = 1s
timeout_case() {
  local ch=$1 addr=$2 tag=$3 id st="" at
  rm -f "$SINK/slow-started"
  id=$(q -c "SELECT public.one('$tag', '$ch', '$addr')")
  for _ in $(seq 100); do st=$(stalled_started "$ch" "$addr"); [ -n "$st" ] && break; sleep 0.1; done
  [ -n "$st" ] || { fail "$ch statement_timeout: stalled send started"; return; }
  if wait_for 5 "SELECT EXISTS (SELECT 1 FROM afp.delivery_events WHERE outbox_id = $id AND outcome = 'retry' AND detail->>'code' = 'curl:28')"; then
    at=$(q -c "SELECT extract(epoch FROM min(at)) FROM afp.delivery_events WHERE outbox_id = $id AND detail->>'code' = 'curl:28'")
    dt=$(echo "$at - $st" | bc)
    # the timer runs from the start of the send phase (a little before the request arrives):
    # abort + record within 1 s of expiry means within 2 s of the request's arrival
    if [ "$(echo "$dt < 2.0" | bc)" = 1 ]; then pass; else fail "$ch: statement_timeout 1 s aborts the stalled send within a second of expiry" "recorded $dt s after the request arrived"; fi
    echo "statement_timeout ($ch, 1 s): stalled send aborted and recorded $dt s after the request reached the server"
  else
    fail "$ch: statement_timeout aborts the stalled send (retry event curl:28)" \
      "$(q -c "SELECT status, attempts, last_code, last_error FROM afp.outbox WHERE id = $id")" "$(grep -E 'statement_timeout|afp' "$LOGDIR/postgres.log" | tail -n 3)"
  fi
  if wait_for 20 "SELECT status = 'sent' AND attempts = 2 FROM afp.outbox WHERE id = $id"; then pass; else
    fail "$ch: timed-out message retried (attempt counted) and sent" "$(q -c "SELECT status, attempts, last_error FROM afp.outbox WHERE id = $id")"; fi
}
timeout_case email slow.timeout@example.test timeout1
timeout_case sms +15550000019 timeout2
expect "statement_timeout: the workers keep running" "2" \
  "SELECT count(*) FROM pg_stat_activity WHERE backend_type IN ('afp email worker', 'afp sms worker')"
q -c "ALTER DATABASE afp RESET statement_timeout" >/dev/null

# ---------------------------------------------------------------- 4. standby
q -c "ALTER SYSTEM SET afp.delivery_database = ''" -c "SELECT pg_reload_conf()" >/dev/null
wait_for 15 "SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type IN ('afp email worker', 'afp sms worker')" ||
  fail "primary: workers stop when afp.delivery_database is emptied"
expect "standby backlog queued on the primary (100 emails, 50 SMS)" "150" "SELECT public.backlog('standby', 100, 50, 3)"
BEFORE=$(ls "$SINK"/*.eml | wc -l)
BEFORE_SMS=$(wc -l <"$SIMDIR/requests.jsonl")
as_owner "$PGBIN/pg_basebackup" -h "$SOCK" -p "$PGPORT_D" -U postgres -D "$SDATA" -R -X stream -c fast >"$LOGDIR/basebackup.log" 2>&1 ||
  { fail "pg_basebackup -R" "$(tail -n 5 "$LOGDIR/basebackup.log")"; finish; }
# own port and socket; the primary's ALTER SYSTEM (delivery off) must not carry over
{ base_conf "$PGPORT_S" "$SSOCK"; extra_conf; } | as_owner tee "$SDATA/afp_test.conf" >/dev/null
as_owner sed -i '/afp.delivery_database/d' "$SDATA/postgresql.auto.conf"
start_pg "$SDATA" "$LOGDIR/standby.log" ||
  { fail "standby starts" "$(tail -n 20 "$LOGDIR/standby.log")"; finish; }
# expect_s WHAT EXPECTED SQL: like expect, on the standby
expect_s() { local got; got=$(qs -c "$3" 2>&1); if [ "$got" = "$2" ]; then pass; else fail "$1" "expected: $2" "got: $got"; fi; }
expect_s "standby in recovery with afp.delivery_database = afp" "true|afp" "SELECT pg_is_in_recovery() || '|' || current_setting('afp.delivery_database')"
sleep 3
expect_s "standby: no delivery launcher or worker while in recovery" "0" \
  "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'afp %'"
expect_s "standby: backlog queued, untouched" "150|0" \
  "SELECT count(*) || '|' || sum(attempts) FROM afp.outbox o JOIN afp.customers c ON c.id = o.customer_id WHERE c.external_id LIKE 'standby-%' AND o.status = 'queued'"
if [ "$(ls "$SINK"/*.eml | wc -l)" = "$BEFORE" ] && [ "$(wc -l <"$SIMDIR/requests.jsonl")" = "$BEFORE_SMS" ]; then pass; else
  fail "nothing sent while in recovery"; fi
# the standby has everything; the primary goes away, the standby is promoted
LSN=$(q -c "SELECT pg_current_wal_lsn()")
end=$((SECONDS + 20)); while [ $SECONDS -lt $end ] && [ "$(qs -c "SELECT pg_last_wal_replay_lsn() >= '$LSN'")" != t ]; do sleep 0.2; done
as_owner "$PGBIN/pg_ctl" stop -D "$DATA" -m fast -w -t 60 >/dev/null
as_owner "$PGBIN/pg_ctl" promote -D "$SDATA" -w -t 60 >/dev/null || fail "pg_ctl promote"
T_PROMOTE=$(date +%s.%N)
if end=$((SECONDS + 20)); until [ $SECONDS -ge $end ] || [ "$(qs -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type IN ('afp delivery launcher', 'afp email worker', 'afp sms worker')" 2>/dev/null)" = 3 ]; do sleep 0.2; done; [ $SECONDS -lt $end ]; then
  pass; else fail "after promotion: launcher, email and sms workers run" "$(qs -c "SELECT backend_type FROM pg_stat_activity" 2>&1 | tail -n 12)"; fi
end=$((SECONDS + 60)); until [ $SECONDS -ge $end ] || [ "$(qs -c "$(drained standby)")" = t ]; do sleep 0.2; done
if [ "$(qs -c "$(drained standby)")" = t ]; then
  pass; echo "standby: promoted; backlog drained $(echo "$(date +%s.%N) - $T_PROMOTE" | bc) s after pg_ctl promote"
else fail "promoted standby drains the backlog" "$(qs -c "SELECT channel, status, count(*) FROM afp.outbox GROUP BY 1, 2")"; fi
PGPORT_D=$PGPORT_S SOCK=$SSOCK sink_report standby "$SINK" "$SIMDIR" 1 >"$WORK/standby.report"
report_lines "$WORK/standby.report"

for f in "$LOGDIR/postgres.log" "$LOGDIR/standby.log"; do
  if grep -qE 'PANIC|TRAP|server process .* was terminated by signal' "$f"; then
    fail "no backend crash in $(basename "$f")" "$(grep -E 'PANIC|TRAP|terminated by signal' "$f" | head -n 5)"
  else pass; fi
done

finish
