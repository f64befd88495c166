-- afp_page_count(bytea): number of document-level pages.
CREATE FUNCTION afp_page_count(afp bytea)
RETURNS int
AS 'MODULE_PATHNAME', 'pg_afp_page_count'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION afp_page_count(bytea) IS
'Number of pages (BPG ... EPG inside documents; overlays and page segments are not counted). '
'Raises 22P03 on damaged input.';
