-- afp.message_templates: subject and bodies of the messages that carry a document.
CREATE TABLE afp.message_templates (
    document_type text    NOT NULL DEFAULT '*' CHECK (document_type <> ''),
    channel       text    NOT NULL CHECK (channel IN ('email', 'sms', 'push')),
    locale        text    NOT NULL DEFAULT '*' CHECK (locale <> ''),
    subject       text,
    body_text     text    NOT NULL,
    body_html     text,
    builtin       boolean NOT NULL DEFAULT false,
    PRIMARY KEY (document_type, channel, locale)
);

INSERT INTO afp.message_templates (document_type, channel, locale, subject, body_text, body_html, builtin) VALUES
    ('*', 'email', '*', 'Your {{document_type}} is ready',
     E'Hello {{name}},\n\nyour {{document_type}} (document {{document_id}}) is attached.\n',
     '<!DOCTYPE html><html><body><p>Hello {{name}},</p><p>your {{document_type}} (document {{document_id}}) is attached.</p></body></html>',
     true),
    ('*', 'sms', '*', NULL, 'Your {{document_type}} is ready (document {{document_id}}).', NULL, true),
    ('*', 'push', '*', 'New {{document_type}}', 'Your {{document_type}} is ready.', NULL, true);

SELECT pg_catalog.pg_extension_config_dump('afp.message_templates', 'WHERE NOT builtin');

COMMENT ON TABLE afp.message_templates IS
'Message texts per document type, channel and locale. Dispatch takes the most specific row: exact '
'document type before ''*'', then exact locale, then the language part (de for de-CH), then ''*''. '
'Placeholders {{name}}, {{external_id}}, {{tenant}}, {{locale}}, {{document_type}}, '
'{{document_id}} and {{index.KEY}} (document index values) are replaced (HTML-escaped in '
'body_html); unknown placeholders become empty.';
COMMENT ON COLUMN afp.message_templates.document_type IS 'Document type or ''*'' for any.';
COMMENT ON COLUMN afp.message_templates.channel IS 'email, sms or push.';
COMMENT ON COLUMN afp.message_templates.locale IS 'Customer locale (en, de-CH, ...), a language (de) or ''*''.';
COMMENT ON COLUMN afp.message_templates.subject IS 'Email subject / push title.';
COMMENT ON COLUMN afp.message_templates.body_text IS 'Plain text body (email text part, SMS text, push body).';
COMMENT ON COLUMN afp.message_templates.body_html IS 'Email HTML part (NULL: text only).';
COMMENT ON COLUMN afp.message_templates.builtin IS 'Seeded by the extension (not dumped by pg_dump; user rows are).';

-- Replaces {{key}} placeholders in tpl with the values of vars (a flat jsonb object).
CREATE FUNCTION afp.render_message(tpl text, vars jsonb, html boolean DEFAULT false)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    k   text;
    v   text;
    out text := tpl;
BEGIN
    IF tpl IS NULL OR position('{{' IN tpl) = 0 THEN
        RETURN tpl;
    END IF;
    FOR k, v IN SELECT e.key, e.value FROM jsonb_each_text(coalesce(vars, '{}')) AS e LOOP
        v := coalesce(v, '');
        IF html THEN
            v := replace(replace(replace(replace(replace(v, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'),
                                 '"', '&quot;'), '''', '&#39;');
        END IF;
        out := replace(out, '{{' || k || '}}', v);
    END LOOP;
    RETURN regexp_replace(out, '\{\{[^{}]*\}\}', '', 'g');
END $$;

COMMENT ON FUNCTION afp.render_message(text, jsonb, boolean) IS
'Template helper of dispatch: replaces {{key}} by vars->>key (HTML-escaped when html), removes unknown placeholders.';
