-- afp.preferences: channel order and consent per customer and document type.

-- True when channels is a non-empty one-dimensional list of distinct known channels.
CREATE FUNCTION afp.valid_channels(channels text[])
RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT array_ndims(channels) = 1
       AND channels <@ ARRAY['email', 'sms', 'push']
       AND cardinality(channels) = (SELECT count(DISTINCT c) FROM unnest(channels) AS c)
$$;

COMMENT ON FUNCTION afp.valid_channels(text[]) IS
'Check helper of afp.preferences.channels: non-empty, one-dimensional, distinct, only email/sms/push.';

CREATE TABLE afp.preferences (
    customer_id    bigint      NOT NULL REFERENCES afp.customers (id) ON DELETE CASCADE,
    document_type  text        NOT NULL DEFAULT '*' CHECK (document_type <> ''),
    channels       text[]      NOT NULL CHECK (afp.valid_channels(channels)),
    opt_in         boolean     NOT NULL,
    consent_at     timestamptz NOT NULL DEFAULT now(),
    consent_source text        NOT NULL CHECK (consent_source <> ''),
    PRIMARY KEY (customer_id, document_type)
);

SELECT pg_catalog.pg_extension_config_dump('afp.preferences', '');

COMMENT ON TABLE afp.preferences IS
'Delivery preferences and consent. The row for the document''s type wins over the customer''s '
'''*'' row; without either, or with opt_in false, the document is not dispatched (no consent, no message).';
COMMENT ON COLUMN afp.preferences.customer_id IS 'The customer (afp.customers.id).';
COMMENT ON COLUMN afp.preferences.document_type IS 'Document type (afp.documents.document_type) or ''*'' for all types without a row of their own.';
COMMENT ON COLUMN afp.preferences.channels IS
'Channels in order of preference, e.g. {push,sms,email}; dispatch takes the first usable one.';
COMMENT ON COLUMN afp.preferences.opt_in IS 'Consent: true = opted in, false = opted out (nothing is sent).';
COMMENT ON COLUMN afp.preferences.consent_at IS 'When the consent (or opt-out) was given.';
COMMENT ON COLUMN afp.preferences.consent_source IS 'Where the consent came from (web form, branch, import, ...), for audits.';
