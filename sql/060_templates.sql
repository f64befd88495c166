-- afp.templates: versioned document templates (docs/templates.md). A published version is
-- immutable: its body cannot change and it can only move on to 'retired'.
CREATE TABLE afp.templates (
    name        text        NOT NULL CHECK (name <> ''),
    version     integer     NOT NULL CHECK (version > 0),
    status      text        NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'retired')),
    body        jsonb       NOT NULL,
    created_by  text        NOT NULL DEFAULT current_user,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (name, version)
);

COMMENT ON TABLE afp.templates IS
'Document templates (JSON, see docs/templates.md), versioned per name. status: draft (editable), '
'published (immutable, used by afp_generate(name, data)), retired (no longer used by default).';

-- Guards published templates: no body/name/version change, no way back to draft, no delete.
CREATE FUNCTION afp.templates_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'template %/% is %: only drafts can be deleted', OLD.name, OLD.version, OLD.status
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status <> 'draft' THEN
        IF NEW.body IS DISTINCT FROM OLD.body OR NEW.name <> OLD.name OR NEW.version <> OLD.version THEN
            RAISE EXCEPTION 'template %/% is %: a published version is immutable', OLD.name, OLD.version, OLD.status
                USING ERRCODE = 'object_not_in_prerequisite_state',
                      HINT = 'insert a new version instead';
        END IF;
        IF NEW.status = 'draft' OR (OLD.status = 'retired' AND NEW.status <> 'retired') THEN
            RAISE EXCEPTION 'template %/%: status cannot go from % to %', OLD.name, OLD.version, OLD.status, NEW.status
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER templates_guard BEFORE UPDATE OR DELETE ON afp.templates
    FOR EACH ROW EXECUTE FUNCTION afp.templates_guard();

-- pg_dump keeps the templates (they are user data, not extension definitions).
SELECT pg_catalog.pg_extension_config_dump('afp.templates', '');
