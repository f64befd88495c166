-- afp_to_pdf(bytea, jsonb): converts an AFP print stream to PDF.
CREATE FUNCTION afp_to_pdf(afp bytea, options jsonb DEFAULT '{}')
RETURNS bytea
AS 'MODULE_PATHNAME', 'pg_afp_to_pdf'
LANGUAGE C STRICT STABLE PARALLEL SAFE;  -- STABLE: reads afp.resources (external resources) and afp.font_map

COMMENT ON FUNCTION afp_to_pdf(bytea, jsonb) IS
'Converts an AFP (MO:DCA) print stream to a PDF: searchable text in embedded Liberation font '
'subsets (IBM core fonts mapped by family and style), rules, IOCA images (JPEG and G4 passed '
'through), overlays and page segments from the file''s resource group or, when it lacks them, '
'from afp.resources; form map medium overlays, duplex and copies. options: missing '
'("error" default | "warn" draws a placeholder and raises a WARNING | "ignore"), fonts ("embed" '
'default | "base14"), compress (true), title, copies (false), font_map (entries, or false to '
'ignore the afp.font_map table), raster_fonts (true: raster font character sets in the file as '
'Type 3 fonts). Damaged input and files without pages raise '
'22P03 with the byte offset; bad options raise 22023. See docs/conversion.md.';
