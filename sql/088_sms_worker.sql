-- What the SMS worker sends: claimed sms rows with their provider settings.

CREATE TYPE afp.sms_message AS (
    id                  bigint,
    idempotency_key     text,
    recipient           text,
    attempts            integer,
    provider            text,
    url                 text,
    account_sid         text,
    auth_token          text,
    from_number         text,
    body                text,
    status_callback_url text,
    tls_verify          boolean,
    ca_file             text
);

COMMENT ON TYPE afp.sms_message IS
'Internal: one claimed outbox sms row with its provider settings and secrets, as returned by afp.sms_claim.';

-- Claims up to batch_size due sms rows for lease and returns them with their provider settings.
CREATE FUNCTION afp.sms_claim(batch_size integer, lease interval, max_attempts integer)
RETURNS SETOF afp.sms_message
LANGUAGE sql VOLATILE AS $$
    SELECT c.id, c.idempotency_key, c.recipient, c.attempts, c.provider,
           CASE WHEN p.name IS NOT NULL AND coalesce(p.secret->>'account_sid', '') <> '' THEN
               rtrim(p.endpoint, '/') || '/Accounts/' || (p.secret->>'account_sid') || '/Messages.json' END,
           p.secret->>'account_sid',
           p.secret->>'auth_token',
           coalesce(c.payload->>'from', p.config->>'from'),
           coalesce(c.payload->>'text', ''),
           p.config->>'status_callback_url',
           coalesce((p.config->>'tls_verify')::boolean, true),
           p.config->>'ca_file'
      FROM afp.outbox_claim('sms',
               -- nothing is claimed while no sms provider is enabled: rows wait in the queue
               CASE WHEN EXISTS (SELECT 1 FROM afp.providers x WHERE x.channel = 'sms' AND x.enabled)
                    THEN batch_size ELSE 0 END,
               lease, max_attempts) AS c
      LEFT JOIN afp.providers p ON p.name = c.provider
$$;

COMMENT ON FUNCTION afp.sms_claim(integer, interval, integer) IS
'Internal (SMS worker): afp.outbox_claim for channel sms, with what is needed to send each row: '
'the request URL {endpoint}/Accounts/{secret.account_sid}/Messages.json, Basic auth credentials '
'(account_sid, auth_token), From (payload.from or config.from), Body (payload.text), StatusCallback '
'(config.status_callback_url), TLS settings. Claims nothing while no sms provider is enabled. Superuser only, as it exposes provider secrets.';

-- A top-level string field of a JSON text, NULL when the text is not JSON or lacks it.
CREATE FUNCTION afp.json_field_or_null(body text, field text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN body::jsonb->>field;
EXCEPTION WHEN others THEN
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION afp.json_field_or_null(text, text) IS
'Internal (SMS worker): body::jsonb->>field, NULL instead of an error for a body that is not JSON.';
