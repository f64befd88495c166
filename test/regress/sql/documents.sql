--
-- afp_documents: named page groups with their TLE index.
--
CREATE FUNCTION pg_temp.sf(id text, data text DEFAULT '', flags text DEFAULT '00')
RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT '5A' || lpad(to_hex(8 + length(data) / 2), 4, '0') || id || flags || '0000' || data $$;

SELECT *
FROM afp_documents(afp_compose_text(
  '[{"name": "LTR1001", "index": {"Account": "1001-2345", "Customer": "Jane Doe"}, "text": "a\fb"},
    {"name": "LTR1002", "index": {"Account": "1002-7788", "Customer": "Jürgen Müller"}, "text": "c\fd\fe"},
    {"name": "LTR1003", "text": "f"}]'));

-- names longer than 8 characters, and no name at all
SELECT seq, name, first_page, page_count
FROM afp_documents(afp_compose_text('[{"name": "ABCDEFGHIJK", "text": "a"}, {"text": "b"}]'));

-- a document (BDT) without page groups is listed under the BDT's name
SELECT * FROM afp_documents(decode(pg_temp.sf('D3A8A8', 'C4D6C3F140404040') ||
                                   pg_temp.sf('D3A8AF', 'D7C1C7C5F1404040') ||
                                   pg_temp.sf('D3A9AF', 'D7C1C7C5F1404040') ||
                                   pg_temp.sf('D3A9A8', 'C4D6C3F140404040'), 'hex'));

-- errors
SELECT * FROM afp_documents(''::bytea);
SELECT * FROM afp_documents('garbage'::bytea);
SELECT count(*) FROM afp_documents(NULL);
