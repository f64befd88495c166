/*
 * afp_ptoca.c — PTOCA interpreter for text extraction (ptoca-reference-04 Chapters 3–4).
 *
 * The PTX data of one text object is concatenated (PTOCA data may be split on any byte
 * boundary) and interpreted: code points outside control sequences and in TRN/RPS are text;
 * AMI/AMB/RMI/RMB/BLN/SIM/SBI/STO move the presentation position; SCFL selects the font; SVI/SIA
 * set the variable space increment and intercharacter adjustment; everything else is skipped by
 * its length. Text is collected as runs positioned in page coordinates.
 *
 * No font metrics are available, so the advance of each character is estimated from the font
 * size (from the font name, e.g. C0H200B0 → 12 pt) or, better, from the SVI most generators
 * emit after each SCFL (the variable space width of the font): about 1.8 spaces per character for
 * proportional fonts, one for Courier. Only the ordering and word separation depend on it.
 *
 * With a visitor (afp_text_ctx.vis, set by the PDF converter) the same interpreter renders: the
 * visitor supplies real advances from font metrics and receives every character with its exact
 * position and orientation, the rules (DIR/DBR), underscores (USC) and colours (SEC/STC); the
 * fractional part of metric advances is carried in pt_state.fi so positions do not drift.
 */
#include "afp_text_int.h"

#include <stdio.h>
#include <string.h>

#define POS_LIMIT ((int64_t) 1 << 40)

/* Interpreter state of one text object. */
typedef struct pt_state {
    int64_t i, b;               /* current inline / baseline coordinates */
    int64_t margin, bincr;      /* inline margin, baseline increment */
    int64_t sia;                /* intercharacter adjustment (signed) */
    int64_t svi;                /* variable space increment, -1 = from the font */
    int qi, qb;                 /* I / B axis orientation, quadrants 0..3 (0°, 90°, 180°, 270°) */
    int64_t xext, yext;         /* object space extents */
    int64_t upi;                /* text units per inch */
    uint8_t lid;                /* active font local ID */
    int in_word;                /* intercharacter adjustment applies before the next character */
    int text;                   /* 0 while applying initial text conditions */
    int open;                   /* a run is being collected */
    int moved;                  /* the position was set since the last run */
    afp_run cur;
    double fi;                  /* visitor mode: fraction of a unit beyond i, 0 <= fi < 1 */
    int lead;                   /* first byte of a two-byte code point, or -1 */
    int64_t lead_off;           /* its file offset (double-byte code pages) */
    const afp_ptx_seg *segs;    /* where the control sequence being applied came from */
    size_t nsegs, pos;
    int64_t base;
    uint8_t usc;                /* USC bypass identifiers while underscoring (0 = off) */
    int us_open;                /* an underscore span is pending */
    double us_i0, us_i1;        /* its inline extent on baseline us_b */
    int64_t us_b;
} pt_state;

static const int dir_x[4] = {1, 0, -1, 0};
static const int dir_y[4] = {0, 1, 0, -1};

/* Keeps coordinates in a range where int64 arithmetic cannot overflow. */
static int64_t
clamp(int64_t v)
{
    return v > POS_LIMIT ? POS_LIMIT : (v < -POS_LIMIT ? -POS_LIMIT : v);
}

/* Signed 16-bit big-endian value. */
static int64_t
s16(const uint8_t *p)
{
    return (int16_t) (uint16_t) ((p[0] << 8) | p[1]);
}

/* Unsigned 16-bit big-endian value. */
static unsigned
u16(const uint8_t *p)
{
    return (unsigned) ((p[0] << 8) | p[1]);
}

/* Page x/y of the inline/baseline position (i, b) under the current orientation. The I,B
 * origin is the corner of the object space from which both axes run inwards. */
static void
to_page(const pt_state *s, int64_t i, int64_t b, int64_t *x, int64_t *y)
{
    int64_t ox = (dir_x[s->qi] < 0 || dir_x[s->qb] < 0) ? s->xext : 0;
    int64_t oy = (dir_y[s->qi] < 0 || dir_y[s->qb] < 0) ? s->yext : 0;

    *x = ox + i * dir_x[s->qi] + b * dir_x[s->qb];
    *y = oy + i * dir_y[s->qi] + b * dir_y[s->qb];
}

/* to_page with a fractional inline coordinate (visitor mode). */
static void
to_page_d(const pt_state *s, double i, double b, double *x, double *y)
{
    double ox = (dir_x[s->qi] < 0 || dir_x[s->qb] < 0) ? (double) s->xext : 0;
    double oy = (dir_y[s->qi] < 0 || dir_y[s->qb] < 0) ? (double) s->yext : 0;

    *x = ox + i * dir_x[s->qi] + b * dir_x[s->qb];
    *y = oy + i * dir_y[s->qi] + b * dir_y[s->qb];
}

/* Reports the pending underscore span to the visitor and closes it. */
static void
underscore_flush(afp_text_ctx *ctx, pt_state *s)
{
    afp_ptoca_glyph at;

    if (!s->us_open)
        return;
    s->us_open = 0;
    if (ctx->vis == NULL || ctx->vis->underscore == NULL || s->us_i1 <= s->us_i0)
        return;
    memset(&at, 0, sizeof(at));
    to_page_d(s, s->us_i0, (double) s->us_b, &at.x, &at.y);
    at.qi = s->qi;
    at.qb = s->qb;
    at.lid = s->lid;
    at.upi = s->upi;
    ctx->vis->underscore(ctx->vis->ctx, &at, s->us_i1 - s->us_i0, &ctx->fonts[s->lid]);
}

/* Adds the inline span [from, to) on the current baseline to the underscore (if active). */
static void
underscore_span(afp_text_ctx *ctx, pt_state *s, double from, double to)
{
    if (!s->usc || to <= from)
        return;
    if (s->us_open && s->us_b == s->b && from <= s->us_i1 + 0.001 && from >= s->us_i0)
    {
        if (to > s->us_i1)
            s->us_i1 = to;
        return;
    }
    underscore_flush(ctx, s);
    s->us_open = 1;
    s->us_b = s->b;
    s->us_i0 = from;
    s->us_i1 = to;
}

/* Visitor mode: presents one character through the visitor and advances by its metric width
 * (the variable space character by the SVI when one is set). */
static void
visit_char(afp_text_ctx *ctx, pt_state *s, uint32_t code, uint32_t u)
{
    const afp_ptoca_visitor *v = ctx->vis;
    const afp_font_ref *f = &ctx->fonts[s->lid];
    afp_ptoca_glyph g;
    int space = f->dbcs ? (code == 0x0020 || code == 0x00A0 || code == 0x4040)
              : f->dcp ? code == afp_dbcs_space(f->dcp) : code == f->space;
    double adv, start, whole;

    if (!space && s->in_word)
        s->i = clamp(s->i + s->sia);
    adv = v->advance ? v->advance(v->ctx, f, code, u, s->upi) : 0;
    if (space && s->svi > 0)
        adv = (double) s->svi;
    if (!(adv >= 0 && adv < 1e9))
        adv = 0;               /* also catches NaN */
    memset(&g, 0, sizeof(g));
    start = (double) s->i + s->fi;
    to_page_d(s, start, (double) s->b, &g.x, &g.y);
    g.qi = s->qi;
    g.qb = s->qb;
    g.lid = s->lid;
    g.code = code;
    g.u = u;
    g.advance = adv;
    g.space = space;
    g.upi = s->upi;
    if (v->glyph)
        v->glyph(v->ctx, &g, f);
    s->fi += adv;
    whole = s->fi >= 1 ? (double) (int64_t) s->fi : 0;
    s->fi -= whole;
    s->i = clamp(s->i + (int64_t) whole);
    s->in_word = !space;
    if (!space || !(s->usc & 0x02))
        underscore_span(ctx, s, start, (double) s->i + s->fi);
}

/* Estimated character advance and variable-space advance of the active font, in text units. */
static void
metrics(const afp_text_ctx *ctx, const pt_state *s, int64_t *cw, int64_t *sp)
{
    const afp_font_ref *f = &ctx->fonts[s->lid];
    int64_t em = (int64_t) f->size10 * s->upi / 720;

    if (s->svi > 0)
    {
        *sp = s->svi;
        *cw = f->mono ? s->svi : s->svi * 9 / 5;
    }
    else
    {
        *cw = f->mono ? em * 6 / 10 : em / 2;
        *sp = f->mono ? *cw : em * 27 / 100;
    }
    if (*cw < 1)
        *cw = 1;
    if (*sp < 1)
        *sp = 1;
}

/* Ends the run being collected and stores it if it holds text. */
static void
close_run(afp_text_ctx *ctx, pt_state *s)
{
    int64_t y;

    if (!s->open)
        return;
    s->open = 0;
    if (s->cur.len == 0)
        return;
    to_page(s, s->i, s->b, &s->cur.xend, &y);
    s->cur.seq = ctx->seq++;
    ctx->runs = afp_text_grow(ctx->runs, &ctx->capruns, ctx->nruns + 1, sizeof(afp_run));
    ctx->runs[ctx->nruns++] = s->cur;
}

/* Appends a decoded character to the page text (controls dropped; SUB, the generator's mark for
 * a character it could not encode, shown as U+FFFD). */
static void
put_char(afp_buf *t, uint32_t u)
{
    if (u == 0x1A)
        u = 0xFFFD;
    else if (u < 0x20 || (u >= 0x7F && u <= 0x9F))
        return;
    afp_utf8_put(t, u);
}

/* Text extraction: opens a run if needed, appends character u and advances by the estimated
 * width (wide: a double-byte character, one em). */
static void
collect_char(afp_text_ctx *ctx, pt_state *s, uint32_t u, int is_space, int wide)
{
    const afp_font_ref *f = &ctx->fonts[s->lid];
    int64_t cw, sp;
    size_t before;

    metrics(ctx, s, &cw, &sp);
    if (wide && s->svi <= 0)
        cw = (int64_t) f->size10 * s->upi / 720 > 1 ? (int64_t) f->size10 * s->upi / 720 : 1;
    else if (wide)
        cw *= 2;
    if (!s->open)
    {
        s->open = 1;
        memset(&s->cur, 0, sizeof(s->cur));
        to_page(s, s->i, s->b, &s->cur.x, &s->cur.y);
        s->cur.off = ctx->text.len;
        s->cur.tol = cw / 2 > 1 ? cw / 2 : 1;
        s->cur.cont = !s->moved;
        s->moved = 0;
    }
    if (is_space)
    {
        s->i = clamp(s->i + sp);
        s->in_word = 0;
    }
    else
    {
        if (s->in_word)
            s->i += s->sia;
        s->i = clamp(s->i + cw);
        s->in_word = 1;
    }
    before = ctx->text.len;
    put_char(&ctx->text, u);
    s->cur.len += ctx->text.len - before;
}

/* A byte of a font with a double-byte code page: a single byte of a mixed page, or the lead
 * or trail byte of a two-byte character. A code the page cannot map fails (AFP_ERR_ENCODING
 * with its offset) or, as the options say, becomes U+FFFD with or without a warning. */
static afp_status
show_dbcs(afp_text_ctx *ctx, pt_state *s, const afp_font_ref *f, uint8_t c, int64_t off,
          afp_error *err)
{
    uint32_t code, u;
    int wide = 1;

    if (s->lead < 0)
    {
        if (afp_dbcs_is_lead(f->dcp, c))
        {
            s->lead = c;
            s->lead_off = off;
            return AFP_OK;
        }
        code = c;
        wide = 0;
    }
    else
    {
        code = ((uint32_t) s->lead << 8) | c;
        off = s->lead_off;
        s->lead = -1;
    }
    u = afp_dbcs_to_unicode(f->dcp, code);
    if (u == 0)
    {
        char msg[300];

        if (ctx->missing == 0)
            return afp_error_set(err, AFP_ERR_ENCODING, off, "PTX", "code X'%0*X' of font %s is "
                                 "not defined in double-byte code page %s (option {\"missing\": "
                                 "\"warn\"} shows U+FFFD instead)", wide ? 4 : 2, (unsigned) code,
                                 f->cf[0] ? f->cf : f->fcs[0] ? f->fcs : "(default)",
                                 afp_dbcs_name(f->dcp));
        u = 0xFFFD;
        if (ctx->missing == 1 && ctx->warn && ctx->unmapped < 20)
        {
            snprintf(msg, sizeof(msg), "at byte offset %lld in PTX: code X'%0*X' of font %s is "
                     "not defined in double-byte code page %s; U+FFFD is shown%s",
                     (long long) off, wide ? 4 : 2, (unsigned) code,
                     f->cf[0] ? f->cf : f->fcs[0] ? f->fcs : "(default)", afp_dbcs_name(f->dcp),
                     ctx->unmapped == 19 ? " (further undefined codes are not reported)" : "");
            ctx->warn(ctx->warn_ctx, msg);
        }
        ctx->unmapped++;
    }
    if (ctx->vis != NULL)
        visit_char(ctx, s, code, u);
    else
        collect_char(ctx, s, u, code == afp_dbcs_space(f->dcp), wide);
    return AFP_OK;
}

/* Presents one code point (byte c at file offset off): decodes it with the font's code page,
 * then hands it to the visitor or collects it as text. */
static afp_status
show_byte(afp_text_ctx *ctx, pt_state *s, uint8_t c, int64_t off, afp_error *err)
{
    const afp_font_ref *f = &ctx->fonts[s->lid];
    uint32_t u;

    if (f->dcp != NULL)
        return show_dbcs(ctx, s, f, c, off, err);
    if (f->dbcs)
    {
        /* two-byte code points (UTF-16BE): data-object fonts mapped by an MDR */
        uint32_t code;

        if (s->lead < 0)
        {
            s->lead = c;
            return AFP_OK;
        }
        code = ((uint32_t) s->lead << 8) | c;
        s->lead = -1;
        if (ctx->vis != NULL)
            visit_char(ctx, s, code, (code >= 0xD800 && code <= 0xDFFF) ? 0xFFFD : code);
        else
            collect_char(ctx, s, (code >= 0xD800 && code <= 0xDFFF) ? 0xFFFD : code,
                         code == 0x0020 || code == 0x00A0, 0);
        return AFP_OK;
    }
    u = f->icp ? f->icp->map[c] : afp_codepage_to_unicode(f->cp, c);
    if (ctx->vis != NULL)
        visit_char(ctx, s, c, u);
    else
        collect_char(ctx, s, u, c == f->space, 0);
    return AFP_OK;
}

/* Fails when a double-byte character was cut off: its lead byte is the last of the text. */
static afp_status
lead_pending(afp_text_ctx *ctx, pt_state *s, afp_error *err)
{
    const afp_font_ref *f = &ctx->fonts[s->lid];

    if (s->lead < 0 || f->dcp == NULL)
        return AFP_OK;
    s->lead = -1;
    return afp_error_set(err, AFP_ERR_FORMAT, s->lead_off, "PTX", "odd number of bytes in "
                         "double-byte text: lead byte at this offset has no second byte (font %s, "
                         "code page %s)", f->cf[0] ? f->cf : f->fcs[0] ? f->fcs : "(default)",
                         afp_dbcs_name(f->dcp));
}

/* Marks a change of position: the current run ends and the next one is not contiguous. */
static void
moved(afp_text_ctx *ctx, pt_state *s)
{
    close_run(ctx, s);
    s->moved = 1;
    s->in_word = 0;
    s->lead = -1;
}

/* Visitor mode: an inline move from..to on the same baseline is underscored unless bypassed
 * (USC bit 4 relative moves, bit 5 absolute moves); moves backwards never are. */
static void
move_inline(afp_text_ctx *ctx, pt_state *s, int64_t to, int absolute)
{
    double from = (double) s->i + s->fi;

    if (s->usc && !(s->usc & (absolute ? 0x04 : 0x08)))
        underscore_span(ctx, s, from, (double) to);
    s->i = to;
    s->fi = 0;
}

/* Scales an n-bit colour component to 0..1. */
static double
component(const uint8_t *p, int bits)
{
    uint32_t v, max;

    if (bits <= 0)
        return 0;
    if (bits > 16)
        bits = 16;
    v = bits > 8 ? (uint32_t) ((p[0] << 8) | p[1]) : p[0];
    max = bits >= 16 ? 0xFFFFu : ((1u << bits) - 1);
    if (bits < 8)
        v &= max;
    return v > max ? 1.0 : (double) v / max;
}

/* RGB of a Standard OCA colour value (STC FRGCOLOR, SEC colour space X'40'); 0 = default. */
int
afp_ptoca_oca_rgb(unsigned v, double *c)
{
    static const uint8_t rgb[17][3] = {
        {0, 0, 0}, {0, 0, 255}, {255, 0, 0}, {255, 0, 255}, {0, 255, 0}, {0, 255, 255},
        {255, 255, 0}, {255, 255, 255}, {0, 0, 0}, {0, 0, 170}, {255, 128, 0}, {170, 0, 170},
        {0, 146, 0}, {0, 146, 170}, {196, 160, 32}, {131, 131, 131}, {144, 48, 0}};

    if (v >= 0xFF01 && v <= 0xFF06)
        v &= 0xFF;
    if (v == 0 || v > 0x10)
        return 0;              /* X'0000', X'FF00', X'FF07', X'FF08', X'FFFF': default */
    c[0] = rgb[v][0] / 255.0;
    c[1] = rgb[v][1] / 255.0;
    c[2] = rgb[v][2] / 255.0;
    return 1;
}

/* Decodes an SEC-format colour (reserved, COLSPCE, reserved(4), COLSIZE1-4, value; the same
 * layout as GOCA's GSPCOL): returns 1 RGB, 2 grey, 4 CMYK with components 0..1 in c, or 0 for
 * the default colour. CIELAB is approximated by its lightness; highlight colours by their
 * percentage coverage of black. */
int
afp_ptoca_color(const uint8_t *p, size_t n, double *c)
{
    const uint8_t *val = p + 10;
    size_t left, need = 0;
    int bits[4], k, space = 0;

    c[0] = c[1] = c[2] = c[3] = 0;
    if (n < 10)
        return 0;
    left = n - 10;
    for (k = 0; k < 4; k++)
    {
        bits[k] = p[6 + k];
        need += bits[k] > 8 ? 2 : (bits[k] > 0 ? 1 : 0);
    }
    switch (p[1])
    {
        case 0x01:             /* RGB */
        case 0x04:             /* CMYK */
            if (left < need)
                break;
            for (k = 0; k < (p[1] == 0x01 ? 3 : 4); k++)
            {
                c[k] = component(val, bits[k]);
                val += bits[k] > 8 ? 2 : 1;
            }
            space = p[1] == 0x01 ? 1 : 4;
            break;
        case 0x08:             /* CIELAB: L in 0..100 */
            if (left >= 1)
            {
                c[0] = component(val, bits[0] ? bits[0] : 8);
                space = 2;
            }
            break;
        case 0x06:             /* highlight: index(2), coverage %(1), shading %(1) */
            if (left >= 3)
            {
                c[0] = 1.0 - (val[2] > 100 ? 100 : val[2]) / 100.0;
                space = 2;
            }
            else if (left >= 2 && (val[0] | val[1]) != 0)
                space = 2;     /* a highlight colour at full coverage: black */
            break;
        case 0x40:             /* standard OCA */
            if (left >= 2)
                space = afp_ptoca_oca_rgb((unsigned) ((val[0] << 8) | val[1]), c);
            break;
        default:
            break;
    }
    return space;
}

/* Visitor mode: SEC (X'80') and STC (X'74') colours. */
static void
set_color(afp_text_ctx *ctx, uint8_t type, const uint8_t *p, size_t n)
{
    const afp_ptoca_visitor *v = ctx->vis;
    double c[4] = {0, 0, 0, 0};
    int space = 0;

    if (v == NULL || v->color == NULL)
        return;
    if ((type & 0xFE) == 0x74)
    {
        if (n >= 2)
            space = afp_ptoca_oca_rgb((unsigned) ((p[0] << 8) | p[1]), c);
    }
    else
        space = afp_ptoca_color(p, n, c);
    v->color(v->ctx, space, c);
}

/* Visitor mode: DIR (inline rule) or DBR (baseline rule) from the current position. */
static void
draw_rule(afp_text_ctx *ctx, pt_state *s, int baseline_rule, const uint8_t *p, size_t n)
{
    double len, width, i0 = (double) s->i + s->fi, b0 = (double) s->b, x0, y0, x1, y1;

    if (ctx->vis == NULL || ctx->vis->rule == NULL || n < 2)
        return;
    len = (double) s16(p);
    if (n >= 5 && !(p[2] == 0xFF && p[3] == 0xFF))
        width = (double) s16(p + 2) + p[4] / 256.0;
    else
        width = (double) s->upi / 100;     /* receiver default: a hairline of 0.01 inch */
    if (len == 0 || width == 0)
        return;
    if (baseline_rule)
        to_page_d(s, i0 + width, b0 + len, &x1, &y1);
    else
        to_page_d(s, i0 + len, b0 + width, &x1, &y1);
    to_page_d(s, i0, b0, &x0, &y0);
    ctx->vis->rule(ctx->vis->ctx, x0, y0, x1, y1, s->upi);
}

/* Quadrant (0..3) of a PTOCA orientation code (degrees in the top 9 bits); -1 if invalid. */
static int
quadrant(unsigned code)
{
    unsigned deg = code >> 7;

    if (deg >= 360)
        return -1;
    return (int) (((deg + 45) / 90) % 4);
}

/* Set Text Orientation: keeps the page position and re-expresses it in the new I,B axes. */
static void
set_orientation(afp_text_ctx *ctx, pt_state *s, unsigned io, unsigned bo)
{
    int qi = quadrant(io), qb = quadrant(bo);
    int64_t x, y, ox, oy;

    if (io == 0xFFFF && bo == 0xFFFF)
        qi = 0, qb = 1;
    if (qi < 0 || qb < 0 || ((qi - qb) & 1) == 0)
        qi = 0, qb = 1;        /* not perpendicular: standard action 0°, 90° */
    moved(ctx, s);
    to_page(s, s->i, s->b, &x, &y);
    s->qi = qi;
    s->qb = qb;
    ox = (dir_x[qi] < 0 || dir_x[qb] < 0) ? s->xext : 0;
    oy = (dir_y[qi] < 0 || dir_y[qb] < 0) ? s->yext : 0;
    s->i = clamp((x - ox) * dir_x[qi] + (y - oy) * dir_y[qi]);
    s->b = clamp((x - ox) * dir_x[qb] + (y - oy) * dir_y[qb]);
}

/* Name of a control sequence function type (for messages). */
static const char *
cs_name(uint8_t type)
{
    switch (type & 0xFE)
    {
        case 0xC0: return "SIM";
        case 0xC2: return "SIA";
        case 0xC4: return "SVI";
        case 0xC6: return "AMI";
        case 0xC8: return "RMI";
        case 0xD0: return "SBI";
        case 0xD2: return "AMB";
        case 0xD4: return "RMB";
        case 0xD8: return "BLN";
        case 0xDA: return "TRN";
        case 0xEE: return "RPS";
        case 0xF0: return "SCFL";
        case 0xF6: return "STO";
        case 0xF8: return "NOP";
        case 0xE4: return "DIR";
        case 0xE6: return "DBR";
        case 0x74: return "STC";
        case 0x80: return "SEC";
        case 0x76: return "USC";
        default: return "control sequence";
    }
}

/* File offset of position q of the concatenated PTX stream. */
static int64_t
file_offset(const afp_ptx_seg *segs, size_t nsegs, int64_t base, size_t q)
{
    size_t k;

    if (segs == NULL || nsegs == 0)
        return base + (int64_t) q;
    for (k = nsegs; k-- > 0;)
        if (segs[k].stream_off <= q)
            return segs[k].file_off + (int64_t) (q - segs[k].stream_off);
    return segs[0].file_off;
}

/* Applies one control sequence (params p[0..n)). Returns AFP_OK or a limit error. */
static afp_status
apply(afp_text_ctx *ctx, pt_state *s, uint8_t type, const uint8_t *p, size_t n, int64_t off,
      afp_error *err)
{
    afp_status st0;

    switch (type & 0xFE)
    {
        case 0xC0:     /* SIM */
            if (n >= 2)
                s->margin = u16(p) == 0xFFFF ? 0 : s16(p);
            break;
        case 0xC2:     /* SIA */
            if (n >= 2)
            {
                s->sia = u16(p) == 0xFFFF ? 0 : s16(p);
                if (n >= 3 && p[2] == 0x01)
                    s->sia = -s->sia;
            }
            break;
        case 0xC4:     /* SVI */
            if (n >= 2)
                s->svi = (u16(p) == 0xFFFF || s16(p) < 0) ? -1 : s16(p);
            break;
        case 0xC6:     /* AMI */
            if (n >= 2)
            {
                moved(ctx, s);
                if (ctx->vis)
                    move_inline(ctx, s, s16(p), 1);
                else
                    s->i = s16(p);
            }
            break;
        case 0xC8:     /* RMI */
            if (n >= 2)
            {
                moved(ctx, s);
                if (ctx->vis)
                {
                    double fi = s->fi;

                    move_inline(ctx, s, clamp(s->i + s16(p)), 0);
                    s->fi = fi;
                }
                else
                    s->i = clamp(s->i + s16(p));
            }
            break;
        case 0xD0:     /* SBI */
            if (n >= 2)
                s->bincr = u16(p) == 0xFFFF ? s->upi / 6 : s16(p);
            break;
        case 0xD2:     /* AMB */
            if (n >= 2)
            {
                moved(ctx, s);
                s->b = s16(p);
            }
            break;
        case 0xD4:     /* RMB */
            if (n >= 2)
            {
                moved(ctx, s);
                s->b = clamp(s->b + s16(p));
            }
            break;
        case 0xD8:     /* BLN */
            moved(ctx, s);
            s->i = s->margin;
            s->fi = 0;
            s->b = clamp(s->b + s->bincr);
            break;
        case 0xF6:     /* STO */
            if (n >= 4)
            {
                underscore_flush(ctx, s);
                set_orientation(ctx, s, u16(p), u16(p + 2));
                s->fi = 0;
            }
            break;
        case 0xF0:     /* SCFL: a font change does not move, the next run continues this one */
            if (n >= 1)
            {
                close_run(ctx, s);
                s->lid = p[0];
                s->svi = -1;
                s->lead = -1;
            }
            break;
        case 0xDA:     /* TRN */
            if (s->text)
            {
                size_t k;
                afp_status st;

                for (k = 0; k < n; k++)
                    if ((st = show_byte(ctx, s, p[k], file_offset(s->segs, s->nsegs, s->base,
                                                                  s->pos + 2 + k), err)) != AFP_OK)
                        return st;
                if ((st = lead_pending(ctx, s, err)) != AFP_OK)
                    return st;
            }
            break;
        case 0xEE:     /* RPS */
            if (s->text && n >= 3)
            {
                size_t rlen = u16(p), dlen = n - 2, k;

                if ((int64_t) rlen > ctx->rps_budget)
                    return afp_error_set(err, AFP_ERR_LIMIT, off, "PTX",
                                         "repeat strings (RPS) expand the text beyond the limit "
                                         "for this input size");
                ctx->rps_budget -= (int64_t) rlen;
                for (k = 0; k < rlen; k++)
                {
                    afp_status st = show_byte(ctx, s, p[2 + k % dlen],
                                              file_offset(s->segs, s->nsegs, s->base,
                                                          s->pos + 4 + k % dlen), err);

                    if (st != AFP_OK)
                        return st;
                }
                if ((st0 = lead_pending(ctx, s, err)) != AFP_OK)
                    return st0;
            }
            break;
        case 0x80:     /* SEC */
        case 0x74:     /* STC */
            set_color(ctx, type, p, n);
            break;
        case 0xE4:     /* DIR */
        case 0xE6:     /* DBR */
            draw_rule(ctx, s, (type & 0xFE) == 0xE6, p, n);
            break;
        case 0x76:     /* USC: bits 4-7 non-zero begin, zero end the underscore */
            if (ctx->vis && n >= 1)
            {
                if ((p[0] & 0x0F) == 0)
                    underscore_flush(ctx, s);
                s->usc = p[0] & 0x0F;
            }
            break;
        default:       /* NOP, BSU/ESU, …: no effect on the text */
            break;
    }
    return AFP_OK;
}

/*
 * Interprets PTOCA data d[0..n). Outside a chain, bytes are code points until X'2BD3'; after
 * X'2BD3' (and after every odd function type) comes a control sequence LEN TYPE params. A
 * sequence whose length is below 2 or runs past the end is a format error. With s->text == 0
 * (initial text conditions) code points are ignored.
 */
static afp_status
interpret(afp_text_ctx *ctx, pt_state *s, const uint8_t *d, size_t n, const afp_ptx_seg *segs,
          size_t nsegs, int64_t base, afp_error *err)
{
    size_t pos = 0;
    int chained = 0;
    uint64_t steps = 0;

    while (pos < n)
    {
        size_t len;
        uint8_t type;
        afp_status st;

        if ((++steps & 65535) == 0 && afp_check_interrupt())
            return afp_error_set(err, AFP_ERR_INTERRUPTED, file_offset(segs, nsegs, base, pos),
                                 "PTX", "interrupted");
        if (!chained)
        {
            if (d[pos] == 0x2B && pos + 1 < n && d[pos + 1] == 0xD3)
            {
                if ((st = lead_pending(ctx, s, err)) != AFP_OK)
                    return st;
                pos += 2;
                chained = 1;
                if (pos >= n)
                    return afp_error_set(err, AFP_ERR_FORMAT,
                                         file_offset(segs, nsegs, base, pos - 2), "PTX",
                                         "control sequence prefix X'2BD3' at the end of the "
                                         "presentation text, length and type missing");
                continue;
            }
            if (s->text &&
                (st = show_byte(ctx, s, d[pos], file_offset(segs, nsegs, base, pos), err)) != AFP_OK)
                return st;
            pos++;
            continue;
        }
        if (n - pos < 2)
            return afp_error_set(err, AFP_ERR_FORMAT, file_offset(segs, nsegs, base, pos),
                                 "PTX", "truncated PTOCA control sequence: 1 byte left, "
                                 "length and function type expected");
        len = d[pos];
        type = d[pos + 1];
        if (len < 2)
            return afp_error_set(err, AFP_ERR_FORMAT, file_offset(segs, nsegs, base, pos),
                                 "PTX", "PTOCA control sequence X'%02X' (%s) has invalid length "
                                 "%zu (at least 2 expected)", type, cs_name(type), len);
        if (len > n - pos)
            return afp_error_set(err, AFP_ERR_FORMAT, file_offset(segs, nsegs, base, pos),
                                 "PTX", "PTOCA control sequence X'%02X' (%s) with length %zu "
                                 "runs past the end of the presentation text (%zu bytes left)",
                                 type, cs_name(type), len, n - pos);
        s->segs = segs;
        s->nsegs = nsegs;
        s->base = base;
        s->pos = pos;
        st = apply(ctx, s, type, d + pos + 2, len - 2,
                   file_offset(segs, nsegs, base, pos), err);
        if (st != AFP_OK)
            return st;
        chained = type & 1;
        pos += len;
    }
    return lead_pending(ctx, s, err);
}

/* Units per inch of a PTD axis (unit base 0 = 10 inches, 1 = 10 cm); 1440 when unusable. */
static int64_t
units_per_inch(uint8_t base, unsigned units)
{
    int64_t upi;

    if (units == 0)
        return 1440;
    upi = base == 0x01 ? (int64_t) units * 254 / 1000 : (int64_t) units / 10;
    return upi > 0 ? upi : 1440;
}

/* Sets the defaults of a text object (PTOCA application note on BPT) and applies the PTD:
 * units, extents and (PTD-2) the initial text conditions chain. */
static void
initial_state(afp_text_ctx *ctx, pt_state *s)
{
    const uint8_t *d = ctx->obj_ptd ? ctx->obj_ptd : ctx->page_ptd;
    size_t n = ctx->obj_ptd ? ctx->obj_ptd_len : ctx->page_ptd_len;
    uint32_t id = ctx->obj_ptd ? ctx->obj_ptd_id : ctx->page_ptd_id;
    afp_error ignored;

    memset(s, 0, sizeof(*s));
    s->qi = 0;
    s->qb = 1;
    s->svi = -1;
    s->lid = 0xFF;
    s->upi = 1440;
    s->moved = 1;
    s->lead = -1;
    if (ctx->vis != NULL && ctx->vis->color != NULL)
    {
        double none[4] = {0, 0, 0, 0};

        ctx->vis->color(ctx->vis->ctx, 0, none);    /* a text object starts in the default colour */
    }
    if (d != NULL && id == 0xD3B19B && n >= 12)
    {
        s->upi = units_per_inch(d[0], u16(d + 2));
        s->xext = ((int64_t) d[6] << 16) | (d[7] << 8) | d[8];
        s->yext = ((int64_t) d[9] << 16) | (d[10] << 8) | d[11];
    }
    else if (d != NULL && id == 0xD3A69B && n >= 10)
    {
        s->upi = units_per_inch(d[0], u16(d + 2));
        s->xext = u16(d + 6);
        s->yext = u16(d + 8);
    }
    s->bincr = s->upi / 6;     /* 6 lines per inch */
    if (d != NULL && id == 0xD3B19B && n > 14)
    {
        /* Initial text conditions; a damaged chain is ignored (the text itself still counts). */
        afp_error_clear(&ignored);
        (void) interpret(ctx, s, d + 14, n - 14, NULL, 0, -1, &ignored);
        close_run(ctx, s);
    }
    s->text = 1;
    s->moved = 1;
}

/* Adds the data of a PTX field to the current text object. */
void
afp_ptoca_append(afp_text_ctx *ctx, const afp_sf *sf)
{
    if (sf->data_len == 0)
        return;
    ctx->segs = afp_text_grow(ctx->segs, &ctx->capsegs, ctx->nsegs + 1, sizeof(afp_ptx_seg));
    ctx->segs[ctx->nsegs].stream_off = ctx->ptx.len;
    ctx->segs[ctx->nsegs].file_off = sf->data_offset;
    ctx->nsegs++;
    afp_buf_append(&ctx->ptx, sf->data, sf->data_len);
}

/* Interprets the pending PTX data of the current text object into runs, then clears it. */
afp_status
afp_ptoca_flush(afp_text_ctx *ctx, afp_error *err)
{
    pt_state s;
    afp_status st;

    if (ctx->ptx.len == 0)
        return AFP_OK;
    initial_state(ctx, &s);
    st = interpret(ctx, &s, ctx->ptx.data, ctx->ptx.len, ctx->segs, ctx->nsegs, 0, err);
    close_run(ctx, &s);
    underscore_flush(ctx, &s);
    ctx->ptx.len = 0;
    ctx->nsegs = 0;
    return st;
}
