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
-- waits for the end of the quiet period). Both use the same functions of sql/081_channel_choice.sql
-- (afp.channel_preference, afp.usable_channels, afp.channel_provider, afp.message_payload), which
-- the planner inlines into this INSERT.
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
               coalesce(array_position(pref.channels, f.failed_channel), 0) AS failed_ord
          FROM failed f
          JOIN afp.documents d ON d.id = f.document_id
          JOIN afp.customers c ON c.id = f.customer_id
          LEFT JOIN LATERAL afp.channel_preference(f.customer_id, d.document_type) AS pref ON true
    ), pick AS (
        -- usable channels as in afp_dispatch_bulk (afp.usable_channels, inlined), minus the failed
        -- one and those the document already has a row on; after the failed one first
        SELECT DISTINCT ON (doc.failed_id) doc.*, ch.channel, ch.ord, ch.address, ch.platform,
               ch.deferred, ch.quiet_ends
          FROM doc
         CROSS JOIN LATERAL afp.usable_channels(doc.customer_id, doc.document_type, doc.time_zone) AS ch
         WHERE ch.channel <> doc.failed_channel
           AND NOT EXISTS (SELECT 1 FROM afp.outbox x
                            WHERE x.document_id = doc.document_id AND x.channel = ch.channel)
         ORDER BY doc.failed_id, ch.ord > doc.failed_ord DESC, ch.ord
    )
    SELECT pick.document_id, pick.customer_id, pick.channel, pv.provider, pick.address, m.payload,
           CASE WHEN pick.channel = 'email' THEN pick.document_id END,
           CASE WHEN pick.channel = 'email' THEN CASE WHEN pick.has_pdf THEN 'pdf' ELSE 'afp' END END,
           'doc' || pick.document_id || '.' || pick.channel,
           CASE WHEN pick.deferred THEN pick.quiet_ends ELSE now() END,
           pick.failed_id
      FROM pick
      LEFT JOIN LATERAL afp.channel_provider(pick.channel) AS pv ON true
     CROSS JOIN LATERAL afp.message_payload(pick.channel, pick.platform, pick.document_id, pick.document_type,
                                            pick.index, pick.name, pick.external_id, pick.tenant,
                                            pick.locale) AS m
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
