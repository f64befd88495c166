-- afp.providers: SMTP servers and HTTP APIs the workers send through.
CREATE TABLE afp.providers (
    name         text        NOT NULL PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_.-]+$'),
    channel      text        NOT NULL CHECK (channel IN ('email', 'sms', 'push')),
    kind         text        NOT NULL CHECK (kind IN ('smtp', 'http')),
    endpoint     text        NOT NULL,
    config       jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object'),
    secret       jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(secret) = 'object'),
    rate_per_sec numeric     CHECK (rate_per_sec > 0),
    priority     integer     NOT NULL DEFAULT 100,
    enabled      boolean     NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT providers_endpoint_check CHECK (CASE kind
        WHEN 'smtp' THEN endpoint ~ '^smtps?://[^/\s]+/?$'
        ELSE endpoint ~ '^https?://\S+$' END)
);

REVOKE ALL ON afp.providers FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('afp.providers', '');

COMMENT ON TABLE afp.providers IS
'Delivery providers. Dispatch assigns the enabled provider of the channel with the lowest priority; '
'a worker sends through the row''s provider while it is enabled, else through the best enabled one. '
'Holds credentials: readable by superusers only (no grants).';
COMMENT ON COLUMN afp.providers.name IS 'Provider name, referenced by afp.outbox.provider.';
COMMENT ON COLUMN afp.providers.channel IS 'email, sms or push.';
COMMENT ON COLUMN afp.providers.kind IS 'smtp (email over SMTP) or http (HTTP API); selects the afp.outcome_rules that classify replies.';
COMMENT ON COLUMN afp.providers.endpoint IS
'smtp://host:port (STARTTLS per config.starttls) or smtps://host:port (implicit TLS); https:// URL for HTTP APIs '
'(SMS: the API base, messages go to {endpoint}/Accounts/{account_sid}/Messages.json).';
COMMENT ON COLUMN afp.providers.config IS
'Non-secret settings. SMTP: from (From header, e.g. "Bank <noreply@bank.example>"), envelope_from '
'(MAIL FROM, default: the From address), message_id_domain (default: dkim_domain, else the From domain), '
'unsubscribe_url and unsubscribe_mailto (List-Unsubscribe; {{key}} and {{recipient}} are replaced, '
'URL-encoded), starttls (none | try | required, default try), tls_verify (default true), ca_file. '
'SMS: from (sender number), status_callback_url (sent as StatusCallback and signed by the provider on '
'callbacks), tls_verify (default true), ca_file.';
COMMENT ON COLUMN afp.providers.secret IS
'Credentials. SMTP: username, password (AUTH), dkim_private_key (PEM RSA key), dkim_selector, '
'dkim_domain (all three needed to sign with DKIM-Signature rsa-sha256 relaxed/relaxed). '
'SMS (Twilio-shaped): account_sid (URL and Basic auth user), auth_token (Basic auth password and the '
'key of X-Twilio-Signature on status callbacks).';
COMMENT ON COLUMN afp.providers.rate_per_sec IS 'Maximum messages per second (not enforced yet, see docs/delivery.md).';
COMMENT ON COLUMN afp.providers.priority IS 'Lower is preferred among the enabled providers of a channel (manual failover: disable the primary).';
COMMENT ON COLUMN afp.providers.enabled IS 'Disabled providers are not used for new sends.';
COMMENT ON COLUMN afp.providers.created_at IS 'When the row was inserted.';
