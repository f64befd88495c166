#!/usr/bin/env bash
# scripts/demo.sh — the `make demo` pipeline: build and install afp, start the throwaway cluster,
# compose a two-letter AFP print file in SQL and show what the extension reads back from it, then
# generate a bank statement, a letter, an invoice and a 50-statement batch from the templates in
# examples/ (afp_generate, afp_generate_batch) and show their pages, documents and text, and
# convert them to PDF (afp_to_pdf); then split the batch into 50 documents, dispatch them to 50
# customers and let the delivery workers send them to a local SMTP server and SMS simulator.
#
# Input:  examples/demo/letter-1001.txt, letter-1002.txt (pages separated by form feeds)
# Output: build/demo/demo.afp (the print file), build/demo/demo.txt (its extracted text)
# The cluster keeps running afterwards; stop it with test/cluster.sh stop.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="$ROOT/build/demo"
IN="$ROOT/examples/demo"

echo "==== demo: make && make install"
make
make install

echo
echo "==== demo: starting the throwaway cluster"
test/cluster.sh start

mkdir -p "$OUT"
rm -f "$OUT/demo.afp" "$OUT/demo.txt"

echo
echo "==== demo: composing $OUT/demo.afp"
test/cluster.sh psql -X -q -v ON_ERROR_STOP=1 \
  -v letter1="$(cat "$IN/letter-1001.txt")" \
  -v letter2="$(cat "$IN/letter-1002.txt")" \
  -v out_afp="$OUT/demo.afp" -v out_txt="$OUT/demo.txt" <<'SQL'
CREATE EXTENSION IF NOT EXISTS afp;

-- The print file is composed once and kept in a temporary table for the queries below.
CREATE TEMP TABLE demo AS
SELECT afp_compose_text(
         jsonb_build_array(
           jsonb_build_object('name', 'LTR1001',
                              'index', jsonb_build_object('Account', '1001-2345',
                                                          'Customer', 'Jane Doe'),
                              'text', :'letter1'),
           jsonb_build_object('name', 'LTR1002',
                              'index', jsonb_build_object('Account', '1002-7788',
                                                          'Customer', 'Jürgen Müller'),
                              'text', :'letter2')),
         '{"page_width_in": 8.27, "page_height_in": 11.69, "margin_in": 0.75, "font_size_pt": 10}'
       ) AS afp;

-- Write the file: base64 through psql's output pipe, decoded by the shell.
\set cmd '|base64 -d > ' :'out_afp'
SELECT encode(afp, 'base64') FROM demo \g (format=unaligned tuples_only=on) :cmd
\set cmd '|cat > ' :'out_txt'
SELECT afp_text(afp) FROM demo \g (format=unaligned tuples_only=on) :cmd

\echo
\echo '---- size of the print file'
SELECT length(afp) AS bytes FROM demo;

\echo '---- afp_dump: the first 15 structured fields'
SELECT d.seq, d."offset", d.length, d.id, d.abbr, d.depth
FROM demo, afp_dump(demo.afp) AS d
ORDER BY d.seq
LIMIT 15;

\echo '---- structured fields per type'
SELECT d.abbr, d.id, count(*) AS fields
FROM demo, afp_dump(demo.afp) AS d
GROUP BY d.abbr, d.id
ORDER BY min(d.seq);

\echo '---- afp_validate'
SELECT CASE WHEN count(*) = 0 THEN 'valid'
            ELSE count(*) || ' problem(s): ' || string_agg(v.severity || ' at ' || coalesce(v."offset"::text, '?') || ': ' || v.message, '; ')
       END AS validation
FROM demo, afp_validate(demo.afp) AS v;

\echo '---- afp_page_count'
SELECT afp_page_count(afp) AS pages FROM demo;

\echo '---- afp_documents'
SELECT d.seq, d.name, d.first_page, d.page_count, d.index
FROM demo, afp_documents(demo.afp) AS d
ORDER BY d.seq;

\echo '---- afp_text: the pages of the first document'
SELECT p.page, p.text
FROM demo,
     LATERAL (SELECT * FROM afp_documents(demo.afp) ORDER BY seq LIMIT 1) AS doc,
     LATERAL regexp_split_to_table(afp_text(demo.afp), E'\f') WITH ORDINALITY AS p(text, page)
WHERE p.page BETWEEN doc.first_page AND doc.first_page + doc.page_count - 1
ORDER BY p.page;
SQL

[ -s "$OUT/demo.afp" ] || { echo "demo: $OUT/demo.afp was not written" >&2; exit 1; }

echo
echo "==== demo: generating documents from templates (examples/statement, letter, invoice)"
EX="$ROOT/examples"
rm -f "$OUT"/statement.afp "$OUT"/letter.afp "$OUT"/invoice.afp "$OUT"/batch.afp
test/cluster.sh psql -X -q -v ON_ERROR_STOP=1 \
  -v st_t="$(cat "$EX/statement/template.json")" -v st_d="$(cat "$EX/statement/data.json")" \
  -v le_t="$(cat "$EX/letter/template.json")" -v le_d="$(cat "$EX/letter/data.json")" \
  -v in_t="$(cat "$EX/invoice/template.json")" -v in_d="$(cat "$EX/invoice/data.json")" \
  -v logo="$EX/resources/logo.png" -v out="$OUT" <<'SQL'
-- the resource library and three published templates
INSERT INTO afp.resources (name, type, content)
SELECT 'logo', 'image', pg_read_binary_file(:'logo')
WHERE NOT EXISTS (SELECT 1 FROM afp.resources WHERE name = 'logo' AND type = 'image');
INSERT INTO afp.templates (name, version, status, body)
VALUES ('bank-statement', 1, 'published', :'st_t'),
       ('policy-letter', 1, 'published', :'le_t'),
       ('utility-invoice', 1, 'published', :'in_t')
ON CONFLICT DO NOTHING;

CREATE TEMP TABLE gen AS
SELECT 'statement' AS what, afp_generate('bank-statement', :'st_d'::jsonb) AS afp
UNION ALL SELECT 'letter', afp_generate('policy-letter', :'le_d'::jsonb)
UNION ALL SELECT 'invoice', afp_generate('utility-invoice', :'in_d'::jsonb);

-- a batch: 50 statements (one per generated customer) in ONE print file, by the aggregate
INSERT INTO gen
SELECT 'batch', afp_generate_batch(afp_template_body('bank-statement'), d ORDER BY n)
FROM (SELECT n, jsonb_set(jsonb_set(jsonb_set(:'st_d'::jsonb, '{customer,name}', to_jsonb('Customer ' || n)),
                                     '{account,number}', to_jsonb('DE' || lpad(n::text, 20, '0'))),
                           '{transactions}', (SELECT jsonb_agg(t) FROM (SELECT t FROM jsonb_array_elements(:'st_d'::jsonb -> 'transactions') t LIMIT 5 + n % 40) x)) AS d
      FROM generate_series(1, 50) n) rows;

\set cmd '|base64 -d > ' :'out' '/statement.afp'
SELECT encode(afp, 'base64') FROM gen WHERE what = 'statement' \g (format=unaligned tuples_only=on) :cmd
\set cmd '|base64 -d > ' :'out' '/letter.afp'
SELECT encode(afp, 'base64') FROM gen WHERE what = 'letter' \g (format=unaligned tuples_only=on) :cmd
\set cmd '|base64 -d > ' :'out' '/invoice.afp'
SELECT encode(afp, 'base64') FROM gen WHERE what = 'invoice' \g (format=unaligned tuples_only=on) :cmd
\set cmd '|base64 -d > ' :'out' '/batch.afp'
SELECT encode(afp, 'base64') FROM gen WHERE what = 'batch' \g (format=unaligned tuples_only=on) :cmd

\echo '---- generated print files: size, pages, documents, validation'
SELECT what, length(afp) AS bytes, afp_page_count(afp) AS pages,
       (SELECT count(*) FROM afp_documents(afp)) AS documents,
       (SELECT CASE WHEN count(*) = 0 THEN 'valid' ELSE count(*) || ' problem(s)' END FROM afp_validate(afp)) AS validation
FROM gen ORDER BY what;

\echo '---- the statement: document index (TLEs) and its first page'
SELECT d.name, d.first_page, d.page_count, d.index FROM gen, afp_documents(gen.afp) d WHERE what = 'statement';
SELECT left(split_part(afp_text(afp), E'\f', 1), 1200) AS "statement, page 1" FROM gen WHERE what = 'statement';

\echo '---- the batch: first documents'
SELECT d.seq, d.name, d.first_page, d.page_count, d.index ->> 'CustomerName' AS customer
FROM gen, afp_documents(gen.afp) d WHERE what = 'batch' ORDER BY d.seq LIMIT 5;

\echo '---- converting to PDF (afp_to_pdf): searchable text, embedded font subsets, images'
CREATE TEMP TABLE pdf AS SELECT what, afp_to_pdf(afp) AS pdf FROM gen WHERE what <> 'batch';
SELECT what, length(pdf) AS pdf_bytes, encode(substr(pdf, 1, 8), 'escape') AS header FROM pdf ORDER BY what;
\set cmd '|base64 -d > ' :'out' '/statement.pdf'
SELECT encode(pdf, 'base64') FROM pdf WHERE what = 'statement' \g (format=unaligned tuples_only=on) :cmd
\set cmd '|base64 -d > ' :'out' '/letter.pdf'
SELECT encode(pdf, 'base64') FROM pdf WHERE what = 'letter' \g (format=unaligned tuples_only=on) :cmd
\set cmd '|base64 -d > ' :'out' '/invoice.pdf'
SELECT encode(pdf, 'base64') FROM pdf WHERE what = 'invoice' \g (format=unaligned tuples_only=on) :cmd
SQL

# ---------------------------------------------------------------- delivery
# The 50 statements of the batch go to 50 customers: split into one AFP per document
# (afp_split), converted to PDF, dispatched by the customers' preferences (afp_dispatch_bulk)
# and delivered by the background workers to local sinks: a real SMTP server (aiosmtpd) and a
# Twilio-shaped SMS provider simulator, both from test/delivery/, on 127.0.0.1.
echo
echo "==== demo: delivering the batch (split, PDF, dispatch, email + SMS workers, local sinks)"
SINK="$OUT/delivery"
rm -rf "$SINK"
mkdir -p "$SINK/mail" "$SINK/sms"
SMTP_PORT="${AFP_DEMO_SMTP_PORT:-54339}"
SMS_PORT="${AFP_DEMO_SMS_PORT:-54340}"
/usr/bin/python3 "$ROOT/test/delivery/smtp_sink.py" "$SMTP_PORT" "$SINK/mail" >"$SINK/smtp.log" 2>&1 &
SMTP_PID=$!
/usr/bin/python3 "$ROOT/test/delivery/sms_sim.py" "$SMS_PORT" "$SINK/sms" >"$SINK/sms.log" 2>&1 &
SMS_PID=$!
# Stops the two sinks (ours, by pid) and switches delivery off again.
stop_sinks() {
  kill "$SMTP_PID" "$SMS_PID" 2>/dev/null || true
  test/cluster.sh psql -X -q -c "ALTER SYSTEM RESET afp.delivery_database" -c "SELECT pg_reload_conf()" >/dev/null 2>&1 || true
}
trap stop_sinks EXIT
for _ in $(seq 1 50); do [ -e "$SINK/mail/ready" ] && [ -e "$SINK/sms/ready" ] && break; sleep 0.2; done
[ -e "$SINK/mail/ready" ] && [ -e "$SINK/sms/ready" ] || { echo "demo: the local sinks did not start (see $SINK/*.log)" >&2; exit 1; }

test/cluster.sh psql -X -q -v ON_ERROR_STOP=1 -v smtp_port="$SMTP_PORT" -v sms_port="$SMS_PORT" \
  -v batch="$OUT/batch.afp" <<'SQL'
-- start over on every demo run (the delivery tables hold only demo rows here)
TRUNCATE afp.outbox, afp.delivery_events, afp.documents, afp.contact_points, afp.preferences,
         afp.suppressions, afp.customers RESTART IDENTITY CASCADE;
DELETE FROM afp.providers WHERE name IN ('demo-smtp', 'demo-sms');
INSERT INTO afp.providers (name, channel, kind, endpoint, config, secret) VALUES
  ('demo-smtp', 'email', 'smtp', 'smtp://127.0.0.1:' || :'smtp_port',
   '{"from": "Demo Bank <statements@bank.example>", "starttls": "none",
     "unsubscribe_url": "https://bank.example/unsubscribe?k={{key}}"}', '{}'),
  ('demo-sms', 'sms', 'http', 'http://127.0.0.1:' || :'sms_port' || '/2010-04-01',
   '{"from": "+15550001000"}', '{"account_sid": "ACdemo", "auth_token": "demo-token"}');

-- one customer per statement of the batch; every 5th prefers SMS, one has no consent,
-- one has a suppressed (bounced) address, so the rules show
CREATE TEMP TABLE parts AS SELECT * FROM afp_split(pg_read_binary_file(:'batch'));
INSERT INTO afp.customers (tenant, external_id, name, locale, time_zone)
SELECT 'demo-bank', 'C' || seq, coalesce(index ->> 'CustomerName', 'Customer ' || seq), 'en', 'Europe/Berlin'
FROM parts;
INSERT INTO afp.contact_points (customer_id, channel, address, verified)
SELECT id, 'email', 'customer' || substr(external_id, 2) || '@example.org', true FROM afp.customers
UNION ALL
SELECT id, 'sms', '+1555010' || lpad(substr(external_id, 2), 4, '0') || '', true FROM afp.customers
WHERE substr(external_id, 2)::int % 5 = 0;
INSERT INTO afp.preferences (customer_id, channels, opt_in, consent_source)
SELECT id, CASE WHEN substr(external_id, 2)::int % 5 = 0 THEN '{sms,email}'::text[] ELSE '{email}' END,
       external_id <> 'C7', 'demo'
FROM afp.customers;
INSERT INTO afp.suppressions (channel, address, reason)
VALUES ('email', 'customer9@example.org', 'hard_bounce');
INSERT INTO afp.documents (customer_id, document_type, afp, pdf, index)
SELECT c.id, 'statement', p.afp, afp_to_pdf(p.afp), p.index
FROM parts p JOIN afp.customers c ON c.external_id = 'C' || p.seq;

-- switch the workers on for this database (reloadable), then dispatch everything at once
ALTER SYSTEM SET afp.delivery_database = 'afp';
SELECT pg_reload_conf() \g /dev/null
\echo '---- afp_dispatch_bulk: one statement for all documents'
SELECT channel, provider, count(*) AS messages,
       count(*) FILTER (WHERE next_attempt_at > now() + interval '1 minute') AS deferred_by_quiet_hours
FROM afp_dispatch_bulk(ARRAY(SELECT id FROM afp.documents ORDER BY id))
GROUP BY channel, provider ORDER BY channel;
\echo '---- documents without a message (C7: no consent; C9: its only address is suppressed)'
SELECT c.external_id, c.name
FROM afp.documents d JOIN afp.customers c ON c.id = d.customer_id
WHERE NOT EXISTS (SELECT 1 FROM afp.outbox o WHERE o.document_id = d.id) ORDER BY c.id;
SQL

# wait until every message that is due has been sent (or has died with a reason)
for _ in $(seq 1 120); do
  left=$(test/cluster.sh psql -X -At -c "SELECT count(*) FROM afp.outbox WHERE status = 'sending' OR (status IN ('queued', 'failed') AND next_attempt_at < now() + interval '1 minute')")
  [ "$left" = 0 ] && break
  sleep 0.5
done
test/cluster.sh psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
\echo '---- delivery summary (afp.delivery_report)'
SELECT channel, provider, status, messages, attempts FROM afp.delivery_report ORDER BY channel, status;
\echo '---- the delivery workers (afp_delivery_workers)'
SELECT role, pid IS NOT NULL AS running, batches, sent FROM afp_delivery_workers() ORDER BY role;
SQL
[ "$left" = 0 ] || echo "demo: $left message(s) still waiting (see build/cluster/log/postgres.log)"
stop_sinks
trap - EXIT
MAILS=$(find "$SINK/mail" -name '*.eml' | wc -l)
SMSES=$(cat "$SINK/sms/requests.jsonl" 2>/dev/null | wc -l)

eval "$(test/cluster.sh env)"
echo
echo "==== demo: done"
echo "  print file:      $OUT/demo.afp ($(wc -c <"$OUT/demo.afp") bytes)"
echo "  generated:       $OUT/statement.afp, letter.afp, invoice.afp, batch.afp (50 statements)"
echo "  templates:       $ROOT/examples/*/template.json (see docs/templates.md)"
echo "  PDF (afp_to_pdf): $OUT/statement.pdf, letter.pdf, invoice.pdf"
echo "  extracted text:  $OUT/demo.txt"
echo "  delivered:       $MAILS emails with the statement PDF in $SINK/mail/*.eml, $SMSES SMS requests in $SINK/sms/"
echo "  input letters:   $IN/letter-1001.txt, $IN/letter-1002.txt"
echo "  cluster log:     $ROOT/build/cluster/log/postgres.log"
echo
echo "The cluster is still running (port $PGPORT, database afp), so you can explore:"
echo "  test/cluster.sh psql            # then e.g. SELECT * FROM afp_dump(pg_read_binary_file('$OUT/demo.afp'));"
echo "Stop it with:"
echo "  test/cluster.sh stop"
