--
-- afp_dump: one row per structured field, on streams built byte by byte.
--
-- Field layout: X'5A', SFLength (2 bytes, counts itself and everything after the X'5A'),
-- identifier D3TTCC (3), flags (1), reserved (2), data. 'DOC1    ' in EBCDIC is C4D6C3F140404040.
CREATE FUNCTION pg_temp.sf(id text, data text DEFAULT '', flags text DEFAULT '00')
RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT '5A' || lpad(to_hex(8 + length(data) / 2), 4, '0') || id || flags || '0000' || data $$;

-- BDT DOC1, NOP "hi", EDT DOC1
SELECT seq, "offset", length, id, abbr, depth
FROM afp_dump(decode(pg_temp.sf('D3A8A8', 'C4D6C3F140404040') ||
                     pg_temp.sf('D3EEEE', '8889') ||
                     pg_temp.sf('D3A9A8', 'C4D6C3F140404040'), 'hex'));

-- nesting depth: BDT BPG BPT EPT EPG EDT (a Begin has the depth of its parent)
SELECT seq, abbr, depth
FROM afp_dump(decode(pg_temp.sf('D3A8A8', 'C4D6C3F140404040') ||
                     pg_temp.sf('D3A8AF', 'D7C1C7C5F1404040') ||
                     pg_temp.sf('D3A89B') ||
                     pg_temp.sf('D3A99B') ||
                     pg_temp.sf('D3A9AF', 'D7C1C7C5F1404040') ||
                     pg_temp.sf('D3A9A8', 'C4D6C3F140404040'), 'hex'));

-- detail: the field's name, its data length and the decoded EBCDIC token name
SELECT abbr, detail ->> 'name' AS name, detail -> 'data_length' AS data_length,
       detail ->> 'object_name' AS object_name
FROM afp_dump(decode(pg_temp.sf('D3A8A8', 'C4D6C3F140404040'), 'hex'));

-- an unknown (but well-framed) identifier is listed as UNK
SELECT seq, id, abbr FROM afp_dump(decode(pg_temp.sf('D3FFFF', '00'), 'hex'));

-- the padding flag (X'08'): the last data byte gives the padding length, data excludes it
SELECT seq, length, abbr, detail -> 'data_length' AS data_length
FROM afp_dump(decode(pg_temp.sf('D3EEEE', '889000000003', '08'), 'hex'));

-- the extension flag (X'80'): the first data byte is the extension length
SELECT seq, length, abbr, detail -> 'data_length' AS data_length
FROM afp_dump(decode(pg_temp.sf('D3EEEE', '03AABB8889', '80'), 'hex'));

-- bad nesting is not a framing error: the dump lists it (afp_validate reports it)
SELECT seq, abbr, depth
FROM afp_dump(decode(pg_temp.sf('D3A8A8', 'C4D6C3F140404040') ||
                     pg_temp.sf('D3A9AF', 'D7C1C7C5F1404040') ||
                     pg_temp.sf('D3A9A8', 'C4D6C3F140404040'), 'hex'));

-- a composed file: fields per type, and the fields tile the whole file
WITH f AS (SELECT afp_compose_text('{"name": "D1", "text": "one\ftwo"}') AS afp)
SELECT abbr, count(*) FROM f, afp_dump(f.afp) GROUP BY abbr ORDER BY min(seq);
WITH f AS (SELECT afp_compose_text('{"name": "D1", "text": "one\ftwo"}') AS afp)
SELECT sum(length + 1) = length(afp) AS tiles FROM f, afp_dump(f.afp) GROUP BY afp;

-- errors (22P03), each naming the byte offset
SELECT * FROM afp_dump(''::bytea);
SELECT * FROM afp_dump('garbage'::bytea);
SELECT * FROM afp_dump(decode('5A00', 'hex'));
-- SFLength 16 but only 12 bytes follow
SELECT * FROM afp_dump(decode('5A0010D3A8A8000000C4D6C3F1', 'hex'));
-- SFLength 5 is below the minimum of 8
SELECT * FROM afp_dump(decode('5A0005D3A8A8000000', 'hex'));
-- class code must be D3
SELECT * FROM afp_dump(decode('5A0008C3A8A8000000', 'hex'));
-- a good field followed by a stray byte at offset 17
SELECT * FROM afp_dump(decode(pg_temp.sf('D3A8A8', 'C4D6C3F140404040') || '00', 'hex'));
-- extension length larger than the data
SELECT * FROM afp_dump(decode(pg_temp.sf('D3EEEE', '09AABB', '80'), 'hex'));
-- the SQLSTATE
DO $$
BEGIN
  PERFORM * FROM afp_dump('garbage'::bytea);
EXCEPTION WHEN invalid_binary_representation THEN
  RAISE NOTICE 'caught SQLSTATE %', SQLSTATE;
END $$;
-- NULL in, nothing out (STRICT)
SELECT count(*) FROM afp_dump(NULL);
