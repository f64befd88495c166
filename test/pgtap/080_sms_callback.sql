-- 080_sms_callback.sql — afp_ingest_callback: X-Twilio-Signature check and status updates.
-- Signatures below were computed independently with Python's hmac module.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS afp;

SELECT plan(24);

INSERT INTO afp.providers (name, channel, kind, endpoint, config, secret) VALUES
    ('tw_test', 'sms', 'http', 'https://api.example.test/2010-04-01',
     '{"status_callback_url": "https://hooks.example.test/afp/sms-status?x=1"}',
     '{"account_sid": "ACtest", "auth_token": "test-auth-token-0123456789"}'),
    ('tw_nokey', 'sms', 'http', 'https://api.example.test/2010-04-01', '{}', '{}');
INSERT INTO afp.customers (external_id, name, time_zone) VALUES ('cb1', 'Callback One', 'UTC');
INSERT INTO afp.documents (customer_id, document_type, afp)
SELECT id, 'statement', '\x5a'::bytea FROM afp.customers CROSS JOIN generate_series(1, 3) WHERE external_id = 'cb1';
INSERT INTO afp.outbox (document_id, customer_id, channel, provider, recipient, payload, idempotency_key,
                        status, attempts, provider_message_id, sent_at)
SELECT d.id, d.customer_id, 'sms', 'tw_test', '+1555000000' || n, '{"text": "hi"}', 'cbtest' || n,
       'sent', 1, 'SMtest000' || n, now()
  FROM (SELECT id, customer_id, row_number() OVER (ORDER BY id) AS n FROM afp.documents
         WHERE customer_id = (SELECT id FROM afp.customers WHERE external_id = 'cb1')) d;

-- ---------------------------------------------------------------- signature
SELECT is(afp.twilio_signature_matches('test-auth-token-0123456789',
          'https://hooks.example.test/afp/sms-status?x=1AccountSidACtestFrom+15559990000MessageSidSMtest0001MessageStatusdeliveredTo+15550000001',
          'x0vifPaEfMhqmGKAlj0Fuif8syI='), true, 'HMAC-SHA1 signature matches an independently computed one');
SELECT is(afp.twilio_signature_matches('other-token',
          'https://hooks.example.test/afp/sms-status?x=1AccountSidACtestFrom+15559990000MessageSidSMtest0001MessageStatusdeliveredTo+15550000001',
          'x0vifPaEfMhqmGKAlj0Fuif8syI='), false, 'wrong auth token does not match');
SELECT is(afp.form_decode('Body=Gr%C3%BC%C3%9Fe+%26+more%3Dok&To=%2B1555&Empty='),
          '{"Body": "Grüße & more=ok", "To": "+1555", "Empty": ""}'::jsonb, 'form bodies are URL-decoded');

-- ---------------------------------------------------------------- good signature: delivered
SELECT results_eq($$SELECT outcome, status FROM afp_ingest_callback('tw_test',
        '{"MessageSid": "SMtest0001", "MessageStatus": "delivered", "AccountSid": "ACtest", "To": "+15550000001", "From": "+15559990000"}'::jsonb,
        'x0vifPaEfMhqmGKAlj0Fuif8syI=')$$,
    $$VALUES ('delivered'::text, 'sent'::text)$$, 'delivered callback with a good signature is accepted');
SELECT is((SELECT status FROM afp.outbox WHERE idempotency_key = 'cbtest1'), 'sent', '... the row stays sent');
SELECT is((SELECT count(*)::int FROM afp.delivery_events e JOIN afp.outbox o ON o.id = e.outbox_id
            WHERE o.idempotency_key = 'cbtest1' AND e.kind = 'callback' AND e.outcome = 'delivered'
              AND e.detail->>'provider_message_id' = 'SMtest0001'), 1, '... and one callback event is recorded');

-- ---------------------------------------------------------------- undelivered, form-encoded body
SELECT results_eq($$SELECT outcome, status FROM afp_ingest_callback('tw_test',
        'MessageSid=SMtest0002&MessageStatus=undelivered&ErrorCode=30005&AccountSid=ACtest&To=%2B15550000002&From=%2B15559990000',
        'nmcERUrRpkvH/8Du6OYqZoY6/nk=')$$,
    $$VALUES ('undelivered'::text, 'dead'::text)$$, 'undelivered (form-encoded body) is accepted and the row is dead');
SELECT results_eq($$SELECT last_code, last_error FROM afp.outbox WHERE idempotency_key = 'cbtest2'$$,
    $$VALUES ('sms:30005'::text, 'provider reported undelivered (error code 30005, permanent)'::text)$$,
    '... with the error code classified by afp.outcome_rules');
SELECT is((SELECT reason FROM afp.suppressions WHERE channel = 'sms' AND address = '+15550000002'), 'hard_bounce',
          '... and the unknown number is suppressed');
SELECT is((SELECT e.detail->>'class' FROM afp.delivery_events e JOIN afp.outbox o ON o.id = e.outbox_id
            WHERE o.idempotency_key = 'cbtest2' AND e.kind = 'callback'), 'permanent', '... event carries the class');

-- failed with a non-suppressing code, UTF-8 and escapes in the body
SELECT results_eq($$SELECT outcome, status FROM afp_ingest_callback('tw_test',
        'MessageSid=SMtest0003&MessageStatus=failed&ErrorCode=30008&AccountSid=ACtest&Body=Gr%C3%BC%C3%9Fe+%26+more%3Dok',
        '8xGroaiuMsRvYSejh6P8JaQ2CnI=')$$,
    $$VALUES ('failed'::text, 'dead'::text)$$, 'failed callback (escaped UTF-8 parameter) is accepted');
SELECT is((SELECT last_code FROM afp.outbox WHERE idempotency_key = 'cbtest3'), 'sms:30008', '... code recorded');
SELECT is((SELECT count(*)::int FROM afp.suppressions WHERE address = '+15550000003'), 0, '... no suppression for 30008');

-- ---------------------------------------------------------------- rejected
SELECT throws_ok($$SELECT * FROM afp_ingest_callback('tw_test',
        '{"MessageSid": "SMtest0001", "MessageStatus": "undelivered", "AccountSid": "ACtest", "To": "+15550000001", "From": "+15559990000"}'::jsonb,
        'x0vifPaEfMhqmGKAlj0Fuif8syI=')$$,
    '28000', 'afp_ingest_callback: invalid X-Twilio-Signature for provider "tw_test"', 'tampered payload is rejected with 28000');
SELECT is((SELECT status FROM afp.outbox WHERE idempotency_key = 'cbtest1'), 'sent', '... and changes nothing');
SELECT throws_ok($$SELECT * FROM afp_ingest_callback('tw_test',
        'MessageSid=SMtest0002&MessageStatus=undelivered&ErrorCode=30005&AccountSid=ACtest&To=%2B15550000002&From=%2B15559990000&Extra=1',
        'nmcERUrRpkvH/8Du6OYqZoY6/nk=')$$, '28000', NULL, 'an added parameter is rejected');
SELECT throws_ok($$SELECT * FROM afp_ingest_callback('tw_test', '{"MessageSid": "SMtest0001", "MessageStatus": "delivered"}'::jsonb,
        'AAAAAAAAAAAAAAAAAAAAAAAAAAA=')$$, '28000', NULL, 'a forged signature is rejected');
SELECT throws_ok($$SELECT * FROM afp_ingest_callback('tw_test', '{"MessageSid": "SMtest0001", "MessageStatus": "delivered"}'::jsonb, NULL)$$,
    '28000', NULL, 'a missing signature is rejected');
SELECT throws_ok($$SELECT * FROM afp_ingest_callback('tw_nokey', '{"MessageSid": "x", "MessageStatus": "delivered"}'::jsonb, 'x')$$,
    '22023', NULL, 'a provider without auth token is a configuration error');
SELECT throws_ok($$SELECT * FROM afp_ingest_callback('nosuch', '{}'::jsonb, 'x')$$, '22023', NULL, 'unknown provider');
SELECT is((SELECT count(*)::int FROM afp.delivery_events WHERE kind = 'callback'), 3, 'rejected callbacks record nothing');

-- ---------------------------------------------------------------- unknown message id
SELECT results_eq($$SELECT outbox_id, outcome, status FROM afp_ingest_callback('tw_test',
        'MessageSid=SMnope&MessageStatus=delivered&AccountSid=ACtest', '+Isx8l+lscxW5Lh90WdnbRfEgOw=')$$,
    $$VALUES (NULL::bigint, 'unknown_message'::text, NULL::text)$$, 'unknown MessageSid: acknowledged as unknown_message');
SELECT is((SELECT count(*)::int FROM afp.delivery_events WHERE kind = 'callback'), 3, '... nothing recorded');

SELECT ok(has_function_privilege('public', 'afp_ingest_callback(text,jsonb,text)', 'EXECUTE') = false,
          'afp_ingest_callback is not executable by PUBLIC');

SELECT * FROM finish();
ROLLBACK;
