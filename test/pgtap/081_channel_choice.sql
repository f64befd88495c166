-- 081_channel_choice.sql — the shared channel-choice and message functions of dispatch and fallback
-- (sql/081_channel_choice.sql): documented, inlinable (so the callers stay one set-based statement),
-- and their rows for a customer with consent, quiet hours, suppressions and unverified addresses.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS afp;

SELECT plan(17);

-- ---------------------------------------------------------------- catalog: documented and inlinable
CREATE TEMP TABLE cc_funcs AS
SELECT to_regprocedure(f) AS oid
  FROM unnest(ARRAY['afp.channel_preference(bigint,text)', 'afp.usable_channels(bigint,text,text)',
                    'afp.message_template(text,text,text)', 'afp.channel_provider(text)',
                    'afp.message_payload(text,text,bigint,text,jsonb,text,text,text,text)']) AS f;
SELECT is((SELECT count(*)::int FROM cc_funcs c JOIN pg_proc p ON p.oid = c.oid
            WHERE obj_description(p.oid, 'pg_proc') IS NOT NULL), 5,
          'the five channel-choice functions exist and have a COMMENT');
-- the conditions of inline_set_returning_function (PostgreSQL 15)
SELECT is((SELECT count(*)::int FROM cc_funcs c JOIN pg_proc p ON p.oid = c.oid
            WHERE p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'sql')
              AND p.proretset AND NOT p.proisstrict AND NOT p.prosecdef AND p.proconfig IS NULL
              AND p.provolatile IN ('s', 'i') AND p.prokind = 'f'), 5,
          'all five are inlinable set-returning SQL functions (not strict, no SET, not security definer, not volatile)');

-- Plans as the callers build them (their search_path): no function scan of ours may remain.
SET LOCAL search_path = pg_catalog, pg_temp;
CREATE FUNCTION pg_temp.cc_plan(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    line text;
    plan text := '';
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (VERBOSE, COSTS OFF) ' || q LOOP
        plan := plan || line || E'\n';
    END LOOP;
    RETURN plan;
END $$;
CREATE TEMP TABLE cc_plans AS
SELECT 1 AS n, pg_temp.cc_plan($q$
    SELECT c.id, ch.*, pv.provider, m.payload
      FROM afp.customers c
     CROSS JOIN LATERAL afp.usable_channels(c.id, 'letter', c.time_zone) AS ch
      LEFT JOIN LATERAL afp.channel_provider(ch.channel) AS pv ON true
     CROSS JOIN LATERAL afp.message_payload(ch.channel, ch.platform, c.id, 'letter', '{}'::jsonb, c.name,
                                            c.external_id, c.tenant, c.locale) AS m$q$) AS plan
UNION ALL
SELECT 2, pg_temp.cc_plan($q$
    SELECT c.id, t.* FROM afp.customers c
     CROSS JOIN LATERAL afp.message_template('email', 'letter', c.locale) AS t$q$);
RESET search_path;
SELECT unalike((SELECT plan FROM cc_plans WHERE n = 1), '%Function Scan on afp.%',
              'usable_channels (with channel_preference), channel_provider and message_payload are inlined: no Function Scan');
SELECT unalike((SELECT plan FROM cc_plans WHERE n = 2), '%Function Scan on afp.%',
              'message_template is inlined: no Function Scan');

-- ---------------------------------------------------------------- rows
INSERT INTO afp.customers (external_id, name, locale, time_zone) VALUES ('cc1', 'Cc One', 'de-CH', 'UTC'),
    ('cc2', 'Cc Two', 'en', 'UTC'), ('cc3', 'Cc Three', 'en', 'UTC');
INSERT INTO afp.contact_points (customer_id, channel, address, platform, verified) VALUES
    ((SELECT id FROM afp.customers WHERE external_id = 'cc1'), 'email', 'gone@example.test', NULL, true),
    ((SELECT id FROM afp.customers WHERE external_id = 'cc1'), 'email', 'two@example.test', NULL, true),
    ((SELECT id FROM afp.customers WHERE external_id = 'cc1'), 'email', 'unverified@example.test', NULL, false),
    ((SELECT id FROM afp.customers WHERE external_id = 'cc1'), 'sms', '+41790000001', NULL, true),
    ((SELECT id FROM afp.customers WHERE external_id = 'cc1'), 'push', 'token-cc1-abcdef', 'ios', true),
    ((SELECT id FROM afp.customers WHERE external_id = 'cc2'), 'email', 'cc2@example.test', NULL, true);
INSERT INTO afp.suppressions (channel, address, reason) VALUES ('email', 'GONE@example.test', 'hard_bounce');
INSERT INTO afp.preferences (customer_id, document_type, channels, opt_in, consent_source) VALUES
    ((SELECT id FROM afp.customers WHERE external_id = 'cc1'), '*', '{push,sms,email}', true, 'test'),
    ((SELECT id FROM afp.customers WHERE external_id = 'cc1'), 'invoice', '{email,sms}', true, 'test'),
    ((SELECT id FROM afp.customers WHERE external_id = 'cc2'), '*', '{email}', true, 'test'),
    ((SELECT id FROM afp.customers WHERE external_id = 'cc2'), 'invoice', '{email}', false, 'test');
-- quiet now (UTC) for sms (defer) and push (fallback), one hour either side; email has none
DELETE FROM afp.quiet_hours;
INSERT INTO afp.quiet_hours (channel, starts_at, ends_at, action) VALUES
    ('sms', (now() AT TIME ZONE 'UTC' - interval '1 hour')::time, (now() AT TIME ZONE 'UTC' + interval '1 hour')::time, 'defer'),
    ('push', (now() AT TIME ZONE 'UTC' - interval '1 hour')::time, (now() AT TIME ZONE 'UTC' + interval '1 hour')::time, 'fallback');

SELECT is((SELECT channels FROM afp.channel_preference((SELECT id FROM afp.customers WHERE external_id = 'cc1'), 'invoice')),
          '{email,sms}'::text[], 'channel_preference: the type''s row wins over ''*''');
SELECT is((SELECT channels FROM afp.channel_preference((SELECT id FROM afp.customers WHERE external_id = 'cc1'), 'letter')),
          '{push,sms,email}'::text[], 'channel_preference: else the ''*'' row');
SELECT is((SELECT count(*)::int FROM afp.channel_preference((SELECT id FROM afp.customers WHERE external_id = 'cc2'), 'invoice')),
          0, 'channel_preference: a type row with opt_in false gives no row (the ''*'' row does not apply)');
SELECT is((SELECT count(*)::int FROM afp.channel_preference((SELECT id FROM afp.customers WHERE external_id = 'cc3'), 'letter')),
          0, 'channel_preference: no preference row, no row');

SELECT results_eq(
    $$SELECT channel, ord, address, platform, deferred, quiet_ends = now() + interval '1 hour'
        FROM afp.usable_channels((SELECT id FROM afp.customers WHERE external_id = 'cc1'), 'letter', 'UTC')
       ORDER BY ord$$,
    $$VALUES ('sms'::text, 2::bigint, '+41790000001'::text, NULL::text, true, true),
             ('email', 3, 'two@example.test', NULL, NULL::boolean, NULL::boolean)$$,
    'usable_channels: push left out (quiet, fallback), sms deferred to the end of quiet hours, email: oldest verified unsuppressed address');
SELECT is((SELECT count(*)::int FROM afp.usable_channels((SELECT id FROM afp.customers WHERE external_id = 'cc2'), 'invoice', 'UTC')),
          0, 'usable_channels: nothing without consent');
UPDATE afp.suppressions SET expires_at = now() - interval '1 second', created_at = now() - interval '1 day';
SELECT is((SELECT address FROM afp.usable_channels((SELECT id FROM afp.customers WHERE external_id = 'cc1'), 'letter', 'UTC')
            WHERE channel = 'email'), 'gone@example.test', 'usable_channels: an expired suppression no longer applies');
UPDATE afp.quiet_hours SET starts_at = starts_at + interval '3 hours', ends_at = ends_at + interval '3 hours';
SELECT is((SELECT array_agg(channel || ':' || coalesce(deferred::text, '-') ORDER BY ord)
             FROM afp.usable_channels((SELECT id FROM afp.customers WHERE external_id = 'cc1'), 'letter', 'UTC')),
          '{push:false,sms:false,email:-}'::text[], 'usable_channels: outside quiet hours every channel counts, none deferred');

-- ---------------------------------------------------------------- message
INSERT INTO afp.message_templates (document_type, channel, locale, subject, body_text, body_html) VALUES
    ('letter', 'email', 'de', 'Brief {{index.Policy}}', 'Hallo {{name}}', '<p>{{name}} {{index.Policy}}</p>'),
    ('letter', 'email', '*', 'Letter', 'Hello', NULL);
SELECT is((SELECT subject FROM afp.message_template('email', 'letter', 'de-CH')), 'Brief {{index.Policy}}',
          'message_template: the language of de-CH before ''*''');
SELECT is((SELECT subject FROM afp.message_template('email', 'statement', 'de-CH')), 'Your {{document_type}} is ready',
          'message_template: the built-in ''*'' template for another type');
SELECT is((SELECT payload FROM afp.message_payload('email', NULL, 42, 'letter', '{"Policy": "P<1>"}', 'A & B',
                                                   'x1', 'default', 'de-CH')),
          '{"subject": "Brief P<1>", "text": "Hallo A & B", "html": "<p>A &amp; B P&lt;1&gt;</p>"}'::jsonb,
          'message_payload: email rendered with name and index.<key>, HTML escaped');
SELECT is((SELECT payload FROM afp.message_payload('push', 'android', 42, 'letter', '{}', 'A', 'x1', 'default', 'en')),
          '{"title": "New letter", "body": "Your letter is ready.", "platform": "android"}'::jsonb,
          'message_payload: push title, body and platform');
INSERT INTO afp.providers (name, channel, kind, endpoint, priority, enabled) VALUES
    ('cc-sms-a', 'sms', 'http', 'https://sms-a.example.test/send', -100, true),
    ('cc-sms-b', 'sms', 'http', 'https://sms-b.example.test/send', -200, false),
    ('cc-sms-c', 'sms', 'http', 'https://sms-c.example.test/send', -100, true);
SELECT is((SELECT array_agg(provider) FROM afp.channel_provider('sms')), '{cc-sms-a}'::text[],
          'channel_provider: one row, the enabled provider with the lowest priority, then name');

SELECT * FROM finish();
ROLLBACK;
