-- afp_split(bytea): one self-contained AFP per document; afp_split_pdf: one PDF per document.
CREATE FUNCTION afp_split(afp bytea)
RETURNS TABLE (
    seq   int,
    index jsonb,
    afp   bytea
)
AS 'MODULE_PATHNAME', 'pg_afp_split'
LANGUAGE C STRICT IMMUTABLE PARALLEL SAFE;

COMMENT ON FUNCTION afp_split(bytea) IS
'One row per document: each outermost named page group (BNG ... ENG), or each BDT without page '
'groups, as a self-contained AFP file: the print file''s inline resource groups and form maps, '
'the BDT, the last IMM before the group, the group, an EDT. index is its TLE index as jsonb '
'(as afp_documents reports it). Raises 22P03 on damaged input. See docs/conversion.md.';

CREATE FUNCTION afp_split_pdf(afp bytea, options jsonb DEFAULT '{}')
RETURNS TABLE (
    seq   int,
    index jsonb,
    pdf   bytea
)
AS $$ SELECT s.seq, s.index, afp_to_pdf(s.afp, options) FROM afp_split(afp) AS s $$
LANGUAGE sql STRICT STABLE PARALLEL SAFE;  -- STABLE like afp_to_pdf (reads afp.font_map, afp.resources)

COMMENT ON FUNCTION afp_split_pdf(bytea, jsonb) IS
'One PDF per document of the print file (afp_split, then afp_to_pdf with the options): the '
'per-document form of afp_to_pdf. Each PDF carries its document''s bookmark and index metadata.';
