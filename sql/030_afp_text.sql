-- afp_text(bytea): the text of every page, in reading order.
CREATE FUNCTION afp_text(afp bytea)
RETURNS text
AS 'MODULE_PATHNAME', 'pg_afp_text'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION afp_text(bytea) IS
'Extracts the PTOCA text of every page in reading order: lines grouped by baseline, words by '
'inline position; pages separated by form feed (E''\f''), lines by newline. Raises 22P03 on '
'damaged input.';
