#!/usr/bin/env bash
# 67-delivery-patroni: the delivery workers under Patroni — failover and switchover while a
# backlog drains.
#  - starts a real single-node etcd (Debian etcd-server; client 54441, peer 54442), two Patroni
#    nodes (Debian patroni, REST 54443/54444, PostgreSQL 15 on 54445/54446, run as the postgres
#    OS user) configured from deploy/patroni/patroni.yml rendered by deploy/patroni/render.sh
#    (synchronous_mode on, primary_start_timeout 0, short ttl/loop_wait), bootstrapped with
#    deploy/patroni/afp-post-init.sh, and the SMTP sink (test/delivery/smtp_sink.py, 54447);
#    everything lives under build/patroni-67 and is stopped by pid when the script exits;
#  - where terraform is installed (not a Debian package; optional): deploy/terraform renders
#    patroni.yml byte for byte as render.sh does;
#  - waits for a leader and a synchronous streaming replica; the standby runs no afp launcher
#    or worker; email provider rate-limited so the backlog takes ~10 s;
#  - round 1 (crash): 2,000 emails dispatched; while the leader drains, kill -9 of its
#    postmaster → Patroni fails over to the standby → its workers start and drain the rest;
#  - round 2 (switchover): 1,000 more emails; while they drain, patronictl switchover back;
#  - round 3 (node loss): 1,000 more; kill -9 of the leader's Patroni, postmaster and backends at
#    once → the leader key expires after ttl → node2 promoted; Patroni restarted on node1;
#  - after each round: every dispatched row is on the new leader and ends 'sent', every message
#    reached the sink at least once, copies carry the same Message-ID (and are identical), rows
#    already 'sent' on the standby before the switch were not sent again, duplicates were
#    claimed again (attempts >= 2, or an 'aborted' attempt recorded: a stopping worker gives its
#    rows back uncounted), at most one batch of them; the old leader rejoins as a
#    synchronous standby, runs no delivery worker and its log shows no worker start;
#  - interrupted upload: pg_terminate_backend of the email worker while a 3.8 MB message is
#    being uploaded to test/delivery/stall_smtp.py (which stops reading after DATA): the
#    connection is cut without the end-of-data ".", nothing truncated is accepted, the next try
#    delivers the whole message (attachment identical), the attempt is not counted.
# Why nothing dispatched can be lost here: with synchronous_mode a commit returns to its client
# only once the synchronous standby has flushed it, and Patroni promotes only that standby; a
# dispatch (or a claim, or a 'sent' record) acknowledged on the old leader is on the new one.
# What may happen: rows claimed and handed to the SMTP server whose 'sent' record did not commit
# before the crash are claimed again and re-sent with the same Message-ID (at least once).
set -uo pipefail
NAME=67-delivery-patroni
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PGBIN=${AFP_PGBIN:-/usr/lib/postgresql/15/bin}
ETCD_PORT=${AFP_PATRONI_ETCD_PORT:-54441} ETCD_PEER=${AFP_PATRONI_ETCD_PEER:-54442}
REST=("" "${AFP_PATRONI_REST1:-54443}" "${AFP_PATRONI_REST2:-54444}")
PGP=("" "${AFP_PATRONI_PG1:-54445}" "${AFP_PATRONI_PG2:-54446}")
SMTP_PORT=${AFP_PATRONI_SMTP_PORT:-54447}
N1=${AFP_PATRONI_BACKLOG:-2000} N2=$((${AFP_PATRONI_BACKLOG:-2000} / 2))
RATE=${AFP_PATRONI_RATE:-200} BATCH=50
BASE=$ROOT/build/patroni-67
LOGDIR=$BASE/log WORK=$BASE/work
PY=/usr/bin/python3
export PGPASSWORD=afp-test-super
REST_AUTH=patroni:afp-test-rest
# lib.sh's q/expect/wait_for talk to SOCK:PGPORT_D; here 127.0.0.1 and the port of a node
SOCK=127.0.0.1 PGPORT_D=${PGP[1]}
ETCD_PID="" SINK_PID="" SINK=""
PAT_PID=("" "" "")

. "$ROOT/test/delivery/lib.sh"

# qn NODE ARGS...: psql on node NODE (1 or 2), database afp
qn() { PGPORT_D=${PGP[$1]} q "${@:2}"; }
# rest NODE PATH: HTTP status of a GET on node NODE's Patroni REST API
rest() { curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:${REST[$1]}$2"; }
# wait_rest SECONDS NODE PATH: until the REST API answers 200 on PATH
wait_rest() { local end=$((SECONDS + $1)); while [ $SECONDS -lt $end ]; do [ "$(rest "$2" "$3")" = 200 ] && return 0; sleep 0.2; done; return 1; }
# workers NODE: afp launcher/worker backends in pg_stat_activity of node NODE ("x" if unreachable)
workers() { DB=postgres qn "$1" -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type LIKE 'afp %'" 2>/dev/null || echo x; }
# sync_standby NODE SECONDS: waits (up to SECONDS) until Patroni reports node NODE a replica, then
# until the leader (PGPORT_D) streams to one synchronous standby and NODE reports /sync
sync_standby() {
  wait_rest "$2" "$1" /replica && wait_for 60 "SELECT count(*) = 1 FROM pg_stat_replication WHERE state = 'streaming' AND sync_state = 'sync'" &&
    wait_rest 30 "$1" /sync
}
# pctl ARGS...: patronictl with node 1's configuration (REST credentials from its ctl section)
pctl() { HOME=$BASE/home patronictl -c "$BASE/node1.yml" "$@"; }

# start_patroni NODE: Patroni as the postgres OS user (setpriv execs: $! is Patroni's pid);
# without PGPASSWORD, which would override the passwords Patroni passes to pg_basebackup.
# Waits until its REST API answers; the ports lie in the ephemeral range, so an outgoing
# connection may hold the REST port for a moment: Patroni then exits at once and is started again
start_patroni() {
  local asuser=() try
  [ "$(id -u)" -eq 0 ] && asuser=(setpriv --reuid=postgres --regid=postgres --init-groups)
  for try in 1 2 3 4 5; do
    (cd "$BASE" && exec "${asuser[@]}" \
       env -u PGPASSWORD HOME="$BASE/home" PATH="$PGBIN:/usr/bin:/bin" patroni "$BASE/node$1.yml" >>"$LOGDIR/patroni$1.log" 2>&1) &
    PAT_PID[$1]=$!
    for _ in $(seq 100); do
      [ "$(rest "$1" /patroni)" != 000 ] && return 0
      kill -0 "${PAT_PID[$1]}" 2>/dev/null || break
      sleep 0.2
    done
    wait "${PAT_PID[$1]}" 2>/dev/null
    PAT_PID[$1]=""
    echo "node$1: Patroni exited at start (try $try): $(grep -m 1 -o 'Address already in use' "$LOGDIR/patroni$1.log")"
    sleep 1
  done
  fail "Patroni node$1 starts" "$(tail -n 5 "$LOGDIR/patroni$1.log")"; finish
}
# stop_patroni NODE: SIGTERM (Patroni stops its PostgreSQL), SIGKILL after 40 s
stop_patroni() {
  local p=${PAT_PID[$1]}
  [ -n "$p" ] || return 0
  kill "$p" 2>/dev/null
  for _ in $(seq 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$p" 2>/dev/null
  wait "$p" 2>/dev/null
  PAT_PID[$1]=""
}
# start_sink TAG: the SMTP sink writing to a fresh directory sink-TAG
start_sink() {
  SINK=$BASE/sink-$1
  mkdir -p "$SINK"
  start_bg SINK_PID "$LOGDIR/sink-$1.log" $PY "$ROOT/test/delivery/smtp_sink.py" "$SMTP_PORT" "$SINK"
  wait_files 100 "$SINK/ready" && return 0
  fail "setup" "SMTP sink did not start: $(cat "$LOGDIR/sink-$1.log")"; finish
}
# stop_sink: the SMTP sink (or stall_smtp.py) stops
stop_sink() { stop_pids SINK_PID; }
# stop_all: everything this script started, by pid; a PostgreSQL left without its Patroni is
# stopped with pg_ctl on its own data directory
stop_all() {
  stop_sink
  stop_patroni 1; stop_patroni 2
  for i in 1 2; do
    if [ -f "$BASE/node$i/data/postmaster.pid" ] && kill -0 "$(head -n 1 "$BASE/node$i/data/postmaster.pid")" 2>/dev/null; then
      as_owner "$PGBIN/pg_ctl" stop -D "$BASE/node$i/data" -m immediate -w -t 30 >/dev/null 2>&1
    fi
  done
  stop_pids ETCD_PID
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- setup
for tool in patroni patronictl etcd etcdctl curl setpriv; do
  command -v "$tool" >/dev/null || { fail "setup" "$tool missing (scripts/install-deps.sh: patroni etcd-server etcd-client)"; finish; }
done
need_aiosmtpd
install_if_missing afp_dispatch_bulk
for port in "$ETCD_PORT" "$ETCD_PEER" "${REST[1]}" "${REST[2]}" "${PGP[1]}" "${PGP[2]}" "$SMTP_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then fail "setup" "port $port is in use"; finish; fi
done

rm -rf "$BASE"
mkdir -p "$BASE/etcd" "$BASE/home" "$BASE/node1" "$BASE/node2" "$BASE/sock1" "$BASE/sock2" "$LOGDIR" "$WORK"
chmod 700 "$BASE/etcd"
own "$BASE" "$BASE/home" "$BASE/node1" "$BASE/node2" "$BASE/sock1" "$BASE/sock2" "$LOGDIR"

start_bg ETCD_PID "$LOGDIR/etcd.log" etcd --name afp-test --data-dir "$BASE/etcd" \
   --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
   --listen-peer-urls "http://127.0.0.1:$ETCD_PEER" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER" \
   --initial-cluster "afp-test=http://127.0.0.1:$ETCD_PEER" --initial-cluster-state new \
   --initial-cluster-token "afp-67-$$"
for _ in $(seq 100); do etcdctl --endpoints "127.0.0.1:$ETCD_PORT" endpoint health >/dev/null 2>&1 && break; sleep 0.1; done
if etcdctl --endpoints "127.0.0.1:$ETCD_PORT" endpoint health >/dev/null 2>&1; then pass; else
  fail "etcd is healthy" "$(tail -n 5 "$LOGDIR/etcd.log")"; finish; fi

# the configuration operators use, with test addresses and short timers
for i in 1 2; do
  if ! "$ROOT/deploy/patroni/render.sh" "$ROOT/deploy/patroni/patroni.yml" "$ROOT/deploy/patroni/patroni.vars" \
      scope=afp-67 name="node$i" \
      restapi_listen="127.0.0.1:${REST[$i]}" restapi_connect="127.0.0.1:${REST[$i]}" \
      restapi_user=patroni restapi_password=afp-test-rest etcd_hosts="127.0.0.1:$ETCD_PORT" watchdog_mode=off \
      ttl=15 loop_wait=1 retry_timeout=5 primary_start_timeout=0 synchronous_mode=true synchronous_mode_strict=false \
      max_worker_processes=16 max_connections=50 delivery_database=afp \
      email_batch_size=$BATCH email_concurrency=8 poll_interval_ms=200 \
      post_init="$ROOT/deploy/patroni/afp-post-init.sh" \
      pg_listen="127.0.0.1:${PGP[$i]}" pg_connect="127.0.0.1:${PGP[$i]}" \
      data_dir="$BASE/node$i/data" bin_dir="$PGBIN" pgpass="$BASE/node$i/pgpass" socket_dir="$BASE/sock$i" \
      superuser_password="$PGPASSWORD" replication_password=afp-test-repl allowed_cidr=127.0.0.1/32 \
      >"$BASE/node$i.yml" 2>"$WORK/render.err"; then
    fail "render deploy/patroni/patroni.yml" "$(cat "$WORK/render.err")"; finish
  fi
done
own "$BASE/node1.yml" "$BASE/node2.yml"
chmod 600 "$BASE/node1.yml" "$BASE/node2.yml"
pass

# deploy/terraform renders the same template: where terraform is installed (it is no Debian
# package), its output for the production values of patroni.vars must equal render.sh's
if command -v terraform >/dev/null; then
  mkdir -p "$WORK/tf"
  cat >"$WORK/tf/main.tf" <<EOF
module "afp" {
  source               = "$(realpath --relative-to="$WORK/tf" "$ROOT/deploy/terraform")"
  nodes                = [{ name = "pg1", address = "10.0.0.11" }, { name = "pg2", address = "10.0.0.12" }]
  etcd_nodes           = [{ name = "e1", address = "10.0.0.21" }, { name = "e2", address = "10.0.0.22" }, { name = "e3", address = "10.0.0.23" }]
  allowed_cidr         = "10.0.0.0/24"
  superuser_password   = "change-me-postgres"
  replication_password = "change-me-replicator"
  restapi_password     = "change-me-rest"
}
output "cfg" {
  value     = module.afp.patroni_config
  sensitive = true
}
EOF
  if (cd "$WORK/tf" && export TF_CLI_CONFIG_FILE=/dev/null TF_DATA_DIR="$WORK/tf/.terraform" TF_IN_AUTOMATION=1 &&
      terraform init -input=false -no-color && terraform validate -no-color &&
      terraform apply -auto-approve -input=false -no-color -state="$WORK/tf/state" &&
      terraform output -state="$WORK/tf/state" -json cfg >"$WORK/tf/cfg.json") >"$WORK/tf/log" 2>&1 &&
     "$ROOT/deploy/patroni/render.sh" "$ROOT/deploy/patroni/patroni.yml" "$ROOT/deploy/patroni/patroni.vars" \
       name=pg2 restapi_connect=10.0.0.12:8008 pg_connect=10.0.0.12:5432 >"$WORK/tf/pg2.yml" &&
     $PY -c 'import json, sys; sys.stdout.write(json.load(open(sys.argv[1]))["pg2"])' "$WORK/tf/cfg.json" | cmp -s - "$WORK/tf/pg2.yml"; then
    pass
  else
    fail "deploy/terraform renders patroni.yml exactly as render.sh" "$(tail -n 15 "$WORK/tf/log")"
  fi
else
  echo "terraform not installed: deploy/terraform comparison not run"
fi

T0=$SECONDS
start_patroni 1
if wait_rest 90 1 /primary; then pass; echo "node1 bootstrapped and leader after $((SECONDS - T0)) s"; else
  fail "node1 becomes leader" "$(tail -n 30 "$LOGDIR/patroni1.log")"; finish; fi
T0=$SECONDS
start_patroni 2
if sync_standby 2 120; then
  pass; echo "node2 streaming as synchronous standby after $((SECONDS - T0)) s"
else
  fail "node2 becomes a synchronous streaming replica" "$(tail -n 30 "$LOGDIR/patroni2.log")"; finish
fi
pctl list >"$WORK/list-1.txt" 2>&1 && cat "$WORK/list-1.txt"

expect "post_init created database afp with pg_cron and afp" "afp,pg_cron" \
  "SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension WHERE extname IN ('afp', 'pg_cron')"
expect "leader settings from patroni.yml" "pg_cron,afp|afp|afp|16|replica|on" \
  "SELECT current_setting('shared_preload_libraries') || '|' || current_setting('afp.delivery_database') || '|' ||
          current_setting('cron.database_name') || '|' || current_setting('max_worker_processes') || '|' ||
          current_setting('wal_level') || '|' || current_setting('synchronous_commit')"
expect "leader: synchronous_standby_names names node2" "t" "SELECT current_setting('synchronous_standby_names') LIKE '%node2%'"
expect "leader runs the launcher and the email, sms and push workers" "afp delivery launcher,afp email worker,afp push worker,afp sms worker" \
  "SELECT string_agg(backend_type, ',' ORDER BY backend_type) FROM pg_stat_activity WHERE backend_type LIKE 'afp %'"
DB=postgres PGPORT_D=${PGP[2]} expect "standby: in recovery, same preload and afp.delivery_database" "true|pg_cron,afp|afp" \
  "SELECT pg_is_in_recovery() || '|' || current_setting('shared_preload_libraries') || '|' || current_setting('afp.delivery_database')"
if [ "$(workers 2)" = 0 ]; then pass; else fail "standby runs no afp launcher or worker" "$(workers 2)"; fi

start_sink r1
# the backlog: N customers preferring email, one document each
# make_backlog PREFIX COUNT: customers PREFIX-00001.., contact points, preferences, documents
make_backlog() {
  q -v prefix="$1" -v n="$2" <<'SQL'
INSERT INTO afp.customers (external_id, name)
SELECT :'prefix' || '-' || lpad(g::text, 5, '0'), 'Customer ' || :'prefix' || ' ' || g FROM generate_series(1, :n) g;
INSERT INTO afp.contact_points (customer_id, channel, address, verified)
SELECT id, 'email', external_id || '@example.test', true FROM afp.customers WHERE external_id LIKE :'prefix' || '-%';
INSERT INTO afp.preferences (customer_id, channels, opt_in, consent_source)
SELECT id, '{email}', true, 'patroni-test' FROM afp.customers WHERE external_id LIKE :'prefix' || '-%';
INSERT INTO afp.documents (customer_id, document_type, afp)
SELECT id, 'statement', '\x5a'::bytea FROM afp.customers WHERE external_id LIKE :'prefix' || '-%';
SQL
}
if q -v port="$SMTP_PORT" -v rate="$RATE" >"$WORK/setup.out" 2>&1 <<'SQL' && make_backlog r1 "$N1" >>"$WORK/setup.out" 2>&1
INSERT INTO afp.providers (name, channel, kind, endpoint, config, rate_per_sec, rate_burst) VALUES
  ('local-smtp', 'email', 'smtp', 'smtp://localhost:' || :'port',
   '{"from": "Example Bank <statements@bank.example>", "starttls": "none"}', :rate, 20);
SQL
then pass; else fail "setup SQL" "$(tail -n 20 "$WORK/setup.out")"; finish; fi

# dispatch_round PREFIX: bulk dispatch of the PREFIX documents; keys to WORK/dispatched-PREFIX
dispatch_round() {
  q -c "SELECT idempotency_key FROM afp_dispatch_bulk(ARRAY(SELECT d.id FROM afp.documents d JOIN afp.customers c ON c.id = d.customer_id
          WHERE c.external_id LIKE '$1-%' ORDER BY d.id))" >"$WORK/dispatched-$1" 2>"$WORK/dispatch-$1.err"
}
# sent_on NODE PREFIX: how many PREFIX rows are 'sent' on node NODE
sent_on() { qn "$1" -c "SELECT count(*) FROM afp.outbox o JOIN afp.customers c ON c.id = o.customer_id WHERE c.external_id LIKE '$2-%' AND o.status = 'sent'" 2>/dev/null || echo x; }
# watch_standby NODE SECONDS PREFIX TARGET: until TARGET PREFIX rows are sent on the leader,
# samples the standby NODE's pg_stat_activity; records the largest afp backend count seen
watch_standby() {
  local end=$((SECONDS + $2)) w max=0
  while [ $SECONDS -lt $end ]; do
    w=$(workers "$1"); [ "$w" != x ] && [ "$w" -gt "$max" ] && max=$w
    [ "$(sent_on "$((3 - $1))" "$3")" -ge "$4" ] 2>/dev/null && break
    sleep 0.2
  done
  echo "$max"
}
# snapshot_sent NODE PREFIX: keys already 'sent' on the standby NODE
snapshot_sent() {
  qn "$1" -c "SELECT o.idempotency_key FROM afp.outbox o JOIN afp.customers c ON c.id = o.customer_id WHERE c.external_id LIKE '$2-%' AND o.status = 'sent'" >"$WORK/before-$2"
}
# no_workers_since NODE MARK WHAT: node NODE's log after line MARK shows no delivery worker start
no_workers_since() {
  local n
  n=$(tail -n +"$(($2 + 1))" "$LOGDIR/patroni$1.log" | grep -c 'afp delivery launcher: starting')
  if [ "$n" = 0 ]; then pass; else fail "$3" "$(tail -n +"$(($2 + 1))" "$LOGDIR/patroni$1.log" | grep 'afp delivery launcher' | head -n 3)"; fi
}
# check_round PREFIX NODE: sink comparison for a drained round, read from node NODE
check_round() {
  qn "$2" -c "SELECT coalesce(json_agg(json_build_object('key', o.idempotency_key, 'status', o.status, 'attempts', o.attempts,
        'recipient', o.recipient, 'subject', o.payload->>'subject', 'pmid', o.provider_message_id,
        'aborted', (SELECT count(*) FROM afp.delivery_events e WHERE e.outbox_id = o.id AND e.outcome = 'aborted'))), '[]')
        FROM afp.outbox o JOIN afp.customers c ON c.id = o.customer_id WHERE c.external_id LIKE '$1-%'" >"$WORK/rows-$1.json"
  $PY "$ROOT/test/delivery/patroni_sink_check.py" "$1" "$SINK" "$WORK/rows-$1.json" "$WORK/dispatched-$1" "$WORK/before-$1" \
    "$BATCH" >"$WORK/check-$1.out" 2>&1
  grep '^INFO' "$WORK/check-$1.out" | sed 's/^INFO //'
  while IFS= read -r line; do case "$line" in OK\ *) pass ;; FAIL\ *) fail "${line#FAIL }" ;; esac; done < <(grep -E '^(OK|FAIL) ' "$WORK/check-$1.out")
  grep -qE '^(OK|FAIL) ' "$WORK/check-$1.out" || fail "sink check $1 ran" "$(tail -n 10 "$WORK/check-$1.out")"
}

# ---------------------------------------------------------------- round 1: crash of the leader
T0=$SECONDS
if dispatch_round r1 && [ "$(wc -l <"$WORK/dispatched-r1")" = "$N1" ]; then pass; else
  fail "dispatch of $N1 emails on node1" "$(cat "$WORK/dispatch-r1.err")"; finish; fi
if wait_for 30 "SELECT count(*) = $N1 FROM afp.outbox" 2>/dev/null && PGPORT_D=${PGP[2]} wait_for 30 "SELECT count(*) = $N1 FROM afp.outbox"; then pass; else
  fail "dispatched rows visible on the standby"; fi
MAX=$(watch_standby 2 60 r1 $((N1 / 4)))
SENT1=$(sent_on 1 r1)
if [ "$SENT1" -ge $((N1 / 4)) ] 2>/dev/null && [ "$SENT1" -lt "$N1" ]; then pass; else
  fail "leader drains (>= $((N1 / 4)), < $N1 sent before the crash)" "sent: $SENT1"; fi
if [ "$MAX" = 0 ] && [ "$(workers 2)" = 0 ]; then pass; else fail "standby runs no afp worker while the leader drains" "max seen: $MAX"; fi
snapshot_sent 2 r1
PM1=$(head -n 1 "$BASE/node1/data/postmaster.pid")
echo "round 1: $SENT1 of $N1 sent on node1 after $((SECONDS - T0)) s ($(wc -l <"$WORK/before-r1") on the standby); kill -9 of node1's postmaster $PM1"
MARK=$(wc -l <"$LOGDIR/patroni1.log")
kill -9 "$PM1"
T0=$SECONDS
if wait_rest 60 2 /primary; then pass; echo "round 1: node2 leader $((SECONDS - T0)) s after the crash"; else
  fail "Patroni promotes node2 after the leader's postmaster is killed" "$(tail -n 20 "$LOGDIR/patroni2.log")"; finish; fi
PGPORT_D=${PGP[2]}
if wait_for 20 "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'afp email worker'"; then pass; else
  fail "email worker starts on the promoted node2" "$(grep -E 'afp|FATAL' "$LOGDIR/patroni2.log" | tail -n 10)"; fi
if wait_for 120 "SELECT count(*) = 0 FROM afp.outbox WHERE status <> 'sent'"; then pass
  echo "round 1: backlog drained on node2 $((SECONDS - T0)) s after the crash"
else
  fail "node2 drains the rest of the backlog" "$(q -c "SELECT status, count(*), max(last_error) FROM afp.outbox GROUP BY 1")"
fi
expect "round 1: delivery events on node2 for every row" "0" \
  "SELECT count(*) FROM afp.outbox o WHERE NOT EXISTS (SELECT 1 FROM afp.delivery_events e WHERE e.outbox_id = o.id AND e.outcome = 'sent')"
if sync_standby 1 150; then
  pass; echo "round 1: node1 back as synchronous standby $((SECONDS - T0)) s after the crash"
else
  fail "old leader node1 rejoins as a synchronous streaming standby" "$(tail -n 20 "$LOGDIR/patroni1.log")"
fi
if [ "$(workers 1)" = 0 ]; then pass; else fail "rejoined node1 runs no afp worker" "$(workers 1)"; fi
no_workers_since 1 "$MARK" "node1 started no delivery worker after its crash (came back as standby)"
check_round r1 2
stop_sink

# ---------------------------------------------------------------- round 2: switchover
start_sink r2
make_backlog r2 "$N2" >"$WORK/setup2.out" 2>&1 || fail "round 2 data" "$(tail -n 5 "$WORK/setup2.out")"
T0=$SECONDS
if dispatch_round r2 && [ "$(wc -l <"$WORK/dispatched-r2")" = "$N2" ]; then pass; else
  fail "dispatch of $N2 emails on node2" "$(cat "$WORK/dispatch-r2.err")"; finish; fi
MAX=$(watch_standby 1 60 r2 $((N2 / 4)))
SENT2=$(sent_on 2 r2)
if [ "$MAX" = 0 ]; then pass; else fail "standby node1 runs no afp worker while node2 drains" "max seen: $MAX"; fi
snapshot_sent 1 r2
echo "round 2: $SENT2 of $N2 sent on node2 after $((SECONDS - T0)) s ($(wc -l <"$WORK/before-r2") on the standby); patronictl switchover to node1"
T0=$SECONDS MARK=$(wc -l <"$LOGDIR/patroni2.log")
if pctl switchover --leader node2 --candidate node1 --force >"$WORK/switchover.out" 2>&1 && wait_rest 60 1 /primary; then
  pass; echo "round 2: node1 leader $((SECONDS - T0)) s after the switchover started"
else
  fail "patronictl switchover to node1" "$(tail -n 10 "$WORK/switchover.out")"; finish
fi
PGPORT_D=${PGP[1]}
if [ "$SENT2" -lt "$N2" ] 2>/dev/null; then pass; else fail "switchover happened while node2 was draining" "sent before: $SENT2 of $N2"; fi
if wait_for 20 "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'afp email worker'"; then pass; else
  fail "email worker starts on node1 after the switchover"; fi
if wait_for 120 "SELECT count(*) = 0 FROM afp.outbox WHERE status <> 'sent'"; then pass
  echo "round 2: backlog drained on node1 $((SECONDS - T0)) s after the switchover started"
else
  fail "node1 drains the rest after the switchover" "$(q -c "SELECT status, count(*), max(last_error) FROM afp.outbox GROUP BY 1")"
fi
if sync_standby 2 150; then
  pass; else fail "node2 rejoins as a synchronous streaming standby" "$(tail -n 20 "$LOGDIR/patroni2.log")"; fi
if [ "$(workers 2)" = 0 ]; then pass; else fail "demoted node2 runs no afp worker" "$(workers 2)"; fi
no_workers_since 2 "$MARK" "demoted node2 started no delivery worker"
check_round r2 1
stop_sink

# ---------------------------------------------------------------- round 3: the leader's node dies
# kill -9 of node1's Patroni, postmaster and every backend at once (a power loss): the worker's
# batch in flight is never recorded; the leader key expires after ttl and node2 is promoted
start_sink r3
make_backlog r3 "$N2" >"$WORK/setup3.out" 2>&1 || fail "round 3 data" "$(tail -n 5 "$WORK/setup3.out")"
T0=$SECONDS
if dispatch_round r3 && [ "$(wc -l <"$WORK/dispatched-r3")" = "$N2" ]; then pass; else
  fail "dispatch of $N2 emails on node1" "$(cat "$WORK/dispatch-r3.err")"; finish; fi
MAX=$(watch_standby 2 60 r3 $((N2 / 4)))
SENT3=$(sent_on 1 r3)
if [ "$MAX" = 0 ]; then pass; else fail "standby node2 runs no afp worker while node1 drains" "max seen: $MAX"; fi
snapshot_sent 2 r3
PM1=$(head -n 1 "$BASE/node1/data/postmaster.pid")
KIDS=$(ps -o pid= --ppid "$PM1" | tr '\n' ' ')
echo "round 3: $SENT3 of $N2 sent on node1 after $((SECONDS - T0)) s ($(wc -l <"$WORK/before-r3") on the standby); kill -9 of node1's Patroni, postmaster and its $(echo $KIDS | wc -w) children"
kill -9 "${PAT_PID[1]}" "$PM1" $KIDS
wait "${PAT_PID[1]}" 2>/dev/null
PAT_PID[1]=""
T0=$SECONDS
if [ "$SENT3" -lt "$N2" ] 2>/dev/null; then pass; else fail "node loss happened while node1 was draining" "sent before: $SENT3 of $N2"; fi
if wait_rest 90 2 /primary; then pass; echo "round 3: node2 leader $((SECONDS - T0)) s after the node loss (ttl 15 s)"; else
  fail "Patroni promotes node2 after the leader key expires" "$(tail -n 20 "$LOGDIR/patroni2.log")"; finish; fi
PGPORT_D=${PGP[2]}
if wait_for 20 "SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'afp email worker'"; then pass; else
  fail "email worker starts on the promoted node2"; fi
if wait_for 120 "SELECT count(*) = 0 FROM afp.outbox WHERE status <> 'sent'"; then pass
  echo "round 3: backlog drained on node2 $((SECONDS - T0)) s after the node loss"
else
  fail "node2 drains the rest after the node loss" "$(q -c "SELECT status, count(*), max(last_error) FROM afp.outbox GROUP BY 1")"
fi
MARK=$(wc -l <"$LOGDIR/patroni1.log")
start_patroni 1
if sync_standby 1 150; then
  pass; echo "round 3: node1 back as synchronous standby $((SECONDS - T0)) s after the node loss"
else
  fail "node1 restarted after the node loss rejoins as a synchronous streaming standby" "$(tail -n 20 "$LOGDIR/patroni1.log")"
fi
if [ "$(workers 1)" = 0 ]; then pass; else fail "rejoined node1 runs no afp worker" "$(workers 1)"; fi
no_workers_since 1 "$MARK" "node1 started no delivery worker when it came back"
check_round r3 2
stop_sink

# ---------------------------------------------------------------- interrupted upload
# a switchover stops the leader's workers in the middle of their transfers (round 2 once got an
# empty message at the sink this way): a message whose upload is interrupted must not be ended
# with "." (the server would accept it truncated); the whole message goes out on the next try
STALL=$BASE/stall
start_bg SINK_PID "$LOGDIR/stall.log" $PY "$ROOT/test/delivery/stall_smtp.py" "$SMTP_PORT" "$STALL" 4
wait_files 50 "$STALL/ready"
make_backlog big 1 >"$WORK/setup-big.out" 2>&1
q -c "UPDATE afp.documents d SET afp = (SELECT string_agg(md5(g::text), '')::bytea FROM generate_series(1, 120000) g)
        FROM afp.customers c WHERE c.id = d.customer_id AND c.external_id = 'big-00001'" >>"$WORK/setup-big.out" 2>&1
if dispatch_round big && [ "$(wc -l <"$WORK/dispatched-big")" = 1 ]; then pass; else fail "dispatch of a 3.8 MB email" "$(cat "$WORK/setup-big.out" "$WORK/dispatch-big.err")"; fi
for _ in $(seq 150); do grep -qs '^DATA 1$' "$STALL/events.log" && break; sleep 0.2; done
sleep 1
q -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'afp email worker'" >/dev/null
for _ in $(seq 100); do grep -qsE '^(CUT|ACCEPTED) 1 ' "$STALL/events.log" && break; sleep 0.2; done
if grep -qs '^CUT 1 ' "$STALL/events.log"; then pass; else
  fail "SIGTERM during the upload: the message is cut off, not ended with '.' and accepted truncated" "$(cat "$STALL/events.log" 2>/dev/null)"; fi
if wait_for 40 "SELECT status = 'sent' FROM afp.outbox o JOIN afp.customers c ON c.id = o.customer_id WHERE c.external_id = 'big-00001'"; then pass; else
  fail "interrupted message sent on the next try" "$(cat "$STALL/events.log" 2>/dev/null)"; fi
expect "interrupted attempt not counted" "1" \
  "SELECT attempts FROM afp.outbox o JOIN afp.customers c ON c.id = o.customer_id WHERE c.external_id = 'big-00001'"
BIGSHA=$(q -c "SELECT encode(sha256(d.afp), 'hex') FROM afp.documents d JOIN afp.customers c ON c.id = d.customer_id WHERE c.external_id = 'big-00001'")
ACC=$(grep '^ACCEPTED ' "$STALL/events.log" | head -n 1 | cut -d' ' -f2)
if [ -n "$ACC" ] && [ "$($PY -c 'import email, email.policy, hashlib, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
a = [p for p in m.iter_attachments()]
print(hashlib.sha256(a[0].get_content()).hexdigest() if len(a) == 1 else "no attachment")' "$STALL/$ACC.eml" 2>&1)" = "$BIGSHA" ]; then pass; else
  fail "the message accepted after the interruption is complete (attachment = the document)" "$(cat "$STALL/events.log" 2>/dev/null)"; fi
expect "all rounds: every outbox row sent on the final leader" "$((N1 + 2 * N2 + 1))" "SELECT count(*) FROM afp.outbox WHERE status = 'sent'"
pctl list >"$WORK/list-2.txt" 2>&1 && cat "$WORK/list-2.txt"

for i in 1 2; do
  if grep -qE 'terminated by signal|exited with exit code [^01]' "$LOGDIR/patroni$i.log"; then
    fail "node$i: no afp backend crashed" "$(grep -E 'terminated by signal|exit code' "$LOGDIR/patroni$i.log" | head -n 5)"
  else pass; fi
done

finish
