/*
 * afp_convert_raster.c — FOCA raster font character sets carried in the file, drawn as PDF
 * Type 3 fonts by the AFP→PDF converter.
 *
 * A font character set (BFN … EFN, usually in the inline resource group) whose Font Control
 * (FNC) names pattern technology X'05' (laser matrix N-bit wide horizontal sections) is a raster
 * font: FNC gives the metric units (X/Y units per 10 inches: 2400 = 240 pels per inch, 3000 =
 * 300; the shape resolution at bytes 22-27, when given, is that of the patterns),
 * the repeating group lengths and the pattern alignment; FNO one group per character rotation;
 * FNP the underscore; FNI, per rotation, one group per character (GCGID, character increment,
 * A-space, baseline offset and the index of its FNM entry); FNM the box size of each pattern
 * (stored as size minus one) and its offset (in units of the alignment) into the pattern data,
 * which is the FNG data of the set joined. Each pattern row is padded to a whole byte, bit 1 is
 * ink, the first row is the top of the character box. (foca-reference-06, Chapter 6.)
 *
 * Only the 0° rotation section of FNI is used; rotated text turns the glyphs with the text
 * matrix. A character is found by the Unicode value of its GCGID (afp_gcgid_unicode), so the
 * code page of the reference selects the character as for outline fonts.
 *
 * PDF: one Type 3 font per raster set and point size in use. Glyph space is 1/1000 of that size
 * (FontMatrix 0.001), so the widths (the character increments) are exactly the advances the text
 * placement used; each glyph procedure is `d1` plus the pattern as an inline image mask
 * (ASCIIHex, bit 1 paints in the current fill colour, so PTOCA text colours apply). Codes are
 * assigned in order of first use (1 … 255); a ToUnicode CMap keeps the text searchable.
 * Characters the set does not hold get an empty glyph with the nominal increment (still in
 * ToUnicode) and one warning per font.
 *
 * Damaged sets (fields too short, groups past their field, FNI/FNM references or pattern
 * offsets outside the data) are errors with the byte offset of the field at fault; they are
 * found by pdf_raster_check before the first page is written.
 */
#include "afp_pdf_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define RASTER_MAX_CHARS 65535
#define RASTER_MAX_PATTERN_BYTES ((size_t) 64 << 20)
#define RASTER_MAX_PELS 4096    /* one pattern (a 300-pel 720-point character is 3000 pels) */

/* One character of the 0° rotation. */
typedef struct raster_char {
    uint32_t u;                 /* Unicode of its GCGID (0xFFFD unknown) */
    int inc;                    /* character increment, X units (pels) */
    int aspace;                 /* A-space: reference point to the left edge of the pattern */
    int baseoff;                /* baseline to the top edge of the pattern */
    unsigned w, h;              /* pattern size in pels */
    size_t pat;                 /* pattern offset in the joined FNG data */
} raster_char;

struct pdf_raster {
    char name[9];
    double xres, yres;          /* metric units per inch (FNC X/Y units per 10 in / 10) */
    double pxres, pyres;        /* pattern pels per inch (FNC shape resolution, else the same) */
    double size;                /* point size of the PDF font (1000 glyph units) */
    raster_char *chars;
    size_t nchars;
    uint8_t *pat;               /* joined FNG data */
    size_t patlen;
    int nominc;                 /* nominal increment (characters the set lacks) */
    int spaceinc;               /* space increment (a set without a space character) */
    int us_pos, us_width;       /* underscore, Y units */
    int code_of[256];           /* code → character index (-1 empty glyph, -2 unused) */
    int w1000_of[256];          /* code → its width (1/1000 of the size) */
    int ncodes;                 /* codes 1 … ncodes assigned */
    int warned;
    void (*warn)(void *ctx, const char *msg);
    void *warn_ctx;
};

/* A field's data joined with the others of its kind, with the file offset of each piece. */
typedef struct joined {
    afp_buf b;
    afp_ptx_seg *segs;
    size_t nsegs, cap;
} joined;

/* Big-endian unsigned 16-bit value. */
static unsigned
r16(const uint8_t *p)
{
    return (unsigned) ((p[0] << 8) | p[1]);
}

/* Big-endian signed 16-bit value. */
static int
s16(const uint8_t *p)
{
    return (int16_t) r16(p);
}

/* Appends one field's data to a joined stream. */
static void
join_add(joined *j, const afp_sf *sf)
{
    j->segs = afp_text_grow(j->segs, &j->cap, j->nsegs + 1, sizeof(afp_ptx_seg));
    j->segs[j->nsegs].stream_off = j->b.len;
    j->segs[j->nsegs].file_off = sf->data_offset;
    j->nsegs++;
    afp_buf_append(&j->b, sf->data, sf->data_len);
}

/* Frees a joined stream. */
static void
join_free(joined *j)
{
    afp_buf_free(&j->b);
    afp_free(j->segs);
}

/* Parses the font character set spanning buf[start, end) (its BFN first). Sets *is_raster to
 * whether its FNC names the raster technology; fills r (when not NULL) for raster sets. Damaged
 * fields fail with AFP_ERR_FORMAT and their offset. */
static afp_status
raster_parse(const uint8_t *buf, size_t start, size_t end, int *is_raster, pdf_raster *r,
             afp_error *err)
{
    afp_reader rd;
    afp_sf sf;
    joined fni, fnm, fng;
    const uint8_t *fnc = NULL, *fno = NULL, *fnp = NULL;
    size_t fnc_len = 0, fno_len = 0, fnp_len = 0, i;
    int64_t fnc_off = (int64_t) start, fno_off = 0;
    unsigned fnorg, fnirg, fnmrg, fnprg, align, norient, rot0 = 0;
    size_t nchars, nfnm;
    afp_status st = AFP_OK;
    int rc;

    *is_raster = 0;
    memset(&fni, 0, sizeof(fni));
    memset(&fnm, 0, sizeof(fnm));
    memset(&fng, 0, sizeof(fng));
    afp_reader_init(&rd, buf, end);
    rd.pos = start;
    while ((rc = afp_reader_next(&rd, &sf, err)) == 1)
    {
        switch (sf.id)
        {
            case 0xD3A789:     /* FNC */
                fnc = sf.data;
                fnc_len = sf.data_len;
                fnc_off = sf.offset;
                break;
            case 0xD3AE89:     /* FNO */
                if (fno == NULL)
                {
                    fno = sf.data;
                    fno_len = sf.data_len;
                    fno_off = sf.offset;
                }
                break;
            case 0xD3AC89:     /* FNP */
                if (fnp == NULL)
                {
                    fnp = sf.data;
                    fnp_len = sf.data_len;
                }
                break;
            case 0xD38C89:     /* FNI */
                join_add(&fni, &sf);
                break;
            case 0xD3A289:     /* FNM */
                join_add(&fnm, &sf);
                break;
            case 0xD3EE89:     /* FNG */
                if (fng.b.len + sf.data_len > RASTER_MAX_PATTERN_BYTES)
                {
                    st = afp_error_set(err, AFP_ERR_LIMIT, sf.offset, "FNG",
                                       "font patterns larger than %zu bytes",
                                       RASTER_MAX_PATTERN_BYTES);
                    goto done;
                }
                join_add(&fng, &sf);
                break;
            default:
                break;
        }
    }
    if (rc < 0)
    {
        st = err->status;
        goto done;
    }
    if (fnc == NULL)
        goto done;             /* no FNC: not a font we can draw (left to the outline mapping) */
    if (fnc_len < 22)
    {
        st = afp_error_set(err, AFP_ERR_FORMAT, fnc_off, "FNC",
                           "Font Control has %zu bytes, at least 22 expected", fnc_len);
        goto done;
    }
    if (fnc[1] != 0x05)
        goto done;             /* outline technology (X'1E' CID-keyed, X'1F' Type 1) */
    *is_raster = 1;
    fnorg = fnc[14];
    fnirg = fnc[15];
    align = fnc[16];
    fnprg = fnc[20];
    fnmrg = fnc[21];
    if (fnc[4] != 0x00 || fnc[5] != 0x00 || r16(fnc + 6) == 0 || r16(fnc + 8) == 0)
    {
        st = afp_error_set(err, AFP_ERR_FORMAT, fnc_off, "FNC",
                           "raster font units must be per 10 inches (unit base X'00') and non-zero");
        goto done;
    }
    if (fnorg < 26 || fnirg < 28 || fnmrg < 8 || align > 3)
    {
        st = afp_error_set(err, AFP_ERR_FORMAT, fnc_off, "FNC",
                           "repeating group lengths FNO %u, FNI %u, FNM %u (at least 26, 28, 8) "
                           "or pattern alignment %u (0-3) out of range", fnorg, fnirg, fnmrg, align);
        goto done;
    }
    if (fno == NULL || fno_len < fnorg)
    {
        st = afp_error_set(err, AFP_ERR_FORMAT, fno ? fno_off : fnc_off, fno ? "FNO" : "FNC",
                           "raster font character set without a Font Orientation group");
        goto done;
    }
    norient = (unsigned) (fno_len / fnorg);
    for (i = 0; i < norient; i++)
        if (r16(fno + i * fnorg + 2) == 0)
        {
            rot0 = (unsigned) i;
            break;
        }
    if (fni.b.len % fnirg != 0 || fni.b.len / fnirg % norient != 0 || fni.b.len == 0)
    {
        st = afp_error_set(err, AFP_ERR_FORMAT, fni.nsegs ? pdf_seg_offset(fni.segs, fni.nsegs, 0) : fnc_off,
                           fni.nsegs ? "FNI" : "FNC",
                           "Font Index data (%zu bytes) is not %u orientations of %u-byte groups",
                           fni.b.len, norient, fnirg);
        goto done;
    }
    nchars = fni.b.len / fnirg / norient;
    nfnm = fnm.b.len / fnmrg;
    if (nchars > RASTER_MAX_CHARS)
    {
        st = afp_error_set(err, AFP_ERR_LIMIT, pdf_seg_offset(fni.segs, fni.nsegs, 0), "FNI",
                           "%zu characters in one rotation (at most %d)", nchars, RASTER_MAX_CHARS);
        goto done;
    }
    if (r != NULL)
    {
        r->xres = r16(fnc + 6) / 10.0;
        r->yres = r16(fnc + 8) / 10.0;
        r->pxres = fnc_len >= 28 && fnc[22] == 0 && r16(fnc + 24) ? r16(fnc + 24) / 10.0 : r->xres;
        r->pyres = fnc_len >= 28 && fnc[23] == 0 && r16(fnc + 26) ? r16(fnc + 26) / 10.0 : r->yres;
        r->spaceinc = (int) r16(fno + rot0 * fnorg + 8);
        r->nominc = (int) r16(fno + rot0 * fnorg + 20);
        if (r->nominc == 0)
            r->nominc = r->spaceinc;
        r->us_pos = -1;
        if (fnp != NULL && fnprg >= 22 && fnp_len >= 22)
        {
            r->us_width = (int) r16(fnp + 17);
            r->us_pos = s16(fnp + 20);
        }
        r->chars = afp_alloc(nchars * sizeof(raster_char));
        r->nchars = nchars;
    }
    for (i = 0; i < nchars; i++)
    {
        size_t q = (rot0 * nchars + i) * fnirg, m, rowb;
        const uint8_t *g = fni.b.data + q, *e;
        unsigned idx = r16(g + 16), w, h;

        if (idx >= nfnm)
        {
            st = afp_error_set(err, AFP_ERR_FORMAT, pdf_seg_offset(fni.segs, fni.nsegs, q), "FNI",
                               "character %zu refers to Font Patterns Map entry %u of %zu", i,
                               idx, nfnm);
            goto done;
        }
        m = (size_t) idx * fnmrg;
        e = fnm.b.data + m;
        w = r16(e) + 1;
        h = r16(e + 2) + 1;
        rowb = (w + 7) / 8;
        if (w > RASTER_MAX_PELS || h > RASTER_MAX_PELS)
        {
            st = afp_error_set(err, AFP_ERR_LIMIT, pdf_seg_offset(fnm.segs, fnm.nsegs, m), "FNM",
                               "pattern %u is %u x %u pels (at most %d x %d)", idx, w, h,
                               RASTER_MAX_PELS, RASTER_MAX_PELS);
            goto done;
        }
        {
            uint64_t off = (uint64_t) (((uint32_t) e[4] << 24) | ((uint32_t) e[5] << 16) |
                                       ((uint32_t) e[6] << 8) | e[7]) << align;
            uint64_t need = (uint64_t) rowb * h;

            if (off > fng.b.len || need > fng.b.len - off)
            {
                st = afp_error_set(err, AFP_ERR_FORMAT, pdf_seg_offset(fnm.segs, fnm.nsegs, m),
                                   "FNM", "pattern %u (%u x %u pels at offset %llu) runs past the "
                                   "font pattern data (%zu bytes)", idx, w, h,
                                   (unsigned long long) off, fng.b.len);
                goto done;
            }
            if (r != NULL)
            {
                raster_char *c = &r->chars[i];

                c->u = afp_gcgid_unicode(g);
                c->inc = (int) r16(g + 8);
                c->aspace = s16(g + 18);
                c->baseoff = s16(g + 26);
                c->w = w;
                c->h = h;
                c->pat = (size_t) off;
            }
        }
    }
    if (r != NULL)
    {
        r->pat = fng.b.data;
        r->patlen = fng.b.len;
        fng.b.data = NULL;
        fng.b.len = fng.b.cap = 0;
    }
done:
    join_free(&fni);
    join_free(&fnm);
    join_free(&fng);
    return st;
}

/* Checks a font character set (buf[start, end), BFN first); *is_raster tells whether it is a
 * raster set. Damaged raster sets fail with the offset. */
afp_status
pdf_raster_check(const uint8_t *buf, size_t start, size_t end, int *is_raster, afp_error *err)
{
    return raster_parse(buf, start, end, is_raster, NULL, err);
}

/* Opens a raster font character set for one PDF font of the given point size; NULL when the
 * set is not raster or cannot be read (the caller then uses the outline mapping). */
pdf_raster *
pdf_raster_open(const uint8_t *buf, size_t start, size_t end, const char *name, double size,
                void (*warn)(void *, const char *), void *warn_ctx)
{
    pdf_raster *r = afp_alloc(sizeof(*r));
    afp_error err;
    int is_raster = 0, i;

    memset(r, 0, sizeof(*r));
    afp_error_clear(&err);
    if (raster_parse(buf, start, end, &is_raster, r, &err) != AFP_OK || !is_raster ||
        r->nchars == 0)
    {
        pdf_raster_free(r);
        return NULL;
    }
    snprintf(r->name, sizeof(r->name), "%s", name);
    r->size = size > 0 ? size : 10;
    for (i = 0; i < 256; i++)
        r->code_of[i] = -2;
    r->warn = warn;
    r->warn_ctx = warn_ctx;
    return r;
}

/* Frees a raster font. */
void
pdf_raster_free(pdf_raster *r)
{
    if (r == NULL)
        return;
    afp_free(r->chars);
    afp_free(r->pat);
    afp_free(r);
}

/* Glyph units (1/1000 of the size) per X unit. */
static double
unit_x(const pdf_raster *r)
{
    return 72000.0 / (r->xres * r->size);
}

/* Glyph units per Y unit. */
static double
unit_y(const pdf_raster *r)
{
    return 72000.0 / (r->yres * r->size);
}

/* The code (assigned on first use) and advance (1/1000 of the size) for Unicode u. */
void
pdf_raster_glyph(pdf_raster *r, uint32_t u, unsigned *code, int *w1000)
{
    size_t i;
    int idx = -1, c;
    double w;

    for (i = 0; i < r->nchars; i++)
        if (r->chars[i].u == u)
        {
            idx = (int) i;
            break;
        }
    if (idx < 0 && r->warned == 0 && r->warn && u != 0x20)
    {
        char msg[160];

        r->warned = 1;
        snprintf(msg, sizeof(msg), "raster font %s has no character for U+%04X (and maybe others): "
                 "an empty glyph keeps the text", r->name, (unsigned) u);
        r->warn(r->warn_ctx, msg);
    }
    w = (idx >= 0 ? r->chars[idx].inc : u == 0x20 ? r->spaceinc : r->nominc) * unit_x(r);
    *w1000 = w > 30000 ? 30000 : (int) lround(w);
    /* a character keeps its code; each missing character gets its own empty glyph (the
     * caller caches codes per character, so ToUnicode still tells them apart) */
    for (c = 1; idx >= 0 && c <= r->ncodes; c++)
        if (r->code_of[c] == idx)
        {
            *code = (unsigned) c;
            return;
        }
    if (r->ncodes >= 255)
    {
        *code = 0;             /* more than 255 glyphs: an empty glyph, with a warning */
        if (r->code_of[0] != -1)
            r->w1000_of[0] = *w1000;
        *w1000 = r->w1000_of[0];
        r->code_of[0] = -1;
        if (r->warned < 2 && r->warn)
        {
            char msg[160];

            r->warned = 2;
            snprintf(msg, sizeof(msg), "raster font %s: more than 255 different characters in one "
                     "point size; the rest are drawn empty", r->name);
            r->warn(r->warn_ctx, msg);
        }
        return;
    }
    c = ++r->ncodes;
    r->code_of[c] = idx;
    r->w1000_of[c] = *w1000;
    *code = (unsigned) c;
}

/* Underscore position below the baseline and thickness, 1/1000 of the size. */
void
pdf_raster_underline(const pdf_raster *r, double *pos, double *thick)
{
    if (r->us_pos < 0 || r->us_width <= 0)
    {
        *pos = 100;
        *thick = 50;
        return;
    }
    *pos = r->us_pos * unit_y(r);
    *thick = r->us_width * unit_y(r);
}

/* Appends a number and a space. */
static void
num_sp(afp_buf *b, double v)
{
    pdf_num(b, v);
    afp_buf_putc(b, ' ');
}

/* Appends a glyph procedure: d1 with the box, then the pattern as an inline image mask. */
static void
glyph_proc(const pdf_raster *r, int idx, int w1000, afp_buf *b, double bbox[4])
{
    static const char hex[] = "0123456789ABCDEF";
    const raster_char *c;
    double ux = unit_x(r), uy = unit_y(r), x0, y0, x1, y1;
    size_t n, i;

    if (idx < 0)
    {
        afp_buf_printf(b, "%d 0 0 0 0 0 d1\n", w1000);
        return;
    }
    c = &r->chars[idx];
    x0 = c->aspace * ux;
    y1 = c->baseoff * uy;
    x1 = x0 + c->w * ux * r->xres / r->pxres;     /* pattern pels may differ from metric units */
    y0 = y1 - c->h * uy * r->yres / r->pyres;
    afp_buf_printf(b, "%d 0 ", w1000);
    num_sp(b, x0);
    num_sp(b, y0);
    num_sp(b, x1);
    num_sp(b, y1);
    afp_buf_printf(b, "d1\nq ");
    num_sp(b, x1 - x0);
    afp_buf_printf(b, "0 0 ");
    num_sp(b, y1 - y0);
    num_sp(b, x0);
    num_sp(b, y0);
    afp_buf_printf(b, "cm\nBI /W %u /H %u /IM true /BPC 1 /D [1 0] /F /AHx ID\n", c->w, c->h);
    n = (size_t) ((c->w + 7) / 8) * c->h;
    for (i = 0; i < n; i++)
    {
        uint8_t v = r->pat[c->pat + i];

        afp_buf_putc(b, (uint8_t) hex[v >> 4]);
        afp_buf_putc(b, (uint8_t) hex[v & 15]);
        if ((i & 31) == 31)
            afp_buf_putc(b, '\n');
    }
    afp_buf_printf(b, ">\nEI\nQ\n");
    if (x0 < bbox[0])
        bbox[0] = x0;
    if (y0 < bbox[1])
        bbox[1] = y0;
    if (x1 > bbox[2])
        bbox[2] = x1;
    if (y1 > bbox[3])
        bbox[3] = y1;
}

/* Writes the Type 3 font (object obj) with the glyphs of the codes used; uni[code] is the
 * Unicode value each code shows (ToUnicode). */
void
pdf_raster_write(pdf_raster *r, pdf_writer *w, int obj, const uint8_t *used, const uint32_t *uni)
{
    int procs = pdfw_alloc(w), tu = pdfw_alloc(w), first = -1, last = -1, c;
    int objs[256];
    double bbox[4] = {0, 0, 0, 0};
    afp_buf b, d;

    afp_buf_init(&b);
    afp_buf_init(&d);
    for (c = 0; c < 256; c++)
    {
        objs[c] = 0;
        if (!(used[c >> 3] & (1u << (c & 7))) || r->code_of[c] == -2)
            continue;
        if (first < 0)
            first = c;
        last = c;
        objs[c] = pdfw_alloc(w);
    }
    for (c = 0; c < 256; c++)
    {
        int wd, idx;

        if (objs[c] == 0)
            continue;
        idx = r->code_of[c];
        wd = r->w1000_of[c];
        b.len = 0;
        glyph_proc(r, idx, wd, &b, bbox);
        pdfw_stream(w, objs[c], "", b.data, b.len, 1, NULL);
    }
    /* CharProcs */
    pdfw_begin(w, procs);
    pdfw_printf(w, "<<");
    for (c = 0; c < 256; c++)
        if (objs[c])
            pdfw_printf(w, " /g%d %d 0 R", c, objs[c]);
    pdfw_printf(w, " >>");
    pdfw_end(w);
    /* ToUnicode: one-byte codes */
    afp_buf_printf(&d, "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
                   "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
                   "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
                   "1 begincodespacerange\n<00> <FF>\nendcodespacerange\n");
    {
        int n = 0, k;

        for (c = 0; c < 256; c++)
            if (objs[c] && uni[c] != 0)
                n++;
        for (c = 0, k = 0; c < 256; c++)
        {
            uint32_t u = uni[c];

            if (!objs[c] || u == 0)
                continue;
            if (k % 100 == 0)
                afp_buf_printf(&d, "%d beginbfchar\n", n - k > 100 ? 100 : n - k);
            if (u >= 0x10000 && u <= 0x10FFFF)
                afp_buf_printf(&d, "<%02X> <%04X%04X>\n", c, 0xD800 + (unsigned) ((u - 0x10000) >> 10),
                               0xDC00 + (unsigned) ((u - 0x10000) & 0x3FF));
            else
                afp_buf_printf(&d, "<%02X> <%04X>\n", c, (unsigned) (u > 0xFFFF ? 0xFFFD : u));
            k++;
            if (k % 100 == 0 || k == n)
                afp_buf_printf(&d, "endbfchar\n");
        }
    }
    afp_buf_printf(&d, "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    pdfw_stream(w, tu, "", d.data, d.len, 1, NULL);
    /* the font */
    if (first < 0)
        first = last = 0;
    d.len = 0;
    afp_buf_printf(&d, "<< /Type /Font /Subtype /Type3 /FontBBox [");
    num_sp(&d, floor(bbox[0]));
    num_sp(&d, floor(bbox[1]));
    num_sp(&d, floor(bbox[2]) + 1);
    pdf_num(&d, floor(bbox[3]) + 1);
    afp_buf_printf(&d, "] /FontMatrix [0.001 0 0 0.001 0 0] /CharProcs %d 0 R /Encoding << "
                   "/Type /Encoding /Differences [%d", procs, first);
    for (c = first; c <= last; c++)
        afp_buf_printf(&d, objs[c] ? " /g%d" : " /.notdef", c);
    afp_buf_printf(&d, "] >> /FirstChar %d /LastChar %d /Widths [", first, last);
    for (c = first; c <= last; c++)
    {
        afp_buf_printf(&d, "%s%d", c > first ? " " : "", objs[c] ? r->w1000_of[c] : 0);
    }
    afp_buf_printf(&d, "] /Resources << /ProcSet [/PDF /ImageB] >> /ToUnicode %d 0 R >>", tu);
    pdfw_begin(w, obj);
    pdfw_append(w, d.data, d.len);
    pdfw_end(w);
    afp_buf_free(&b);
    afp_buf_free(&d);
}
