-- afp_generate: template + data → one AFP document (bytea).
CREATE FUNCTION afp_generate(template jsonb, data jsonb)
RETURNS bytea
AS 'MODULE_PATHNAME', 'pg_afp_generate'
LANGUAGE C STRICT STABLE;

COMMENT ON FUNCTION afp_generate(jsonb, jsonb) IS
'Generates an AFP print file (one document) from an unsaved template body and data (previews). '
'Images, overlays and page segments come from afp.resources. Template problems raise 22023 with '
'the jsonb path; a character no supported code page holds raises 22021 naming it.';

-- The latest published version of a named template.
CREATE FUNCTION afp_generate(name text, data jsonb)
RETURNS bytea
LANGUAGE plpgsql STRICT STABLE AS $$
DECLARE
    b jsonb;
BEGIN
    SELECT t.body INTO b FROM afp.templates t
     WHERE t.name = afp_generate.name AND t.status = 'published'
     ORDER BY t.version DESC LIMIT 1;
    IF b IS NULL THEN
        RAISE EXCEPTION 'afp: no published template named "%"', name USING ERRCODE = 'undefined_object';
    END IF;
    RETURN afp_generate(b, data);
END $$;

COMMENT ON FUNCTION afp_generate(text, jsonb) IS
'Generates one AFP document from the latest published version of the named template.';

-- A fixed version of a named template (published or retired; drafts only by body).
CREATE FUNCTION afp_generate(name text, version integer, data jsonb)
RETURNS bytea
LANGUAGE plpgsql STRICT STABLE AS $$
DECLARE
    b jsonb;
BEGIN
    SELECT t.body INTO b FROM afp.templates t
     WHERE t.name = afp_generate.name AND t.version = afp_generate.version AND t.status <> 'draft';
    IF b IS NULL THEN
        RAISE EXCEPTION 'afp: no published or retired template "%" version %', name, version
            USING ERRCODE = 'undefined_object';
    END IF;
    RETURN afp_generate(b, data);
END $$;

COMMENT ON FUNCTION afp_generate(text, integer, jsonb) IS
'Generates one AFP document from a fixed (published or retired) version of the named template.';
