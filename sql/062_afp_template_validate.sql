-- afp_template_validate(jsonb): every problem of a template with its jsonb path.
CREATE FUNCTION afp_template_validate(body jsonb)
RETURNS TABLE (path text, message text)
AS 'MODULE_PATHNAME', 'pg_afp_template_validate'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION afp_template_validate(jsonb) IS
'Checks a template (docs/templates.md): unknown elements and keys, wrong types and values, '
'unknown fonts, malformed placeholders. One row per problem with its jsonb path; no rows = valid.';
