-- 085_delivery_failover.sql — provider selection with circuit breakers, deferred results and
-- channel fallback after permanent failures, in SQL only (no worker needed). The circuit state
-- lives in shared memory: the cluster must preload afp (test/cluster.sh does); the providers used
-- here are reset at the end, as shared memory is not rolled back.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS afp;

SELECT plan(46);

-- ---------------------------------------------------------------- schema
SELECT has_column('afp', 'outbox', 'fallback_of', 'afp.outbox.fallback_of');
SELECT has_column('afp', 'providers', 'rate_burst', 'afp.providers.rate_burst');
SELECT has_trigger('afp', 'outbox', 'outbox_fallback', 'fallback trigger on afp.outbox');
SELECT is((SELECT count(*)::int FROM pg_proc p
            WHERE p.oid IN (to_regprocedure('afp.provider_available(text)'), to_regprocedure('afp_provider_status()'),
                            to_regprocedure('afp_provider_trip(text,interval)'), to_regprocedure('afp_provider_reset(text)'),
                            to_regprocedure('afp.outbox_fallback()'))
              AND obj_description(p.oid, 'pg_proc') IS NOT NULL), 5, 'failover functions exist and have a COMMENT');
SELECT throws_ok($$INSERT INTO afp.providers (name, channel, kind, endpoint, rate_per_sec, rate_burst)
                   VALUES ('tap-bad', 'sms', 'http', 'http://127.0.0.1:9', 5, 0.5)$$,
                 '23514', NULL, 'rate_burst below 1 rejected');

-- ---------------------------------------------------------------- fixture
DELETE FROM afp.quiet_hours;
INSERT INTO afp.providers (name, channel, kind, endpoint, config, secret, priority) VALUES
    ('tap-sms-a', 'sms', 'http', 'http://127.0.0.1:9/api', '{"from": "+15005550006"}', '{"account_sid": "AC1", "auth_token": "t"}', 10),
    ('tap-sms-b', 'sms', 'http', 'http://127.0.0.1:9/api', '{"from": "+15005550006"}', '{"account_sid": "AC1", "auth_token": "t"}', 20),
    ('tap-mail', 'email', 'smtp', 'smtp://127.0.0.1:9', '{"from": "noreply@bank.example"}', '{}', 10),
    ('tap-push', 'push', 'http', 'https://fcm.example.test/v1', '{}', '{}', 10);
CREATE TEMP TABLE reset0 AS SELECT afp_provider_reset(p) FROM unnest(ARRAY['tap-sms-a', 'tap-sms-b', 'tap-mail', 'tap-push']) AS p;
INSERT INTO afp.customers (external_id, name, time_zone)
SELECT 'cf' || g, 'Fallback ' || g, 'UTC' FROM generate_series(1, 10) g;
-- sms for everyone, email for all but cf4 (unverified), push for cf2 and cf9
INSERT INTO afp.contact_points (customer_id, channel, address, verified)
SELECT id, 'sms', '+4179000000' || substr(external_id, 3), true FROM afp.customers WHERE external_id ~ '^cf';
INSERT INTO afp.contact_points (customer_id, channel, address, verified)
SELECT id, 'email', external_id || '@example.test', external_id <> 'cf4' FROM afp.customers WHERE external_id ~ '^cf';
INSERT INTO afp.contact_points (customer_id, channel, address, platform, verified)
SELECT id, 'push', 'token-' || external_id, 'android', true FROM afp.customers WHERE external_id IN ('cf2', 'cf9');
INSERT INTO afp.preferences (customer_id, channels, opt_in, consent_source)
SELECT id, CASE external_id WHEN 'cf2' THEN '{push,sms,email}'
                            WHEN 'cf8' THEN '{email,sms}'
                            WHEN 'cf9' THEN '{email,sms,push}'
                            ELSE '{sms,email}' END::text[], true, 'test'
  FROM afp.customers WHERE external_id ~ '^cf';
INSERT INTO afp.documents (customer_id, document_type, afp)
SELECT id, 'statement', '\x5a'::bytea FROM afp.customers WHERE external_id ~ '^cf';
CREATE TEMP TABLE cf AS
SELECT c.external_id AS cust, d.id AS doc FROM afp.customers c JOIN afp.documents d ON d.customer_id = c.id
 WHERE c.external_id ~ '^cf';

-- ---------------------------------------------------------------- provider selection
SELECT ok(afp.provider_available('tap-sms-a'), 'provider available while its circuit is closed');
SELECT ok(afp_provider_trip('tap-sms-a', interval '1 hour') > now() + interval '59 min',
          'afp_provider_trip opens the circuit for the cool-down given');
SELECT ok(NOT afp.provider_available('tap-sms-a'), 'tripped provider not available');
SELECT is((SELECT circuit FROM afp_provider_status() WHERE provider = 'tap-sms-a'), 'open',
          'afp_provider_status shows the open circuit');
CREATE TEMP TABLE d1 AS SELECT * FROM afp_dispatch(( SELECT doc FROM cf WHERE cust = 'cf10'));
SELECT is((SELECT channel || ':' || provider FROM d1), 'sms:tap-sms-b',
          'dispatch: primary down -> the next enabled provider');
UPDATE afp.outbox SET provider = 'tap-sms-a' WHERE id = (SELECT id FROM d1);
SELECT is((SELECT provider FROM afp.sms_claim(10, interval '5 min', 5)), 'tap-sms-b',
          'claim: the row''s provider is down -> the next enabled provider');
SELECT is((SELECT provider FROM afp.outbox WHERE id = (SELECT id FROM d1)), 'tap-sms-b',
          'the outbox row records the provider tried');
UPDATE afp.outbox SET status = 'queued', locked_until = NULL, next_attempt_at = now(), attempts = 0 WHERE id = (SELECT id FROM d1);
SELECT ok(afp_provider_trip('tap-sms-b', interval '1 hour') IS NOT NULL, 'secondary tripped as well');
SELECT is((SELECT count(*)::int FROM afp.sms_claim(10, interval '5 min', 5)), 0,
          'every enabled provider of the channel down: nothing claimed');
SELECT ok(afp_provider_reset('tap-sms-a') AND afp.provider_available('tap-sms-a'), 'afp_provider_reset closes the circuit');
SELECT is((SELECT provider FROM afp.sms_claim(10, interval '5 min', 5)), 'tap-sms-a',
          'claim: the row''s provider (tap-sms-b) is down -> the best one that is up');
UPDATE afp.outbox SET status = 'queued', locked_until = NULL, next_attempt_at = now(), attempts = 0,
                      provider = 'tap-sms-b' WHERE id = (SELECT id FROM d1);
SELECT ok(afp_provider_reset('tap-sms-b'), 'secondary reset');
SELECT is((SELECT provider FROM afp.sms_claim(10, interval '5 min', 5)), 'tap-sms-b',
          'claim: the row keeps its own provider while it is enabled and up');

-- ---------------------------------------------------------------- deferred results
UPDATE afp.outbox SET last_code = '500', last_error = 'HTTP 500 earlier' WHERE id = (SELECT id FROM d1);
SELECT is(afp.outbox_record_results(ARRAY(SELECT id FROM d1), '{1}', '{deferred}', '{NULL}',
                                    '{"provider \"tap-sms-b\" is down (circuit open); back to the queue"}',
                                    '{NULL}', '{5}', 'http', 5, 1000, 60000), 1, 'deferred result recorded');
SELECT is((SELECT status || ' ' || attempts || ' ' || (next_attempt_at >= now() + interval '5 s') || ' ' || last_code || ' ' || last_error
             FROM afp.outbox WHERE id = (SELECT id FROM d1)),
          'queued 0 true 500 HTTP 500 earlier', 'deferred -> queued after retry_after, attempt not counted, last error kept');
SELECT is((SELECT outcome || ' ' || (detail->>'provider') FROM afp.delivery_events WHERE outbox_id = (SELECT id FROM d1)),
          'deferred tap-sms-b', 'deferred event names the provider');
SELECT is((SELECT count(*)::int FROM afp.outbox WHERE fallback_of IS NOT NULL), 0, 'a deferred row gets no fallback');

-- ---------------------------------------------------------------- channel fallback after permanent failures
DELETE FROM afp.delivery_events;
DELETE FROM afp.outbox;
CREATE TEMP TABLE d2 AS SELECT * FROM afp_dispatch_bulk(ARRAY(SELECT doc FROM cf WHERE cust <> 'cf10'));
SELECT is((SELECT string_agg(cust || ':' || channel, ',' ORDER BY cust) FROM d2 JOIN cf ON cf.doc = d2.document_id),
          'cf1:sms,cf2:push,cf3:sms,cf4:sms,cf5:sms,cf6:sms,cf7:sms,cf8:email,cf9:email', 'fixture dispatched');
INSERT INTO afp.suppressions (channel, address, reason) VALUES ('email', 'CF3@example.test', 'manual');
UPDATE afp.preferences SET opt_in = false WHERE customer_id = (SELECT id FROM afp.customers WHERE external_id = 'cf5');
UPDATE afp.outbox SET status = 'sending', attempts = 1, locked_until = now() + interval '5 min'
 WHERE document_id IN (SELECT doc FROM cf WHERE cust IN ('cf1', 'cf2', 'cf3', 'cf4', 'cf5', 'cf6', 'cf7'));
UPDATE afp.outbox SET attempts = 5 WHERE document_id = (SELECT doc FROM cf WHERE cust = 'cf6');

-- one record statement for seven http rows: permanent 400 (cf1, cf3, cf4, cf5), 404 UNREGISTERED
-- (cf2 push), 500 at the last attempt (cf6), invalid:body (cf7)
CREATE TEMP TABLE r1 AS
SELECT o.id, o.attempts, CASE cf.cust WHEN 'cf2' THEN '404 UNREGISTERED' WHEN 'cf6' THEN '500'
                                      WHEN 'cf7' THEN 'invalid:body' ELSE '400' END AS code
  FROM afp.outbox o JOIN cf ON cf.doc = o.document_id WHERE cf.cust IN ('cf1', 'cf2', 'cf3', 'cf4', 'cf5', 'cf6', 'cf7');
SELECT is(afp.outbox_record_results(ARRAY(SELECT id FROM r1 ORDER BY id), ARRAY(SELECT attempts FROM r1 ORDER BY id),
                                    ARRAY(SELECT 'error' FROM r1 ORDER BY id), ARRAY(SELECT code FROM r1 ORDER BY id),
                                    ARRAY(SELECT 'HTTP ' || code FROM r1 ORDER BY id), ARRAY(SELECT NULL::text FROM r1),
                                    ARRAY(SELECT NULL::int FROM r1), 'http', 5, 1000, 60000),
          7, 'seven failures recorded in one statement');
SELECT is((SELECT count(*)::int FROM afp.outbox WHERE status = 'dead'), 7, 'all seven dead');
SELECT is((SELECT string_agg(cf.cust || ':' || o.channel, ',' ORDER BY cf.cust)
             FROM afp.outbox o JOIN cf ON cf.doc = o.document_id WHERE o.fallback_of IS NOT NULL),
          'cf1:email,cf2:sms', 'fallback rows: sms invalid -> email, push token unregistered -> sms');
SELECT is((SELECT count(*)::int FROM afp.outbox f JOIN afp.outbox o ON o.id = f.fallback_of
            WHERE o.document_id = f.document_id AND o.customer_id = f.customer_id AND o.status = 'dead'),
          2, 'fallback_of links the dead row of the same document');
SELECT is((SELECT f.idempotency_key = 'doc' || f.document_id || '.email' FROM afp.outbox f
             JOIN cf ON cf.doc = f.document_id WHERE cf.cust = 'cf1' AND f.fallback_of IS NOT NULL), true,
          'fallback row: idempotency key of its channel');
SELECT is((SELECT status || ' ' || provider || ' ' || recipient || ' ' || attachment_format || ' ' || (payload->>'subject')
             FROM afp.outbox f JOIN cf ON cf.doc = f.document_id WHERE cf.cust = 'cf1' AND f.fallback_of IS NOT NULL),
          'queued tap-mail cf1@example.test afp Your statement is ready', 'email fallback: provider, recipient, attachment, rendered payload');
SELECT is((SELECT provider || ' ' || recipient || ' ' || (payload->>'text' LIKE 'Your statement is ready%') || ' ' || (next_attempt_at <= now())
             FROM afp.outbox f JOIN cf ON cf.doc = f.document_id WHERE cf.cust = 'cf2' AND f.fallback_of IS NOT NULL),
          'tap-sms-a +41790000002 true true', 'sms fallback: best provider, number, rendered text, due now');
SELECT is((SELECT reason FROM afp.suppressions WHERE channel = 'push' AND address = 'token-cf2'), 'hard_bounce',
          'the unregistered push token is suppressed as well');
SELECT is((SELECT count(*)::int FROM afp.outbox o JOIN cf ON cf.doc = o.document_id WHERE cf.cust = 'cf3'), 1,
          'no fallback to a suppressed address');
SELECT is((SELECT count(*)::int FROM afp.outbox o JOIN cf ON cf.doc = o.document_id WHERE cf.cust = 'cf4'), 1,
          'no fallback to an unverified contact point');
SELECT is((SELECT count(*)::int FROM afp.outbox o JOIN cf ON cf.doc = o.document_id WHERE cf.cust = 'cf5'), 1,
          'no fallback without consent (opted out meanwhile)');
SELECT is((SELECT count(*)::int FROM afp.outbox o JOIN cf ON cf.doc = o.document_id WHERE cf.cust = 'cf6'), 1,
          'no fallback after exhausting transient attempts');
SELECT is((SELECT count(*)::int FROM afp.outbox o JOIN cf ON cf.doc = o.document_id WHERE cf.cust = 'cf7'), 1,
          'no fallback for invalid: (our own data)');

-- the sms fallback of cf2 fails permanently too -> email, the last channel; then nothing is left
UPDATE afp.outbox SET status = 'sending', attempts = 1
 WHERE fallback_of IS NOT NULL AND document_id = (SELECT doc FROM cf WHERE cust = 'cf2');
SELECT is(afp.outbox_record_results(ARRAY(SELECT id FROM afp.outbox WHERE status = 'sending'), '{1}', '{error}', '{"400"}',
                                    '{"HTTP 400"}', '{NULL}', '{NULL}', 'http', 5, 1000, 60000), 1, 'second failure recorded');
SELECT is((SELECT string_agg(o.channel || ':' || o.status || ':' || (o.fallback_of IS NOT NULL), ',' ORDER BY o.id)
             FROM afp.outbox o JOIN cf ON cf.doc = o.document_id WHERE cf.cust = 'cf2'),
          'push:dead:false,sms:dead:true,email:queued:true', 'chained fallback: push -> sms -> email');
UPDATE afp.outbox SET status = 'sending', attempts = 1
 WHERE channel = 'email' AND document_id = (SELECT doc FROM cf WHERE cust = 'cf2');
SELECT is(afp.outbox_record_results(ARRAY(SELECT id FROM afp.outbox WHERE status = 'sending'), '{1}', '{error}', '{"550 5.1.1"}',
                                    '{"no such user"}', '{NULL}', '{NULL}', 'smtp', 5, 1000, 60000), 1, 'third failure recorded');
SELECT is((SELECT count(*)::int FROM afp.outbox o JOIN cf ON cf.doc = o.document_id WHERE cf.cust = 'cf2'), 3,
          'every channel used once: no further row');

-- quiet hours on the fallback channel: defer waits for its end, fallback skips to the next channel
INSERT INTO afp.quiet_hours (channel, starts_at, ends_at, action) VALUES
    ('sms', ((now() AT TIME ZONE 'UTC') - interval '2 hours')::time, ((now() AT TIME ZONE 'UTC') + interval '2 hours')::time, 'defer');
UPDATE afp.outbox SET status = 'sending', attempts = 1
 WHERE document_id = (SELECT doc FROM cf WHERE cust = 'cf8');
SELECT is(afp.outbox_record_results(ARRAY(SELECT id FROM afp.outbox WHERE status = 'sending'), '{1}', '{error}', '{"550 5.1.1"}',
                                    '{"no such user"}', '{NULL}', '{NULL}', 'smtp', 5, 1000, 60000), 1, 'cf8 email bounce recorded');
SELECT is((SELECT channel || ' ' || (next_attempt_at > now() + interval '110 min') FROM afp.outbox
            WHERE fallback_of IS NOT NULL AND document_id = (SELECT doc FROM cf WHERE cust = 'cf8')),
          'sms true', 'fallback channel in quiet hours (defer): due at their end');
UPDATE afp.quiet_hours SET action = 'fallback' WHERE channel = 'sms';
UPDATE afp.outbox SET status = 'sending', attempts = 1
 WHERE document_id = (SELECT doc FROM cf WHERE cust = 'cf9');
SELECT is(afp.outbox_record_results(ARRAY(SELECT id FROM afp.outbox WHERE status = 'sending'), '{1}', '{error}', '{"550 5.1.1"}',
                                    '{"no such user"}', '{NULL}', '{NULL}', 'smtp', 5, 1000, 60000), 1, 'cf9 email bounce recorded');
SELECT is((SELECT string_agg(channel || ':' || provider, ',') FROM afp.outbox
            WHERE fallback_of IS NOT NULL AND document_id = (SELECT doc FROM cf WHERE cust = 'cf9')),
          'push:tap-push', 'fallback channel in quiet hours (fallback): the next one');

-- any statement that ends a row dead counts (e.g. a status callback), not only the record step
DELETE FROM afp.quiet_hours;
CREATE TEMP TABLE d3 AS SELECT * FROM afp_dispatch((SELECT doc FROM cf WHERE cust = 'cf10'));
UPDATE afp.outbox SET status = 'dead', last_code = 'sms:21211', last_error = 'permanent: invalid number'
 WHERE id = (SELECT id FROM d3);
SELECT is((SELECT channel || ' ' || recipient FROM afp.outbox WHERE fallback_of = (SELECT id FROM d3)),
          'email cf10@example.test', 'a carrier failure from a callback (sms:21211) falls back to email');

SELECT ok(bool_and(afp_provider_reset(p)), 'providers reset (shared memory is not rolled back)')
  FROM unnest(ARRAY['tap-sms-a', 'tap-sms-b']) AS p;
SELECT * FROM finish();
ROLLBACK;
