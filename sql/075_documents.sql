-- afp.documents: generated documents per customer (AFP, optional PDF, index values).
CREATE TABLE afp.documents (
    id            bigserial   PRIMARY KEY,
    customer_id   bigint      NOT NULL REFERENCES afp.customers (id),
    document_type text        NOT NULL CHECK (document_type <> '' AND document_type <> '*'),
    afp           bytea       NOT NULL,
    pdf           bytea,
    index         jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(index) = 'object'),
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX documents_customer ON afp.documents (customer_id);

SELECT pg_catalog.pg_extension_config_dump('afp.documents', '');
SELECT pg_catalog.pg_extension_config_dump('afp.documents_id_seq', '');

COMMENT ON TABLE afp.documents IS
'One generated document for one customer: the AFP (e.g. one page group of a batch print file), '
'the PDF rendition once converted, and its index values. afp_dispatch(id) delivers it.';
COMMENT ON COLUMN afp.documents.id IS 'Surrogate key; part of the outbox idempotency key.';
COMMENT ON COLUMN afp.documents.customer_id IS 'The customer (afp.customers.id) the document is for.';
COMMENT ON COLUMN afp.documents.document_type IS 'Type (statement, invoice, ...), matched against afp.preferences and afp.message_templates.';
COMMENT ON COLUMN afp.documents.afp IS 'The AFP (MO:DCA) bytes.';
COMMENT ON COLUMN afp.documents.pdf IS 'The PDF rendition, NULL until converted; email attaches it when present, else the AFP.';
COMMENT ON COLUMN afp.documents.index IS 'Index values (TLE key -> value), available to message templates as {{index.KEY}}.';
COMMENT ON COLUMN afp.documents.created_at IS 'When the document was stored.';
