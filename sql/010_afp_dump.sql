-- afp_dump(bytea): one row per structured field of an AFP (MO:DCA) stream.
CREATE FUNCTION afp_dump(afp bytea)
RETURNS TABLE (
    seq      int,
    "offset" bigint,
    length   int,
    id       text,
    abbr     text,
    depth    int,
    detail   jsonb
)
AS 'MODULE_PATHNAME', 'pg_afp_dump'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION afp_dump(bytea) IS
'One row per structured field: seq (from 1), byte offset of the X''5A'', SFLength, six-digit hex '
'identifier (D3A8A8), abbreviation (BDT), Begin/End nesting depth and the decoded field as jsonb '
'(a field whose contents cannot be decoded gets {"error": ...}). Raises 22P03 naming the byte '
'offset when the framing is damaged, and on empty input.';
