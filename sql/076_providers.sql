-- afp.providers: SMTP servers and HTTP APIs the workers send through.
CREATE TABLE afp.providers (
    name         text        NOT NULL PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9_.-]+$'),
    channel      text        NOT NULL CHECK (channel IN ('email', 'sms', 'push')),
    kind         text        NOT NULL CHECK (kind IN ('smtp', 'http')),
    endpoint     text        NOT NULL,
    config       jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object'),
    secret       jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(secret) = 'object'),
    rate_per_sec numeric     CHECK (rate_per_sec > 0),
    rate_burst   numeric     CHECK (rate_burst >= 1),
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
'(SMS: the API base, messages go to {endpoint}/Accounts/{account_sid}/Messages.json; push FCM: '
'https://fcm.googleapis.com, messages go to {endpoint}/v1/projects/{project_id}/messages:send; push APNs: '
'https://api.push.apple.com, notifications go to {endpoint}/3/device/{token} over HTTP/2).';
COMMENT ON COLUMN afp.providers.config IS
'Non-secret settings. SMTP: from (From header, e.g. "Bank <noreply@bank.example>"), envelope_from '
'(MAIL FROM, default: the From address), message_id_domain (default: dkim_domain, else the From domain), '
'unsubscribe_url and unsubscribe_mailto (List-Unsubscribe; {{key}} and {{recipient}} are replaced, '
'URL-encoded), starttls (none | try | required, default try), tls_verify (default true), ca_file. '
'SMS: from (sender number), status_callback_url (sent as StatusCallback and signed by the provider on '
'callbacks), tls_verify (default true), ca_file. '
'Push: service (fcm | apns; fcm serves android and web tokens, apns ios tokens), tls_verify (default true), '
'ca_file; FCM: project_id (else the service account''s); APNs: topic (the app''s bundle id, required), '
'expiration_s (apns-expiration = now + this, default 86400).';
COMMENT ON COLUMN afp.providers.secret IS
'Credentials. SMTP: username, password (AUTH), dkim_private_key (PEM RSA key), dkim_selector, '
'dkim_domain (all three needed to sign with DKIM-Signature rsa-sha256 relaxed/relaxed). '
'SMS (Twilio-shaped): account_sid (URL and Basic auth user), auth_token (Basic auth password and the '
'key of X-Twilio-Signature on status callbacks). '
'Push FCM: the service account (fields of Google''s JSON key file, directly or under service_account): '
'client_email, private_key (PEM RSA, signs the RS256 OAuth2 assertion), token_uri (default '
'https://oauth2.googleapis.com/token), project_id. Push APNs: key_id, team_id, private_key (the .p8 EC '
'P-256 key, PEM, signs the ES256 provider token).';
COMMENT ON COLUMN afp.providers.rate_per_sec IS
'Maximum messages per second, all workers together (token bucket in shared memory); NULL = unlimited.';
COMMENT ON COLUMN afp.providers.rate_burst IS
'Token bucket size: messages that may go at once after an idle period; NULL = max(1, floor(rate_per_sec)).';
COMMENT ON COLUMN afp.providers.priority IS
'Lower is preferred among the enabled providers of a channel; a provider whose circuit is open '
'(afp.failover_threshold consecutive faults) is skipped until a probe succeeds.';
COMMENT ON COLUMN afp.providers.enabled IS 'Disabled providers are not used for new sends.';
COMMENT ON COLUMN afp.providers.created_at IS 'When the row was inserted.';

-- False while a provider's circuit breaker is open (shared memory, afp_ratelimit.c).
CREATE FUNCTION afp.provider_available(name text)
RETURNS boolean
AS 'MODULE_PATHNAME', 'afp_provider_available'
LANGUAGE C STRICT VOLATILE;

COMMENT ON FUNCTION afp.provider_available(text) IS
'Internal (claim and dispatch): false while the provider''s circuit is open (too many consecutive '
'transport errors or 5xx, or afp_provider_trip) and its cool-down runs; true otherwise, also '
'without shared_preload_libraries.';
