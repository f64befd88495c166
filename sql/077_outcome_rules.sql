-- afp.outcome_rules: how provider replies are classified (data, not code).
CREATE TABLE afp.outcome_rules (
    id          serial  PRIMARY KEY,
    kind        text    NOT NULL CHECK (kind IN ('smtp', 'http')),
    -- Compiling the pattern in the check rejects invalid regular expressions (2201B).
    pattern     text    NOT NULL CHECK (('' ~ pattern) IS NOT NULL),
    class       text    NOT NULL CHECK (class IN ('transient', 'permanent')),
    suppress    boolean NOT NULL DEFAULT false,
    -- Set on the seeded rules in sql/094_outcome_provider_faults.sql.
    provider_fault boolean NOT NULL DEFAULT false,
    priority    integer NOT NULL DEFAULT 100,
    description text    NOT NULL DEFAULT '',
    builtin     boolean NOT NULL DEFAULT false,
    CHECK (NOT suppress OR class = 'permanent')
);

INSERT INTO afp.outcome_rules (kind, priority, pattern, class, suppress, description, builtin) VALUES
    ('smtp', 1010, '^5\d\d 5\.1\.(1|2|3|10)$', 'permanent', true,  'bad mailbox, domain or address syntax, null MX: hard bounce', true),
    ('smtp', 1020, '^5\d\d 5\.2\.2$',          'transient', false, 'mailbox full', true),
    ('smtp', 1030, '^5\d\d 5\.7\.',            'permanent', false, 'policy, security or spam rejection: no suppression', true),
    ('smtp', 1040, '^55[013]$',                'permanent', true,  '550/551/553 without enhanced code: mailbox unavailable, hard bounce', true),
    ('smtp', 1050, '^4\d\d',                   'transient', false, 'SMTP 4xx: try again later', true),
    ('smtp', 1060, '^5\d\d',                   'permanent', false, 'other SMTP 5xx', true),
    ('smtp', 1070, '^curl:',                   'transient', false, 'connection, TLS or timeout failure', true),
    ('smtp', 1080, '^config:',                 'transient', false, 'provider configuration problem (retried until max attempts)', true),
    ('smtp', 1090, '^invalid:',                'permanent', false, 'the message cannot be built (bad recipient, oversized attachment, ...)', true),
    ('http', 1010, '^429',                     'transient', false, 'rate limited (Retry-After honoured)', true),
    ('http', 1020, '^5\d\d',                   'transient', false, 'provider error', true),
    ('http', 1030, '^(404 UNREGISTERED|410)',  'permanent', true,  'push token no longer valid', true),
    ('http', 1040, '^4\d\d',                   'permanent', false, 'request rejected', true),
    ('http', 1050, '^curl:',                   'transient', false, 'connection, TLS or timeout failure', true),
    ('http', 1060, '^config:',                 'transient', false, 'provider configuration problem (retried until max attempts)', true),
    ('http', 1070, '^invalid:',                'permanent', false, 'the message cannot be built', true),
    ('http', 1080, '^sms:(21211|21610|21614|21635|30003|30005|30006)$', 'permanent', true, 'SMS callback: invalid, unsubscribed, unreachable, unknown or landline number', true),
    ('http', 1090, '^sms:',                    'permanent', false, 'SMS callback: other delivery failure reported by the carrier', true);

SELECT pg_catalog.pg_extension_config_dump('afp.outcome_rules', 'WHERE NOT builtin');

COMMENT ON TABLE afp.outcome_rules IS
'Classification of failed sends: the rule of the provider''s kind with the lowest priority whose '
'pattern matches the outcome code decides. SMTP codes are "reply enhanced" (e.g. "550 5.1.1") or '
'just the reply code; HTTP codes are the status, optionally followed by the provider''s error code '
'("404 UNREGISTERED"); transport failures are "curl:N", configuration errors "config:what", messages that cannot be '
'built "invalid:what". '
'No matching rule = transient. Add rules with priority < 1000 to override the built-in ones.';
COMMENT ON COLUMN afp.outcome_rules.id IS 'Surrogate key, recorded in afp.delivery_events.detail.rule.';
COMMENT ON COLUMN afp.outcome_rules.kind IS 'smtp or http (afp.providers.kind).';
COMMENT ON COLUMN afp.outcome_rules.pattern IS 'POSIX regular expression matched against the outcome code.';
COMMENT ON COLUMN afp.outcome_rules.class IS 'transient: retried with backoff until afp.max_attempts; permanent: dead at once.';
COMMENT ON COLUMN afp.outcome_rules.suppress IS 'Permanent only: also add the recipient to afp.suppressions as hard_bounce.';
COMMENT ON COLUMN afp.outcome_rules.provider_fault IS 'The code means the provider itself failed (transport error, 5xx, SMTP 421, ...): it counts towards afp.failover_threshold consecutive faults that open the provider''s circuit (failover). Any other reply resets the count. Read by the workers (cached, reloaded when the rules change).';
COMMENT ON COLUMN afp.outcome_rules.priority IS 'Lower is tried first; built-in rules use 1000 and up.';
COMMENT ON COLUMN afp.outcome_rules.description IS 'What the rule is for.';
COMMENT ON COLUMN afp.outcome_rules.builtin IS 'Seeded by the extension (not dumped by pg_dump; user rows are).';
