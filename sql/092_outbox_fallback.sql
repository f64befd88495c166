-- Channel fallback at send time: a message that ends dead with a permanent failure gets a new
-- outbox row on the customer's next usable channel (e.g. push token unregistered -> SMS, SMS
-- number invalid -> email). A statement-level trigger, so it happens inside the statement that
-- ends the rows (afp.outbox_record_results of a worker batch, afp_ingest_callback) as one
-- INSERT ... SELECT for all of them.
--
-- Which failures: the row turns dead and its last_code is classified permanent by
-- afp.outcome_rules (the provider's kind). Not: config:/invalid: codes (our own configuration or
-- data is at fault, another channel does not help), dead after exhausting transient attempts
-- (last code transient), expired leases.
-- Which channel: the customer's preference order (type row, else '*', with opt_in) restricted to
-- channels without an outbox row for the document yet; channels after the failed one first, then
-- earlier ones. The channel must be usable exactly as in afp_dispatch_bulk: verified contact point
-- not actively suppressed, not in quiet hours with action fallback (action defer: the new row
-- waits for the end of the quiet period).
CREATE FUNCTION afp.outbox_fallback()
RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Most statements (every claim, most result records) turn nothing dead: skip the INSERT, since
    -- even an INSERT of no rows fires the outbox's statement-level wake-up trigger, and the workers'
    -- own claims would then wake every worker again and again (a busy loop that also hid
    -- postmaster death from them).
    IF NOT EXISTS (SELECT 1 FROM afp_fallback_new n JOIN afp_fallback_old o ON o.id = n.id
                    WHERE n.status = 'dead' AND o.status <> 'dead') THEN
        RETURN NULL;
    END IF;
    INSERT INTO afp.outbox (document_id, customer_id, channel, provider, recipient, payload,
                            attachment_document_id, attachment_format, idempotency_key,
                            next_attempt_at, fallback_of)
    WITH failed AS (
        SELECT n.id AS failed_id, n.document_id, n.customer_id, n.channel AS failed_channel
          FROM afp_fallback_new n
          JOIN afp_fallback_old o ON o.id = n.id
         WHERE n.status = 'dead' AND o.status <> 'dead'
           AND n.last_code IS NOT NULL AND n.last_code !~ '^(config|invalid):'
           AND (SELECT r.class
                  FROM afp.outcome_rules r
                 WHERE r.kind = coalesce((SELECT p.kind FROM afp.providers p WHERE p.name = n.provider),
                                         CASE n.channel WHEN 'email' THEN 'smtp' ELSE 'http' END)
                   AND n.last_code ~ r.pattern
                 ORDER BY r.priority, r.id
                 LIMIT 1) = 'permanent'
    ), doc AS (
        SELECT f.*, d.document_type, d.index, (d.pdf IS NOT NULL) AS has_pdf,
               c.tenant, c.external_id, c.name, c.locale, c.time_zone,
               now() AT TIME ZONE c.time_zone AS local_now
          FROM failed f
          JOIN afp.documents d ON d.id = f.document_id
          JOIN afp.customers c ON c.id = f.customer_id
    ), cand AS (
        SELECT doc.*, ch.channel, ch.ord, cp.address, cp.platform,
               coalesce(array_position(pref.channels, doc.failed_channel), 0) AS failed_ord,
               q.quiet AND q.action = 'defer' AS deferred, q.quiet_ends
          FROM doc
          JOIN LATERAL (SELECT p.channels, p.opt_in
                          FROM afp.preferences p
                         WHERE p.customer_id = doc.customer_id
                           AND p.document_type IN (doc.document_type, '*')
                         ORDER BY p.document_type = '*'
                         LIMIT 1) AS pref ON pref.opt_in
         CROSS JOIN LATERAL unnest(pref.channels) WITH ORDINALITY AS ch(channel, ord)
          JOIN LATERAL (SELECT cp.address, cp.platform
                          FROM afp.contact_points cp
                         WHERE cp.customer_id = doc.customer_id
                           AND cp.channel = ch.channel
                           AND cp.verified
                           AND NOT EXISTS (SELECT 1 FROM afp.suppressions s
                                            WHERE s.channel = cp.channel
                                              AND lower(s.address) = lower(cp.address)
                                              AND (s.expires_at IS NULL OR s.expires_at > now()))
                         ORDER BY cp.id
                         LIMIT 1) AS cp ON true
          LEFT JOIN LATERAL (
                SELECT qh.action,
                       CASE WHEN qh.starts_at < qh.ends_at
                            THEN doc.local_now::time >= qh.starts_at AND doc.local_now::time < qh.ends_at
                            ELSE doc.local_now::time >= qh.starts_at OR doc.local_now::time < qh.ends_at
                       END AS quiet,
                       ((doc.local_now::date + qh.ends_at
                         + CASE WHEN doc.local_now::time >= qh.ends_at THEN interval '1 day' ELSE interval '0' END)
                        AT TIME ZONE doc.time_zone) AS quiet_ends
                  FROM afp.quiet_hours qh
                 WHERE qh.channel = ch.channel) AS q ON true
         WHERE ch.channel <> doc.failed_channel
           AND NOT EXISTS (SELECT 1 FROM afp.outbox x
                            WHERE x.document_id = doc.document_id AND x.channel = ch.channel)
           AND NOT coalesce(q.quiet AND q.action = 'fallback', false)
    ), pick AS (
        SELECT DISTINCT ON (cand.failed_id) cand.*
          FROM cand
         ORDER BY cand.failed_id, cand.ord > cand.failed_ord DESC, cand.ord
    ), msg AS (
        SELECT pick.*,
               jsonb_build_object('name', pick.name, 'external_id', pick.external_id, 'tenant', pick.tenant,
                                  'locale', pick.locale, 'document_type', pick.document_type,
                                  'document_id', pick.document_id::text)
               || coalesce((SELECT jsonb_object_agg('index.' || e.key, e.value)
                              FROM jsonb_each_text(pick.index) AS e), '{}') AS vars,
               t.subject, t.body_text, t.body_html,
               (SELECT p.name FROM afp.providers p
                 WHERE p.channel = pick.channel AND p.enabled
                 ORDER BY afp.provider_available(p.name) DESC, p.priority, p.name LIMIT 1) AS provider
          FROM pick
          LEFT JOIN LATERAL (SELECT mt.subject, mt.body_text, mt.body_html
                               FROM afp.message_templates mt
                              WHERE mt.channel = pick.channel
                                AND mt.document_type IN (pick.document_type, '*')
                                AND mt.locale IN (pick.locale, split_part(replace(pick.locale, '_', '-'), '-', 1), '*')
                              ORDER BY mt.document_type = '*', mt.locale = '*', mt.locale <> pick.locale
                              LIMIT 1) AS t ON true
    )
    SELECT msg.document_id, msg.customer_id, msg.channel, msg.provider, msg.address,
           jsonb_strip_nulls(CASE msg.channel
               WHEN 'email' THEN jsonb_build_object(
                   'subject', afp.render_message(msg.subject, msg.vars),
                   'text',    afp.render_message(msg.body_text, msg.vars),
                   'html',    afp.render_message(msg.body_html, msg.vars, true))
               WHEN 'sms' THEN jsonb_build_object(
                   'text',    afp.render_message(msg.body_text, msg.vars))
               ELSE jsonb_build_object(
                   'title',   afp.render_message(msg.subject, msg.vars),
                   'body',    afp.render_message(msg.body_text, msg.vars),
                   'platform', msg.platform)
           END),
           CASE WHEN msg.channel = 'email' THEN msg.document_id END,
           CASE WHEN msg.channel = 'email' THEN CASE WHEN msg.has_pdf THEN 'pdf' ELSE 'afp' END END,
           'doc' || msg.document_id || '.' || msg.channel,
           CASE WHEN msg.deferred THEN msg.quiet_ends ELSE now() END,
           msg.failed_id
      FROM msg
    ON CONFLICT (idempotency_key) DO NOTHING;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION afp.outbox_fallback() IS
'Trigger of afp.outbox (after update, per statement): for rows that turned dead with a permanent '
'failure (afp.outcome_rules; not config:/invalid: codes) writes one outbox row on the customer''s '
'next usable channel (preference order, consent, verified unsuppressed contact, quiet hours as in '
'afp_dispatch_bulk; channels already used for the document are skipped), linked by fallback_of. '
'One INSERT ... SELECT per statement.';

CREATE TRIGGER outbox_fallback AFTER UPDATE ON afp.outbox
    REFERENCING OLD TABLE AS afp_fallback_old NEW TABLE AS afp_fallback_new
    FOR EACH STATEMENT EXECUTE FUNCTION afp.outbox_fallback();
