-- 083_push.sql — the SQL side of the push worker: afp.push_claim (provider per platform, request
-- URL and JSON body, credentials), afp.push_record_results (token removal) and the push outcome
-- rules. No worker needed (runs on the test/cluster.sh cluster, where delivery is off).
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS afp;

SELECT plan(27);

SELECT is((SELECT count(*)::int FROM pg_proc p
            WHERE p.oid IN (to_regprocedure('afp.push_claim(integer,interval,integer)'),
                            to_regprocedure('afp.push_record_results(bigint[],integer[],text[],text[],text[],text[],integer[],integer,integer,integer)'))
              AND obj_description(p.oid, 'pg_proc') IS NOT NULL), 2, 'push functions exist and have a COMMENT');
SELECT ok(obj_description('afp.push_message'::regtype, 'pg_type') IS NOT NULL, 'type afp.push_message has a COMMENT');

-- customers with android, ios and web tokens; rows as dispatch writes them (all with the
-- lowest-priority push provider, whatever the platform)
INSERT INTO afp.customers (external_id, name, time_zone) VALUES ('pa', 'Push A', 'UTC'), ('pi', 'Push I', 'UTC'), ('pw', 'Push W', 'UTC');
INSERT INTO afp.contact_points (customer_id, channel, address, platform, verified)
SELECT id, 'push', CASE external_id WHEN 'pa' THEN 'tok-android-1' WHEN 'pi' THEN 'tok-ios-0001' ELSE 'tok-web-0001' END,
       CASE external_id WHEN 'pa' THEN 'android' WHEN 'pi' THEN 'ios' ELSE 'web' END, true
  FROM afp.customers WHERE external_id IN ('pa', 'pi', 'pw');
INSERT INTO afp.documents (customer_id, document_type, afp)
SELECT id, 'statement', '\x5a'::bytea FROM afp.customers WHERE external_id IN ('pa', 'pi', 'pw');
INSERT INTO afp.outbox (document_id, customer_id, channel, recipient, payload, idempotency_key)
SELECT d.id, c.id, 'push', cp.address,
       jsonb_build_object('title', 'T ' || c.external_id, 'body', 'B', 'platform', cp.platform,
                          'data', jsonb_build_object('n', 1, 's', 'x')),
       'pushtest.' || c.external_id
  FROM afp.customers c JOIN afp.documents d ON d.customer_id = c.id
  JOIN afp.contact_points cp ON cp.customer_id = c.id AND cp.channel = 'push'
 WHERE c.external_id IN ('pa', 'pi', 'pw');

SELECT is((SELECT count(*)::int FROM afp.push_claim(10, interval '5 min', 3)), 0,
          'no push provider enabled: nothing claimed');
SELECT is((SELECT count(*)::int FROM afp.outbox WHERE idempotency_key LIKE 'pushtest.%' AND status = 'queued'), 3,
          '... the rows stay queued');

INSERT INTO afp.providers (name, channel, kind, endpoint, config, secret, priority) VALUES
    ('fcm_t', 'push', 'http', 'https://fcm.example.test/', '{"service": "fcm"}',
     '{"service_account": {"client_email": "sa@p1.iam.example", "private_key": "PEM-RSA", "project_id": "p1"}}', 100),
    ('apns_t', 'push', 'http', 'https://apns.example.test', '{"service": "apns", "topic": "com.example.app", "expiration_s": 600}',
     '{"key_id": "K1", "team_id": "T1", "private_key": "PEM-EC"}', 50);
UPDATE afp.outbox SET provider = 'apns_t' WHERE idempotency_key LIKE 'pushtest.%';

CREATE TEMP TABLE c1 AS SELECT * FROM afp.push_claim(10, interval '5 min', 3);
SELECT is((SELECT count(*)::int FROM c1), 3, 'claim returns the due push rows');
SELECT is((SELECT string_agg(o.idempotency_key || ':' || o.provider, ',' ORDER BY o.idempotency_key)
             FROM afp.outbox o WHERE o.idempotency_key LIKE 'pushtest.%'),
          'pushtest.pa:fcm_t,pushtest.pi:apns_t,pushtest.pw:fcm_t',
          'each row''s provider is set to the one serving its platform (ios -> apns, android and web -> fcm)');
SELECT is((SELECT string_agg(provider || ':' || service, ',' ORDER BY idempotency_key) FROM c1),
          'fcm_t:fcm,apns_t:apns,fcm_t:fcm', 'claimed rows carry provider and service');
SELECT is((SELECT url FROM c1 WHERE idempotency_key = 'pushtest.pa'),
          'https://fcm.example.test/v1/projects/p1/messages:send', 'FCM URL from endpoint and project_id');
SELECT is((SELECT url FROM c1 WHERE idempotency_key = 'pushtest.pi'),
          'https://apns.example.test/3/device/tok-ios-0001', 'APNs URL /3/device/{token}');
SELECT is((SELECT body::jsonb FROM c1 WHERE idempotency_key = 'pushtest.pa'),
          jsonb_build_object('message', jsonb_build_object(
              'token', 'tok-android-1',
              'notification', jsonb_build_object('title', 'T pa', 'body', 'B'),
              'data', jsonb_build_object('n', '1', 's', 'x', 'idempotency_key', 'pushtest.pa',
                                         'document_id', (SELECT document_id::text FROM afp.outbox WHERE idempotency_key = 'pushtest.pa')))),
          'FCM body: token, notification, data as strings with the idempotency key');
SELECT is((SELECT body::jsonb - 'document_id' FROM c1 WHERE idempotency_key = 'pushtest.pi'),
          '{"aps": {"alert": {"title": "T pi", "body": "B"}}, "n": "1", "s": "x", "idempotency_key": "pushtest.pi"}'::jsonb,
          'APNs body: aps.alert, data (as strings) and the idempotency key');
SELECT is((SELECT client_email || '|' || private_key || '|' || token_uri FROM c1 WHERE idempotency_key = 'pushtest.pa'),
          'sa@p1.iam.example|PEM-RSA|https://oauth2.googleapis.com/token',
          'FCM service account from secret.service_account, default token_uri');
SELECT is((SELECT key_id || '|' || team_id || '|' || private_key || '|' || topic FROM c1 WHERE idempotency_key = 'pushtest.pi'),
          'K1|T1|PEM-EC|com.example.app', 'APNs key id, team id, key and topic');
SELECT ok((SELECT expiration BETWEEN extract(epoch FROM now())::bigint + 590 AND extract(epoch FROM now())::bigint + 610
             FROM c1 WHERE idempotency_key = 'pushtest.pi'), 'apns-expiration = now + config.expiration_s');
SELECT ok((SELECT bool_and(tls_verify) AND bool_and(ca_file IS NULL) FROM c1), 'TLS verification on by default');

-- results: sent, unregistered (410), bad token (400 BadDeviceToken), rate limited
UPDATE afp.outbox SET status = 'queued', locked_until = NULL, next_attempt_at = now(), attempts = 0
 WHERE idempotency_key LIKE 'pushtest.%';
INSERT INTO afp.customers (external_id, name, time_zone) VALUES ('pb', 'Push B', 'UTC');
INSERT INTO afp.contact_points (customer_id, channel, address, platform, verified)
SELECT id, 'push', 'tok-ios-0002', 'ios', true FROM afp.customers WHERE external_id = 'pb';
-- the same token registered for a second customer is removed too
INSERT INTO afp.contact_points (customer_id, channel, address, platform, verified)
SELECT id, 'push', 'tok-ios-0001', 'ios', true FROM afp.customers WHERE external_id = 'pb';
INSERT INTO afp.documents (customer_id, document_type, afp) SELECT id, 'statement', '\x5a'::bytea FROM afp.customers WHERE external_id = 'pb';
INSERT INTO afp.outbox (document_id, customer_id, channel, recipient, payload, idempotency_key)
SELECT d.id, c.id, 'push', 'tok-ios-0002', '{"title": "t", "body": "b", "platform": "ios"}', 'pushtest.pb'
  FROM afp.customers c JOIN afp.documents d ON d.customer_id = c.id WHERE c.external_id = 'pb';
CREATE TEMP TABLE c2 AS SELECT * FROM afp.push_claim(10, interval '5 min', 3);
SELECT is((SELECT count(*)::int FROM c2), 4, 'four rows claimed');
CREATE TEMP TABLE r2 AS
SELECT * FROM afp.push_record_results(
    ARRAY(SELECT id FROM c2 ORDER BY idempotency_key),
    ARRAY(SELECT attempts FROM c2 ORDER BY idempotency_key),
    ARRAY['sent', 'error', 'error', 'error'],            -- pa, pb, pi, pw
    ARRAY[NULL, '400 BadDeviceToken', '410 Unregistered', '429 QUOTA_EXCEEDED'],
    ARRAY[NULL, 'HTTP/2 400', 'HTTP/2 410', 'HTTP/1 429'],
    ARRAY['projects/p1/messages/1', NULL, NULL, NULL],
    ARRAY[NULL, NULL, NULL, 30]::integer[],
    3, 1000, 60000);
SELECT is((SELECT updated || '|' || tokens_removed FROM r2), '4|3',
          'four rows recorded; three contact points removed (tok-ios-0001 of two customers, tok-ios-0002)');
SELECT is((SELECT string_agg(idempotency_key || ':' || status || ':' || coalesce(provider_message_id, last_code), ',' ORDER BY idempotency_key)
             FROM afp.outbox WHERE idempotency_key LIKE 'pushtest.%'),
          'pushtest.pa:sent:projects/p1/messages/1,pushtest.pb:dead:400 BadDeviceToken,pushtest.pi:dead:410 Unregistered,pushtest.pw:failed:429 QUOTA_EXCEEDED',
          'sent / dead (unregistered, bad token) / failed (429)');
SELECT is((SELECT string_agg(address, ',' ORDER BY address) FROM afp.contact_points WHERE channel = 'push'),
          'tok-android-1,tok-web-0001', 'unregistered and bad tokens deleted, the others kept');
SELECT is((SELECT string_agg(address || ':' || reason, ',' ORDER BY address) FROM afp.suppressions WHERE channel = 'push'),
          'tok-ios-0001:hard_bounce,tok-ios-0002:hard_bounce', 'and suppressed as hard_bounce');
SELECT ok((SELECT next_attempt_at >= now() + interval '30 s' FROM afp.outbox WHERE idempotency_key = 'pushtest.pw'),
          '429: next attempt not before Retry-After');

-- classification of the push codes by afp.outcome_rules
CREATE FUNCTION pg_temp.rule(code text) RETURNS text LANGUAGE sql AS $$
    SELECT coalesce((SELECT r.class || CASE WHEN r.suppress THEN '+suppress' ELSE '' END
                       FROM afp.outcome_rules r WHERE r.kind = 'http' AND code ~ r.pattern
                      ORDER BY r.priority, r.id LIMIT 1), 'none')
$$;
SELECT is(pg_temp.rule('404 UNREGISTERED'), 'permanent+suppress', 'FCM 404 UNREGISTERED: permanent, token removed');
SELECT is(pg_temp.rule('400 UNREGISTERED'), 'permanent+suppress', 'FCM 400 UNREGISTERED: permanent, token removed');
SELECT is(pg_temp.rule('400 INVALID_ARGUMENT'), 'permanent', 'FCM 400 INVALID_ARGUMENT: permanent, token kept');
SELECT is(pg_temp.rule('503 UNAVAILABLE') || ',' || pg_temp.rule('429 TooManyRequests') || ',' || pg_temp.rule('500 InternalServerError'),
          'transient,transient,transient', '503, 429 and 500: transient');
SELECT is(pg_temp.rule('401 UNAUTHENTICATED') || ',' || pg_temp.rule('403 ExpiredProviderToken') || ',' || pg_temp.rule('403 InvalidProviderToken'),
          'transient,transient,transient', 'credentials refused after a refresh: transient (configuration)');
SELECT is(pg_temp.rule('403 SENDER_ID_MISMATCH'), 'permanent', 'other 4xx: permanent, token kept');

SELECT * FROM finish();
ROLLBACK;
