-- afp.suppressions: addresses that must not receive messages (bounces, complaints, unsubscribes).
CREATE TABLE afp.suppressions (
    id          bigserial   PRIMARY KEY,
    channel     text        NOT NULL CHECK (channel IN ('email', 'sms', 'push')),
    address     text        NOT NULL CHECK (address <> ''),
    reason      text        NOT NULL CHECK (reason IN ('hard_bounce', 'complaint', 'unsubscribe', 'manual')),
    detail      text,
    outbox_id   bigint,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz CHECK (expires_at IS NULL OR expires_at > created_at)
);

CREATE UNIQUE INDEX suppressions_channel_address ON afp.suppressions (channel, lower(address));

SELECT pg_catalog.pg_extension_config_dump('afp.suppressions', '');
SELECT pg_catalog.pg_extension_config_dump('afp.suppressions_id_seq', '');

COMMENT ON TABLE afp.suppressions IS
'Suppression list: at most one row per channel and address (compared case-insensitively). A row '
'is active while expires_at is NULL or in the future; dispatch skips suppressed contact points. '
'The email worker adds hard bounces (outcome rules with suppress = true).';
COMMENT ON COLUMN afp.suppressions.id IS 'Surrogate key.';
COMMENT ON COLUMN afp.suppressions.channel IS 'email, sms or push.';
COMMENT ON COLUMN afp.suppressions.address IS 'The suppressed address (email, E.164 number or push token).';
COMMENT ON COLUMN afp.suppressions.reason IS 'hard_bounce, complaint, unsubscribe or manual.';
COMMENT ON COLUMN afp.suppressions.detail IS 'Free text, e.g. the provider''s reply (550 5.1.1 ...).';
COMMENT ON COLUMN afp.suppressions.outbox_id IS 'The outbox message that caused the suppression, if any (no foreign key: the suppression outlives outbox purges).';
COMMENT ON COLUMN afp.suppressions.created_at IS 'When the suppression started.';
COMMENT ON COLUMN afp.suppressions.expires_at IS 'When it ends; NULL = permanent.';
