-- C side of delivery: worker wake-up, worker status, email preview.

-- Statement-level trigger: wakes the email worker once after the inserting transaction commits.
CREATE FUNCTION afp.outbox_wakeup()
RETURNS trigger
AS 'MODULE_PATHNAME', 'afp_outbox_wakeup'
LANGUAGE C;

COMMENT ON FUNCTION afp.outbox_wakeup() IS
'Trigger of afp.outbox: remembers that rows were inserted and, when the transaction commits, sets '
'the latch of the delivery workers (no NOTIFY, nothing per row). A no-op unless afp is in '
'shared_preload_libraries.';

CREATE TRIGGER outbox_wakeup AFTER INSERT ON afp.outbox
    FOR EACH STATEMENT EXECUTE FUNCTION afp.outbox_wakeup();

CREATE FUNCTION afp_delivery_workers(
    OUT role text, OUT pid integer, OUT database text, OUT started_at timestamptz,
    OUT batches bigint, OUT sent bigint, OUT failed bigint, OUT last_batch_at timestamptz,
    OUT wakeups bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'afp_delivery_workers'
LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION afp_delivery_workers() IS
'The delivery background workers from shared memory: launcher, email, sms and push worker with pid (NULL when '
'not running), database, start time and counters (batches, messages sent, failed attempts, last '
'batch, wake-ups). Empty unless afp is in shared_preload_libraries.';

CREATE FUNCTION afp_email_preview(outbox_id bigint)
RETURNS text
AS 'MODULE_PATHNAME', 'afp_email_preview'
LANGUAGE C STRICT VOLATILE;

REVOKE ALL ON FUNCTION afp_email_preview(bigint) FROM PUBLIC;

COMMENT ON FUNCTION afp_email_preview(bigint) IS
'The RFC 5322 message the email worker would send for an outbox row now (MIME, DKIM-Signature '
'when the provider has a key), without sending or changing anything. Superuser by default.';
