-- afp.contact_points: email addresses, phone numbers (E.164) and push tokens of customers.
CREATE TABLE afp.contact_points (
    id          bigserial   PRIMARY KEY,
    customer_id bigint      NOT NULL REFERENCES afp.customers (id) ON DELETE CASCADE,
    channel     text        NOT NULL CHECK (channel IN ('email', 'sms', 'push')),
    address     text        NOT NULL,
    platform    text        CHECK (platform IN ('ios', 'android', 'web')),
    verified    boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (customer_id, channel, address),
    -- Email: dot-atom local part and a host name (no quoted local parts, no IP literals, so an
    -- address can never carry CR/LF or header syntax); SMS: E.164; push: a provider token.
    CONSTRAINT contact_points_address_check CHECK (CASE channel
        WHEN 'email' THEN length(address) <= 254 AND address ~
            '^[A-Za-z0-9!#$%&''*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&''*+/=?^_`{|}~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$'
        WHEN 'sms' THEN address ~ '^\+[1-9][0-9]{1,14}$'
        ELSE length(address) BETWEEN 8 AND 4096 AND address ~ '^[A-Za-z0-9_:.-]+$' END),
    CONSTRAINT contact_points_push_platform CHECK ((channel = 'push') = (platform IS NOT NULL))
);

SELECT pg_catalog.pg_extension_config_dump('afp.contact_points', '');
SELECT pg_catalog.pg_extension_config_dump('afp.contact_points_id_seq', '');

COMMENT ON TABLE afp.contact_points IS
'Where a customer can be reached, per channel. Dispatch uses only verified contact points that are '
'not suppressed; with several per channel, the oldest (lowest id) wins.';
COMMENT ON COLUMN afp.contact_points.id IS 'Surrogate key.';
COMMENT ON COLUMN afp.contact_points.customer_id IS 'The customer (afp.customers.id); deleted with the customer.';
COMMENT ON COLUMN afp.contact_points.channel IS 'email, sms or push.';
COMMENT ON COLUMN afp.contact_points.address IS
'email: addr-spec (dot-atom local part); sms: E.164 phone number (+ and up to 15 digits); push: device token.';
COMMENT ON COLUMN afp.contact_points.platform IS 'Push only: ios (APNs), android (FCM) or web; NULL for email and sms.';
COMMENT ON COLUMN afp.contact_points.verified IS 'The address was confirmed (double opt-in, OTP, ...); unverified ones are never used.';
COMMENT ON COLUMN afp.contact_points.created_at IS 'When the row was inserted.';
