-- afp.resources: the resource library used by templates (images, overlays, page segments).
CREATE TABLE afp.resources (
    name        text        NOT NULL CHECK (name <> ''),
    type        text        NOT NULL CHECK (type IN ('image', 'overlay', 'segment', 'object', 'font')),
    version     integer     NOT NULL DEFAULT 1 CHECK (version > 0),
    sha256      text        GENERATED ALWAYS AS (encode(sha256(content), 'hex')) STORED,
    content     bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, type, version)
);

COMMENT ON TABLE afp.resources IS
'Resource library: images (PNG, JPEG), overlays and page segments (AFP) referenced by templates '
'by name; the highest version of a name and type is used. afp_to_pdf also reads it for '
'resources a print file lacks: overlay, segment, object (IOB: AFP object or a JPEG/PNG/TIFF '
'file; image is tried next) and font (TrueType/OpenType for MDR data-object fonts).';

-- pg_dump keeps the resource library (user data).
SELECT pg_catalog.pg_extension_config_dump('afp.resources', '');
