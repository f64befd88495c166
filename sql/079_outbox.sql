-- afp.outbox: one row per message to send; drained by the background workers.
CREATE TABLE afp.outbox (
    id                     bigserial   PRIMARY KEY,
    document_id            bigint      NOT NULL REFERENCES afp.documents (id),
    customer_id            bigint      NOT NULL REFERENCES afp.customers (id),
    channel                text        NOT NULL CHECK (channel IN ('email', 'sms', 'push')),
    provider               text        REFERENCES afp.providers (name) ON UPDATE CASCADE ON DELETE SET NULL,
    recipient              text        NOT NULL CHECK (recipient <> ''),
    payload                jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(payload) = 'object'),
    attachment_document_id bigint      REFERENCES afp.documents (id),
    attachment_format      text        CHECK (attachment_format IN ('pdf', 'afp')),
    idempotency_key        text        NOT NULL UNIQUE CHECK (idempotency_key ~ '^[A-Za-z0-9._-]+$'),
    status                 text        NOT NULL DEFAULT 'queued'
                                       CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'dead')),
    attempts               integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at        timestamptz NOT NULL DEFAULT now(),
    locked_until           timestamptz,
    last_code              text,
    last_error             text,
    provider_message_id    text,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    sent_at                timestamptz,
    fallback_of            bigint      REFERENCES afp.outbox (id) ON DELETE SET NULL,
    CHECK ((attachment_document_id IS NULL) = (attachment_format IS NULL))
);

-- The claim query's index: due rows per channel in next_attempt_at order.
CREATE INDEX outbox_due ON afp.outbox (channel, next_attempt_at)
    WHERE status IN ('queued', 'failed', 'sending');
CREATE INDEX outbox_document ON afp.outbox (document_id);
CREATE INDEX outbox_customer ON afp.outbox (customer_id);
CREATE INDEX outbox_created ON afp.outbox (created_at);
CREATE INDEX outbox_fallback_of ON afp.outbox (fallback_of) WHERE fallback_of IS NOT NULL;

SELECT pg_catalog.pg_extension_config_dump('afp.outbox', '');
SELECT pg_catalog.pg_extension_config_dump('afp.outbox_id_seq', '');

COMMENT ON TABLE afp.outbox IS
'Outbox: one row per message. Written by afp_dispatch / afp_dispatch_bulk, claimed by the channel '
'workers with FOR UPDATE SKIP LOCKED and a lease, finished as sent or dead (see docs/delivery.md).';
COMMENT ON COLUMN afp.outbox.id IS 'Surrogate key.';
COMMENT ON COLUMN afp.outbox.document_id IS 'The document delivered (afp.documents.id).';
COMMENT ON COLUMN afp.outbox.customer_id IS 'The customer (afp.customers.id).';
COMMENT ON COLUMN afp.outbox.channel IS 'email, sms or push.';
COMMENT ON COLUMN afp.outbox.provider IS 'Provider used (afp.providers.name); set at dispatch and again when a worker claims the row.';
COMMENT ON COLUMN afp.outbox.recipient IS 'Email address, E.164 number or push token.';
COMMENT ON COLUMN afp.outbox.payload IS
'Rendered message: email {subject, text, html[, from]}, sms {text}, push {title, body, platform}.';
COMMENT ON COLUMN afp.outbox.attachment_document_id IS 'Document attached (email), NULL for none.';
COMMENT ON COLUMN afp.outbox.attachment_format IS 'pdf (afp.documents.pdf, the AFP while it is NULL) or afp.';
COMMENT ON COLUMN afp.outbox.idempotency_key IS
'doc<document_id>.<channel>; unique, so dispatching twice inserts nothing. Sent to providers '
'(Message-ID <key@domain> for email) so duplicates after a crash can be recognised downstream.';
COMMENT ON COLUMN afp.outbox.status IS
'queued (waiting), sending (claimed by a worker until locked_until), sent, failed (transient error, '
'retried at next_attempt_at), dead (permanent error or attempts exhausted; reason in last_error).';
COMMENT ON COLUMN afp.outbox.attempts IS 'Send attempts so far (claims; an attempt aborted by shutdown or cancel is not counted).';
COMMENT ON COLUMN afp.outbox.next_attempt_at IS 'Not sent before this time (quiet hours, backoff); for sending rows equal to locked_until.';
COMMENT ON COLUMN afp.outbox.locked_until IS 'Lease of the worker that claimed the row; after it passes, the row is claimable again.';
COMMENT ON COLUMN afp.outbox.last_code IS 'Outcome code of the last failed attempt (e.g. "550 5.1.1", "451", "curl:7").';
COMMENT ON COLUMN afp.outbox.last_error IS 'Reason of the last failure; for dead rows the dead-letter reason.';
COMMENT ON COLUMN afp.outbox.provider_message_id IS 'Provider''s message id (email: the Message-ID header sent; sms: the "sid" of the provider''s reply, matched by status callbacks).';
COMMENT ON COLUMN afp.outbox.created_at IS 'When the row was dispatched.';
COMMENT ON COLUMN afp.outbox.updated_at IS 'Last status change.';
COMMENT ON COLUMN afp.outbox.sent_at IS 'When the provider accepted the message.';
COMMENT ON COLUMN afp.outbox.fallback_of IS
'Set on a channel-fallback row: the outbox row of the same document that ended dead with a permanent '
'failure (see afp.outbox_fallback); NULL for rows written by dispatch.';
