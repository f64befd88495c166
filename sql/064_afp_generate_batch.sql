-- afp_generate_batch: an aggregate writing ONE print file with one document per input row.
CREATE FUNCTION afp_generate_batch_step(state internal, template jsonb, data jsonb)
RETURNS internal
AS 'MODULE_PATHNAME', 'pg_afp_generate_batch_step'
LANGUAGE C CALLED ON NULL INPUT;

CREATE FUNCTION afp_generate_batch_final(state internal)
RETURNS bytea
AS 'MODULE_PATHNAME', 'pg_afp_generate_batch_final'
LANGUAGE C CALLED ON NULL INPUT;

CREATE AGGREGATE afp_generate_batch(template jsonb, data jsonb) (
    SFUNC = afp_generate_batch_step,
    STYPE = internal,
    FINALFUNC = afp_generate_batch_final
);

COMMENT ON AGGREGATE afp_generate_batch(jsonb, jsonb) IS
'One AFP print file with one named page group per row: SELECT afp_generate_batch(t.body, row_data '
'ORDER BY ...) FROM ... . Documents are laid out and written one at a time: working memory is '
'bounded by the largest document, only the output grows. Rows with NULL data are an error.';

-- By template name: the latest published version.
CREATE FUNCTION afp_template_body(name text)
RETURNS jsonb
LANGUAGE plpgsql STRICT STABLE AS $$
DECLARE
    b jsonb;
BEGIN
    SELECT t.body INTO b FROM afp.templates t
     WHERE t.name = afp_template_body.name AND t.status = 'published'
     ORDER BY t.version DESC LIMIT 1;
    IF b IS NULL THEN
        RAISE EXCEPTION 'afp: no published template named "%"', name USING ERRCODE = 'undefined_object';
    END IF;
    RETURN b;
END $$;

COMMENT ON FUNCTION afp_template_body(text) IS
'Body of the latest published version of a template, e.g. for '
'afp_generate_batch(afp_template_body(''statement''), data).';

-- Function form over a jsonb array of data rows.
CREATE FUNCTION afp_generate_batch(name text, data_rows jsonb)
RETURNS bytea
LANGUAGE plpgsql STRICT STABLE AS $$
BEGIN
    IF jsonb_typeof(data_rows) <> 'array' THEN
        RAISE EXCEPTION 'afp: data_rows must be a jsonb array of documents, got %', jsonb_typeof(data_rows)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    RETURN afp_generate(afp_template_body(name), data_rows);
END $$;

COMMENT ON FUNCTION afp_generate_batch(text, jsonb) IS
'One AFP print file from the latest published template and a jsonb array of data rows '
'(one named page group per element). For a query, use the aggregate afp_generate_batch(jsonb, jsonb).';
