/*
 * afp_font.c — font metrics for layout, and IBM core font names for the AFP output.
 *
 * Widths come from the metric-compatible Liberation fonts (Debian package fonts-liberation),
 * read with FreeType: LiberationSans-* for Helvetica/Arial, LiberationSerif-* for Times and
 * LiberationMono-* for Courier, from $AFP_FONT_DIR or /usr/share/fonts/truetype/liberation.
 * Advances are read from the font's horizontal metrics (FT_Get_Advance with FT_LOAD_NO_SCALE,
 * i.e. the unhinted design advance from 'hmtx') and scaled to 1/1000 em.
 *
 * Caching and memory: each of the 12 faces is loaded once and kept for the life of the process
 * together with a table of advances for U+0000–U+024F and U+2000–U+20CF (other code points are
 * looked up in the open face on demand). The cache and the FreeType library handle are
 * process-wide, so their memory comes from plain malloc (and FreeType's own allocator), never
 * from afp_alloc: in the extension afp_alloc is palloc in a short-lived memory context, which
 * would be reset under the cache. Nothing in the cache is ever freed; it is reachable through
 * static pointers. The cache is not thread-safe (PostgreSQL backends and the CLI are
 * single-threaded). No allocation through afp_alloc and no interrupt check happens while
 * FreeType state is being built, so an error longjmp cannot leave it half-made.
 *
 * IBM names: the core fonts C0H2/C0H3/C0H4/C0H5 (Helvetica roman/italic/bold/bold-italic),
 * C0N2… (Times), C042… (Courier) with the 2-character size suffix of AFP-NOTES §1.10 for the
 * raster sizes, or the outline character sets CZH200… (size given elsewhere) for other sizes.
 */
#include "afp_gen.h"

#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_ADVANCES_H
#include FT_TRUETYPE_TABLES_H

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FONT_DIR_DEFAULT "/usr/share/fonts/truetype/liberation"

/* Cached code-point ranges: Latin (Basic … Extended-B) and General Punctuation … Currency. */
#define RANGE1_FIRST 0x0000u
#define RANGE1_LAST  0x024Fu
#define RANGE2_FIRST 0x2000u
#define RANGE2_LAST  0x20CFu
#define RANGE1_N     (RANGE1_LAST - RANGE1_FIRST + 1)
#define RANGE2_N     (RANGE2_LAST - RANGE2_FIRST + 1)

struct afp_font_metrics {
    FT_Face face;               /* kept open for code points outside the tables */
    int units_per_em;
    int notdef_advance;         /* 1/1000 em, used for characters without a glyph */
    double ascent, descent;     /* fractions of the em, both positive */
    int16_t range1[RANGE1_N];   /* advance in 1/1000 em, -1 = no glyph */
    int16_t range2[RANGE2_N];
};

static FT_Library ft_library;                   /* process lifetime */
static afp_font_metrics *font_cache[3][4];      /* [family][style], malloc'd, never freed */

static const char *const file_stems[] = {"LiberationSans", "LiberationSerif", "LiberationMono"};
static const char *const style_suffix[] = {"Regular", "Italic", "Bold", "BoldItalic"};

/* Parses a family name ("Helvetica", "Arial", "Times", "Courier", any case); -1 if unknown. */
int
afp_font_parse_family(const char *name)
{
    if (name == NULL)
        return -1;
    if (afp_strieq(name, "Helvetica") || afp_strieq(name, "Arial"))
        return AFP_FAMILY_HELVETICA;
    if (afp_strieq(name, "Times"))
        return AFP_FAMILY_TIMES;
    if (afp_strieq(name, "Courier"))
        return AFP_FAMILY_COURIER;
    return -1;
}

/* Parses a style name ("regular", "bold", "italic", "bold-italic", any case); -1 if unknown. */
int
afp_font_parse_style(const char *name)
{
    if (name == NULL)
        return -1;
    if (afp_strieq(name, "regular"))
        return AFP_STYLE_REGULAR;
    if (afp_strieq(name, "italic"))
        return AFP_STYLE_ITALIC;
    if (afp_strieq(name, "bold"))
        return AFP_STYLE_BOLD;
    if (afp_strieq(name, "bold-italic"))
        return AFP_STYLE_BOLD_ITALIC;
    return -1;
}

/* Design advance of a glyph index scaled to 1/1000 em (rounded); -1 on a FreeType error. */
static int
glyph_advance(FT_Face face, int upem, FT_UInt gi)
{
    FT_Fixed adv = 0;

    if (FT_Get_Advance(face, gi, FT_LOAD_NO_SCALE, &adv) != 0)
        return -1;
    return (int) lround((double) adv * 1000.0 / upem);
}

/* Advance of a code point in 1/1000 em looked up in the face; -1 when there is no glyph. */
static int
lookup_advance(FT_Face face, int upem, uint32_t cp)
{
    FT_UInt gi = FT_Get_Char_Index(face, (FT_ULong) cp);

    if (gi == 0)
        return -1;
    return glyph_advance(face, upem, gi);
}

/* Builds the metrics of one face (malloc'd); NULL with err filled on failure. */
static afp_font_metrics *
build_metrics(const char *path, afp_error *err)
{
    afp_font_metrics *m;
    FT_Face face = NULL;
    TT_OS2 *os2;
    FILE *f;
    uint32_t i;
    int upem, a;

    f = fopen(path, "rb");
    if (f == NULL)
    {
        afp_error_set(err, AFP_ERR_ARGUMENT, -1, "",
                      "font file %s not found: install the Debian package fonts-liberation "
                      "or set AFP_FONT_DIR to a directory holding the Liberation TrueType fonts",
                      path);
        return NULL;
    }
    fclose(f);
    if (ft_library == NULL && FT_Init_FreeType(&ft_library) != 0)
    {
        ft_library = NULL;
        afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "cannot initialise FreeType to read %s", path);
        return NULL;
    }
    if (FT_New_Face(ft_library, path, 0, &face) != 0)
    {
        afp_error_set(err, AFP_ERR_ARGUMENT, -1, "",
                      "font file %s cannot be read as a TrueType font (reinstall the Debian "
                      "package fonts-liberation)", path);
        return NULL;
    }
    if (!FT_IS_SCALABLE(face) || face->units_per_EM == 0)
    {
        FT_Done_Face(face);
        afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "font file %s is not a scalable font", path);
        return NULL;
    }
    m = malloc(sizeof(*m));
    if (m == NULL)
    {
        FT_Done_Face(face);
        afp_error_set(err, AFP_ERR_LIMIT, -1, "", "out of memory loading font %s", path);
        return NULL;
    }
    upem = face->units_per_EM;
    m->face = face;
    m->units_per_em = upem;
    a = glyph_advance(face, upem, 0);
    m->notdef_advance = a < 0 ? 0 : a;
    /* Prefer the OS/2 typographic ascender/descender (they match the Adobe AFM values of the
     * Helvetica/Times/Courier the IBM core fonts are based on); fall back to 'hhea'. */
    os2 = (TT_OS2 *) FT_Get_Sfnt_Table(face, FT_SFNT_OS2);
    if (os2 != NULL && os2->version != 0xFFFFu && os2->sTypoAscender > 0)
    {
        m->ascent = (double) os2->sTypoAscender / upem;
        m->descent = (double) -os2->sTypoDescender / upem;
    }
    else
    {
        m->ascent = (double) face->ascender / upem;
        m->descent = (double) -face->descender / upem;
    }
    if (m->descent < 0)
        m->descent = -m->descent;
    for (i = 0; i < RANGE1_N; i++)
        m->range1[i] = (int16_t) lookup_advance(face, upem, RANGE1_FIRST + i);
    for (i = 0; i < RANGE2_N; i++)
        m->range2[i] = (int16_t) lookup_advance(face, upem, RANGE2_FIRST + i);
    return m;
}

/* Loads (once per process) and returns the metrics of a family/style. */
afp_status
afp_font_load(afp_family f, afp_style s, const afp_font_metrics **out, afp_error *err)
{
    const char *dir;
    char path[4096];
    afp_font_metrics *m;

    if ((int) f < 0 || (int) f > 2 || (int) s < 0 || (int) s > 3)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "unknown font family %d or style %d",
                             (int) f, (int) s);
    if (font_cache[f][s] != NULL)
    {
        *out = font_cache[f][s];
        return AFP_OK;
    }
    dir = getenv("AFP_FONT_DIR");
    if (dir == NULL || dir[0] == '\0')
        dir = FONT_DIR_DEFAULT;
    if ((size_t) snprintf(path, sizeof(path), "%s/%s-%s.ttf", dir, file_stems[f], style_suffix[s])
        >= sizeof(path))
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "font directory name too long: %.200s",
                             dir);
    m = build_metrics(path, err);
    if (m == NULL)
        return err ? err->status : AFP_ERR_ARGUMENT;
    font_cache[f][s] = m;
    *out = m;
    return AFP_OK;
}

/* Advance width of a code point in 1/1000 em; -1 when the font has no glyph for it. */
int
afp_font_advance(const afp_font_metrics *m, uint32_t cp)
{
    if (m == NULL)
        return -1;
    if (cp <= RANGE1_LAST)
        return m->range1[cp - RANGE1_FIRST];
    if (cp >= RANGE2_FIRST && cp <= RANGE2_LAST)
        return m->range2[cp - RANGE2_FIRST];
    return lookup_advance(m->face, m->units_per_em, cp);
}

/* Width of UTF-8 text in points at size_pt: the sum of the advances (no kerning). Control
 * characters count 0; other characters without a glyph and invalid bytes count as .notdef. */
double
afp_font_text_width(const afp_font_metrics *m, const char *utf8, size_t n, double size_pt)
{
    const uint8_t *p = (const uint8_t *) utf8;
    size_t pos = 0;
    long total = 0;

    if (m == NULL || utf8 == NULL)
        return 0.0;
    while (pos < n)
    {
        uint32_t cp;
        size_t k = afp_utf8_get(p + pos, n - pos, &cp);
        int a;

        if (k == 0)
        {
            total += m->notdef_advance;
            pos++;
            continue;
        }
        pos += k;
        a = afp_font_advance(m, cp);
        if (a < 0)
            a = (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) ? 0 : m->notdef_advance;
        total += a;
    }
    return (double) total * size_pt / 1000.0;
}

/* Ascender as a fraction of the em (positive). */
double
afp_font_ascent(const afp_font_metrics *m)
{
    return m ? m->ascent : 0.0;
}

/* Descender as a fraction of the em (positive). */
double
afp_font_descent(const afp_font_metrics *m)
{
    return m ? m->descent : 0.0;
}

/* Size suffixes of the IBM core raster font character sets (AFP-NOTES §1.10). */
static const struct { double pt; const char *suffix; } raster_sizes[] = {
    {6, "60"}, {7, "70"}, {8, "80"}, {9, "90"}, {10, "00"}, {11, "A0"}, {12, "B0"}, {14, "D0"},
    {16, "F0"}, {18, "H0"}, {20, "J0"}, {24, "N0"}, {30, "T0"}, {36, "Z0"},
};

/* IBM core font character-set name: C0H200A0 style for raster sizes (*outline = 0), else the
 * blank-padded outline name CZH200 (*outline = 1). */
void
afp_font_ibm_charset(afp_family f, afp_style s, double size_pt, char out[9], int *outline)
{
    static const char fam_code[3] = {'H', 'N', '4'};
    char fc = fam_code[((int) f >= 0 && (int) f <= 2) ? (int) f : 0];
    char sc = (char) ('2' + (((int) s >= 0 && (int) s <= 3) ? (int) s : 0));
    size_t i;

    for (i = 0; i < sizeof(raster_sizes) / sizeof(raster_sizes[0]); i++)
        if (fabs(raster_sizes[i].pt - size_pt) < 0.01)
        {
            snprintf(out, 9, "C0%c%c00%s", fc, sc, raster_sizes[i].suffix);
            if (outline)
                *outline = 0;
            return;
        }
    snprintf(out, 9, "CZ%c%c00  ", fc, sc);
    if (outline)
        *outline = 1;
}
