--
-- afp_to_pdf: AFP to PDF conversion (docs/conversion.md).
--
CREATE FUNCTION pg_temp.sf(id text, data text DEFAULT '', flags text DEFAULT '00')
RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT '5A' || lpad(to_hex(8 + length(data) / 2), 4, '0') || id || flags || '0000' || data $$;
-- true when the PDF contains the ASCII text s
CREATE FUNCTION pg_temp.has(pdf bytea, s text) RETURNS boolean LANGUAGE sql IMMUTABLE
AS $$ SELECT position(convert_to(s, 'UTF8') IN pdf) > 0 $$;

-- a composed document: the PDF starts with %PDF-, ends with %%EOF and has one page per AFP page
WITH p AS (SELECT afp_to_pdf(afp_compose_text('{"text": "page one\fpage two\fpage three"}')) AS pdf)
SELECT substring(pdf FROM 1 FOR 5) = convert_to('%PDF-', 'UTF8') AS header,
       substring(pdf FROM length(pdf) - 5) = convert_to(E'%%EOF\n', 'UTF8') AS trailer,
       pg_temp.has(pdf, '/Type /Pages /Count 3 ') AS three_pages,
       afp_page_count(afp_compose_text('{"text": "page one\fpage two\fpage three"}')) AS afp_pages
FROM p;

-- text stays text: an embedded Liberation subset with a ToUnicode map; uncompressed on request
WITH p AS (SELECT afp_to_pdf(afp_compose_text('{"text": "Hello"}'), '{"compress": false}') AS pdf)
SELECT pg_temp.has(pdf, '/Subtype /CIDFontType2') AS cid_font,
       pg_temp.has(pdf, 'LiberationMono') AS courier_as_liberation_mono,
       pg_temp.has(pdf, '/ToUnicode') AS searchable,
       pg_temp.has(pdf, ' TJ') AS shows_text,
       pg_temp.has(pdf, '/FlateDecode') AS compressed
FROM p;

-- the standard 14 fonts instead of embedding, and a document title
WITH p AS (SELECT afp_to_pdf(afp_compose_text('{"text": "Hello"}'),
                             '{"fonts": "base14", "title": "Statement"}') AS pdf)
SELECT pg_temp.has(pdf, '/BaseFont /Courier /Encoding /WinAnsiEncoding') AS courier,
       pg_temp.has(pdf, '/FontFile2') AS embedded,
       pg_temp.has(pdf, '/Title (Statement)') AS title
FROM p;

-- a page that includes an overlay the file does not carry: an ERROR naming it by default,
-- a placeholder and a WARNING with {"missing": "warn"}, nothing with {"missing": "ignore"}
CREATE TEMP TABLE ovl AS
SELECT decode(pg_temp.sf('D3A8A8', 'C4D6C3F140404040') ||
              pg_temp.sf('D3A8AF', 'D7C1C7C5F1404040') ||
              pg_temp.sf('D3A8C9', 'C1C5C7F140404040') ||
              pg_temp.sf('D3A6AF', '00000960096000' || '07C0000AF6000000') ||
              pg_temp.sf('D3A9C9', 'C1C5C7F140404040') ||
              pg_temp.sf('D3AFD8', 'D5D6D6E5D3404040' || '000000' || '0000F0') ||
              pg_temp.sf('D3A9AF', 'D7C1C7C5F1404040') ||
              pg_temp.sf('D3A9A8', 'C4D6C3F140404040'), 'hex') AS afp;
SELECT afp_to_pdf(afp) FROM ovl;
SELECT pg_temp.has(afp_to_pdf(afp, '{"missing": "warn", "compress": false}'), '[3 2] 0 d') AS placeholder
FROM ovl;
SELECT pg_temp.has(afp_to_pdf(afp, '{"missing": "ignore", "compress": false}'), '[3 2] 0 d') AS placeholder
FROM ovl;

-- damaged input: SQLSTATE 22P03 with the byte offset
DO $$
BEGIN
  PERFORM afp_to_pdf('garbage'::bytea);
EXCEPTION WHEN invalid_binary_representation THEN
  RAISE NOTICE 'SQLSTATE %: %', SQLSTATE, SQLERRM;
END $$;
-- a PTX whose last control sequence claims more bytes than there are
DO $$
BEGIN
  PERFORM afp_to_pdf(decode(pg_temp.sf('D3A8A8', 'C4D6C3F140404040') ||
                            pg_temp.sf('D3A8AF', 'D7C1C7C5F1404040') ||
                            pg_temp.sf('D3A89B', 'D7E3F14040404040') ||
                            pg_temp.sf('D3EE9B', '2BD304D3006404C7006410F8') ||
                            pg_temp.sf('D3A99B', 'D7E3F14040404040') ||
                            pg_temp.sf('D3A9AF', 'D7C1C7C5F1404040') ||
                            pg_temp.sf('D3A9A8', 'C4D6C3F140404040'), 'hex'));
EXCEPTION WHEN invalid_binary_representation THEN
  RAISE NOTICE 'SQLSTATE %: %', SQLSTATE, SQLERRM;
END $$;
-- a document without pages is not converted
SELECT afp_to_pdf(decode(pg_temp.sf('D3A8A8', 'C4D6C3F140404040') ||
                         pg_temp.sf('D3A9A8', 'C4D6C3F140404040'), 'hex'));
SELECT afp_to_pdf(''::bytea);

-- bad options: SQLSTATE 22023 naming the key
DO $$
BEGIN
  PERFORM afp_to_pdf(afp_compose_text('{"text": "x"}'), '{"fonts": "arial"}');
EXCEPTION WHEN invalid_parameter_value THEN
  RAISE NOTICE 'SQLSTATE %: %', SQLSTATE, SQLERRM;
END $$;
SELECT afp_to_pdf(afp_compose_text('{"text": "x"}'), '{"colour": true}');
SELECT afp_to_pdf(afp_compose_text('{"text": "x"}'), '[]');

-- STRICT
SELECT afp_to_pdf(NULL) IS NULL AS strict, afp_to_pdf(''::bytea, NULL) IS NULL AS strict_options;
