-- afp_replay_dead: requeue dead messages.
CREATE FUNCTION afp_replay_dead(outbox_ids bigint[], force boolean DEFAULT false)
RETURNS SETOF afp.outbox
LANGUAGE sql VOLATILE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
    WITH r AS (
        UPDATE afp.outbox o
           SET status = 'queued', attempts = 0, next_attempt_at = now(), locked_until = NULL,
               updated_at = now()
         WHERE o.id = ANY (outbox_ids)
           AND o.status = 'dead'
           AND (force OR NOT EXISTS (SELECT 1 FROM afp.suppressions s
                                      WHERE s.channel = o.channel
                                        AND lower(s.address) = lower(o.recipient)
                                        AND (s.expires_at IS NULL OR s.expires_at > now())))
        RETURNING o.*
    ), ev AS (
        INSERT INTO afp.delivery_events (outbox_id, kind, outcome, detail)
        SELECT r.id, 'replay', 'queued',
               jsonb_build_object('by', current_user, 'previous_code', r.last_code,
                                  'previous_error', r.last_error, 'force', force)
          FROM r
    )
    SELECT * FROM r
$$;

COMMENT ON FUNCTION afp_replay_dead(bigint[], boolean) IS
'Requeues dead outbox rows (status queued, attempts 0, due now) and records a replay event; '
'returns the rows requeued. Rows whose recipient is actively suppressed are skipped unless force.';
