/*
 * afp_convert_fonts.c — fonts of the AFP→PDF converter.
 *
 * Mapping: IBM core font character sets (and coded fonts) name the family in their third
 * character and the style in their fourth: C0H2…/C0H3…/C0H4…/C0H5… Helvetica roman, italic,
 * bold, bold-italic; C0N… Times; C04… Courier (CZ… outline sets alike). They map to the
 * metric-compatible Liberation Sans/Serif/Mono from Debian's fonts-liberation ($AFP_FONT_DIR or
 * /usr/share/fonts/truetype/liberation); anything else maps to Liberation Sans.
 *
 * Embedding: each font used becomes a Type 0 font with Identity-H encoding over a CIDFontType2
 * whose CIDs are the glyph ids of the TrueType font (CIDToGIDMap /Identity), a /W array with the
 * advances of the glyphs used, a ToUnicode CMap (so text is searchable and copyable) and a
 * FontFile2 subset: the glyph ids stay, the outlines of unused glyphs are emptied (composite
 * glyphs keep their components). Fonts without TrueType outlines (CFF-based OpenType carried in
 * the file) are embedded whole as FontFile3/OpenType. With the base14 option the standard
 * Helvetica/Times/Courier are referenced instead (WinAnsiEncoding, nothing embedded).
 *
 * FreeType reads the fonts: character map, advances, metrics and the raw tables for the subset.
 * The Liberation faces and their tables are cached for the life of the process in plain malloc
 * memory (afp_alloc is palloc in a short-lived context in the extension); fonts carried in the
 * file are opened per conversion and closed by pdf_fonts_free — or, if a conversion was
 * abandoned by an error longjmp, by the next conversion that opens one.
 */
#include "afp_pdf_int.h"

#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_ADVANCES_H
#include FT_TRUETYPE_TABLES_H
#include FT_TRUETYPE_TAGS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FONT_DIR_DEFAULT "/usr/share/fonts/truetype/liberation"
#define SUBSET_NTABLES 9

/* A TrueType/OpenType face with what embedding needs. */
typedef struct ttf_source {
    FT_Face face;
    int upem;
    long nglyphs;
    char psname[64];
    double ascent, descent, capheight, italic, bbox[4];   /* 1/1000 em */
    double ul_pos, ul_thick;                              /* 1/1000 em */
    int flags;                                            /* font descriptor flags */
    int tables_loaded;
    uint8_t *tab[SUBSET_NTABLES];                         /* raw tables, malloc */
    size_t tablen[SUBSET_NTABLES];
    uint8_t *file;                                        /* whole font (carried fonts) */
    size_t filelen;
    unsigned generation;                                  /* carried: conversion that opened it */
} ttf_source;

/* Tables kept in a subset, in tag order (a TrueType font directory is sorted by tag). */
static const char *const subset_tags[SUBSET_NTABLES] = {
    "cvt ", "fpgm", "glyf", "head", "hhea", "hmtx", "loca", "maxp", "prep"};
enum { T_CVT, T_FPGM, T_GLYF, T_HEAD, T_HHEA, T_HMTX, T_LOCA, T_MAXP, T_PREP };

/* Glyph cache entry for one BMP code point. */
typedef struct glyph_entry {
    uint16_t code;
    int16_t w;
    uint8_t known;
} glyph_entry;

struct pdf_font {
    int std14;                  /* standard-14 reference (no embedding) */
    const char *std_name;       /* its /BaseFont */
    ttf_source *src;            /* metrics (and, unless std14, the embedded font); may be NULL */
    int family, style, carried;
    int mono;
    int obj;                    /* font dictionary object number */
    char res[12];
    glyph_entry *pages[256];    /* BMP glyph cache, 256 code points per page */
    uint8_t *used;              /* bitmap over codes */
    uint32_t *uni;              /* Unicode shown by each code (0 = unused) */
    long ncodes;
    pdf_raster *raster;         /* Type 3 raster font (afp_convert_raster.c), NULL otherwise */
};

static FT_Library ft_lib;
static int ft_state;                    /* 0 untried, 1 ready, -1 failed */
static ttf_source *liberation[3][4];    /* [sans/serif/mono][regular/italic/bold/bolditalic] */
static int liberation_failed[3][4];
static ttf_source *carried_live[64];    /* carried faces not yet closed */
static unsigned conversion_generation;

static const char *const lib_stem[3] = {"LiberationSans", "LiberationSerif", "LiberationMono"};
static const char *const lib_style[4] = {"Regular", "Italic", "Bold", "BoldItalic"};
static const char *const std14[3][4] = {
    {"Helvetica", "Helvetica-Oblique", "Helvetica-Bold", "Helvetica-BoldOblique"},
    {"Times-Roman", "Times-Italic", "Times-Bold", "Times-BoldItalic"},
    {"Courier", "Courier-Oblique", "Courier-Bold", "Courier-BoldOblique"}};

/* Big-endian readers (callers check bounds). */
static unsigned
be16(const uint8_t *p)
{
    return (unsigned) ((p[0] << 8) | p[1]);
}

/* Big-endian 32-bit value. */
static uint32_t
be32(const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
}

/* Stores a big-endian 16-bit value. */
static void
put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}

/* Stores a big-endian 32-bit value. */
static void
put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
}

/* Initialises FreeType once per process. */
static int
ft_ready(void)
{
    if (ft_state == 0)
        ft_state = FT_Init_FreeType(&ft_lib) == 0 ? 1 : -1;
    return ft_state > 0;
}

/* Fills the descriptor metrics of an opened face. */
static void
source_metrics(ttf_source *s)
{
    FT_Face f = s->face;
    double k = 1000.0 / (s->upem > 0 ? s->upem : 1000);
    TT_OS2 *os2 = FT_Get_Sfnt_Table(f, FT_SFNT_OS2);
    TT_Postscript *post = FT_Get_Sfnt_Table(f, FT_SFNT_POST);
    const char *ps = FT_Get_Postscript_Name(f);
    size_t i, j = 0;

    s->nglyphs = f->num_glyphs;
    s->ascent = f->ascender * k;
    s->descent = f->descender * k;
    s->bbox[0] = f->bbox.xMin * k;
    s->bbox[1] = f->bbox.yMin * k;
    s->bbox[2] = f->bbox.xMax * k;
    s->bbox[3] = f->bbox.yMax * k;
    s->capheight = (os2 && os2->version >= 2 && os2->sCapHeight > 0) ? os2->sCapHeight * k
                 : s->ascent;
    s->italic = post ? post->italicAngle / 65536.0 : 0;
    s->ul_pos = f->underline_position ? -f->underline_position * k : 100;
    s->ul_thick = f->underline_thickness > 0 ? f->underline_thickness * k : 50;
    s->flags = 32;
    if (FT_IS_FIXED_WIDTH(f))
        s->flags |= 1;
    if ((f->style_flags & FT_STYLE_FLAG_ITALIC) || s->italic != 0)
        s->flags |= 64;
    /* a PostScript name is a PDF name: keep letters, digits and '-' only */
    for (i = 0; ps && ps[i] && j + 1 < sizeof(s->psname); i++)
        if ((ps[i] >= 'A' && ps[i] <= 'Z') || (ps[i] >= 'a' && ps[i] <= 'z') ||
            (ps[i] >= '0' && ps[i] <= '9') || ps[i] == '-')
            s->psname[j++] = ps[i];
    if (j == 0)
    {
        strcpy(s->psname, "EmbeddedFont");
        j = strlen(s->psname);
    }
    s->psname[j] = '\0';
}

/* Opens (once per process) the Liberation face of a family and style; NULL when unavailable. */
static ttf_source *
liberation_face(pdf_fonts *fs, int fam, int sty)
{
    const char *dir = fs->font_dir ? fs->font_dir : getenv("AFP_FONT_DIR");
    char path[4096];
    ttf_source *s;
    FT_Face face;

    if (liberation[fam][sty] || liberation_failed[fam][sty])
        return liberation[fam][sty];
    if (!ft_ready())
    {
        liberation_failed[fam][sty] = 1;
        return NULL;
    }
    if (dir == NULL || dir[0] == '\0')
        dir = FONT_DIR_DEFAULT;
    snprintf(path, sizeof(path), "%s/%s-%s.ttf", dir, lib_stem[fam], lib_style[sty]);
    if (FT_New_Face(ft_lib, path, 0, &face) != 0)
    {
        char msg[4400];

        liberation_failed[fam][sty] = 1;
        if (fs->warn)
        {
            snprintf(msg, sizeof(msg), "font %.4000s cannot be opened (install fonts-liberation or set "
                     "AFP_FONT_DIR); the standard font %s is referenced instead", path,
                     std14[fam][sty]);
            fs->warn(fs->warn_ctx, msg);
        }
        return NULL;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL)
    {
        FT_Done_Face(face);
        liberation_failed[fam][sty] = 1;
        return NULL;
    }
    s->face = face;
    s->upem = face->units_per_EM;
    source_metrics(s);
    liberation[fam][sty] = s;
    return s;
}

/* Closes a carried face and frees it. */
static void
source_close(ttf_source *s)
{
    int i;

    if (s == NULL)
        return;
    if (s->face)
        FT_Done_Face(s->face);
    for (i = 0; i < SUBSET_NTABLES; i++)
        free(s->tab[i]);
    free(s->file);
    free(s);
}

/* Family (0 sans, 1 serif, 2 mono) and style (0 regular, 1 italic, 2 bold, 3 bold italic) of an
 * IBM font character set or coded font name. */
static void
ibm_family_style(const afp_font_ref *f, int *fam, int *sty)
{
    const char *n = f->fcs;

    *fam = 0;
    *sty = 0;
    if (strlen(n) >= 4 && (n[0] == 'C' || n[0] == 'X'))
    {
        if (n[2] == 'N')
            *fam = 1;
        else if (n[2] == '4')
            *fam = 2;
        if (n[3] >= '2' && n[3] <= '5')
            *sty = n[3] - '2';
    }
    if (f->mono)
        *fam = 2;
}

/* Nominal size in points. */
double
pdf_font_size(const afp_font_ref *f)
{
    if (f->fds_size20 > 0)
        return f->fds_size20 / 20.0;
    if (f->size10 > 0)
        return f->size10 / 10.0;
    return 10.0;
}

/* Creates a font record and adds it to the set. */
static pdf_font *
font_new(pdf_fonts *fs, pdf_writer *w)
{
    pdf_font *pf = afp_alloc(sizeof(*pf));

    memset(pf, 0, sizeof(*pf));
    fs->items = afp_text_grow(fs->items, &fs->cap, fs->count + 1, sizeof(pdf_font *));
    fs->items[fs->count++] = pf;
    snprintf(pf->res, sizeof(pf->res), "F%zu", fs->count);
    pf->obj = pdfw_alloc(w);
    return pf;
}

/* Allocates the code bitmaps once the number of codes is known. */
static void
font_codes(pdf_font *pf, long n)
{
    pf->ncodes = n > 0 ? n : 1;
    pf->used = afp_alloc((size_t) (pf->ncodes + 7) / 8);
    memset(pf->used, 0, (size_t) (pf->ncodes + 7) / 8);
    pf->uni = afp_alloc((size_t) pf->ncodes * sizeof(uint32_t));
    memset(pf->uni, 0, (size_t) pf->ncodes * sizeof(uint32_t));
}

/* The PDF font for an AFP font reference. */
pdf_font *
pdf_font_for(pdf_fonts *fs, pdf_writer *w, const afp_font_ref *f)
{
    int fam, sty;

    ibm_family_style(f, &fam, &sty);
    return pdf_font_liberation(fs, w, fam, sty, fs->base14);
}

/* A Liberation face by family and style, embedded or (std14) referenced. */
pdf_font *
pdf_font_liberation(pdf_fonts *fs, pdf_writer *w, int fam, int sty, int std14_ref)
{
    size_t i;
    pdf_font *pf;
    ttf_source *src;

    if (fam < 0 || fam > 2 || sty < 0 || sty > 3)
        fam = sty = 0;
    src = liberation_face(fs, fam, sty);
    for (i = 0; i < fs->count; i++)
        if (!fs->items[i]->carried && !fs->items[i]->raster && fs->items[i]->family == fam &&
            fs->items[i]->style == sty && fs->items[i]->std14 == (std14_ref || src == NULL))
            return fs->items[i];
    pf = font_new(fs, w);
    pf->family = fam;
    pf->style = sty;
    pf->mono = fam == 2;
    pf->src = src;
    pf->std14 = std14_ref || pf->src == NULL;
    pf->std_name = std14[fam][sty];
    font_codes(pf, pf->std14 ? 256 : pf->src->nglyphs);
    return pf;
}

/* A Type 3 font for a raster font character set (the font owns r). */
pdf_font *
pdf_font_raster(pdf_fonts *fs, pdf_writer *w, pdf_raster *r)
{
    pdf_font *pf = font_new(fs, w);

    pf->raster = r;
    pf->family = -1;
    font_codes(pf, 256);
    return pf;
}

/* A font carried in the file (TrueType/OpenType bytes). */
pdf_font *
pdf_font_carried(pdf_fonts *fs, pdf_writer *w, const uint8_t *data, size_t len)
{
    ttf_source *s;
    pdf_font *pf;
    size_t i, slot = sizeof(carried_live) / sizeof(carried_live[0]);

    if (!ft_ready() || len < 12 || len > ((size_t) 1 << 30))
        return NULL;
    /* close faces left open by conversions that were abandoned */
    for (i = 0; i < sizeof(carried_live) / sizeof(carried_live[0]); i++)
    {
        if (carried_live[i] && carried_live[i]->generation != conversion_generation)
        {
            source_close(carried_live[i]);
            carried_live[i] = NULL;
        }
        if (carried_live[i] == NULL && slot == sizeof(carried_live) / sizeof(carried_live[0]))
            slot = i;
    }
    if (slot == sizeof(carried_live) / sizeof(carried_live[0]))
        return NULL;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->file = malloc(len);
    if (s->file == NULL)
    {
        free(s);
        return NULL;
    }
    memcpy(s->file, data, len);
    s->filelen = len;
    if (FT_New_Memory_Face(ft_lib, s->file, (FT_Long) len, 0, &s->face) != 0 ||
        !FT_IS_SFNT(s->face) || s->face->num_glyphs <= 0)
    {
        source_close(s);
        return NULL;
    }
    s->upem = s->face->units_per_EM;
    s->generation = conversion_generation;
    source_metrics(s);
    carried_live[slot] = s;
    pf = font_new(fs, w);
    pf->carried = 1;
    pf->family = -1;
    pf->src = s;
    pf->std_name = "Helvetica";
    font_codes(pf, s->nglyphs);
    return pf;
}

/* WinAnsiEncoding byte of a Unicode character; '?' when the encoding lacks it. */
static unsigned
winansi(uint32_t u)
{
    static const uint16_t hi[32] = {
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039,
        0x0152, 0, 0x017D, 0, 0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
        0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178};
    unsigned k;

    if ((u >= 0x20 && u <= 0x7E) || (u >= 0xA0 && u <= 0xFF))
        return u;
    for (k = 0; k < 32; k++)
        if (hi[k] != 0 && hi[k] == u)
            return 0x80 + k;
    return '?';
}

/* Looks a character up in the face: glyph id and advance in 1/1000 em. */
static void
face_lookup(const ttf_source *s, uint32_t u, unsigned *gid, int *w1000)
{
    FT_Fixed adv = 0;
    FT_UInt g = FT_Get_Char_Index(s->face, u);

    if (FT_Get_Advance(s->face, g, FT_LOAD_NO_SCALE, &adv) != 0)
        adv = 0;
    *gid = g;
    *w1000 = (int) lround((double) adv * 1000.0 / (s->upem > 0 ? s->upem : 1000));
    if (*w1000 > 30000)
        *w1000 = 30000;
}

/* Glyph code and advance of a character (cached for the BMP). */
void
pdf_font_glyph(pdf_font *pf, uint32_t u, unsigned *code, int *w1000)
{
    glyph_entry *e = NULL;
    unsigned gid;

    if (u < 0x10000)
    {
        glyph_entry **page = &pf->pages[u >> 8];

        if (*page == NULL)
        {
            *page = afp_alloc(256 * sizeof(glyph_entry));
            memset(*page, 0, 256 * sizeof(glyph_entry));
        }
        e = &(*page)[u & 0xFF];
        if (e->known)
        {
            *code = e->code;
            *w1000 = e->w;
            return;
        }
    }
    if (pf->raster)
        pdf_raster_glyph(pf->raster, u, code, w1000);
    else if (pf->std14)
    {
        *code = winansi(u);
        if (pf->src)
            face_lookup(pf->src, *code == '?' && u != '?' ? '?' : u, &gid, w1000);
        else
            *w1000 = pf->mono ? 600 : (u == ' ' ? 278 : 556);
    }
    else
        face_lookup(pf->src, u, code, w1000);
    if (e != NULL)
    {
        e->code = (uint16_t) *code;
        e->w = (int16_t) *w1000;
        e->known = 1;
    }
}

/* Marks a code as used for u. */
void
pdf_font_use(pdf_font *pf, unsigned code, uint32_t u)
{
    if ((long) code >= pf->ncodes)
        return;
    pf->used[code >> 3] |= (uint8_t) (1u << (code & 7));
    if (pf->uni[code] == 0)
        pf->uni[code] = u;
}

/* Bytes per code in show strings. */
int
pdf_font_code_bytes(const pdf_font *pf)
{
    return pf->std14 || pf->raster ? 1 : 2;
}

/* Resource name of the font. */
const char *
pdf_font_resname(const pdf_font *pf)
{
    return pf->res;
}

/* Underline position (below the baseline) and thickness in 1/1000 em. */
void
pdf_font_underline(const pdf_font *pf, double *pos, double *thick)
{
    if (pf->raster)
    {
        pdf_raster_underline(pf->raster, pos, thick);
        return;
    }
    *pos = pf->src ? pf->src->ul_pos : 100;
    *thick = pf->src ? pf->src->ul_thick : 50;
}

/* Loads the raw tables of a face for subsetting (once); 0 when the face has no TrueType
 * outlines (no glyf/loca) or a table cannot be read. */
static int
load_tables(ttf_source *s)
{
    int i;

    if (s->tables_loaded)
        return s->tables_loaded > 0;
    s->tables_loaded = -1;
    for (i = 0; i < SUBSET_NTABLES; i++)
    {
        const char *t = subset_tags[i];
        FT_ULong tag = FT_MAKE_TAG(t[0], t[1], t[2], t[3]), len = 0;

        if (FT_Load_Sfnt_Table(s->face, tag, 0, NULL, &len) != 0 || len == 0)
        {
            if (i == T_GLYF || i == T_LOCA || i == T_HEAD || i == T_HHEA || i == T_HMTX ||
                i == T_MAXP)
                return 0;
            continue;          /* hinting tables are optional */
        }
        s->tab[i] = malloc(len);
        if (s->tab[i] == NULL || FT_Load_Sfnt_Table(s->face, tag, 0, s->tab[i], &len) != 0)
            return 0;
        s->tablen[i] = len;
    }
    if (s->tablen[T_HEAD] < 54 || s->tablen[T_MAXP] < 6)
        return 0;
    s->tables_loaded = 1;
    return 1;
}

/* Offset and length of glyph g in the source glyf table (via loca); 0 length when empty or
 * out of range. */
static void
glyph_span(const ttf_source *s, long g, size_t *off, size_t *len)
{
    int longfmt = (int16_t) be16(s->tab[T_HEAD] + 50) != 0;
    size_t a, b, n = s->tablen[T_LOCA];

    *off = *len = 0;
    if (longfmt)
    {
        if ((size_t) (g + 2) * 4 > n)
            return;
        a = be32(s->tab[T_LOCA] + g * 4);
        b = be32(s->tab[T_LOCA] + g * 4 + 4);
    }
    else
    {
        if ((size_t) (g + 2) * 2 > n)
            return;
        a = (size_t) be16(s->tab[T_LOCA] + g * 2) * 2;
        b = (size_t) be16(s->tab[T_LOCA] + g * 2 + 2) * 2;
    }
    if (b <= a || b > s->tablen[T_GLYF])
        return;
    *off = a;
    *len = b - a;
}

/* Adds the components of composite glyphs to the keep set until nothing new appears. */
static void
composite_closure(const ttf_source *s, uint8_t *keep, long n)
{
    int changed = 1, rounds = 0;

    while (changed && rounds++ < 16)
    {
        long g;

        changed = 0;
        for (g = 0; g < n; g++)
        {
            size_t off, len, p;
            const uint8_t *d;
            unsigned flags;

            if (!(keep[g >> 3] & (1u << (g & 7))))
                continue;
            glyph_span(s, g, &off, &len);
            if (len < 10 || (int16_t) be16(s->tab[T_GLYF] + off) >= 0)
                continue;
            d = s->tab[T_GLYF] + off;
            p = 10;
            do
            {
                unsigned comp;

                if (p + 4 > len)
                    break;
                flags = be16(d + p);
                comp = be16(d + p + 2);
                if ((long) comp < n && !(keep[comp >> 3] & (1u << (comp & 7))))
                {
                    keep[comp >> 3] |= (uint8_t) (1u << (comp & 7));
                    changed = 1;
                }
                p += 4 + ((flags & 0x0001) ? 4 : 2);
                if (flags & 0x0008)
                    p += 2;
                else if (flags & 0x0040)
                    p += 4;
                else if (flags & 0x0080)
                    p += 8;
            } while (flags & 0x0020);
        }
    }
}

/* Table checksum (sum of big-endian 32-bit words, zero-padded). */
static uint32_t
table_sum(const uint8_t *p, size_t n)
{
    uint32_t sum = 0;
    size_t i;

    for (i = 0; i + 4 <= n; i += 4)
        sum += be32(p + i);
    if (i < n)
    {
        uint8_t last[4] = {0, 0, 0, 0};

        memcpy(last, p + i, n - i);
        sum += be32(last);
    }
    return sum;
}

/* Builds the subset font file (same glyph ids, unused outlines emptied) into out. */
static void
build_subset(const ttf_source *s, const uint8_t *used, long n, afp_buf *out)
{
    uint8_t *keep = afp_alloc((size_t) (n + 7) / 8);
    afp_buf glyf, loca, head;
    const uint8_t *tdata[SUBSET_NTABLES];
    size_t tlen[SUBSET_NTABLES], dir, pos, head_pos = 0;
    int ntab = 0, i, k, sel = 0;
    long g;
    uint32_t total;

    memcpy(keep, used, (size_t) (n + 7) / 8);
    keep[0] |= 1;              /* .notdef */
    composite_closure(s, keep, n);
    afp_buf_init(&glyf);
    afp_buf_init(&loca);
    afp_buf_init(&head);
    for (g = 0; g < n; g++)
    {
        size_t off, len;

        afp_buf_reserve(&loca, 4);
        put32(loca.data + loca.len, (uint32_t) glyf.len);
        loca.len += 4;
        if (!(keep[g >> 3] & (1u << (g & 7))))
            continue;
        glyph_span(s, g, &off, &len);
        afp_buf_append(&glyf, s->tab[T_GLYF] + off, len);
        while (glyf.len & 3)
            afp_buf_putc(&glyf, 0);
    }
    afp_buf_reserve(&loca, 4);
    put32(loca.data + loca.len, (uint32_t) glyf.len);
    loca.len += 4;
    afp_buf_append(&head, s->tab[T_HEAD], s->tablen[T_HEAD]);
    put32(head.data + 8, 0);           /* checkSumAdjustment, set below */
    put16(head.data + 50, 1);          /* indexToLocFormat: long offsets */
    for (i = 0; i < SUBSET_NTABLES; i++)
    {
        tdata[i] = i == T_GLYF ? glyf.data : i == T_LOCA ? loca.data : i == T_HEAD ? head.data
                 : s->tab[i];
        tlen[i] = i == T_GLYF ? glyf.len : i == T_LOCA ? loca.len : i == T_HEAD ? head.len
                : s->tablen[i];
        if (tdata[i] != NULL && tlen[i] > 0)
            ntab++;
    }
    while ((2 << sel) <= ntab)
        sel++;
    /* offset table, then the directory, then the 4-byte aligned tables */
    out->len = 0;
    afp_buf_reserve(out, 12 + 16 * (size_t) ntab);
    put32(out->data, 0x00010000);
    put16(out->data + 4, (unsigned) ntab);
    put16(out->data + 6, (unsigned) (16 << sel));
    put16(out->data + 8, (unsigned) sel);
    put16(out->data + 10, (unsigned) (ntab * 16 - (16 << sel)));
    out->len = 12 + 16 * (size_t) ntab;
    memset(out->data + 12, 0, 16 * (size_t) ntab);
    dir = 12;
    for (i = 0, k = 0; i < SUBSET_NTABLES; i++)
    {
        const char *t = subset_tags[i];

        if (tdata[i] == NULL || tlen[i] == 0)
            continue;
        pos = out->len;
        afp_buf_append(out, tdata[i], tlen[i]);
        while (out->len & 3)
            afp_buf_putc(out, 0);
        memcpy(out->data + dir + 16 * (size_t) k, t, 4);
        put32(out->data + dir + 16 * (size_t) k + 4, table_sum(tdata[i], tlen[i]));
        put32(out->data + dir + 16 * (size_t) k + 8, (uint32_t) pos);
        put32(out->data + dir + 16 * (size_t) k + 12, (uint32_t) tlen[i]);
        if (i == T_HEAD)
            head_pos = pos;
        k++;
    }
    total = table_sum(out->data, out->len);
    put32(out->data + head_pos + 8, 0xB1B0AFBAu - total);
    afp_buf_free(&glyf);
    afp_buf_free(&loca);
    afp_buf_free(&head);
    afp_free(keep);
}

/* Six upper-case letters derived from the glyph set (subset tag, PDF 32000 9.6.4). */
static void
subset_tag(const pdf_font *pf, char tag[7])
{
    uint32_t h = 2166136261u;
    long i;
    int k;

    for (i = 0; i < (pf->ncodes + 7) / 8; i++)
        h = (h ^ pf->used[i]) * 16777619u;
    h ^= (uint32_t) pf->obj * 2654435761u;
    for (k = 0; k < 6; k++)
    {
        tag[k] = (char) ('A' + h % 26);
        h /= 26;
        h ^= (uint32_t) k * 0x9E3779B9u;
    }
    tag[6] = '\0';
}

/* Writes the ToUnicode CMap of an Identity-H font. */
static void
write_tounicode(pdf_writer *w, const pdf_font *pf, int num)
{
    afp_buf c;
    long g, count = 0, inblock = 0;

    afp_buf_init(&c);
    afp_buf_printf(&c, "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
                   "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
                   "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
                   "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n");
    for (g = 0; g < pf->ncodes && g < 0x10000; g++)
        if (pf->uni[g] != 0)
            count++;
    for (g = 0; g < pf->ncodes && g < 0x10000; g++)
    {
        uint32_t u = pf->uni[g];

        if (u == 0)
            continue;
        if (inblock == 0)
            afp_buf_printf(&c, "%ld beginbfchar\n", count > 100 ? 100 : count);
        if (u >= 0x10000 && u <= 0x10FFFF)
            afp_buf_printf(&c, "<%04lX> <%04X%04X>\n", g, 0xD800 + (unsigned) ((u - 0x10000) >> 10),
                           0xDC00 + (unsigned) ((u - 0x10000) & 0x3FF));
        else
            afp_buf_printf(&c, "<%04lX> <%04X>\n", g, (unsigned) (u > 0xFFFF ? 0xFFFD : u));
        count--;
        if (++inblock == 100 || count == 0)
        {
            afp_buf_printf(&c, "endbfchar\n");
            inblock = 0;
        }
    }
    afp_buf_printf(&c, "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    pdfw_stream(w, num, "", c.data, c.len, 1, NULL);
    afp_buf_free(&c);
}

/* Writes a standard-14 font reference. */
static void
write_std14(pdf_writer *w, const pdf_font *pf)
{
    pdfw_begin(w, pf->obj);
    pdfw_printf(w, "<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>",
                pf->std_name);
    pdfw_end(w);
}

/* Writes an embedded Type 0 font: Type0 dict, CIDFontType2, descriptor, font file, ToUnicode. */
static void
write_embedded(pdf_writer *w, pdf_font *pf)
{
    ttf_source *s = pf->src;
    int cid = pdfw_alloc(w), desc = pdfw_alloc(w), file = pdfw_alloc(w), tu = pdfw_alloc(w);
    char tag[7], dict[96];
    afp_buf fontfile, wa;
    long g, run_start = -1;
    int subset = load_tables(s);

    subset_tag(pf, tag);
    afp_buf_init(&fontfile);
    afp_buf_init(&wa);
    /* Type 0 */
    pdfw_begin(w, pf->obj);
    pdfw_printf(w, "<< /Type /Font /Subtype /Type0 /BaseFont /%s+%s /Encoding /Identity-H "
                "/DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>", tag, s->psname, cid, tu);
    pdfw_end(w);
    /* widths of the used glyphs, consecutive ids grouped: c [w1 w2 …] */
    for (g = 0; g <= pf->ncodes; g++)
    {
        int on = g < pf->ncodes && (pf->used[g >> 3] & (1u << (g & 7)));

        if (on && run_start < 0)
        {
            run_start = g;
            afp_buf_printf(&wa, "%ld [", g);
        }
        if (on)
        {
            FT_Fixed adv = 0;

            if (FT_Get_Advance(s->face, (FT_UInt) g, FT_LOAD_NO_SCALE, &adv) != 0)
                adv = 0;
            afp_buf_printf(&wa, "%s%ld", g > run_start ? " " : "",
                           lround((double) adv * 1000.0 / (s->upem > 0 ? s->upem : 1000)));
        }
        else if (run_start >= 0)
        {
            afp_buf_printf(&wa, "] ");
            run_start = -1;
        }
    }
    pdfw_begin(w, cid);
    pdfw_printf(w, "<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s+%s "
                "/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
                "/FontDescriptor %d 0 R /CIDToGIDMap /Identity /DW 1000 /W [", tag, s->psname,
                desc);
    pdfw_append(w, wa.data, wa.len);
    pdfw_printf(w, "] >>");
    pdfw_end(w);
    pdfw_begin(w, desc);
    pdfw_printf(w, "<< /Type /FontDescriptor /FontName /%s+%s /Flags %d /FontBBox [%ld %ld %ld %ld]"
                " /ItalicAngle %ld /Ascent %ld /Descent %ld /CapHeight %ld /StemV 80 %s %d 0 R >>",
                tag, s->psname, s->flags, lround(s->bbox[0]), lround(s->bbox[1]),
                lround(s->bbox[2]), lround(s->bbox[3]), lround(s->italic), lround(s->ascent),
                lround(s->descent), lround(s->capheight),
                subset ? "/FontFile2" : "/FontFile3", file);
    pdfw_end(w);
    if (subset)
    {
        build_subset(s, pf->used, pf->ncodes, &fontfile);
        snprintf(dict, sizeof(dict), "/Length1 %zu", fontfile.len);
        pdfw_stream(w, file, dict, fontfile.data, fontfile.len, 1, NULL);
    }
    else if (s->file != NULL)
        pdfw_stream(w, file, "/Subtype /OpenType", s->file, s->filelen, 1, NULL);
    else
    {
        /* no outlines to embed and no file: an empty stream keeps the references valid */
        pdfw_stream(w, file, "/Subtype /OpenType", (const uint8_t *) "", 0, 0, NULL);
    }
    write_tounicode(w, pf, tu);
    afp_buf_free(&fontfile);
    afp_buf_free(&wa);
}

/* Writes every font and lists them for the resource dictionary. */
void
pdf_fonts_write(pdf_fonts *fs, pdf_writer *w, afp_buf *fontdict)
{
    size_t i;

    for (i = 0; i < fs->count; i++)
    {
        pdf_font *pf = fs->items[i];

        if (pf->raster)
            pdf_raster_write(pf->raster, w, pf->obj, pf->used, pf->uni);
        else if (pf->std14)
            write_std14(w, pf);
        else
            write_embedded(w, pf);
        afp_buf_printf(fontdict, "/%s %d 0 R ", pf->res, pf->obj);
    }
}

/* Starts the font set of a conversion. */
void
pdf_fonts_init(pdf_fonts *fs, const char *font_dir, int base14)
{
    memset(fs, 0, sizeof(*fs));
    fs->font_dir = font_dir;
    fs->base14 = base14;
    conversion_generation++;   /* faces of earlier, abandoned conversions become stale */
}

/* Frees the fonts of a conversion and closes its carried faces. */
void
pdf_fonts_free(pdf_fonts *fs)
{
    size_t i, k;
    int p;

    for (i = 0; i < fs->count; i++)
    {
        pdf_font *pf = fs->items[i];

        for (p = 0; p < 256; p++)
            afp_free(pf->pages[p]);
        afp_free(pf->used);
        afp_free(pf->uni);
        pdf_raster_free(pf->raster);
        if (pf->carried)
        {
            for (k = 0; k < sizeof(carried_live) / sizeof(carried_live[0]); k++)
                if (carried_live[k] == pf->src)
                    carried_live[k] = NULL;
            source_close(pf->src);
        }
        afp_free(pf);
    }
    afp_free(fs->items);
    fs->items = NULL;
    fs->count = fs->cap = 0;
    pdf_fontsel_free(fs);
}

/* The /BaseFont of the first font that is referenced rather than embedded (a standard-14
 * fallback), NULL when every font is embedded: PDF/A refuses such a document. */
const char *
pdf_fonts_unembedded(const pdf_fonts *fs)
{
    size_t i;

    for (i = 0; i < fs->count; i++)
        if (fs->items[i]->std14)
            return fs->items[i]->std_name;
    return NULL;
}
