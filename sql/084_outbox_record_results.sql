-- afp.outbox_record_results: a worker's results for one batch, in one statement.
CREATE FUNCTION afp.outbox_record_results(
    p_ids           bigint[],
    p_attempts      integer[],
    p_outcomes      text[],
    p_codes         text[],
    p_messages      text[],
    p_provider_ids  text[],
    p_retry_after   integer[],
    p_kind          text,
    p_max_attempts  integer,
    p_retry_base_ms integer,
    p_retry_max_ms  integer)
RETURNS integer
LANGUAGE sql VOLATILE AS $$
WITH r AS (
    SELECT *
      FROM unnest(p_ids, p_attempts, p_outcomes, p_codes, p_messages, p_provider_ids, p_retry_after)
        AS r(id, attempt, outcome, code, message, provider_message_id, retry_after)
), c AS (
    SELECT r.*, rule.id AS rule_id,
           coalesce(rule.class, 'transient') AS class,
           coalesce(rule.suppress, false) AS suppress
      FROM r
      LEFT JOIN LATERAL (SELECT x.id, x.class, x.suppress
                           FROM afp.outcome_rules x
                          WHERE r.outcome = 'error' AND x.kind = p_kind
                            AND coalesce(r.code, '') ~ x.pattern
                          ORDER BY x.priority, x.id
                          LIMIT 1) AS rule ON true
), d AS (
    SELECT c.*,
           CASE WHEN c.outcome = 'sent' THEN 'sent'
                WHEN c.outcome IN ('aborted', 'deferred') THEN 'queued'
                WHEN c.class = 'permanent' OR c.attempt >= p_max_attempts THEN 'dead'
                ELSE 'failed' END AS new_status,
           -- exponential backoff with equal jitter, never earlier than Retry-After
           now() + make_interval(secs => greatest(
               coalesce(c.retry_after, 0)::float8,
               least(p_retry_max_ms::float8, p_retry_base_ms * power(2, least(greatest(c.attempt, 1), 30) - 1))
               * (0.5 + random() / 2) / 1000.0)) AS retry_at
      FROM c
), u AS (
    UPDATE afp.outbox o
       SET status = d.new_status,
           attempts = CASE WHEN d.outcome IN ('aborted', 'deferred') THEN greatest(o.attempts - 1, 0) ELSE o.attempts END,
           -- deferred (provider down or rate-limited, not sent): again after retry_after seconds
           next_attempt_at = CASE d.new_status WHEN 'failed' THEN d.retry_at
                                               WHEN 'queued' THEN now() + CASE WHEN d.outcome = 'deferred'
                                                   THEN make_interval(secs => coalesce(d.retry_after, 0)) ELSE interval '0' END
                                               ELSE o.next_attempt_at END,
           locked_until = NULL,
           last_code = CASE WHEN d.outcome IN ('sent', 'deferred') THEN o.last_code ELSE d.code END,
           last_error = CASE WHEN d.outcome = 'sent' THEN NULL
                             WHEN d.outcome = 'deferred' THEN o.last_error
                             WHEN d.new_status = 'dead' AND d.class = 'transient'
                             THEN format('gave up after %s attempts: %s', d.attempt, d.message)
                             ELSE d.message END,
           provider_message_id = coalesce(d.provider_message_id, o.provider_message_id),
           sent_at = CASE WHEN d.outcome = 'sent' THEN now() ELSE o.sent_at END,
           updated_at = now()
      FROM d
     WHERE o.id = d.id AND o.status = 'sending' AND o.attempts = d.attempt
    RETURNING o.id, o.channel, o.recipient, o.status, o.provider, o.next_attempt_at
), ev AS (
    INSERT INTO afp.delivery_events (outbox_id, kind, outcome, detail)
    SELECT u.id, 'attempt',
           CASE WHEN d.outcome IN ('sent', 'aborted', 'deferred') THEN d.outcome
                WHEN u.status = 'dead' THEN 'dead' ELSE 'retry' END,
           jsonb_strip_nulls(jsonb_build_object(
               'attempt', d.attempt, 'code', d.code, 'message', d.message,
               'class', CASE WHEN d.outcome = 'error' THEN d.class END, 'rule', d.rule_id,
               'provider', u.provider, 'provider_message_id', d.provider_message_id,
               'next_attempt_at', CASE WHEN u.status = 'failed' THEN u.next_attempt_at END))
      FROM u JOIN d USING (id)
), s AS (
    INSERT INTO afp.suppressions (channel, address, reason, detail, outbox_id)
    SELECT DISTINCT ON (u.channel, lower(u.recipient))
           u.channel, u.recipient, 'hard_bounce', concat_ws(': ', d.code, d.message), u.id
      FROM u JOIN d USING (id)
     WHERE u.status = 'dead' AND d.outcome = 'error' AND d.class = 'permanent' AND d.suppress
     ORDER BY u.channel, lower(u.recipient), u.id
    ON CONFLICT (channel, lower(address)) DO UPDATE
       SET reason = excluded.reason, detail = excluded.detail, outbox_id = excluded.outbox_id,
           created_at = now(), expires_at = NULL
)
SELECT count(*)::integer FROM u
$$;

COMMENT ON FUNCTION afp.outbox_record_results(bigint[], integer[], text[], text[], text[], text[], integer[], text, integer, integer, integer) IS
'Internal (workers): records one batch of send results in one statement. Per row (arrays in '
'parallel): outcome sent | error | aborted, outcome code, message, provider message id, Retry-After '
'seconds. Errors are classified by afp.outcome_rules of kind p_kind (no match = transient): '
'permanent -> dead (plus a hard_bounce suppression when the rule says so), transient -> failed with '
'exponential backoff and jitter (base p_retry_base_ms, cap p_retry_max_ms, at least Retry-After) or '
'dead once p_max_attempts is reached; aborted -> queued again, attempt not counted; deferred (not '
'sent: the provider is down or rate-limited) -> queued again after retry_after seconds, attempt not '
'counted, last code/error kept. Rows no longer '
'held by this claim (status/attempts changed) are left alone. Writes one delivery event per row. '
'Returns the number of rows updated.';
