-- afp_dispatch_bulk / afp_dispatch: choose a channel per document and write outbox rows.
--
-- One INSERT ... SELECT for any number of documents. Per document: the customer's preference row
-- for the document type (else the '*' row) must exist with opt_in; then the first channel in its
-- order that has a verified, unsuppressed contact point and is not in quiet hours with action
-- 'fallback' wins. A channel in quiet hours with action 'defer' is kept and its row waits until
-- the quiet period ends (next_attempt_at). Documents that already have an outbox row are skipped,
-- so dispatching twice inserts nothing the second time.
CREATE FUNCTION afp_dispatch_bulk(document_ids bigint[])
RETURNS SETOF afp.outbox
LANGUAGE sql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
WITH doc AS (
    SELECT d.id, d.customer_id, d.document_type, d.index, (d.pdf IS NOT NULL) AS has_pdf,
           c.tenant, c.external_id, c.name, c.locale, c.time_zone,
           now() AT TIME ZONE c.time_zone AS local_now
      FROM (SELECT DISTINCT u.id FROM unnest(document_ids) AS u(id) WHERE u.id IS NOT NULL) AS u
      JOIN afp.documents d ON d.id = u.id
      JOIN afp.customers c ON c.id = d.customer_id
     WHERE NOT EXISTS (SELECT 1 FROM afp.outbox o WHERE o.document_id = d.id)
), cand AS (
    SELECT doc.*, ch.channel, ch.ord, cp.address, cp.platform,
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
                   -- the next local ends_at after now, back in absolute time
                   ((doc.local_now::date + qh.ends_at
                     + CASE WHEN doc.local_now::time >= qh.ends_at THEN interval '1 day' ELSE interval '0' END)
                    AT TIME ZONE doc.time_zone) AS quiet_ends
              FROM afp.quiet_hours qh
             WHERE qh.channel = ch.channel) AS q ON true
     WHERE NOT coalesce(q.quiet AND q.action = 'fallback', false)
), pick AS (
    SELECT DISTINCT ON (cand.id) cand.*
      FROM cand
     ORDER BY cand.id, cand.ord
), msg AS (
    SELECT pick.*,
           jsonb_build_object('name', pick.name, 'external_id', pick.external_id, 'tenant', pick.tenant,
                              'locale', pick.locale, 'document_type', pick.document_type,
                              'document_id', pick.id::text)
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
INSERT INTO afp.outbox (document_id, customer_id, channel, provider, recipient, payload,
                        attachment_document_id, attachment_format, idempotency_key, next_attempt_at)
SELECT msg.id, msg.customer_id, msg.channel, msg.provider, msg.address,
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
       CASE WHEN msg.channel = 'email' THEN msg.id END,
       CASE WHEN msg.channel = 'email' THEN CASE WHEN msg.has_pdf THEN 'pdf' ELSE 'afp' END END,
       'doc' || msg.id || '.' || msg.channel,
       CASE WHEN msg.deferred THEN msg.quiet_ends ELSE now() END
  FROM msg
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING *
$$;

COMMENT ON FUNCTION afp_dispatch_bulk(bigint[]) IS
'Dispatches many documents in one set-based statement and returns the outbox rows written. Per '
'document: consent (afp.preferences row for the type, else ''*'', with opt_in), then the first '
'channel in preference order with a verified, unsuppressed contact point that is not in quiet hours '
'with action fallback; quiet hours with action defer delay the row to the end of the quiet period. '
'Documents without a usable channel, unknown ids and documents already dispatched are skipped. '
'For a query: afp_dispatch_bulk(ARRAY(SELECT id FROM afp.documents WHERE ...)).';

CREATE FUNCTION afp_dispatch(document_id bigint)
RETURNS SETOF afp.outbox
LANGUAGE sql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM @extschema@.afp_dispatch_bulk(ARRAY[document_id])
$$;

COMMENT ON FUNCTION afp_dispatch(bigint) IS
'Dispatches one document (see afp_dispatch_bulk); returns its outbox row, or nothing when no '
'channel qualifies or it was dispatched before.';
