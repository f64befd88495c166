-- afp.delivery_events: one row per send attempt and per provider callback.
CREATE TABLE afp.delivery_events (
    id        bigserial   PRIMARY KEY,
    outbox_id bigint      NOT NULL REFERENCES afp.outbox (id) ON DELETE CASCADE,
    at        timestamptz NOT NULL DEFAULT now(),
    kind      text        NOT NULL CHECK (kind IN ('attempt', 'callback', 'replay')),
    outcome   text        NOT NULL,
    detail    jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(detail) = 'object')
);

CREATE INDEX delivery_events_outbox ON afp.delivery_events (outbox_id);
CREATE INDEX delivery_events_at ON afp.delivery_events (at);

SELECT pg_catalog.pg_extension_config_dump('afp.delivery_events', '');
SELECT pg_catalog.pg_extension_config_dump('afp.delivery_events_id_seq', '');

COMMENT ON TABLE afp.delivery_events IS
'Delivery history: one row per attempt (written by the workers, one INSERT per batch), per provider '
'callback and per replay of a dead message.';
COMMENT ON COLUMN afp.delivery_events.id IS 'Surrogate key.';
COMMENT ON COLUMN afp.delivery_events.outbox_id IS 'The message (afp.outbox.id).';
COMMENT ON COLUMN afp.delivery_events.at IS 'When it happened.';
COMMENT ON COLUMN afp.delivery_events.kind IS 'attempt, callback or replay.';
COMMENT ON COLUMN afp.delivery_events.outcome IS
'attempt: sent, retry (transient, see detail.next_attempt_at), dead, aborted (worker shutdown or '
'cancel; not counted), deferred (not sent: provider down or rate-limited; not counted); callback: '
'the provider''s status; replay: requeued.';
COMMENT ON COLUMN afp.delivery_events.detail IS
'attempt: {attempt, code, message, class, rule, provider, provider_message_id, next_attempt_at}.';
