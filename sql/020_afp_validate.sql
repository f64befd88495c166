-- afp_validate(bytea): structural problems of an AFP stream; no rows when it is valid.
CREATE FUNCTION afp_validate(afp bytea)
RETURNS TABLE (
    severity text,
    "offset" bigint,
    message  text
)
AS 'MODULE_PATHNAME', 'pg_afp_validate'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION afp_validate(bytea) IS
'Validates framing, Begin/End nesting and names, containment and the triplets/PTOCA of known '
'fields. Returns one row per problem (severity ''error'' or ''warning'', byte offset or NULL, '
'message); no rows means valid. Damage is reported as rows, not raised.';
