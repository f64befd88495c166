--
-- afp_validate: problems as rows; no rows when the stream is valid.
--
CREATE FUNCTION pg_temp.sf(id text, data text DEFAULT '', flags text DEFAULT '00')
RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT '5A' || lpad(to_hex(8 + length(data) / 2), 4, '0') || id || flags || '0000' || data $$;

-- a composed file is valid
SELECT count(*) AS problems
FROM afp_validate(afp_compose_text('[{"name": "A", "text": "x\fy"}, {"name": "B", "text": "z"}]'));

-- BDT … EDT with nothing inside
SELECT * FROM afp_validate(decode(pg_temp.sf('D3A8A8', 'C4D6C3F140404040') ||
                                  pg_temp.sf('D3A9A8', 'C4D6C3F140404040'), 'hex'));

-- empty input is reported, not raised
SELECT * FROM afp_validate(''::bytea);

-- framing damage: validation stops at the first framing error
SELECT * FROM afp_validate('garbage'::bytea);
SELECT * FROM afp_validate(decode(pg_temp.sf('D3A8A8', 'C4D6C3F140404040') || '5A0010D3A9A8', 'hex'));

-- bad nesting: BDT closed by EPG; BDT never ended; EDT without BDT
SELECT * FROM afp_validate(decode(pg_temp.sf('D3A8A8', 'C4D6C3F140404040') ||
                                  pg_temp.sf('D3A9AF', 'C4D6C3F140404040'), 'hex'));
SELECT * FROM afp_validate(decode(pg_temp.sf('D3A8A8', 'C4D6C3F140404040'), 'hex'));
SELECT * FROM afp_validate(decode(pg_temp.sf('D3A9A8', 'C4D6C3F140404040'), 'hex'));

-- End name differs from the Begin name
SELECT * FROM afp_validate(decode(pg_temp.sf('D3A8A8', 'C4D6C3F140404040') ||
                                  pg_temp.sf('D3A9A8', 'C4D6C3F240404040'), 'hex'));

-- a page without an active environment group
SELECT * FROM afp_validate(decode(pg_temp.sf('D3A8A8', 'C4D6C3F140404040') ||
                                  pg_temp.sf('D3A8AF', 'D7C1C7C5F1404040') ||
                                  pg_temp.sf('D3A9AF', 'D7C1C7C5F1404040') ||
                                  pg_temp.sf('D3A9A8', 'C4D6C3F140404040'), 'hex'));

-- an unknown identifier is a warning
SELECT * FROM afp_validate(decode(pg_temp.sf('D3A8A8', 'C4D6C3F140404040') ||
                                  pg_temp.sf('D3FFFF', '00') ||
                                  pg_temp.sf('D3A9A8', 'C4D6C3F140404040'), 'hex'));

-- damage flagged in a composed file: its last byte cut off
SELECT severity, message
FROM (SELECT afp_compose_text('{"name": "A", "text": "x"}') AS afp) f,
     afp_validate(substr(f.afp, 1, length(f.afp) - 1));

SELECT count(*) FROM afp_validate(NULL);
