-- Channel choice and message content, shared by afp_dispatch_bulk (082) and the send-time channel
-- fallback trigger afp.outbox_fallback (092), so both decide "which channel, which address, when,
-- which provider, what text" in exactly one place.
--
-- Every function here is LANGUAGE sql with a single SELECT, STABLE or IMMUTABLE, not STRICT, not
-- SECURITY DEFINER and without a SET clause: the planner inlines them into the callers' INSERT ...
-- SELECT (a set-returning one becomes a LATERAL subquery, see inline_set_returning_function), so
-- dispatch and fallback stay one set-based statement with no per-row function call. Do not add
-- STRICT, SET or SECURITY DEFINER, do not make them VOLATILE, and call them without WITH ORDINALITY
-- and with arguments free of volatile functions and sub-selects: any of these stops the inlining
-- (EXPLAIN then shows "Function Scan on usable_channels", and every row runs the function
-- separately). Inlined bodies are parsed with the caller's search_path, so every name is qualified.

-- The customer's channel order for a document type: the preference row of the type, else the '*'
-- row. No row when neither exists or the winning row has opt_in false (no consent, no message).
CREATE FUNCTION afp.channel_preference(p_customer_id bigint, p_document_type text)
RETURNS TABLE (channels text[])
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT pref.channels
      FROM (SELECT p.channels, p.opt_in
              FROM afp.preferences p
             WHERE p.customer_id = p_customer_id
               AND p.document_type IN (p_document_type, '*')
             ORDER BY p.document_type = '*'
             LIMIT 1) AS pref
     WHERE pref.opt_in
$$;

COMMENT ON FUNCTION afp.channel_preference(bigint, text) IS
'Internal (dispatch, fallback): the channels in preference order from the customer''s afp.preferences '
'row for the document type, else the ''*'' row; no row without such a row or when it has opt_in '
'false. Inlined by the planner.';

-- The customer's usable channels for a document type, in preference order (ord = position in the
-- preference array): each with the oldest verified contact point that is not actively suppressed.
-- A channel in quiet hours (customer's local time) with action 'fallback' is left out; with action
-- 'defer' it stays, deferred is true and quiet_ends is the end of the quiet period.
CREATE FUNCTION afp.usable_channels(p_customer_id bigint, p_document_type text, p_time_zone text)
RETURNS TABLE (channel text, ord bigint, address text, platform text, deferred boolean,
               quiet_ends timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT ch.channel, ch.ord, cp.address, cp.platform,
           q.quiet AND q.action = 'defer', q.quiet_ends
      FROM afp.channel_preference(p_customer_id, p_document_type) AS pref
     CROSS JOIN LATERAL unnest(pref.channels) WITH ORDINALITY AS ch(channel, ord)
      JOIN LATERAL (SELECT c.address, c.platform
                      FROM afp.contact_points c
                     WHERE c.customer_id = p_customer_id
                       AND c.channel = ch.channel
                       AND c.verified
                       AND NOT EXISTS (SELECT 1 FROM afp.suppressions s
                                        WHERE s.channel = c.channel
                                          AND lower(s.address) = lower(c.address)
                                          AND (s.expires_at IS NULL OR s.expires_at > now()))
                     ORDER BY c.id
                     LIMIT 1) AS cp ON true
     CROSS JOIN LATERAL (SELECT now() AT TIME ZONE p_time_zone AS local_now) AS l
      LEFT JOIN LATERAL (
            SELECT qh.action,
                   CASE WHEN qh.starts_at < qh.ends_at
                        THEN l.local_now::time >= qh.starts_at AND l.local_now::time < qh.ends_at
                        ELSE l.local_now::time >= qh.starts_at OR l.local_now::time < qh.ends_at
                   END AS quiet,
                   -- the next local ends_at after now, back in absolute time
                   ((l.local_now::date + qh.ends_at
                     + CASE WHEN l.local_now::time >= qh.ends_at THEN interval '1 day' ELSE interval '0' END)
                    AT TIME ZONE p_time_zone) AS quiet_ends
              FROM afp.quiet_hours qh
             WHERE qh.channel = ch.channel) AS q ON true
     WHERE NOT coalesce(q.quiet AND q.action = 'fallback', false)
$$;

COMMENT ON FUNCTION afp.usable_channels(bigint, text, text) IS
'Internal (dispatch, fallback): the channels a document of this type may go to now, in the '
'customer''s preference order (afp.channel_preference; ord = position): each with the oldest '
'verified, not actively suppressed contact point (address, platform); channels in quiet hours '
'(evaluated in p_time_zone) with action fallback are left out, with action defer deferred is true '
'and quiet_ends is when the quiet period ends. Inlined by the planner.';

-- The message template for a channel: the document type's own before '*', then the customer's
-- locale, its language (de-CH -> de) and '*'. No row when none matches.
CREATE FUNCTION afp.message_template(p_channel text, p_document_type text, p_locale text)
RETURNS TABLE (subject text, body_text text, body_html text)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT mt.subject, mt.body_text, mt.body_html
      FROM afp.message_templates mt
     WHERE mt.channel = p_channel
       AND mt.document_type IN (p_document_type, '*')
       AND mt.locale IN (p_locale, split_part(replace(p_locale, '_', '-'), '-', 1), '*')
     ORDER BY mt.document_type = '*', mt.locale = '*', mt.locale <> p_locale
     LIMIT 1
$$;

COMMENT ON FUNCTION afp.message_template(text, text, text) IS
'Internal (dispatch, fallback): subject, body_text and body_html of the best afp.message_templates '
'row for the channel: document type before ''*'', then locale, its language, ''*''. Inlined by the planner.';

-- The provider a new outbox row of the channel is assigned: enabled, circuit not open first, then
-- priority and name. No row when the channel has no enabled provider. Declared STABLE so that it
-- is inlined: afp.provider_available is VOLATILE only because it reads the circuit state from
-- shared memory (it changes nothing); inlined, it is evaluated per row exactly as written here.
CREATE FUNCTION afp.channel_provider(p_channel text)
RETURNS TABLE (provider text)
LANGUAGE sql STABLE
AS $$
    SELECT p.name
      FROM afp.providers p
     WHERE p.channel = p_channel AND p.enabled
     ORDER BY afp.provider_available(p.name) DESC, p.priority, p.name
     LIMIT 1
$$;

COMMENT ON FUNCTION afp.channel_provider(text) IS
'Internal (dispatch, fallback): the enabled afp.providers row of the channel to assign, available '
'(circuit not open) first, then by priority and name. Inlined by the planner.';

-- The outbox payload of a document's message on a channel: the template (afp.message_template)
-- rendered with the customer's and document's variables (name, external_id, tenant, locale,
-- document_type, document_id, index.<key> for each index entry). email: subject, text, html; sms:
-- text; push: title, body, platform. Keys whose value is NULL are left out. Always one row.
CREATE FUNCTION afp.message_payload(p_channel text, p_platform text, p_document_id bigint,
                                    p_document_type text, p_index jsonb, p_name text,
                                    p_external_id text, p_tenant text, p_locale text)
RETURNS TABLE (payload jsonb)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT jsonb_strip_nulls(CASE p_channel
               WHEN 'email' THEN jsonb_build_object(
                   'subject', afp.render_message(t.subject, v.vars),
                   'text',    afp.render_message(t.body_text, v.vars),
                   'html',    afp.render_message(t.body_html, v.vars, true))
               WHEN 'sms' THEN jsonb_build_object(
                   'text',    afp.render_message(t.body_text, v.vars))
               ELSE jsonb_build_object(
                   'title',   afp.render_message(t.subject, v.vars),
                   'body',    afp.render_message(t.body_text, v.vars),
                   'platform', p_platform)
           END)
      -- an aggregate subquery is not pulled up, so vars is built once, not once per use
      FROM (SELECT jsonb_build_object('name', p_name, 'external_id', p_external_id, 'tenant', p_tenant,
                                      'locale', p_locale, 'document_type', p_document_type,
                                      'document_id', p_document_id::text)
                   || coalesce(jsonb_object_agg('index.' || e.key, e.value), '{}') AS vars
              FROM jsonb_each_text(p_index) AS e) AS v
      LEFT JOIN LATERAL afp.message_template(p_channel, p_document_type, p_locale) AS t ON true
$$;

COMMENT ON FUNCTION afp.message_payload(text, text, bigint, text, jsonb, text, text, text, text) IS
'Internal (dispatch, fallback): the outbox payload of a document on a channel, rendered from '
'afp.message_template with the variables name, external_id, tenant, locale, document_type, '
'document_id and index.<key>: email {subject, text, html}, sms {text}, push {title, body, platform}; '
'NULL values left out. Inlined by the planner.';
