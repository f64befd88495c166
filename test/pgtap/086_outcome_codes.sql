-- 086_outcome_codes.sql — outcome codes classified from data: the provider_fault flag of
-- afp.outcome_rules as the workers' circuit breaker evaluates it (the C matcher and its cache,
-- through afp.outcome_provider_fault), and the SMS provider error codes ("400 21211") with their
-- seeded rules, through the record step. No worker needed.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS afp;

SELECT plan(36);

-- ---------------------------------------------------------------- schema
SELECT has_column('afp', 'outcome_rules', 'provider_fault', 'afp.outcome_rules.provider_fault');
SELECT col_not_null('afp', 'outcome_rules', 'provider_fault', 'provider_fault is NOT NULL');
SELECT col_default_is('afp', 'outcome_rules', 'provider_fault', 'false', 'provider_fault defaults to false');
SELECT ok(col_description('afp.outcome_rules'::regclass,
                          (SELECT attnum FROM pg_attribute WHERE attrelid = 'afp.outcome_rules'::regclass
                              AND attname = 'provider_fault')) IS NOT NULL, 'provider_fault has a COMMENT');
SELECT ok(obj_description(to_regprocedure('afp.outcome_provider_fault(text,text)'), 'pg_proc') IS NOT NULL,
          'afp.outcome_provider_fault exists and has a COMMENT');

-- The classification of the record step in SQL: class, suppress and provider_fault of the rule
-- of kind k with the lowest (priority, id) whose pattern matches (as afp.outbox_record_results).
CREATE FUNCTION pg_temp.rule(k text, code text) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce((SELECT r.class || CASE WHEN r.suppress THEN '+suppress' ELSE '' END
                            || CASE WHEN r.provider_fault THEN '+fault' ELSE '' END
                       FROM afp.outcome_rules r WHERE r.kind = k AND coalesce(code, '') ~ r.pattern
                      ORDER BY r.priority, r.id LIMIT 1), 'none')
$$;
CREATE TEMP TABLE codes (kind text, code text);
INSERT INTO codes VALUES
    ('smtp', 'curl:7'), ('smtp', 'curl:28'), ('smtp', '421'), ('smtp', '421 4.3.2'), ('smtp', '4210'),
    ('smtp', '450'), ('smtp', '451 4.7.1'), ('smtp', '452 4.2.2'), ('smtp', '550 5.1.1'), ('smtp', '552 5.2.2'),
    ('smtp', '554 5.7.1'), ('smtp', '550'), ('smtp', '535 5.7.8'), ('smtp', 'config:from'), ('smtp', 'invalid:rcpt'),
    ('smtp', ''), ('smtp', NULL),
    ('http', 'curl:7'), ('http', 'curl:28'), ('http', '500'), ('http', '503 UNAVAILABLE'), ('http', '500 20500'),
    ('http', '502'), ('http', '429'), ('http', '429 20429'), ('http', '429 QUOTA_EXCEEDED'), ('http', '400'),
    ('http', '400 21211'), ('http', '400 21610'), ('http', '400 21614'), ('http', '400 21635'), ('http', '401 20003'),
    ('http', '400 21606'), ('http', '400 21212'), ('http', '400 21659'), ('http', '400 21408'), ('http', '400 21612'),
    ('http', '400 21211 extra'), ('http', '404 20404'), ('http', '404 UNREGISTERED'), ('http', '410'),
    ('http', '400 BadDeviceToken'), ('http', '401 UNAUTHENTICATED'), ('http', '403 InvalidProviderToken'),
    ('http', 'config:provider'), ('http', 'invalid:body'), ('http', 'sms:21211'), ('http', 'sms:21610'),
    ('http', 'sms:30008'), ('http', ''), ('http', NULL);

-- ---------------------------------------------------------------- provider faults from the table
SELECT is((SELECT string_agg(kind || ':' || code, ',' ORDER BY kind, code) FROM codes
            WHERE afp.outcome_provider_fault(kind, code)),
          'http:400 21212,http:400 21606,http:400 21659,http:401 20003,http:500,http:500 20500,http:502,http:503 UNAVAILABLE,http:curl:28,http:curl:7,smtp:421,smtp:421 4.3.2,smtp:curl:28,smtp:curl:7',
          'seeded provider faults: transport errors, HTTP 5xx, SMTP 421, Twilio account errors; nothing else');
SELECT is((SELECT count(*)::int FROM codes
            WHERE afp.outcome_provider_fault(kind, code) <> (pg_temp.rule(kind, code) LIKE '%+fault')),
          0, 'the workers'' C matcher agrees with the SQL classification on all 51 codes');
SELECT is(afp.outcome_provider_fault('smtp', '500') || ',' || afp.outcome_provider_fault('http', '421'),
          'false,false', 'rules of the other kind do not apply (HTTP 5xx is not an SMTP fault, SMTP 421 not an HTTP one)');
SELECT is(afp.outcome_provider_fault('mms', '500'), false, 'a kind without rules: no fault');
SELECT is(afp.outcome_provider_fault(NULL, '500'), NULL, 'NULL kind -> NULL');

-- rule changes reach the matcher without a new session (fingerprint, reloaded on change)
UPDATE afp.outcome_rules SET provider_fault = false WHERE builtin AND kind = 'http' AND pattern = '^5\d\d';
SELECT is(afp.outcome_provider_fault('http', '503 UNAVAILABLE'), false, 'provider_fault cleared on the 5xx rule: 503 no longer a fault');
UPDATE afp.outcome_rules SET provider_fault = true WHERE builtin AND kind = 'http' AND pattern = '^5\d\d';
SELECT is(afp.outcome_provider_fault('http', '503 UNAVAILABLE'), true, '... and set again: a fault');
INSERT INTO afp.outcome_rules (kind, priority, pattern, class, provider_fault, description)
VALUES ('http', 10, '^503 ', 'transient', false, 'test: 503 with a provider code is not a fault');
SELECT is(afp.outcome_provider_fault('http', '503 UNAVAILABLE') || ',' || afp.outcome_provider_fault('http', '503'),
          'false,true', 'a user rule of lower priority overrides the seeded flag (first match decides)');
INSERT INTO afp.outcome_rules (kind, priority, pattern, class, suppress, provider_fault, description)
VALUES ('http', 11, '^400 21611$', 'permanent', false, true, 'test: a provider code made a fault');
SELECT is(afp.outcome_provider_fault('http', '400 21611'), true, 'a new rule can make a 4xx code a provider fault');
UPDATE afp.outcome_rules SET pattern = '^400 2161[12]$' WHERE priority = 11 AND NOT builtin;
SELECT is(afp.outcome_provider_fault('http', '400 21612'), true, 'a changed pattern is recompiled');
DELETE FROM afp.outcome_rules WHERE NOT builtin;
SELECT is(afp.outcome_provider_fault('http', '503 UNAVAILABLE') || ',' || afp.outcome_provider_fault('http', '400 21611'),
          'true,false', 'user rules deleted: back to the seeded behaviour');
UPDATE afp.outcome_rules SET provider_fault = true WHERE builtin AND kind = 'smtp' AND pattern = '^4\d\d';
SELECT is(afp.outcome_provider_fault('smtp', '451 4.7.1'), true, 'SMTP 4xx can be declared provider faults');
UPDATE afp.outcome_rules SET provider_fault = false WHERE builtin AND kind = 'smtp' AND pattern = '^4\d\d';
SELECT is(afp.outcome_provider_fault('smtp', '451 4.7.1'), false, '... and back');

-- ---------------------------------------------------------------- SMS provider codes: classification
SELECT is(pg_temp.rule('http', '400 21211') || ',' || pg_temp.rule('http', '400 21614') || ',' || pg_temp.rule('http', '400 21635'),
          'permanent+suppress,permanent+suppress,permanent+suppress', 'Twilio invalid / not mobile / landline To: permanent + suppress');
SELECT is(pg_temp.rule('http', '400 21610'), 'permanent+suppress', 'Twilio 21610 unsubscribed (STOP): permanent + suppress');
SELECT is(pg_temp.rule('http', '401 20003') || ',' || pg_temp.rule('http', '400 21606') || ',' || pg_temp.rule('http', '400 21212'),
          'transient+fault,transient+fault,transient+fault', 'Twilio authentication / From number errors: transient provider faults');
SELECT is(pg_temp.rule('http', '400 21408') || ',' || pg_temp.rule('http', '400 21612'), 'permanent,permanent',
          'Twilio region permission / unroutable: permanent, no suppression');
SELECT is(pg_temp.rule('http', '400') || ',' || pg_temp.rule('http', '404 20404') || ',' || pg_temp.rule('http', '400 21211 extra'),
          'permanent,permanent,permanent', 'plain 4xx status and unknown codes: the catch-all 4xx rule (permanent)');
SELECT is(pg_temp.rule('http', '429') || ',' || pg_temp.rule('http', '429 20429'), 'transient,transient',
          '429 with or without a provider code: transient');
SELECT is(pg_temp.rule('http', '500') || ',' || pg_temp.rule('http', '500 20500'), 'transient+fault,transient+fault',
          '5xx with or without a provider code: transient provider fault');
SELECT is(pg_temp.rule('http', '404 UNREGISTERED') || ',' || pg_temp.rule('http', '410') || ',' || pg_temp.rule('http', '400 BadDeviceToken'),
          'permanent+suppress,permanent+suppress,permanent+suppress', 'push token rules unchanged');
SELECT is(pg_temp.rule('http', 'sms:21610') || ',' || pg_temp.rule('http', 'sms:21635') || ',' || pg_temp.rule('http', 'sms:30008'),
          'permanent+suppress,permanent+suppress,permanent', 'callbacks: unsubscribed and landline suppress, other carrier failures do not');
SELECT is(pg_temp.rule('smtp', '421 4.3.2') || ',' || pg_temp.rule('smtp', '451') || ',' || pg_temp.rule('smtp', '550 5.1.1'),
          'transient+fault,transient,permanent+suppress', 'SMTP: 421 transient fault, other 4xx transient, 550 5.1.1 hard bounce');

-- ---------------------------------------------------------------- SMS provider codes: record step
DELETE FROM afp.quiet_hours;
INSERT INTO afp.providers (name, channel, kind, endpoint, config, secret, priority) VALUES
    ('tap86-sms', 'sms', 'http', 'http://127.0.0.1:9/api', '{"from": "+15005550006"}', '{"account_sid": "AC1", "auth_token": "t"}', 1),
    ('tap86-mail', 'email', 'smtp', 'smtp://127.0.0.1:9', '{"from": "noreply@bank.example"}', '{}', 1);
INSERT INTO afp.customers (external_id, name, time_zone)
SELECT 'oc' || g, 'Outcome ' || g, 'UTC' FROM generate_series(1, 6) g;
INSERT INTO afp.contact_points (customer_id, channel, address, verified)
SELECT id, 'sms', '+4179100000' || substr(external_id, 3), true FROM afp.customers WHERE external_id ~ '^oc';
INSERT INTO afp.contact_points (customer_id, channel, address, verified)
SELECT id, 'email', external_id || '@example.test', true FROM afp.customers WHERE external_id ~ '^oc';
INSERT INTO afp.preferences (customer_id, channels, opt_in, consent_source)
SELECT id, '{sms,email}', true, 'test' FROM afp.customers WHERE external_id ~ '^oc';
INSERT INTO afp.documents (customer_id, document_type, afp)
SELECT id, 'statement', '\x5a'::bytea FROM afp.customers WHERE external_id ~ '^oc';
CREATE TEMP TABLE oc AS
SELECT c.external_id AS cust, d.id AS doc, v.code
  FROM afp.customers c JOIN afp.documents d ON d.customer_id = c.id
  JOIN (VALUES ('oc1', '400 21211'), ('oc2', '400 21610'), ('oc3', '401 20003'), ('oc4', '400 21612'),
               ('oc5', '400'), ('oc6', '429 20429')) v(cust, code) ON v.cust = c.external_id;
CREATE TEMP TABLE d86 AS SELECT * FROM afp_dispatch_bulk(ARRAY(SELECT doc FROM oc));
SELECT is((SELECT count(*)::int FROM d86 WHERE channel = 'sms' AND provider = 'tap86-sms'), 6, 'fixture: six sms rows dispatched');
UPDATE afp.outbox SET status = 'sending', attempts = 1, locked_until = now() + interval '5 min'
 WHERE id IN (SELECT id FROM d86);
CREATE TEMP TABLE r86 AS
SELECT o.id, o.attempts, oc.code FROM afp.outbox o JOIN oc ON oc.doc = o.document_id WHERE o.channel = 'sms';
SELECT is(afp.outbox_record_results(ARRAY(SELECT id FROM r86 ORDER BY id), ARRAY(SELECT attempts FROM r86 ORDER BY id),
                                    ARRAY(SELECT 'error' FROM r86 ORDER BY id), ARRAY(SELECT code FROM r86 ORDER BY id),
                                    ARRAY(SELECT 'HTTP ' || split_part(code, ' ', 1) || ': {"code": ' || coalesce(nullif(split_part(code, ' ', 2), ''), '0') || '}'
                                            FROM r86 ORDER BY id),
                                    ARRAY(SELECT NULL::text FROM r86), ARRAY(SELECT CASE WHEN code LIKE '429%' THEN 2 END FROM r86 ORDER BY id),
                                    'http', 5, 1000, 60000),
          6, 'six SMS failures with provider codes recorded in one statement');
SELECT is((SELECT string_agg(oc.cust || ':' || o.status || ':' || o.last_code, ',' ORDER BY oc.cust)
             FROM afp.outbox o JOIN oc ON oc.doc = o.document_id WHERE o.channel = 'sms'),
          'oc1:dead:400 21211,oc2:dead:400 21610,oc3:failed:401 20003,oc4:dead:400 21612,oc5:dead:400,oc6:failed:429 20429',
          'status and last_code per provider code: invalid / unsubscribed / unroutable / plain 400 dead, auth error and 429 retried');
SELECT is((SELECT string_agg(s.address || ':' || s.reason, ',' ORDER BY s.address) FROM afp.suppressions s WHERE s.channel = 'sms'),
          '+41791000001:hard_bounce,+41791000002:hard_bounce', 'invalid and unsubscribed numbers suppressed, the others not');
SELECT is((SELECT detail FROM afp.suppressions WHERE channel = 'sms' AND address = '+41791000002') LIKE '400 21610: %', true,
          'the suppression keeps the provider code');
SELECT is((SELECT string_agg(oc.cust || ':' || (e.detail->>'rule' = (SELECT id FROM afp.outcome_rules r WHERE r.builtin AND r.kind = 'http'
                                                                          AND r.priority = CASE oc.cust WHEN 'oc1' THEN 1035 WHEN 'oc2' THEN 1036
                                                                                                        WHEN 'oc3' THEN 1037 WHEN 'oc4' THEN 1038
                                                                                                        WHEN 'oc5' THEN 1040 ELSE 1010 END)::text),
                          ',' ORDER BY oc.cust)
             FROM afp.delivery_events e JOIN afp.outbox o ON o.id = e.outbox_id JOIN oc ON oc.doc = o.document_id
            WHERE e.kind = 'attempt'),
          'oc1:true,oc2:true,oc3:true,oc4:true,oc5:true,oc6:true', 'each event names the rule that decided');
SELECT is((SELECT (next_attempt_at >= now() + interval '2 s')::text FROM afp.outbox o JOIN oc ON oc.doc = o.document_id
            WHERE oc.cust = 'oc6' AND o.channel = 'sms'), 'true', '429 20429: Retry-After still honoured');
SELECT is((SELECT string_agg(oc.cust || ':' || f.channel, ',' ORDER BY oc.cust)
             FROM afp.outbox f JOIN oc ON oc.doc = f.document_id WHERE f.fallback_of IS NOT NULL),
          'oc1:email,oc2:email,oc4:email,oc5:email', 'permanent SMS failures fall back to email; transient ones do not');

SELECT * FROM finish();
ROLLBACK;
