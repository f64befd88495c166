-- afp.customers: the people documents are delivered to (docs/delivery.md).
CREATE TABLE afp.customers (
    id          bigserial   PRIMARY KEY,
    tenant      text        NOT NULL DEFAULT 'default' CHECK (tenant <> ''),
    external_id text        NOT NULL CHECK (external_id <> ''),
    name        text        NOT NULL DEFAULT '',
    locale      text        NOT NULL DEFAULT 'en' CHECK (locale ~ '^[a-z]{2,3}([_-][A-Za-z0-9]{2,8})*$'),
    -- An unknown zone name makes the check raise 22023 ("time zone ... not recognized").
    time_zone   text        NOT NULL DEFAULT 'UTC'
                CHECK ((timestamptz '2000-01-01 00:00+00' AT TIME ZONE time_zone) IS NOT NULL),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant, external_id)
);

SELECT pg_catalog.pg_extension_config_dump('afp.customers', '');
SELECT pg_catalog.pg_extension_config_dump('afp.customers_id_seq', '');

COMMENT ON TABLE afp.customers IS
'Delivery recipients. One row per customer of a tenant; contact points, preferences and documents '
'refer to id. (tenant, external_id) is the key of the system of record.';
COMMENT ON COLUMN afp.customers.id IS 'Surrogate key, referenced by contact_points, preferences, documents and outbox.';
COMMENT ON COLUMN afp.customers.tenant IS 'Tenant (mandant) the customer belongs to; ''default'' for single-tenant use.';
COMMENT ON COLUMN afp.customers.external_id IS 'Customer number in the system of record; unique per tenant.';
COMMENT ON COLUMN afp.customers.name IS 'Display name, available to message templates as {{name}}.';
COMMENT ON COLUMN afp.customers.locale IS 'Language for message templates (e.g. en, de-CH); templates fall back to ''*''.';
COMMENT ON COLUMN afp.customers.time_zone IS 'IANA time zone (e.g. Europe/Zurich) in which quiet hours are evaluated.';
COMMENT ON COLUMN afp.customers.created_at IS 'When the row was inserted.';
