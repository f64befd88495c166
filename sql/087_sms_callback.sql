-- afp_ingest_callback: status callbacks of SMS providers (Twilio-shaped), signature-checked.

-- Callbacks find their message by the provider's id.
CREATE INDEX outbox_provider_message ON afp.outbox (provider_message_id)
    WHERE provider_message_id IS NOT NULL;

CREATE FUNCTION afp.twilio_signature_matches(auth_token text, data text, signature text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'afp_twilio_signature_matches'
LANGUAGE C STRICT IMMUTABLE;

REVOKE ALL ON FUNCTION afp.twilio_signature_matches(text, text, text) FROM PUBLIC;

COMMENT ON FUNCTION afp.twilio_signature_matches(text, text, text) IS
'Internal: true when signature = base64(HMAC-SHA1(auth_token, data)), compared in constant time.';

-- Percent-decoding with '+' as space; malformed UTF-8 raises 22021.
CREATE FUNCTION afp.url_decode(s text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT coalesce(convert_from(string_agg(
               CASE WHEN m[1] ~ '^%[0-9A-Fa-f]{2}$' THEN decode(substr(m[1], 2), 'hex')
                    ELSE convert_to(m[1], 'UTF8') END, ''::bytea ORDER BY ord), 'UTF8'), '')
      FROM regexp_matches(replace(s, '+', ' '), '%[0-9A-Fa-f]{2}|[^%]+|%', 'g') WITH ORDINALITY AS t(m, ord)
$$;

COMMENT ON FUNCTION afp.url_decode(text) IS
'Internal: decodes %XX escapes and + (space) of a URL-encoded component.';

-- application/x-www-form-urlencoded text -> jsonb object of strings (later duplicates win).
CREATE FUNCTION afp.form_decode(body text)
RETURNS jsonb
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT coalesce(jsonb_object_agg(k, v ORDER BY ord), '{}'::jsonb)
      FROM (SELECT ord, afp.url_decode(split_part(pair, '=', 1)) AS k,
                   afp.url_decode(substr(pair, length(split_part(pair, '=', 1)) + 2)) AS v
              FROM regexp_split_to_table(body, '&') WITH ORDINALITY AS t(pair, ord)
             WHERE pair <> '') AS p
$$;

COMMENT ON FUNCTION afp.form_decode(text) IS
'Internal: decodes an application/x-www-form-urlencoded body into a jsonb object of strings.';

CREATE FUNCTION afp_ingest_callback(provider text, payload jsonb, signature text,
                                    OUT outbox_id bigint, OUT outcome text, OUT status text)
RETURNS record
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    p          afp.providers;
    url        text;
    signed     text;
    msg_id     text;
    msg_status text;
    err_code   text;
    o          afp.outbox;
    rule_id    integer;
    rule_class text;
    rule_supp  boolean;
    code       text;
BEGIN
    IF provider IS NULL OR payload IS NULL THEN
        RAISE EXCEPTION 'afp_ingest_callback: provider and payload are required' USING ERRCODE = '22004';
    END IF;
    SELECT * INTO p FROM afp.providers pr WHERE pr.name = provider;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'afp_ingest_callback: unknown provider "%"', provider USING ERRCODE = '22023';
    END IF;
    IF p.channel <> 'sms' OR p.kind <> 'http' THEN
        RAISE EXCEPTION 'afp_ingest_callback: provider "%" is not an SMS HTTP provider', provider
              USING ERRCODE = '22023';
    END IF;
    IF jsonb_typeof(payload) <> 'object'
       OR EXISTS (SELECT 1 FROM jsonb_each(payload) e WHERE jsonb_typeof(e.value) <> 'string') THEN
        RAISE EXCEPTION 'afp_ingest_callback: payload must be a JSON object of string parameters'
              USING ERRCODE = '22023';
    END IF;
    url := coalesce(p.config->>'status_callback_url', '');
    IF url = '' OR coalesce(p.secret->>'auth_token', '') = '' THEN
        RAISE EXCEPTION 'afp_ingest_callback: provider "%" has no config.status_callback_url or secret.auth_token', provider
              USING ERRCODE = '22023';
    END IF;

    -- what the provider signs: the URL, then name || value of every parameter, sorted by name
    signed := url || coalesce((SELECT string_agg(e.key || e.value, '' ORDER BY e.key COLLATE "C")
                                 FROM jsonb_each_text(payload) e), '');
    IF signature IS NULL OR NOT afp.twilio_signature_matches(p.secret->>'auth_token', signed, signature) THEN
        RAISE EXCEPTION 'afp_ingest_callback: invalid X-Twilio-Signature for provider "%"', provider
              USING ERRCODE = '28000',
                    HINT = 'The signature must be base64(HMAC-SHA1(auth token, callback URL + sorted parameters)).';
    END IF;

    msg_id := payload->>'MessageSid';
    msg_status := lower(coalesce(payload->>'MessageStatus', payload->>'SmsStatus', ''));
    err_code := nullif(payload->>'ErrorCode', '');
    IF msg_id IS NULL OR msg_status = '' THEN
        RAISE EXCEPTION 'afp_ingest_callback: payload lacks MessageSid or MessageStatus' USING ERRCODE = '22023';
    END IF;

    SELECT * INTO o FROM afp.outbox x
     WHERE x.provider_message_id = msg_id AND x.channel = 'sms'
     ORDER BY x.id LIMIT 1 FOR UPDATE;
    IF NOT FOUND THEN
        -- acknowledged (the provider must not retry forever), nothing to record
        RAISE LOG 'afp_ingest_callback: no sms outbox row has provider message id "%"', msg_id;
        outbox_id := NULL; outcome := 'unknown_message'; status := NULL;
        RETURN;
    END IF;

    outbox_id := o.id;
    outcome := msg_status;
    IF msg_status IN ('failed', 'undelivered') THEN
        code := 'sms:' || coalesce(err_code, msg_status);
        SELECT r.id, r.class, r.suppress INTO rule_id, rule_class, rule_supp
          FROM afp.outcome_rules r
         WHERE r.kind = 'http' AND code ~ r.pattern
         ORDER BY r.priority, r.id LIMIT 1;
        UPDATE afp.outbox x
           SET status = 'dead', locked_until = NULL, last_code = code,
               last_error = format('provider reported %s (error code %s, %s)', msg_status,
                                   coalesce(err_code, 'none'), coalesce(rule_class, 'transient')),
               updated_at = now()
         WHERE x.id = o.id;
        IF coalesce(rule_supp, false) THEN
            INSERT INTO afp.suppressions (channel, address, reason, detail, outbox_id)
            VALUES ('sms', o.recipient, 'hard_bounce', code || ': ' || msg_status, o.id)
            ON CONFLICT (channel, lower(address)) DO UPDATE
               SET reason = excluded.reason, detail = excluded.detail, outbox_id = excluded.outbox_id,
                   created_at = now(), expires_at = NULL;
        END IF;
    ELSIF msg_status IN ('delivered', 'sent') AND o.status IN ('queued', 'sending', 'failed') THEN
        -- the callback can overtake the worker's record step
        UPDATE afp.outbox x
           SET status = 'sent', locked_until = NULL, last_error = NULL,
               sent_at = coalesce(x.sent_at, now()), updated_at = now()
         WHERE x.id = o.id;
    END IF;

    INSERT INTO afp.delivery_events (outbox_id, kind, outcome, detail)
    VALUES (o.id, 'callback', msg_status,
            jsonb_strip_nulls(jsonb_build_object('provider', provider, 'provider_message_id', msg_id,
                                                 'code', code, 'error_code', err_code,
                                                 'class', rule_class, 'rule', rule_id,
                                                 'previous_status', o.status)));
    SELECT x.status INTO status FROM afp.outbox x WHERE x.id = o.id;
END
$$;

REVOKE ALL ON FUNCTION afp_ingest_callback(text, jsonb, text) FROM PUBLIC;

COMMENT ON FUNCTION afp_ingest_callback(text, jsonb, text) IS
'Ingests a status callback of a Twilio-shaped SMS provider. payload: the POST parameters as a JSON '
'object of strings; signature: the X-Twilio-Signature header, checked as base64(HMAC-SHA1('
'secret.auth_token, config.status_callback_url + parameters name||value sorted by name)) — a '
'mismatch raises 28000. The outbox row is found by MessageSid = provider_message_id: delivered/sent '
'-> sent, failed/undelivered -> dead with code sms:<ErrorCode> classified by afp.outcome_rules '
'(suppression when the rule says so); one callback event is recorded. An unknown MessageSid returns '
'outcome unknown_message and changes nothing.';

CREATE FUNCTION afp_ingest_callback(provider text, payload text, signature text,
                                    OUT outbox_id bigint, OUT outcome text, OUT status text)
RETURNS record
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM @extschema@.afp_ingest_callback(provider,
        CASE WHEN ltrim(payload) LIKE '{%' THEN payload::jsonb ELSE afp.form_decode(payload) END,
        signature)
$$;

REVOKE ALL ON FUNCTION afp_ingest_callback(text, text, text) FROM PUBLIC;

COMMENT ON FUNCTION afp_ingest_callback(text, text, text) IS
'afp_ingest_callback with the raw request body: application/x-www-form-urlencoded (as Twilio posts '
'it) or a JSON object.';
