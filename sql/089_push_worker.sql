-- What the push worker sends: claimed push rows with their provider settings, and the record step.

CREATE TYPE afp.push_message AS (
    id              bigint,
    idempotency_key text,
    recipient       text,
    attempts        integer,
    provider        text,
    service         text,
    url             text,
    body            text,
    client_email    text,
    private_key     text,
    token_uri       text,
    key_id          text,
    team_id         text,
    topic           text,
    expiration      bigint,
    tls_verify      boolean,
    ca_file         text
);

COMMENT ON TYPE afp.push_message IS
'Internal: one claimed outbox push row with its provider (FCM or APNs) settings and secrets and the '
'request URL and JSON body, as returned by afp.push_claim.';

-- Claims up to batch_size due push rows for lease and returns them ready to send.
CREATE FUNCTION afp.push_claim(batch_size integer, lease interval, max_attempts integer)
RETURNS SETOF afp.push_message
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    ids bigint[];
BEGIN
    -- nothing is claimed while no push provider is enabled: rows wait in the queue
    IF NOT EXISTS (SELECT 1 FROM afp.providers WHERE channel = 'push' AND enabled) THEN
        RETURN;
    END IF;
    SELECT array_agg(c.id) INTO ids FROM afp.outbox_claim('push', batch_size, lease, max_attempts) AS c;
    IF ids IS NULL THEN
        RETURN;
    END IF;
    -- the provider must speak the token's platform: ios -> apns, android and web -> fcm
    UPDATE afp.outbox o
       SET provider = best.name
      FROM (SELECT x.id,
                   (SELECT p.name FROM afp.providers p
                     WHERE p.channel = 'push' AND p.enabled AND p.config->>'service' = x.service
                     ORDER BY afp.provider_available(p.name) DESC,
                              p.name = x.provider DESC NULLS LAST, p.priority, p.name
                     LIMIT 1) AS name
              FROM (SELECT o2.id, o2.provider,
                           CASE coalesce(o2.payload->>'platform',
                                         (SELECT cp.platform FROM afp.contact_points cp
                                           WHERE cp.channel = 'push' AND cp.address = o2.recipient
                                           ORDER BY cp.id LIMIT 1))
                                WHEN 'ios' THEN 'apns' WHEN 'android' THEN 'fcm' WHEN 'web' THEN 'fcm' END AS service
                      FROM afp.outbox o2 WHERE o2.id = ANY (ids)) AS x) AS best
     WHERE o.id = best.id AND best.name IS NOT NULL AND o.provider IS DISTINCT FROM best.name;

    RETURN QUERY
    WITH m AS (
        SELECT o.id, o.idempotency_key, o.recipient, o.attempts, o.provider, o.document_id, o.payload,
               p.config->>'service' AS service, p.endpoint, p.config, p.secret,
               coalesce(p.secret->'service_account', p.secret) AS sa,
               -- FCM data values are strings; the idempotency key goes along for de-duplication
               coalesce((SELECT jsonb_object_agg(d.key, CASE jsonb_typeof(d.value) WHEN 'string' THEN d.value #>> '{}'
                                                                                     ELSE d.value::text END)
                           FROM jsonb_each(CASE jsonb_typeof(o.payload->'data') WHEN 'object' THEN o.payload->'data' END) AS d),
                        '{}'::jsonb)
               || jsonb_build_object('idempotency_key', o.idempotency_key, 'document_id', o.document_id::text) AS data
          FROM afp.outbox o
          LEFT JOIN afp.providers p ON p.name = o.provider AND p.channel = 'push'
                                    AND p.config->>'service' IN ('fcm', 'apns')
         WHERE o.id = ANY (ids)
    )
    SELECT m.id, m.idempotency_key, m.recipient, m.attempts, m.provider, m.service,
           CASE m.service
               WHEN 'fcm' THEN
                   CASE WHEN coalesce(m.config->>'project_id', m.sa->>'project_id', '') <> '' THEN
                       rtrim(m.endpoint, '/') || '/v1/projects/'
                       || afp.url_encode(coalesce(m.config->>'project_id', m.sa->>'project_id')) || '/messages:send' END
               WHEN 'apns' THEN rtrim(m.endpoint, '/') || '/3/device/' || afp.url_encode(m.recipient)
           END,
           CASE m.service
               WHEN 'fcm' THEN jsonb_build_object('message', jsonb_build_object(
                   'token', m.recipient,
                   'notification', jsonb_strip_nulls(jsonb_build_object('title', m.payload->>'title', 'body', m.payload->>'body')),
                   'data', m.data))::text
               WHEN 'apns' THEN (m.data || jsonb_build_object('aps', jsonb_build_object('alert',
                   jsonb_strip_nulls(jsonb_build_object('title', m.payload->>'title', 'body', m.payload->>'body')))))::text
           END,
           m.sa->>'client_email',
           CASE m.service WHEN 'fcm' THEN m.sa->>'private_key' ELSE m.secret->>'private_key' END,
           coalesce(m.sa->>'token_uri', 'https://oauth2.googleapis.com/token'),
           m.secret->>'key_id',
           m.secret->>'team_id',
           m.config->>'topic',
           CASE WHEN m.service = 'apns' THEN
               extract(epoch FROM now())::bigint + coalesce((m.config->>'expiration_s')::bigint, 86400) END,
           coalesce((m.config->>'tls_verify')::boolean, true),
           m.config->>'ca_file'
      FROM m
     ORDER BY m.id;
END
$$;

COMMENT ON FUNCTION afp.push_claim(integer, interval, integer) IS
'Internal (push worker): afp.outbox_claim for channel push; sets each row''s provider to the enabled '
'push provider serving its platform (config.service apns for ios, fcm for android and web; one whose '
'circuit is not open first, then the row''s own provider, then priority) and returns what is needed to send it: the request URL '
'(FCM {endpoint}/v1/projects/{project_id}/messages:send, APNs {endpoint}/3/device/{token}), the JSON '
'body, credentials, APNs topic and expiration, TLS settings. Claims nothing while no push provider '
'is enabled. Superuser only, as it exposes provider secrets.';

-- Records one push batch (afp.outbox_record_results) and removes tokens reported unregistered.
CREATE FUNCTION afp.push_record_results(
    p_ids           bigint[],
    p_attempts      integer[],
    p_outcomes      text[],
    p_codes         text[],
    p_messages      text[],
    p_provider_ids  text[],
    p_retry_after   integer[],
    p_max_attempts  integer,
    p_retry_base_ms integer,
    p_retry_max_ms  integer,
    OUT updated integer,
    OUT tokens_removed integer)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    updated := afp.outbox_record_results(p_ids, p_attempts, p_outcomes, p_codes, p_messages,
                                         p_provider_ids, p_retry_after, 'http', p_max_attempts,
                                         p_retry_base_ms, p_retry_max_ms);
    -- a rule with suppress matched (token unregistered / bad): the suppression was written just
    -- now for this row; the token is deleted from every customer's contact points
    DELETE FROM afp.contact_points cp
     USING afp.outbox o, afp.suppressions s
     WHERE o.id = ANY (p_ids) AND o.channel = 'push' AND o.status = 'dead'
       AND s.channel = 'push' AND lower(s.address) = lower(o.recipient)
       AND s.outbox_id = o.id AND s.created_at = now()
       AND cp.channel = 'push' AND cp.address = o.recipient;
    GET DIAGNOSTICS tokens_removed = ROW_COUNT;
END
$$;

COMMENT ON FUNCTION afp.push_record_results(bigint[], integer[], text[], text[], text[], text[], integer[], integer, integer, integer) IS
'Internal (push worker): afp.outbox_record_results(..., ''http'', ...) for one batch, then deletes the '
'push contact points (afp.contact_points, any customer) of tokens whose row just ended dead through a '
'rule with suppress (FCM UNREGISTERED, APNs 410 Unregistered / 400 BadDeviceToken); the token stays in '
'afp.suppressions as hard_bounce. Returns the rows updated and the contact points deleted.';
