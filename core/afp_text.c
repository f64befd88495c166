/*
 * afp_text.c — page counting and page-text extraction.
 *
 * The structured fields are walked with afp_reader. A page is a BPG…EPG that is neither inside
 * another page nor inside a resource container (BRG, BRS, overlays BMO, page segments BPS, form
 * maps, FOCA objects): overlays and page segments kept as resources are not pages. Page segments
 * and text objects inside a page belong to that page.
 *
 * For each page the presentation text (PTX, concatenated per text object as PTOCA allows data to
 * be split on any byte boundary) is decoded by the PTOCA interpreter in afp_ptoca.c into runs with
 * page positions; the runs are then put into reading order here: lines by baseline (±1 unit), top
 * to bottom, runs left to right, a blank inserted where a visible gap separates two runs.
 *
 * Fonts: MCF-2 (X'D3AB8A') and MCF-1 (X'D3B18A') map font local IDs to a code page. Code pages
 * carried in the file (BCP…ECP with CPC/CPI, FOCA) take precedence over the built-in tables; a
 * font whose code page cannot be resolved (unknown name, or a coded font name without a code page
 * that no BCF/CFI in the file resolves) is decoded with T1V10500 (CP500), the code page most AFP
 * generators default to.
 */
#include "afp_text_int.h"

#include <stdlib.h>
#include <string.h>

#define TEXT_MAX_DEPTH 256
#define TEXT_MAX_INLINE 4096        /* inline code pages / coded fonts remembered per file */

/* One entry of the GCGID → Unicode table (CPI of inline code pages). */
typedef struct gcgid_entry {
    char gcgid[9];
    uint16_t u;
} gcgid_entry;

/*
 * Common Latin GCGIDs (IBM graphic character global IDs) besides the letters (L?010000 small,
 * L?020000 capital) and digits (ND010000…ND090000, ND100000 = 0), which are derived by rule.
 * Naming: L = Latin letter, accent pairs 11/12 acute, 13/14 grave, 15/16 circumflex, 17/18
 * diaeresis, 19/20 tilde, 27/28 ring, 41/42 cedilla, 61/62 stroke (small/capital); SP = spacing
 * punctuation, SA = arithmetic, SM = miscellaneous symbols, SC = currency, SD = diacritics,
 * NF = fractions, ND…1000 = superscript digits.
 */
static const gcgid_entry gcgid_table[] = {
    {"LA110000", 0xE1}, {"LA120000", 0xC1}, {"LA130000", 0xE0}, {"LA140000", 0xC0},
    {"LA150000", 0xE2}, {"LA160000", 0xC2}, {"LA170000", 0xE4}, {"LA180000", 0xC4},
    {"LA190000", 0xE3}, {"LA200000", 0xC3}, {"LA270000", 0xE5}, {"LA280000", 0xC5},
    {"LA510000", 0xE6}, {"LA520000", 0xC6}, {"LC410000", 0xE7}, {"LC420000", 0xC7},
    {"LD620000", 0xD0}, {"LD630000", 0xF0}, {"LE110000", 0xE9}, {"LE120000", 0xC9},
    {"LE130000", 0xE8}, {"LE140000", 0xC8}, {"LE150000", 0xEA}, {"LE160000", 0xCA},
    {"LE170000", 0xEB}, {"LE180000", 0xCB}, {"LI110000", 0xED}, {"LI120000", 0xCD},
    {"LI130000", 0xEC}, {"LI140000", 0xCC}, {"LI150000", 0xEE}, {"LI160000", 0xCE},
    {"LI170000", 0xEF}, {"LI180000", 0xCF}, {"LN190000", 0xF1}, {"LN200000", 0xD1},
    {"LO110000", 0xF3}, {"LO120000", 0xD3}, {"LO130000", 0xF2}, {"LO140000", 0xD2},
    {"LO150000", 0xF4}, {"LO160000", 0xD4}, {"LO170000", 0xF6}, {"LO180000", 0xD6},
    {"LO190000", 0xF5}, {"LO200000", 0xD5}, {"LO610000", 0xF8}, {"LO620000", 0xD8},
    {"LS610000", 0xDF}, {"LT630000", 0xFE}, {"LT640000", 0xDE}, {"LU110000", 0xFA},
    {"LU120000", 0xDA}, {"LU130000", 0xF9}, {"LU140000", 0xD9}, {"LU150000", 0xFB},
    {"LU160000", 0xDB}, {"LU170000", 0xFC}, {"LU180000", 0xDC}, {"LY110000", 0xFD},
    {"LY120000", 0xDD}, {"LY170000", 0xFF},
    {"SP010000", 0x20}, {"SP020000", 0x21}, {"SP030000", 0xA1}, {"SP040000", 0x22},
    {"SP050000", 0x27}, {"SP060000", 0x28}, {"SP070000", 0x29}, {"SP080000", 0x2C},
    {"SP090000", 0x5F}, {"SP100000", 0x2D}, {"SP110000", 0x2E}, {"SP120000", 0x2F},
    {"SP130000", 0x3A}, {"SP140000", 0x3B}, {"SP150000", 0x3F}, {"SP160000", 0xBF},
    {"SP170000", 0xAB}, {"SP180000", 0xBB}, {"SP300000", 0xA0}, {"SP320000", 0xAD},
    {"SA010000", 0x2B}, {"SA020000", 0xB1}, {"SA030000", 0x3C}, {"SA040000", 0x3D},
    {"SA050000", 0x3E}, {"SA060000", 0xF7}, {"SA070000", 0xD7},
    {"SM010000", 0x23}, {"SM020000", 0x25}, {"SM030000", 0x26}, {"SM040000", 0x2A},
    {"SM050000", 0x40}, {"SM060000", 0x5B}, {"SM070000", 0x5C}, {"SM080000", 0x5D},
    {"SM110000", 0x7B}, {"SM130000", 0x7C}, {"SM140000", 0x7D}, {"SM150000", 0xAF},
    {"SM170000", 0xB5}, {"SM190000", 0xB0}, {"SM200000", 0xBA}, {"SM210000", 0xAA},
    {"SM240000", 0xA7}, {"SM250000", 0xB6}, {"SM520000", 0xA9}, {"SM530000", 0xAE},
    {"SM650000", 0xA6}, {"SM660000", 0xAC},
    {"SC010000", 0xA4}, {"SC020000", 0xA3}, {"SC030000", 0x24}, {"SC040000", 0xA2},
    {"SC050000", 0xA5}, {"SC200000", 0x20AC},
    {"SD110000", 0xB4}, {"SD130000", 0x60}, {"SD150000", 0x5E}, {"SD170000", 0xA8},
    {"SD190000", 0x7E}, {"SD410000", 0xB8}, {"SD630000", 0xB7},
    {"NF010000", 0xBD}, {"NF040000", 0xBC}, {"NF050000", 0xBE},
    {"ND011000", 0xB9}, {"ND021000", 0xB2}, {"ND031000", 0xB3},
};

/* Unicode value of an EBCDIC-encoded 8-byte GCGID; 0xFFFD when it is not in the table. */
static uint32_t
gcgid_to_unicode(const uint8_t *p)
{
    char g[9];
    size_t i;

    afp_token_name(p, 8, g);
    if (strlen(g) != 8)
        return 0xFFFD;
    if (g[0] == 'L' && g[1] >= 'A' && g[1] <= 'Z' && strcmp(g + 4, "0000") == 0)
    {
        if (g[2] == '0' && g[3] == '1')
            return (uint32_t) ('a' + (g[1] - 'A'));
        if (g[2] == '0' && g[3] == '2')
            return (uint32_t) ('A' + (g[1] - 'A'));
    }
    if (g[0] == 'N' && g[1] == 'D' && strcmp(g + 4, "0000") == 0)
    {
        if (g[2] == '0' && g[3] >= '1' && g[3] <= '9')
            return (uint32_t) g[3];
        if (g[2] == '1' && g[3] == '0')
            return '0';
    }
    for (i = 0; i < sizeof(gcgid_table) / sizeof(gcgid_table[0]); i++)
        if (memcmp(g, gcgid_table[i].gcgid, 8) == 0)
            return gcgid_table[i].u;
    return 0xFFFD;
}

/* Unicode value of an EBCDIC-encoded 8-byte GCGID (exported for the raster fonts). */
uint32_t
afp_gcgid_unicode(const uint8_t *gcgid)
{
    return gcgid_to_unicode(gcgid);
}

/* Grows an array so that it holds at least need elements of size el (aborts on overflow). */
void *
afp_text_grow(void *p, size_t *cap, size_t need, size_t el)
{
    size_t c = *cap ? *cap : 16;

    if (need <= *cap)
        return p;
    while (c < need)
    {
        if (c > ((size_t) -1) / 2 / el)
        {
            c = need;
            break;
        }
        c *= 2;
    }
    if (c > ((size_t) -1) / el)
        c = ((size_t) -1) / el;
    p = afp_realloc(p, c * el);
    *cap = c;
    return p;
}

/* Decodes an EBCDIC name of up to 8 bytes into upper-case ASCII (null names, X'FFFF…', → ""). */
static void
decode_name(const uint8_t *p, size_t n, char out[9])
{
    size_t i;

    if (n > 8)
        n = 8;
    if (n >= 2 && p[0] == 0xFF && p[1] == 0xFF)
    {
        out[0] = '\0';
        return;
    }
    afp_token_name(p, n, out);
    for (i = 0; out[i]; i++)
        if (out[i] >= 'a' && out[i] <= 'z')
            out[i] = (char) (out[i] - 'a' + 'A');
}

/* ------------------------------------------------------------------ FOCA resources (pass 1) */

/* Fills an inline code page's map from one CPI field (repeating groups of the CPC's length). */
static void
parse_cpi(afp_inline_cp *cp, const uint8_t *d, size_t n)
{
    int dbl = (cp->rglen == 0x0B || cp->rglen == 0xFF);
    int uni = (cp->rglen == 0xFE || cp->rglen == 0xFF);
    size_t base = dbl ? 11 : 10;
    size_t pos = 0;

    while (pos + base <= n)
    {
        const uint8_t *g = d + pos;
        unsigned code = dbl ? (unsigned) ((d[pos + 9] << 8) | d[pos + 10]) : d[pos + 9];
        uint32_t u = 0xFFFFFFFFu;

        pos += base;
        if (uni)
        {
            size_t cnt;

            if (pos >= n)
                break;
            cnt = d[pos++];
            if (cnt > (n - pos) / 4)
                break;
            if (cnt >= 1)
                u = ((uint32_t) d[pos] << 24) | ((uint32_t) d[pos + 1] << 16) |
                    ((uint32_t) d[pos + 2] << 8) | d[pos + 3];
            pos += cnt * 4;
        }
        if (code > 255)
            continue;          /* double-byte code points: not decoded */
        if (u == 0xFFFFFFFFu)
            u = gcgid_to_unicode(g);
        else if (u > 0x10FFFF || (u >= 0xD800 && u <= 0xDFFF))
            u = 0xFFFD;
        cp->map[code] = u;
    }
}

/* Pass 1: collects the code pages (BCP/CPC/CPI/ECP) and coded fonts (BCF/CFI) the file carries. */
afp_status
afp_text_collect_resources(afp_text_ctx *ctx, afp_error *err)
{
    afp_reader r;
    afp_sf sf;
    int rc;
    long cur_cp = -1, cur_cf = -1;
    uint64_t nfields = 0;

    afp_reader_init(&r, ctx->buf, ctx->len);
    while ((rc = afp_reader_next(&r, &sf, err)) == 1)
    {
        const uint8_t *d = sf.data;
        size_t n = sf.data_len;

        if ((++nfields & 4095) == 0 && afp_check_interrupt())
            return afp_error_set(err, AFP_ERR_INTERRUPTED, sf.offset, "", "interrupted");
        switch (sf.id)
        {
            case 0xD3A887:     /* BCP */
                cur_cp = -1;
                if (ctx->ncps < TEXT_MAX_INLINE)
                {
                    afp_inline_cp *cp;
                    int i;

                    ctx->cps = afp_text_grow(ctx->cps, &ctx->capcps, ctx->ncps + 1, sizeof(*cp));
                    cp = &ctx->cps[ctx->ncps];
                    decode_name(d, n, cp->name);
                    for (i = 0; i < 256; i++)
                        cp->map[i] = 0xFFFD;
                    cp->space = 0x40;
                    cp->rglen = 0x0A;
                    cur_cp = (long) ctx->ncps++;
                }
                break;
            case 0xD3A787:     /* CPC */
                if (cur_cp >= 0 && n >= 12)
                {
                    ctx->cps[cur_cp].rglen = d[9];
                    ctx->cps[cur_cp].space = d[11];
                }
                break;
            case 0xD38C87:     /* CPI */
                if (cur_cp >= 0)
                    parse_cpi(&ctx->cps[cur_cp], d, n);
                break;
            case 0xD3A987:     /* ECP */
                cur_cp = -1;
                break;
            case 0xD3A88A:     /* BCF */
                cur_cf = -1;
                if (ctx->ncfs < TEXT_MAX_INLINE)
                {
                    afp_coded_font *cf;

                    ctx->cfs = afp_text_grow(ctx->cfs, &ctx->capcfs, ctx->ncfs + 1, sizeof(*cf));
                    cf = &ctx->cfs[ctx->ncfs];
                    decode_name(d, n, cf->name);
                    cf->cp[0] = cf->fcs[0] = '\0';
                    cur_cf = (long) ctx->ncfs++;
                }
                break;
            case 0xD38C8A:     /* CFI: first repeating group = FCS name, code page name */
                if (cur_cf >= 0 && n >= 16 && ctx->cfs[cur_cf].cp[0] == '\0')
                {
                    decode_name(d, 8, ctx->cfs[cur_cf].fcs);
                    decode_name(d + 8, 8, ctx->cfs[cur_cf].cp);
                }
                break;
            case 0xD3A98A:     /* ECF */
                cur_cf = -1;
                break;
            default:
                break;
        }
    }
    if (rc < 0)
        return err ? err->status : AFP_ERR_FORMAT;
    return AFP_OK;
}

/* ------------------------------------------------------------------ font mapping */

/* Nominal size (tenths of a point) from an IBM font name's size character (C0H200B0 → 12 pt). */
static int
name_size(const char *name)
{
    char c;

    if (strlen(name) != 8 || (name[0] != 'C' && name[0] != 'X'))
        return 100;
    c = name[6];
    if (c == '0')
        return 100;
    if (c >= '1' && c <= '9')
        return (c - '0') * 10;
    if (c >= 'A' && c <= 'Z')
        return (11 + (c - 'A')) * 10;
    return 100;
}

/* Resolves a code page name: inline code pages first, then the built-in tables, else CP500. */
static void
resolve_codepage(const afp_text_ctx *ctx, const char *cpname, afp_font_ref *f)
{
    size_t i;

    for (i = 0; cpname[0] && i < ctx->ncps; i++)
        if (strcmp(ctx->cps[i].name, cpname) == 0)
        {
            f->icp = &ctx->cps[i];
            f->cp = NULL;
            f->space = ctx->cps[i].space;
            return;
        }
    f->icp = NULL;
    f->cp = cpname[0] ? afp_codepage_find(cpname) : NULL;
    if (f->cp == NULL)
        f->cp = ctx->deffont.cp;
    f->space = 0x40;
}

/* The font used for LIDs no MCF maps: CP500, 10 pt, proportional. */
static void
text_default_font(afp_font_ref *f)
{
    memset(f, 0, sizeof(*f));
    f->cp = afp_codepage_find("T1V10500");
    f->icp = NULL;
    f->size10 = 100;
    f->mono = 0;
    f->space = 0x40;
}

/* Maps a font LID from the names of one MCF repeating group (fds20: X'1F' size, 1/20 pt). */
static void
map_font(afp_text_ctx *ctx, uint8_t lid, const char *cfname, const char *cpname,
         const char *fcsname, int fds20)
{
    afp_font_ref *f = &ctx->fonts[lid];
    const char *cp = cpname;
    const char *fcs = fcsname;
    size_t i;

    if (cp[0] == '\0' && cfname[0])
        for (i = 0; i < ctx->ncfs; i++)
            if (strcmp(ctx->cfs[i].name, cfname) == 0)
            {
                cp = ctx->cfs[i].cp;
                if (fcs[0] == '\0')
                    fcs = ctx->cfs[i].fcs;
                break;
            }
    resolve_codepage(ctx, cp, f);
    f->dcp = NULL;
    {
        /* a code page assigned by the caller wins; else a double-byte page named in the file */
        const afp_cp_override *o = afp_cp_override_match(ctx->cpo, ctx->ncpo, cfname,
                                                         fcs[0] ? fcs : cfname);

        if (o && o->cp)
        {
            f->cp = o->cp;
            f->icp = NULL;
            f->space = 0x40;
        }
        else if (o)
            f->dcp = o->dcp;
        else if (f->icp == NULL && cp[0])
            f->dcp = afp_dbcs_find(cp);
    }
    if (fcs[0] == '\0')
        fcs = cfname;
    f->size10 = name_size(fcs);
    /* IBM core fonts: the Courier family is C04…/X04… (third character '4'). */
    f->mono = (strlen(fcs) == 8 && fcs[2] == '4');
    memcpy(f->fcs, fcs, strlen(fcs) + 1);
    memcpy(f->cf, cfname, strlen(cfname) + 1);
    f->fds_size20 = fds20;
    f->dbcs = 0;
    f->dofont = NULL;
}

/* Parses an MCF-2: repeating groups (RGLength(2) + triplets) with FQN X'85'/X'86'/X'8E' names
 * and an X'24' resource local ID of type X'05'. Damaged groups end the parse (no error). */
static void
parse_mcf2(afp_text_ctx *ctx, const uint8_t *d, size_t n)
{
    size_t pos = 0;

    while (pos + 2 <= n)
    {
        size_t rgl = ((size_t) d[pos] << 8) | d[pos + 1];
        const uint8_t *g = d + pos + 2;
        size_t glen, q = 0;
        char cf[9] = "", cp[9] = "", fcs[9] = "";
        int lid = -1, fds20 = 0;

        if (rgl < 2 || rgl > n - pos)
            break;
        glen = rgl - 2;
        while (q + 2 <= glen)
        {
            size_t tl = g[q];

            if (tl < 2 || tl > glen - q)
                break;
            if (g[q + 1] == 0x02 && tl >= 4 && g[q + 3] == 0x00)
            {
                if (g[q + 2] == 0x85)
                    decode_name(g + q + 4, tl - 4, cp);
                else if (g[q + 2] == 0x86)
                    decode_name(g + q + 4, tl - 4, fcs);
                else if (g[q + 2] == 0x8E)
                    decode_name(g + q + 4, tl - 4, cf);
            }
            else if (g[q + 1] == 0x24 && tl >= 4 && g[q + 2] == 0x05)
                lid = g[q + 3];
            else if (g[q + 1] == 0x1F && tl >= 6)
                fds20 = (g[q + 4] << 8) | g[q + 5];
            q += tl;
        }
        if (lid >= 0)
            map_font(ctx, (uint8_t) lid, cf, cp, fcs, fds20);
        pos += rgl;
    }
}

/* Parses an MCF-1: RGLength(1) reserved(3), then groups CFLid(1) reserved(1) SectID(1)
 * reserved(1) CFName(8) CPName(8) FCSName(8) [CharRot(2)] (modca-reference-10 Appendix C). */
static void
parse_mcf1(afp_text_ctx *ctx, const uint8_t *d, size_t n)
{
    size_t rgl, pos;

    if (n < 4)
        return;
    rgl = d[0];
    if (rgl < 28)
        return;
    for (pos = 4; pos + 28 <= n; pos += rgl)
    {
        char cf[9], cp[9], fcs[9];

        decode_name(d + pos + 4, 8, cf);
        decode_name(d + pos + 12, 8, cp);
        decode_name(d + pos + 20, 8, fcs);
        map_font(ctx, d[pos], cf, cp, fcs, 0);
    }
}

/* Applies an MCF-2 or MCF-1 field to the font map. */
void
afp_text_map_fonts(afp_text_ctx *ctx, const afp_sf *sf)
{
    if (sf->id == 0xD3AB8A)
        parse_mcf2(ctx, sf->data, sf->data_len);
    else if (sf->id == 0xD3B18A)
        parse_mcf1(ctx, sf->data, sf->data_len);
}

/* ------------------------------------------------------------------ reading order */

/* Orders runs by baseline, then stream order. */
static int
cmp_y(const void *a, const void *b)
{
    const afp_run *x = a, *y = b;

    if (x->y != y->y)
        return x->y < y->y ? -1 : 1;
    return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

/* Orders runs by inline position, then stream order. */
static int
cmp_x(const void *a, const void *b)
{
    const afp_run *x = a, *y = b;

    if (x->x != y->x)
        return x->x < y->x ? -1 : 1;
    return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

/* True when UTF-8 text s[0..n) begins (first != 0) or ends with a blank, tab or NBSP. */
static int
edge_blank(const uint8_t *s, size_t n, int first)
{
    if (n == 0)
        return 0;
    if (first)
        return s[0] == ' ' || s[0] == '\t' || (n >= 2 && s[0] == 0xC2 && s[1] == 0xA0);
    return s[n - 1] == ' ' || s[n - 1] == '\t' || (n >= 2 && s[n - 2] == 0xC2 && s[n - 1] == 0xA0);
}

/* Writes the runs of the finished page to out in reading order. */
static void
layout_page(afp_text_ctx *ctx)
{
    afp_run *runs = ctx->runs;
    size_t n = ctx->nruns, i = 0, lines = 0;
    afp_buf *out = ctx->out;
    const uint8_t *t = ctx->text.data;

    if (n == 0)
        return;
    qsort(runs, n, sizeof(*runs), cmp_y);
    while (i < n)
    {
        size_t j = i + 1, k, mark = out->len, start;

        while (j < n && runs[j].y - runs[i].y <= 1)
            j++;
        qsort(runs + i, j - i, sizeof(*runs), cmp_x);
        if (lines > 0)
            afp_buf_putc(out, '\n');
        start = out->len;
        for (k = i; k < j; k++)
        {
            if (k > i)
            {
                const afp_run *p = &runs[k - 1], *c = &runs[k];
                int joined = c->cont && c->seq == p->seq + 1;

                if (!joined && c->x > p->xend + p->tol && !edge_blank(t + p->off, p->len, 0) &&
                    !edge_blank(t + c->off, c->len, 1))
                    afp_buf_putc(out, ' ');
            }
            afp_buf_append(out, t + runs[k].off, runs[k].len);
        }
        while (out->len > start && out->data[out->len - 1] == ' ')
            out->len--;
        if (out->len == start)
            out->len = mark;   /* nothing visible on this line */
        else
            lines++;
        i = j;
    }
}

/* ------------------------------------------------------------------ the walk (pass 2) */

/* True for the Begin categories of resource containers (their BPGs are not document pages). */
static int
resource_category(uint8_t c)
{
    switch (c)
    {
        case 0xC6:   /* BRG resource group */
        case 0xCE:   /* BRS resource */
        case 0xDF:   /* BMO overlay */
        case 0x5F:   /* BPS page segment */
        case 0xCD:   /* BFM form map */
        case 0xD9:   /* BSG resource environment group */
        case 0x87:   /* BCP code page */
        case 0x89:   /* BFN font character set */
        case 0x8A:   /* BCF coded font */
        case 0xCA:   /* BDM data map */
        case 0xCB:   /* BPM page map */
            return 1;
        default:
            return 0;
    }
}

/* Starts a page: resets the font map, the descriptors and the page's runs. */
static void
page_begin(afp_text_ctx *ctx)
{
    ctx->pages++;
    if (!ctx->text_mode)
        return;
    if (ctx->pages > 1)
        afp_buf_putc(ctx->out, '\f');
    afp_text_env_reset(ctx);
    ctx->nruns = 0;
    ctx->text.len = 0;
    ctx->pgd_upi_x = ctx->pgd_upi_y = 0;
}

/* Ends a page: decodes pending text and writes the page's lines. */
static afp_status
page_end(afp_text_ctx *ctx, afp_error *err)
{
    afp_status st;

    if (!ctx->text_mode)
        return AFP_OK;
    st = afp_ptoca_flush(ctx, err);
    if (st != AFP_OK)
        return st;
    layout_page(ctx);
    return AFP_OK;
}

/* ------------------------------------------------------------------ text environment
 * (shared by the page walk here, included resources in afp_text_include.c and the PDF
 * converter in afp_convert.c) */

/* Resets the fonts, the descriptors and the pending text object for a new page or overlay. */
void
afp_text_env_reset(afp_text_ctx *ctx)
{
    int i;

    for (i = 0; i < 256; i++)
        ctx->fonts[i] = ctx->deffont;
    ctx->page_ptd = ctx->obj_ptd = NULL;
    ctx->page_ptd_len = ctx->obj_ptd_len = 0;
    ctx->obj_fonts = 0;
    ctx->ptx.len = 0;
    ctx->nsegs = 0;
}

/* Forgets the descriptor and the fonts of the text object that ended (or is about to start). */
void
afp_text_end_object(afp_text_ctx *ctx)
{
    ctx->obj_ptd = NULL;
    ctx->obj_ptd_len = 0;
    if (ctx->obj_fonts)
    {
        memcpy(ctx->fonts, ctx->saved_fonts, sizeof(ctx->fonts));
        ctx->obj_fonts = 0;
    }
}

/* Where an environment field applies, from the open Begin categories stack[0..depth): 1 in the
 * AEG of a page or overlay (BAG X'C9'), 2 in the OEG (X'C7') of a text object (BPT X'9B'),
 * 0 elsewhere (other objects' environments do not apply to the presentation text). */
int
afp_text_env_scope(const uint8_t *stack, int depth)
{
    return depth > 0 && stack[depth - 1] == 0xC9 ? 1
         : (depth > 1 && stack[depth - 1] == 0xC7 && stack[depth - 2] == 0x9B) ? 2 : 0;
}

/* Before a font map (MCF, MDR) of a text object's OEG (scope 2): keeps the page's fonts once, as
 * text-object fonts hold only until its EPT (afp_text_end_object restores them). */
void
afp_text_object_fonts(afp_text_ctx *ctx, int scope)
{
    if (scope == 2 && !ctx->obj_fonts)
    {
        memcpy(ctx->saved_fonts, ctx->fonts, sizeof(ctx->fonts));
        ctx->obj_fonts = 1;
    }
}

/* Records a PTD-1/PTD-2: the text object's (scope 2) or the page's / overlay's descriptor. */
void
afp_text_set_ptd(afp_text_ctx *ctx, const afp_sf *sf, int scope)
{
    if (scope == 2)
    {
        ctx->obj_ptd = sf->data;
        ctx->obj_ptd_len = sf->data_len;
        ctx->obj_ptd_id = sf->id;
    }
    else
    {
        ctx->page_ptd = sf->data;
        ctx->page_ptd_len = sf->data_len;
        ctx->page_ptd_id = sf->id;
    }
}

/* Text extraction: applies a field of the environment in scope (afp_text_env_scope, not 0) —
 * MCF-2, MCF-1 and MDR font maps, PTD-2 and PTD-1 descriptors, the AEG's PGD (units of include
 * offsets). Other fields are ignored. */
void
afp_text_env_field(afp_text_ctx *ctx, const afp_sf *sf, int scope)
{
    switch (sf->id)
    {
        case 0xD3AB8A:     /* MCF-2 */
        case 0xD3B18A:     /* MCF-1 */
        case 0xD3ABC3:     /* MDR: data-object fonts (afp_text_include.c) */
            afp_text_object_fonts(ctx, scope);
            if (sf->id == 0xD3ABC3)
                afp_text_map_mdr(ctx, sf);
            else
                afp_text_map_fonts(ctx, sf);
            break;
        case 0xD3B19B:     /* PTD-2 */
        case 0xD3A69B:     /* PTD-1 */
            afp_text_set_ptd(ctx, sf, scope);
            break;
        case 0xD3A6AF:     /* PGD: units of include offsets */
            if (scope == 1)
                afp_text_set_pgd(ctx, sf->data, sf->data_len);
            break;
        default:
            break;
    }
}

/* ------------------------------------------------------------------ the walk (pass 2), cont. */

/* Pass 2: walks the fields, counting pages and (in text mode) extracting their text. */
static afp_status
walk(afp_text_ctx *ctx, afp_error *err)
{
    afp_reader r;
    afp_sf sf;
    int rc;
    uint8_t stack[TEXT_MAX_DEPTH];
    int depth = 0, res_depth = 0, page_level = -1, scope;
    uint64_t nfields = 0;
    afp_status st;

    afp_reader_init(&r, ctx->buf, ctx->len);
    while ((rc = afp_reader_next(&r, &sf, err)) == 1)
    {
        uint8_t type = afp_sf_type(sf.id), cat = afp_sf_category(sf.id);

        if ((++nfields & 4095) == 0 && afp_check_interrupt())
            return afp_error_set(err, AFP_ERR_INTERRUPTED, sf.offset, afp_sf_abbr(sf.id),
                                 "interrupted");
        if (type == AFP_SF_BEGIN)
        {
            if (depth >= TEXT_MAX_DEPTH)
                return afp_error_set(err, AFP_ERR_LIMIT, sf.offset, afp_sf_abbr(sf.id),
                                     "Begin fields nested deeper than %d levels", TEXT_MAX_DEPTH);
            stack[depth] = cat;
            if (cat == 0xAF && page_level < 0 && res_depth == 0)
            {
                page_level = depth;
                page_begin(ctx);
            }
            if (resource_category(cat))
                res_depth++;
            depth++;
            if (cat == 0x9B && page_level >= 0 && ctx->text_mode)
            {
                /* BPT: a new text object starts with the initial text conditions again */
                if ((st = afp_ptoca_flush(ctx, err)) != AFP_OK)
                    return st;
                afp_text_end_object(ctx);
            }
            continue;
        }
        if (type == AFP_SF_END)
        {
            int k = afp_sf_open_level(stack, depth, cat);

            if (k < 0)
                continue;      /* an End without its Begin: nothing to close */
            while (depth > k)
            {
                uint8_t c = stack[--depth];

                if (resource_category(c))
                    res_depth--;
                if (c == 0x9B && page_level >= 0 && ctx->text_mode)
                {
                    if ((st = afp_ptoca_flush(ctx, err)) != AFP_OK)
                        return st;
                    afp_text_end_object(ctx);
                }
                if (depth == page_level)
                {
                    page_level = -1;
                    if ((st = page_end(ctx, err)) != AFP_OK)
                        return st;
                }
            }
            continue;
        }
        if (page_level < 0 || !ctx->text_mode)
            continue;
        if (sf.id == 0xD3EE9B)         /* PTX */
        {
            afp_ptoca_append(ctx, &sf);
            continue;
        }
        if (sf.id == 0xD3AFD8 || sf.id == 0xD3AF5F)    /* IPO, IPS (afp_text_include.c) */
        {
            if ((st = afp_text_include(ctx, &sf, err)) != AFP_OK)
                return st;
            continue;
        }
        /* Font maps and descriptors count in the page's AEG and in a text object's OEG; those
         * of other objects (graphics, bar codes) do not apply to the presentation text. */
        scope = afp_text_env_scope(stack, depth);
        if (scope != 0)
            afp_text_env_field(ctx, &sf, scope);
    }
    if (rc < 0)
        return err ? err->status : AFP_ERR_FORMAT;
    if (page_level >= 0)
        return page_end(ctx, err);   /* a page cut off by the end of the input */
    return AFP_OK;
}

/* Releases everything a context owns. */
void
afp_text_ctx_free(afp_text_ctx *ctx)
{
    afp_free(ctx->cps);
    afp_free(ctx->cfs);
    afp_free(ctx->segs);
    afp_free(ctx->runs);
    afp_buf_free(&ctx->ptx);
    afp_buf_free(&ctx->text);
    afp_text_include_free(ctx);
}

/* Prepares a context over buf[0..len). */
void
afp_text_ctx_init(afp_text_ctx *ctx, const uint8_t *buf, size_t len, afp_buf *out, int text_mode)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->buf = buf;
    ctx->len = len;
    ctx->out = out;
    ctx->text_mode = text_mode;
    afp_buf_init(&ctx->ptx);
    afp_buf_init(&ctx->text);
    text_default_font(&ctx->deffont);
    /* Repeat strings may expand text; cap the expansion relative to the input size. */
    ctx->rps_budget = (int64_t) (len > ((size_t) 1 << 36) ? ((size_t) 1 << 36) : len) * 16 + 65536;
}

/* Extracts the text of every page: lines by baseline joined with '\n', pages with '\f'. */
afp_status
afp_extract_text(const uint8_t *buf, size_t len, afp_buf *out, afp_error *err)
{
    return afp_extract_text_opts(buf, len, NULL, out, err);
}

/* afp_extract_text with options: per-font code pages and the handling of characters a
 * double-byte code page cannot map (afp_dbcs.h). */
afp_status
afp_extract_text_opts(const uint8_t *buf, size_t len, const afp_text_options *o, afp_buf *out,
                      afp_error *err)
{
    afp_text_ctx ctx;
    afp_status st;
    size_t start;

    if (out == NULL || (buf == NULL && len > 0))
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL, "no input or output buffer given");
    start = out->len;
    afp_text_ctx_init(&ctx, buf, len, out, 1);
    if (o)
    {
        ctx.cpo = o->code_pages;
        ctx.ncpo = o->ncode_pages;
        ctx.missing = o->missing;
        ctx.warn = o->warning;
        ctx.warn_ctx = o->cb_ctx;
        ctx.no_includes = o->no_includes;
    }
    st = afp_text_collect_resources(&ctx, err);
    if (st == AFP_OK)
        st = walk(&ctx, err);
    afp_text_ctx_free(&ctx);
    if (st != AFP_OK)
        out->len = start;
    return st;
}

/* Counts the document pages (BPG…EPG outside resource containers). */
afp_status
afp_page_count(const uint8_t *buf, size_t len, int64_t *count, afp_error *err)
{
    afp_text_ctx ctx;
    afp_status st;

    if (count == NULL || (buf == NULL && len > 0))
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL, "no input or result given");
    *count = 0;
    afp_text_ctx_init(&ctx, buf, len, NULL, 0);
    st = walk(&ctx, err);
    if (st == AFP_OK)
        *count = ctx.pages;
    afp_text_ctx_free(&ctx);
    return st;
}
