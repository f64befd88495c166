-- afp_dispatch_bulk / afp_dispatch: choose a channel per document and write outbox rows.
--
-- One INSERT ... SELECT for any number of documents. Per document: the customer's preference row
-- for the document type (else the '*' row) must exist with opt_in; then the first channel in its
-- order that has a verified, unsuppressed contact point and is not in quiet hours with action
-- 'fallback' wins. A channel in quiet hours with action 'defer' is kept and its row waits until
-- the quiet period ends (next_attempt_at). Documents that already have an outbox row are skipped,
-- so dispatching twice inserts nothing the second time. The channel choice (afp.usable_channels),
-- provider (afp.channel_provider) and message (afp.message_payload) come from sql/081_channel_choice.sql,
-- shared with the send-time fallback (afp.outbox_fallback); the planner inlines them.
CREATE FUNCTION afp_dispatch_bulk(document_ids bigint[])
RETURNS SETOF afp.outbox
LANGUAGE sql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
WITH doc AS (
    SELECT d.id, d.customer_id, d.document_type, d.index, (d.pdf IS NOT NULL) AS has_pdf,
           c.tenant, c.external_id, c.name, c.locale, c.time_zone
      FROM (SELECT DISTINCT u.id FROM unnest(document_ids) AS u(id) WHERE u.id IS NOT NULL) AS u
      JOIN afp.documents d ON d.id = u.id
      JOIN afp.customers c ON c.id = d.customer_id
     WHERE NOT EXISTS (SELECT 1 FROM afp.outbox o WHERE o.document_id = d.id)
), pick AS (
    -- the first usable channel in preference order (afp.usable_channels, inlined)
    SELECT DISTINCT ON (doc.id) doc.*, ch.channel, ch.ord, ch.address, ch.platform, ch.deferred, ch.quiet_ends
      FROM doc
     CROSS JOIN LATERAL afp.usable_channels(doc.customer_id, doc.document_type, doc.time_zone) AS ch
     ORDER BY doc.id, ch.ord
)
INSERT INTO afp.outbox (document_id, customer_id, channel, provider, recipient, payload,
                        attachment_document_id, attachment_format, idempotency_key, next_attempt_at)
SELECT pick.id, pick.customer_id, pick.channel, pv.provider, pick.address, m.payload,
       CASE WHEN pick.channel = 'email' THEN pick.id END,
       CASE WHEN pick.channel = 'email' THEN CASE WHEN pick.has_pdf THEN 'pdf' ELSE 'afp' END END,
       'doc' || pick.id || '.' || pick.channel,
       CASE WHEN pick.deferred THEN pick.quiet_ends ELSE now() END
  FROM pick
  LEFT JOIN LATERAL afp.channel_provider(pick.channel) AS pv ON true
 CROSS JOIN LATERAL afp.message_payload(pick.channel, pick.platform, pick.id, pick.document_type, pick.index,
                                        pick.name, pick.external_id, pick.tenant, pick.locale) AS m
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
