-- 070_delivery.sql — delivery schema, dispatch rules, claim and result recording, in SQL only
-- (no worker needed: runs on the test/cluster.sh cluster, where afp.delivery_database is unset).
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS afp;

SELECT plan(50);

-- ---------------------------------------------------------------- schema and documentation
SELECT has_table('afp'::name, t::name, 'table afp.' || t) FROM unnest(ARRAY['customers', 'contact_points', 'preferences',
    'suppressions', 'quiet_hours', 'documents', 'providers', 'outcome_rules', 'message_templates', 'outbox',
    'delivery_events']) AS t;
SELECT has_view('afp', 'delivery_report', 'view afp.delivery_report');
SELECT has_view('afp', 'dead_letters', 'view afp.dead_letters');
SELECT is((SELECT count(*)::int
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE n.nspname = 'afp' AND c.relkind IN ('r', 'v')
              AND c.relname IN ('customers', 'contact_points', 'preferences', 'suppressions', 'quiet_hours',
                                'documents', 'providers', 'outcome_rules', 'message_templates', 'outbox',
                                'delivery_events', 'delivery_report', 'dead_letters')
              AND (col_description(c.oid, a.attnum) IS NULL OR obj_description(c.oid, 'pg_class') IS NULL)),
          0, 'every delivery table, view and column has a COMMENT');
SELECT is((SELECT count(*)::int FROM pg_proc p
            WHERE p.oid IN (to_regprocedure('afp_dispatch(bigint)'), to_regprocedure('afp_dispatch_bulk(bigint[])'),
                            to_regprocedure('afp_replay_dead(bigint[],boolean)'), to_regprocedure('afp_delivery_workers()'),
                            to_regprocedure('afp_email_preview(bigint)'), to_regprocedure('afp.email_claim(integer,interval,integer)'),
                            to_regprocedure('afp.outbox_record_results(bigint[],integer[],text[],text[],text[],text[],integer[],text,integer,integer,integer)'),
                            to_regprocedure('afp.render_message(text,jsonb,boolean)'), to_regprocedure('afp.email_source(afp.outbox)'))
              AND obj_description(p.oid, 'pg_proc') IS NOT NULL), 9, 'delivery functions exist and have a COMMENT');

-- ---------------------------------------------------------------- constraints
INSERT INTO afp.customers (external_id, name, time_zone) VALUES ('t1', 'T One', 'UTC'), ('t2', 'T Two', 'Etc/GMT+12');
SELECT throws_ok($$INSERT INTO afp.customers (external_id, time_zone) VALUES ('x', 'Mars/Base')$$, '22023',
                 NULL, 'unknown time zone rejected');
SELECT throws_ok($$INSERT INTO afp.contact_points (customer_id, channel, address) VALUES ((SELECT min(id) FROM afp.customers), 'email', 'a b@example.test')$$,
                 '23514', NULL, 'malformed email address rejected');
SELECT throws_ok($$INSERT INTO afp.contact_points (customer_id, channel, address) VALUES ((SELECT min(id) FROM afp.customers), 'sms', '0791234567')$$,
                 '23514', NULL, 'phone number not in E.164 rejected');
SELECT throws_ok($$INSERT INTO afp.contact_points (customer_id, channel, address) VALUES ((SELECT min(id) FROM afp.customers), 'push', 'token-without-platform')$$,
                 '23514', NULL, 'push token without platform rejected');
SELECT throws_ok($$INSERT INTO afp.preferences (customer_id, channels, opt_in, consent_source) VALUES ((SELECT min(id) FROM afp.customers), '{email,email}', true, 't')$$,
                 '23514', NULL, 'duplicate channel in preferences rejected');
SELECT throws_ok($$INSERT INTO afp.outcome_rules (kind, pattern, class) VALUES ('smtp', '(', 'permanent')$$,
                 '2201B', NULL, 'invalid outcome rule pattern rejected');

-- ---------------------------------------------------------------- dispatch
INSERT INTO afp.providers (name, channel, kind, endpoint, config, priority) VALUES
    ('mail-b', 'email', 'smtp', 'smtp://127.0.0.1:9', '{"from": "b@bank.example"}', 20),
    ('mail-a', 'email', 'smtp', 'smtp://127.0.0.1:9', '{"from": "a@bank.example"}', 10);
INSERT INTO afp.contact_points (customer_id, channel, address, verified)
SELECT id, 'email', external_id || '@example.test', true FROM afp.customers WHERE external_id IN ('t1', 't2');
INSERT INTO afp.contact_points (customer_id, channel, address, verified)
SELECT id, 'sms', CASE external_id WHEN 't1' THEN '+41790000001' ELSE '+41790000002' END, true FROM afp.customers WHERE external_id IN ('t1', 't2');
INSERT INTO afp.preferences (customer_id, channels, opt_in, consent_source)
SELECT id, '{sms,email}', true, 'test' FROM afp.customers WHERE external_id IN ('t1', 't2');
UPDATE afp.quiet_hours SET starts_at = (now() AT TIME ZONE 'UTC')::time - interval '2 hours',
                           ends_at = (now() AT TIME ZONE 'UTC')::time + interval '2 hours', action = 'defer';
INSERT INTO afp.documents (customer_id, document_type, afp, index)
SELECT id, 'statement', '\x5a'::bytea, '{"Account": "A-1"}' FROM afp.customers WHERE external_id IN ('t1', 't2');

CREATE TEMP TABLE d1 AS SELECT * FROM afp_dispatch_bulk(ARRAY(SELECT id FROM afp.documents));
SELECT is((SELECT count(*)::int FROM d1), 2, 'bulk dispatch: one row per document');
SELECT is((SELECT channel || ' ' || (next_attempt_at > now() + interval '110 min') FROM d1 WHERE recipient = '+41790000001'),
          'sms true', 'quiet hours (defer): sms kept, due at the end of the quiet period');
SELECT is((SELECT channel || ' ' || (next_attempt_at = now()) FROM d1 WHERE recipient = '+41790000002'),
          'sms true', 'outside quiet hours in the customer''s zone: due now');
SELECT is((SELECT count(*)::int FROM afp_dispatch_bulk(ARRAY(SELECT id FROM afp.documents))), 0,
          'dispatching again inserts nothing');

DELETE FROM afp.outbox;
UPDATE afp.quiet_hours SET action = 'fallback';
SELECT is((SELECT string_agg(channel || ':' || coalesce(provider, ''), ',' ORDER BY recipient)
             FROM afp_dispatch_bulk(ARRAY(SELECT id FROM afp.documents))),
          'sms:,email:mail-a',
          'quiet hours (fallback): next channel; email gets the provider with the lowest priority');
SELECT is((SELECT payload->>'subject' FROM afp.outbox WHERE channel = 'email'), 'Your statement is ready',
          'payload rendered from the built-in template');
SELECT is((SELECT attachment_format FROM afp.outbox WHERE channel = 'email'), 'afp', 'AFP attached while there is no PDF');

DELETE FROM afp.outbox;
INSERT INTO afp.suppressions (channel, address, reason) VALUES ('sms', '+41790000001', 'manual');
UPDATE afp.quiet_hours SET action = 'defer', starts_at = '03:00', ends_at = '03:01';
SELECT is((SELECT channel FROM afp_dispatch_bulk(ARRAY(SELECT d.id FROM afp.documents d JOIN afp.customers c ON c.id = d.customer_id WHERE c.external_id = 't1'))),
          'email', 'suppressed sms -> email');
DELETE FROM afp.outbox;
UPDATE afp.preferences SET opt_in = false;
SELECT is((SELECT count(*)::int FROM afp_dispatch_bulk(ARRAY(SELECT id FROM afp.documents))), 0, 'opted out: nothing dispatched');
INSERT INTO afp.preferences (customer_id, document_type, channels, opt_in, consent_source)
SELECT id, 'statement', '{email}', true, 'test' FROM afp.customers WHERE external_id = 't2';
SELECT is((SELECT count(*)::int FROM afp_dispatch_bulk(ARRAY(SELECT id FROM afp.documents))), 1,
          'a document-type preference overrides the ''*'' opt-out');
SELECT is((SELECT count(*)::int FROM afp_dispatch(NULL)), 0, 'afp_dispatch(NULL): nothing');

-- ---------------------------------------------------------------- claim and record
DELETE FROM afp.outbox;
UPDATE afp.preferences SET opt_in = true, channels = '{email}';
DELETE FROM afp.suppressions;
CREATE TEMP TABLE d2 AS SELECT * FROM afp_dispatch_bulk(ARRAY(SELECT id FROM afp.documents));
CREATE TEMP TABLE c1 AS SELECT * FROM afp.email_claim(10, interval '5 min', 3);
SELECT is((SELECT count(*)::int FROM c1), 2, 'claim returns the due email rows');
SELECT is((SELECT string_agg(DISTINCT status || ' ' || attempts || ' ' || (locked_until = now() + interval '5 min'), ',') FROM afp.outbox),
          'sending 1 true', 'claimed rows: sending, attempt counted, lease set');
SELECT is((SELECT count(*)::int FROM afp.email_claim(10, interval '5 min', 3)), 0, 'leased rows are not claimed again');
SELECT is((SELECT from_header || ' ' || attachment_type || ' ' || attachment_name FROM c1 ORDER BY id LIMIT 1),
          'a@bank.example application/vnd.ibm.modcap statement-' || (SELECT document_id FROM d2 WHERE id = (SELECT min(id) FROM c1)) || '.afp',
          'claim returns provider settings and the attachment');

SELECT is(afp.outbox_record_results(
              ARRAY(SELECT id FROM d2 ORDER BY id), '{1,1}', '{error,error}', '{"550 5.1.1","451 4.3.0"}',
              '{"no such user","try later"}', '{NULL,NULL}', '{NULL,30}', 'smtp', 3, 1000, 60000),
          2, 'record_results updates both rows');
SELECT is((SELECT status || ' ' || last_code FROM afp.outbox WHERE id = (SELECT min(id) FROM d2)), 'dead 550 5.1.1',
          '550 5.1.1 -> dead');
SELECT is((SELECT reason FROM afp.suppressions s JOIN afp.outbox o ON lower(o.recipient) = lower(s.address)
            WHERE o.id = (SELECT min(id) FROM d2)), 'hard_bounce', '550 5.1.1 -> hard_bounce suppression');
SELECT is((SELECT status || ' ' || (next_attempt_at >= now() + interval '30 s') || ' ' || (locked_until IS NULL)
             FROM afp.outbox WHERE id = (SELECT max(id) FROM d2)), 'failed true true',
          '451 -> failed, retry not before Retry-After, lease released');
SELECT is((SELECT string_agg(outcome, ',' ORDER BY outbox_id) FROM afp.delivery_events), 'dead,retry',
          'one attempt event per row');

UPDATE afp.outbox SET next_attempt_at = now() WHERE status = 'failed';
SELECT is((SELECT count(*)::int FROM afp.email_claim(10, interval '5 min', 3)), 1, 'due failed row claimed again');
SELECT is(afp.outbox_record_results(ARRAY(SELECT max(id) FROM d2), '{2}', '{aborted}', '{NULL}', '{"shutdown"}',
                                    '{NULL}', '{NULL}', 'smtp', 3, 1000, 60000), 1, 'aborted recorded');
SELECT is((SELECT status || ' ' || attempts FROM afp.outbox WHERE id = (SELECT max(id) FROM d2)), 'queued 1',
          'aborted -> queued again, attempt not counted');
SELECT is(afp.outbox_record_results(ARRAY(SELECT max(id) FROM d2), '{2}', '{sent}', '{NULL}', '{"250 ok"}',
                                    '{"<m@x>"}', '{NULL}', 'smtp', 3, 1000, 60000), 0,
          'a result for a claim no longer held is ignored');
UPDATE afp.outbox SET status = 'sending', attempts = 3, locked_until = now() - interval '1 s',
                      next_attempt_at = now() - interval '1 s' WHERE id = (SELECT max(id) FROM d2);
SELECT is((SELECT count(*)::int FROM afp.email_claim(10, interval '5 min', 3)), 0, 'expired lease without attempts left: not claimed');
SELECT is((SELECT status || ' ' || last_code FROM afp.outbox WHERE id = (SELECT max(id) FROM d2)), 'dead lease',
          '... but dead with the reason');

SELECT is((SELECT count(*)::int FROM afp_replay_dead(ARRAY(SELECT id FROM d2))), 1,
          'replay requeues dead rows, skipping suppressed recipients');
SELECT is((SELECT count(*)::int FROM afp_replay_dead(ARRAY(SELECT id FROM d2), true)), 1, '... unless forced');
SELECT is((SELECT sum(messages)::int FROM afp.delivery_report), 2, 'delivery_report counts the rows');

SELECT * FROM finish();
ROLLBACK;
