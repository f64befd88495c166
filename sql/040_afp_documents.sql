-- afp_documents(bytea): the named page groups (documents) of a print file and their index.
CREATE FUNCTION afp_documents(afp bytea)
RETURNS TABLE (
    seq        int,
    name       text,
    first_page int,
    page_count int,
    index      jsonb
)
AS 'MODULE_PATHNAME', 'pg_afp_documents'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION afp_documents(bytea) IS
'One row per named page group (BNG ... ENG): seq (from 1), name, 1-based first page, page count '
'and the TLE index as a jsonb object {name: value}. A document without page groups is listed as '
'one row named after its BDT. Raises 22P03 on damaged input.';
