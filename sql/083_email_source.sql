-- What the email worker needs to build and send one outbox row.

-- Percent-encodes s (UTF-8) for use in a URL; unreserved characters stay.
CREATE FUNCTION afp.url_encode(s text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    -- unreserved characters only (idempotency keys always): nothing to encode
    SELECT CASE WHEN s ~ '^[A-Za-z0-9._~-]*$' THEN s ELSE
    (SELECT coalesce(string_agg(CASE WHEN b BETWEEN 48 AND 57 OR b BETWEEN 65 AND 90
                                      OR b BETWEEN 97 AND 122 OR b IN (45, 46, 95, 126)
                                    THEN chr(b)
                                    ELSE '%' || upper(lpad(to_hex(b), 2, '0')) END,
                               '' ORDER BY i), '')
      FROM (SELECT i, get_byte(u.bytes, i) AS b
              FROM (SELECT convert_to(s, 'UTF8') AS bytes) AS u,
                   generate_series(0, octet_length(u.bytes) - 1) AS i) AS x) END
$$;

COMMENT ON FUNCTION afp.url_encode(text) IS 'Percent-encoding (RFC 3986) of the UTF-8 bytes of s.';

-- Replaces {{key}} and {{recipient}} in a List-Unsubscribe template, URL-encoded.
CREATE FUNCTION afp.unsubscribe_link(tpl text, key text, recipient text)
RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    -- One expression, so the planner inlines it into afp.email_claim: a SQL function that is
    -- not inlined runs its own executor for every claimed row (~0.1-0.2 ms each). Keys are
    -- always URL-safe; the recipient is encoded only when the template uses it (afp.url_encode
    -- is not inlinable and costs ~15 us per call: not for a NULL template either).
    SELECT replace(replace(tpl, '{{key}}',
                           CASE WHEN key ~ '^[A-Za-z0-9._~-]*$' THEN key ELSE afp.url_encode(key) END),
                   '{{recipient}}',
                   CASE WHEN coalesce(strpos(tpl, '{{recipient}}'), 0) = 0 THEN '' ELSE afp.url_encode(recipient) END)
$$;

COMMENT ON FUNCTION afp.unsubscribe_link(text, text, text) IS
'List-Unsubscribe helper: the provider''s unsubscribe_url / unsubscribe_mailto with {{key}} and {{recipient}} filled in.';

-- The fields the email worker builds and sends one message from.
CREATE TYPE afp.email_message AS (
    id                 bigint,
    idempotency_key    text,
    recipient          text,
    attempts           integer,
    provider           text,
    endpoint           text,
    from_header        text,
    envelope_from      text,
    subject            text,
    body_text          text,
    body_html          text,
    unsubscribe_url    text,
    unsubscribe_mailto text,
    message_id_domain  text,
    attachment         bytea,
    attachment_type    text,
    attachment_name    text,
    username           text,
    password           text,
    dkim_private_key   text,
    dkim_selector      text,
    dkim_domain        text,
    starttls           text,
    tls_verify         boolean,
    ca_file            text
);

COMMENT ON TYPE afp.email_message IS
'Internal: one outbox email row with its provider settings and secrets and its attachment, as returned by afp.email_claim.';

-- One outbox row joined with its provider and attachment, as the email worker uses it.
CREATE FUNCTION afp.email_source(o afp.outbox)
RETURNS SETOF afp.email_message
LANGUAGE sql STABLE AS $$
    SELECT o.id, o.idempotency_key, o.recipient, o.attempts, o.provider,
           p.endpoint,
           coalesce(o.payload->>'from', p.config->>'from'),
           p.config->>'envelope_from',
           coalesce(o.payload->>'subject', ''),
           coalesce(o.payload->>'text', ''),
           o.payload->>'html',
           afp.unsubscribe_link(p.config->>'unsubscribe_url', o.idempotency_key, o.recipient),
           afp.unsubscribe_link(p.config->>'unsubscribe_mailto', o.idempotency_key, o.recipient),
           coalesce(p.config->>'message_id_domain', p.secret->>'dkim_domain'),
           CASE o.attachment_format WHEN 'pdf' THEN coalesce(d.pdf, d.afp) WHEN 'afp' THEN d.afp END,
           CASE WHEN o.attachment_format = 'pdf' AND d.pdf IS NOT NULL THEN 'application/pdf'
                WHEN d.id IS NOT NULL THEN 'application/vnd.ibm.modcap' END,
           CASE WHEN d.id IS NOT NULL THEN
               regexp_replace(d.document_type, '[^A-Za-z0-9_.-]', '_', 'g') || '-' || d.id
               || CASE WHEN o.attachment_format = 'pdf' AND d.pdf IS NOT NULL THEN '.pdf' ELSE '.afp' END
           END,
           p.secret->>'username',
           p.secret->>'password',
           p.secret->>'dkim_private_key',
           p.secret->>'dkim_selector',
           p.secret->>'dkim_domain',
           coalesce(p.config->>'starttls', 'try'),
           coalesce((p.config->>'tls_verify')::boolean, true),
           p.config->>'ca_file'
      FROM (SELECT 1) AS one
      LEFT JOIN afp.providers p ON p.name = o.provider
      LEFT JOIN afp.documents d ON d.id = o.attachment_document_id
$$;

COMMENT ON FUNCTION afp.email_source(afp.outbox) IS
'Internal: the fields the email worker builds a message from (payload, provider settings and '
'secrets, attachment). Superuser only, as it exposes provider secrets.';

-- Claims up to batch_size due rows of a channel for lease and returns them (with p_workers > 1:
-- only the rows with id % p_workers = p_worker, the share of one of several email workers).
CREATE FUNCTION afp.outbox_claim(p_channel text, batch_size integer, lease interval, max_attempts integer,
                                 p_workers integer DEFAULT 1, p_worker integer DEFAULT 0)
RETURNS SETOF afp.outbox
LANGUAGE sql VOLATILE AS $$
    WITH expired AS (
        -- held by a worker that never reported back, and out of attempts: give up
        UPDATE afp.outbox o
           SET status = 'dead', locked_until = NULL, updated_at = now(), last_code = 'lease',
               last_error = format('lease expired after %s attempts (the worker stopped or crashed while sending)', o.attempts)
         WHERE o.channel = p_channel AND o.status = 'sending' AND o.next_attempt_at <= now()
           AND o.locked_until < now() AND o.attempts >= max_attempts
           AND (p_workers <= 1 OR o.id % p_workers = p_worker)
        RETURNING o.id, o.attempts
    ), expired_events AS (
        INSERT INTO afp.delivery_events (outbox_id, kind, outcome, detail)
        SELECT e.id, 'attempt', 'dead', jsonb_build_object('attempt', e.attempts, 'code', 'lease',
                                                           'message', 'lease expired')
          FROM expired e
    ), claimed AS (
        UPDATE afp.outbox o
           SET status = 'sending',
               attempts = o.attempts + 1,
               locked_until = now() + lease,
               next_attempt_at = now() + lease,
               updated_at = now(),
               -- the row's own provider while enabled and up, else the best enabled one that is up
               provider = coalesce((SELECT p.name FROM afp.providers p
                                     WHERE p.channel = o.channel AND p.enabled
                                     ORDER BY afp.provider_available(p.name) DESC,
                                              p.name = o.provider DESC NULLS LAST, p.priority, p.name
                                     LIMIT 1), o.provider)
         -- = ANY (ARRAY(...)): the claimed ids are looked up through the primary key; with
         -- IN (...) the generic plan of this SQL function may hash-join a scan of the whole table
         WHERE o.id = ANY (ARRAY(SELECT q.id
                          FROM afp.outbox q
                         WHERE q.channel = p_channel
                           AND q.status IN ('queued', 'failed', 'sending')
                           AND q.next_attempt_at <= now()
                           AND (q.locked_until IS NULL OR q.locked_until < now())
                           AND NOT (q.status = 'sending' AND q.attempts >= max_attempts)
                           AND (p_workers <= 1 OR q.id % p_workers = p_worker)
                         ORDER BY q.next_attempt_at
                         -- nothing while every enabled provider of the channel is down (circuit open)
                         LIMIT CASE WHEN EXISTS (SELECT 1 FROM afp.providers x
                                                  WHERE x.channel = p_channel AND x.enabled)
                                     AND NOT EXISTS (SELECT 1 FROM afp.providers x
                                                      WHERE x.channel = p_channel AND x.enabled
                                                        AND afp.provider_available(x.name))
                                    THEN 0 ELSE batch_size END
                           FOR UPDATE SKIP LOCKED))
        RETURNING o.*
    )
    SELECT * FROM claimed
$$;

COMMENT ON FUNCTION afp.outbox_claim(text, integer, interval, integer, integer, integer) IS
'Internal (workers): claims up to batch_size due rows of channel p_channel (queued or failed and '
'due, or sending with an expired lease) with FOR UPDATE SKIP LOCKED, marks them sending with a lease '
'(locked_until = next_attempt_at = now() + lease), counts the attempt, picks the provider (the '
'row''s own while enabled and its circuit is not open, else the best enabled one of the channel '
'that is up) and returns the rows; claims nothing while every enabled provider of the channel is '
'down. Rows whose lease expired with max_attempts used up become dead. With p_workers > 1 only '
'the rows with id % p_workers = p_worker (one email worker''s share, afp.email_workers).';

-- Claims up to batch_size due email rows for lease and returns them with their sources.
CREATE FUNCTION afp.email_claim(batch_size integer, lease interval, max_attempts integer)
RETURNS SETOF afp.email_message
LANGUAGE sql VOLATILE AS $$
    SELECT s.* FROM afp.outbox_claim('email', batch_size, lease, max_attempts) AS c,
           LATERAL afp.email_source(c) AS s
$$;

-- The same for email worker p_worker of p_workers (afp.email_workers): its share of the rows.
CREATE FUNCTION afp.email_claim(batch_size integer, lease interval, max_attempts integer,
                                p_workers integer, p_worker integer)
RETURNS SETOF afp.email_message
LANGUAGE sql VOLATILE AS $$
    SELECT s.* FROM afp.outbox_claim('email', batch_size, lease, max_attempts, p_workers, p_worker) AS c,
           LATERAL afp.email_source(c) AS s
$$;

COMMENT ON FUNCTION afp.email_claim(integer, interval, integer, integer, integer) IS
'Internal (email worker): afp.email_claim(batch_size, lease, max_attempts) restricted to the rows '
'with id % p_workers = p_worker, the share of email worker p_worker of p_workers (afp.email_workers).';

COMMENT ON FUNCTION afp.email_claim(integer, interval, integer) IS
'Internal (email worker): claims up to batch_size due email rows (queued or failed and due, or '
'sending with an expired lease) with FOR UPDATE SKIP LOCKED, marks them sending with a lease '
'(locked_until = next_attempt_at = now() + lease), counts the attempt, picks the provider (the '
'row''s own while enabled, else the best enabled one) and returns what is needed to send them. '
'Rows whose lease expired with max_attempts used up become dead.';

-- At worker start: rows of a channel left in sending by an earlier incarnation of its worker are due now.
CREATE FUNCTION afp.outbox_release_leases(p_channel text, p_workers integer DEFAULT 1, p_worker integer DEFAULT 0)
RETURNS integer
LANGUAGE sql VOLATILE AS $$
    WITH r AS (
        UPDATE afp.outbox o
           SET locked_until = now(), next_attempt_at = now(), updated_at = now()
         WHERE o.channel = p_channel AND o.status = 'sending'
           AND (p_workers <= 1 OR o.id % p_workers = p_worker)
        RETURNING 1
    )
    SELECT count(*)::integer FROM r
$$;

COMMENT ON FUNCTION afp.outbox_release_leases(text, integer, integer) IS
'Internal (worker start-up): ends the leases of the channel''s rows still marked sending, so that '
'messages held by a worker that died are retried at once. One worker per channel and database, or '
'(email, afp.email_workers) one per share: with p_workers > 1 only the rows with id % p_workers = p_worker.';

-- At worker start: rows left in sending by an earlier incarnation of the worker are due now.
CREATE FUNCTION afp.email_release_leases()
RETURNS integer
LANGUAGE sql VOLATILE AS $$
    SELECT afp.outbox_release_leases('email')
$$;

COMMENT ON FUNCTION afp.email_release_leases() IS
'Internal (email worker start-up): ends the leases of email rows still marked sending, so that '
'messages held by a worker that died (crash, kill, restart) are retried at once instead of after '
'the lease. Assumes one email worker per database, which the launcher guarantees.';

-- The same for email worker p_worker of p_workers: only the leases of its own share of the rows.
CREATE FUNCTION afp.email_release_leases(p_workers integer, p_worker integer)
RETURNS integer
LANGUAGE sql VOLATILE AS $$
    SELECT afp.outbox_release_leases('email', p_workers, p_worker)
$$;

COMMENT ON FUNCTION afp.email_release_leases(integer, integer) IS
'Internal (email worker start-up): ends the leases of the email rows with id % p_workers = p_worker '
'still marked sending: the share of email worker p_worker of p_workers (afp.email_workers), so that a '
'restarting worker never frees rows another worker is sending.';
