-- afp_compose_text(jsonb, jsonb): composes plain text documents into one AFP print file.
CREATE FUNCTION afp_compose_text(docs jsonb, options jsonb DEFAULT '{}')
RETURNS bytea
AS 'MODULE_PATHNAME', 'pg_afp_compose_text'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION afp_compose_text(jsonb, jsonb) IS
'Composes one print file (BDT ... EDT) with a named page group per document. docs is an array of '
'(or one) {"name": text, "index": {key: text, ...}, "text": "page 1\fpage 2"}; text is required, '
'pages break at form feeds or when full. options: page_width_in (8.27), page_height_in (11.69), '
'margin_in (0.75), font_size_pt (10, Courier), codepage (T1V10500, T1001148 when needed for €), '
'lines_per_page (0 = as many as fit). Bad shapes raise 22023 naming the jsonb path '
'(docs[0].index.Account; array positions from 0); text no code page can hold raises 22021.';
