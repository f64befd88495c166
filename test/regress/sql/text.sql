--
-- afp_text and afp_page_count.
--
CREATE FUNCTION pg_temp.sf(id text, data text DEFAULT '', flags text DEFAULT '00')
RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT '5A' || lpad(to_hex(8 + length(data) / 2), 4, '0') || id || flags || '0000' || data $$;

-- composed text comes back: pages separated by form feeds, lines by newlines
SELECT afp_text(afp_compose_text('{"text": "Hello, world\nsecond line\fpage two"}'));
SELECT afp_page_count(afp_compose_text('{"text": "Hello, world\nsecond line\fpage two"}'));
SELECT afp_text(afp_compose_text('[{"text": "doc one"}, {"text": "doc two\fdoc two, page 2"}]'))
       = E'doc one\fdoc two\fdoc two, page 2' AS same;
SELECT afp_page_count(afp_compose_text('[{"text": "doc one"}, {"text": "doc two\fdoc two, page 2"}]'));

-- characters outside ASCII survive the code page round trip (the € needs code page 1148)
SELECT afp_text(afp_compose_text('{"text": "Grüße aus Köln: 5 €"}'));

-- a page with a hand-written PTOCA chain: AMB 100, AMI 100, TRN "Hello", NOP
--   2BD3 | 04D30064 | 04C70064 | 07DBC885939396 | 02F8
SELECT afp_text(decode(pg_temp.sf('D3A8A8', 'C4D6C3F140404040') ||
                       pg_temp.sf('D3A8AF', 'D7C1C7C5F1404040') ||
                       pg_temp.sf('D3A89B', 'D7C1C7C5F1404040') ||
                       pg_temp.sf('D3EE9B', '2BD304D3006404C7006407DBC88593939602F8') ||
                       pg_temp.sf('D3A99B', 'D7C1C7C5F1404040') ||
                       pg_temp.sf('D3A9AF', 'D7C1C7C5F1404040') ||
                       pg_temp.sf('D3A9A8', 'C4D6C3F140404040'), 'hex'));

-- a document without pages
SELECT afp_page_count(decode(pg_temp.sf('D3A8A8', 'C4D6C3F140404040') ||
                             pg_temp.sf('D3A9A8', 'C4D6C3F140404040'), 'hex'));
SELECT afp_text(decode(pg_temp.sf('D3A8A8', 'C4D6C3F140404040') ||
                       pg_temp.sf('D3A9A8', 'C4D6C3F140404040'), 'hex')) = '' AS empty;

-- errors
SELECT afp_text(''::bytea);
SELECT afp_page_count(''::bytea);
SELECT afp_text('garbage'::bytea);
SELECT afp_page_count(decode('5A0010D3A8A8000000C4D6C3F1', 'hex'));
SELECT afp_text(NULL) IS NULL AS strict, afp_page_count(NULL) IS NULL AS strict;
