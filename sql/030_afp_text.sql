-- afp_text(bytea): the text of every page, in reading order.
CREATE FUNCTION afp_text(afp bytea)
RETURNS text
AS 'MODULE_PATHNAME', 'pg_afp_text'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION afp_text(bytea) IS
'Extracts the PTOCA text of every page in reading order: lines grouped by baseline, words by '
'inline position; pages separated by form feed (E''\f''), lines by newline. Raises 22P03 on '
'damaged input.';

-- afp_text(bytea, jsonb): the same with options.
CREATE FUNCTION afp_text(afp bytea, options jsonb)
RETURNS text
AS 'MODULE_PATHNAME', 'pg_afp_text_opts'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION afp_text(bytea, jsonb) IS
'afp_text with options: {"code_pages": {"FONT_PATTERN": "CODEPAGE"}} assigns code pages (also '
'double-byte: 300, 939, 1399, 950, ...) to fonts by coded font / character set name, "missing": '
'"error" (default, 22021 with the byte offset) | "warn" (U+FFFD and a WARNING) | "ignore", '
'"includes": false leaves out the text of included overlays and page segments.';
