-- Report views over the outbox for BI tools.
CREATE VIEW afp.delivery_report AS
SELECT (o.created_at AT TIME ZONE 'UTC')::date AS day,
       o.channel,
       o.provider,
       o.status,
       count(*)                 AS messages,
       sum(o.attempts)::bigint  AS attempts,
       round(avg(extract(epoch FROM o.sent_at - o.created_at))::numeric, 3) AS avg_latency_s,
       round((percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM o.sent_at - o.created_at)))::numeric, 3)
                                AS p95_latency_s
  FROM afp.outbox o
 GROUP BY 1, 2, 3, 4;

COMMENT ON VIEW afp.delivery_report IS
'Messages per day (UTC, by dispatch time), channel, provider and status, with attempts and the '
'dispatch-to-accept latency of sent messages.';
COMMENT ON COLUMN afp.delivery_report.day IS 'Dispatch day in UTC.';
COMMENT ON COLUMN afp.delivery_report.channel IS 'email, sms or push.';
COMMENT ON COLUMN afp.delivery_report.provider IS 'Provider (NULL: none assigned yet).';
COMMENT ON COLUMN afp.delivery_report.status IS 'queued, sending, sent, failed or dead.';
COMMENT ON COLUMN afp.delivery_report.messages IS 'Number of messages.';
COMMENT ON COLUMN afp.delivery_report.attempts IS 'Send attempts of these messages.';
COMMENT ON COLUMN afp.delivery_report.avg_latency_s IS 'Average seconds from dispatch to provider acceptance (sent rows only).';
COMMENT ON COLUMN afp.delivery_report.p95_latency_s IS '95th percentile of that latency.';

CREATE VIEW afp.dead_letters AS
SELECT o.id, o.created_at, o.updated_at AS died_at, o.channel, o.provider, o.recipient,
       o.document_id, o.customer_id, o.attempts, o.last_code, o.last_error
  FROM afp.outbox o
 WHERE o.status = 'dead';

COMMENT ON VIEW afp.dead_letters IS
'The dead-letter queue: messages that failed permanently or ran out of attempts; afp_replay_dead requeues them.';
COMMENT ON COLUMN afp.dead_letters.id IS 'afp.outbox.id.';
COMMENT ON COLUMN afp.dead_letters.created_at IS 'Dispatch time.';
COMMENT ON COLUMN afp.dead_letters.died_at IS 'When the message was given up.';
COMMENT ON COLUMN afp.dead_letters.channel IS 'email, sms or push.';
COMMENT ON COLUMN afp.dead_letters.provider IS 'Provider of the last attempt.';
COMMENT ON COLUMN afp.dead_letters.recipient IS 'Address.';
COMMENT ON COLUMN afp.dead_letters.document_id IS 'afp.documents.id.';
COMMENT ON COLUMN afp.dead_letters.customer_id IS 'afp.customers.id.';
COMMENT ON COLUMN afp.dead_letters.attempts IS 'Attempts made.';
COMMENT ON COLUMN afp.dead_letters.last_code IS 'Outcome code of the last attempt.';
COMMENT ON COLUMN afp.dead_letters.last_error IS 'Reason.';
