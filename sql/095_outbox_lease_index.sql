-- The rows workers hold (status sending) by channel and lease end.
--
-- afp.outbox_claim first turns rows whose lease expired with no attempt left into dead rows; that
-- search filters on status = 'sending' and locked_until < now(). Without this index the search
-- reads the whole outbox on every claim (the due-rows index also holds every queued row); with
-- it, it reads only the rows in flight. Measured with bench/delivery.sh (docs/BENCHMARKS.md).
CREATE INDEX outbox_sending ON afp.outbox (channel, locked_until) WHERE status = 'sending';

COMMENT ON INDEX afp.outbox_sending IS
'Rows held by a worker (status sending) per channel and lease end: the expired-lease search of afp.outbox_claim.';
