/*
 * afp_convert_canvas.c — drawing into PDF content streams for the AFP→PDF converter: the PTOCA
 * visitor (text, rules, underscores, colours) and the placement of images and placeholders.
 *
 * Coordinates: every content stream works in points with the origin at the top-left corner of
 * its presentation space and y growing downwards, like AFP (the page stream is prefixed with
 * "1 0 0 -1 0 H cm"). Text therefore uses a text matrix whose second column is flipped:
 * [Ix Iy -Bx -By x y] with I, B the unit vectors of the inline and baseline directions, and
 * images are painted through [w 0 0 -h x y+h].
 *
 * Text runs: characters are collected into TJ arrays. The PTOCA interpreter positions every
 * character from the same font metrics the PDF /W array carries, so a character normally lands
 * exactly where the previous one left the pen; any difference along the baseline (SVI, SIA,
 * RMI, AMI) becomes a TJ adjustment, anything else starts a new line with Tm.
 */
#include "afp_pdf_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define PI 3.14159265358979323846

static const int dir_x[4] = {1, 0, -1, 0};
static const int dir_y[4] = {0, 1, 0, -1};

/* Prepares an empty canvas. */
void
cv_canvas_init(cv_canvas *c)
{
    memset(c, 0, sizeof(*c));
    afp_buf_init(&c->cs);
    afp_buf_init(&c->tj);
    c->fill_space = 0;         /* a content stream starts with black fill */
}

/* Empties a canvas for the next page, keeping its buffers. */
void
cv_canvas_reset(cv_canvas *c)
{
    afp_buf cs = c->cs, tj = c->tj;
    int rgb_only = c->rgb_only;

    memset(c, 0, sizeof(*c));
    c->cs = cs;
    c->tj = tj;
    c->cs.len = 0;
    c->tj.len = 0;
    c->rgb_only = rgb_only;
}

/* Releases a canvas. */
void
cv_canvas_free(cv_canvas *c)
{
    afp_buf_free(&c->cs);
    afp_buf_free(&c->tj);
}

/* Appends a number and a blank. */
static void
num(afp_buf *b, double v)
{
    pdf_num(b, v);
    afp_buf_putc(b, ' ');
}

/* Writes the pending TJ array. */
static void
flush_tj(cv_canvas *c)
{
    if (c->tj.len == 0)
        return;
    if (c->tj_str)
        afp_buf_putc(&c->tj, '>');
    afp_buf_putc(&c->cs, '[');
    afp_buf_append(&c->cs, c->tj.data, c->tj.len);
    afp_buf_append(&c->cs, "] TJ\n", 5);
    c->tj.len = 0;
    c->tj_str = 0;
}

/* Ends the text object, if one is open. */
void
cv_text_end(cv_canvas *c)
{
    flush_tj(c);
    if (c->bt)
        afp_buf_append(&c->cs, "ET\n", 3);
    c->bt = 0;
    c->font = NULL;
    c->line = 0;
}

/* Sets the fill colour when it differs from the one in effect. */
void
cv_fill(cv_canvas *c, int space, const double *v)
{
    int n, k;
    double rgb[3];

    if (space == 4 && c->rgb_only)
    {
        /* PDF/A with an sRGB output intent: DeviceCMYK is not allowed, use RGB */
        for (k = 0; k < 3; k++)
            rgb[k] = (1 - v[k]) * (1 - v[3]);
        space = 1;
        v = rgb;
    }
    n = space == 1 ? 3 : space == 4 ? 4 : space == 2 ? 1 : 0;

    if (c->fill_space == space)
    {
        for (k = 0; k < n; k++)
            if (fabs(c->fill[k] - v[k]) > 1e-6)
                break;
        if (k == n)
            return;
    }
    flush_tj(c);
    c->fill_space = space;
    for (k = 0; k < 4; k++)
        c->fill[k] = k < n ? v[k] : 0;
    /* fill and stroke colour together: rules are stroked */
    for (k = 0; k < n; k++)
        num(&c->cs, v[k]);
    afp_buf_append(&c->cs, space == 1 ? "rg " : space == 4 ? "k " : space == 2 ? "g " : "0 g ",
                   space == 1 || space == 2 ? 3 : space == 4 ? 2 : 4);
    for (k = 0; k < n; k++)
        num(&c->cs, v[k]);
    afp_buf_append(&c->cs, space == 1 ? "RG\n" : space == 4 ? "K\n" : space == 2 ? "G\n" : "0 G\n",
                   space == 1 || space == 2 ? 3 : space == 4 ? 2 : 4);
}

/* Sets the fill colour to the text colour PTOCA asked for. */
static void
text_color(cv_canvas *c)
{
    cv_fill(c, c->want_space, c->want);
}

/* Glyph code and advance of u in pf. In PDF/A mode a character the font lacks would show the
 * .notdef glyph (code 0 of an Identity-H font), which PDF/A-2 forbids: U+FFFD, else '?', else
 * a space is shown instead. */
static void
glyph_for(cv_ctx *ctx, pdf_font *pf, uint32_t u, unsigned *code, int *w)
{
    static const uint32_t subst[3] = {0xFFFD, '?', ' '};
    int k;

    pdf_font_glyph(pf, u, code, w);
    if (*code != 0 || !ctx->opts->pdfa || pdf_font_code_bytes(pf) != 2)
        return;
    for (k = 0; k < 3 && *code == 0; k++)
        pdf_font_glyph(pf, subst[k], code, w);
}

/* Visitor: advance of a character in text units from the PDF font's widths. */
static double
vis_advance(void *p, const afp_font_ref *f, uint32_t code, uint32_t u, int64_t upi)
{
    cv_ctx *ctx = p;
    pdf_font *pf = cv_font(ctx, f);
    unsigned gc;
    int w;

    (void) code;
    if (u == 0x1A)
        u = 0xFFFD;
    pf = cv_dbcs_glyph_font(ctx, f, pf, u);     /* afp_convert_cid.c */
    glyph_for(ctx, pf, u, &gc, &w);
    return w / 1000.0 * pdf_font_size(f) * (double) upi / 72.0;
}

/* Appends a glyph code to the TJ array (opening a hex string if needed). */
static void
tj_code(cv_canvas *c, unsigned code, int bytes)
{
    static const char hex[] = "0123456789ABCDEF";
    char h[4];

    if (!c->tj_str)
    {
        if (c->tj.len > 0)
            afp_buf_putc(&c->tj, ' ');
        afp_buf_putc(&c->tj, '<');
        c->tj_str = 1;
    }
    h[0] = hex[(code >> 12) & 15];
    h[1] = hex[(code >> 8) & 15];
    h[2] = hex[(code >> 4) & 15];
    h[3] = hex[code & 15];
    if (bytes == 2)
        afp_buf_append(&c->tj, h, 4);
    else
        afp_buf_append(&c->tj, h + 2, 2);
}

/* Appends a positioning number to the TJ array. */
static void
tj_number(cv_canvas *c, double n)
{
    if (c->tj_str)
    {
        afp_buf_putc(&c->tj, '>');
        c->tj_str = 0;
    }
    if (c->tj.len > 0)
        afp_buf_putc(&c->tj, ' ');
    pdf_num(&c->tj, n);
}

/* Visitor: one character. */
static void
vis_glyph(void *p, const afp_ptoca_glyph *g, const afp_font_ref *f)
{
    cv_ctx *ctx = p;
    cv_canvas *c = ctx->cv;
    uint32_t u = g->u == 0x1A ? 0xFFFD : g->u;
    double k = 72.0 / (double) (g->upi > 0 ? g->upi : 1440), size = pdf_font_size(f);
    double x, y;
    pdf_font *pf;
    unsigned code;
    int w, newline;

    if (c == NULL || (!g->space && (u < 0x20 || (u >= 0x7F && u <= 0x9F))))
        return;                /* controls are not shown */
    if (g->space)
        u = 0x20;
    pf = cv_dbcs_glyph_font(ctx, f, cv_font(ctx, f), u);    /* afp_convert_cid.c */
    glyph_for(ctx, pf, u, &code, &w);
    pdf_font_use(pf, code, u);
    x = c->ox + g->x * k;
    y = c->oy + g->y * k;
    text_color(c);
    if (!c->bt)
    {
        afp_buf_append(&c->cs, "BT\n", 3);
        c->bt = 1;
        c->line = 0;
        c->font = NULL;
    }
    if (c->font != pf || fabs(c->size - size) > 1e-6)
    {
        flush_tj(c);
        afp_buf_printf(&c->cs, "/%s ", pdf_font_resname(pf));
        num(&c->cs, size);
        afp_buf_append(&c->cs, "Tf\n", 3);
        c->font = pf;
        c->size = size;
    }
    newline = !c->line || c->qi != g->qi || c->qb != g->qb;
    if (!newline)
    {
        double dx = x - c->lx, dy = y - c->ly;
        double along = dx * dir_x[g->qi] + dy * dir_y[g->qi];
        double perp = dx * dir_x[g->qb] + dy * dir_y[g->qb];
        double delta = along - c->pen;

        if (fabs(perp) > 0.01 || fabs(delta) > 200 * size)
            newline = 1;
        else if (fabs(delta) > 0.002)
        {
            tj_number(c, -delta * 1000.0 / size);
            c->pen = along;
        }
    }
    if (newline)
    {
        flush_tj(c);
        num(&c->cs, dir_x[g->qi]);
        num(&c->cs, dir_y[g->qi]);
        num(&c->cs, -dir_x[g->qb]);
        num(&c->cs, -dir_y[g->qb]);
        num(&c->cs, x);
        num(&c->cs, y);
        afp_buf_append(&c->cs, "Tm\n", 3);
        c->lx = x;
        c->ly = y;
        c->qi = g->qi;
        c->qb = g->qb;
        c->pen = 0;
        c->line = 1;
    }
    tj_code(c, code, pdf_font_code_bytes(pf));
    c->pen += w / 1000.0 * size;
}

/* Paints the rectangle between two corners (points) in the text colour. It is stroked along
 * its long axis with its short side as the line width (butt caps): the same area as a fill, but
 * viewers render hairline strokes the way they render other generators' thin lines. */
static void
fill_rect(cv_canvas *c, double x0, double y0, double x1, double y1)
{
    double w = fabs(x1 - x0), h = fabs(y1 - y0);

    cv_text_end(c);
    text_color(c);
    num(&c->cs, w >= h ? h : w);
    afp_buf_append(&c->cs, "w ", 2);
    if (w >= h)
    {
        num(&c->cs, x0 < x1 ? x0 : x1);
        num(&c->cs, (y0 + y1) / 2);
        afp_buf_append(&c->cs, "m ", 2);
        num(&c->cs, x0 < x1 ? x1 : x0);
        num(&c->cs, (y0 + y1) / 2);
    }
    else
    {
        num(&c->cs, (x0 + x1) / 2);
        num(&c->cs, y0 < y1 ? y0 : y1);
        afp_buf_append(&c->cs, "m ", 2);
        num(&c->cs, (x0 + x1) / 2);
        num(&c->cs, y0 < y1 ? y1 : y0);
    }
    afp_buf_append(&c->cs, "l S\n", 4);
}

/* Visitor: a rule (DIR/DBR). */
static void
vis_rule(void *p, double x0, double y0, double x1, double y1, int64_t upi)
{
    cv_ctx *ctx = p;
    cv_canvas *c = ctx->cv;
    double k = 72.0 / (double) (upi > 0 ? upi : 1440);

    if (c == NULL)
        return;
    fill_rect(c, c->ox + x0 * k, c->oy + y0 * k, c->ox + x1 * k, c->oy + y1 * k);
}

/* Visitor: an underscore below the baseline, thickness and offset from the font. */
static void
vis_underscore(void *p, const afp_ptoca_glyph *at, double length, const afp_font_ref *f)
{
    cv_ctx *ctx = p;
    cv_canvas *c = ctx->cv;
    double k = 72.0 / (double) (at->upi > 0 ? at->upi : 1440), size = pdf_font_size(f);
    double pos, thick, x, y, off, len = length * k;
    pdf_font *pf;

    if (c == NULL)
        return;
    pf = cv_font(ctx, f);
    pdf_font_underline(pf, &pos, &thick);
    pos = pos * size / 1000.0;
    thick = thick * size / 1000.0;
    off = pos - thick / 2;
    x = c->ox + at->x * k + dir_x[at->qb] * off;
    y = c->oy + at->y * k + dir_y[at->qb] * off;
    fill_rect(c, x, y, x + dir_x[at->qi] * len + dir_x[at->qb] * thick,
              y + dir_y[at->qi] * len + dir_y[at->qb] * thick);
}

/* Visitor: the text colour. */
static void
vis_color(void *p, int space, const double *v)
{
    cv_ctx *ctx = p;
    cv_canvas *c = ctx->cv;
    int k;

    if (c == NULL)
        return;
    c->want_space = space;
    for (k = 0; k < 4; k++)
        c->want[k] = space ? v[k] : 0;
}

/* Installs the visitor in the text context. */
void
cv_text_visitor(cv_ctx *ctx)
{
    memset(&ctx->vis, 0, sizeof(ctx->vis));
    ctx->vis.ctx = ctx;
    ctx->vis.advance = vis_advance;
    ctx->vis.glyph = vis_glyph;
    ctx->vis.rule = vis_rule;
    ctx->vis.color = vis_color;
    ctx->vis.underscore = vis_underscore;
    ctx->text.vis = &ctx->vis;
}

/* Appends a transformation "a b c d e f cm". */
static void
cm(afp_buf *b, double a, double bb, double c, double d, double e, double f)
{
    num(b, a);
    num(b, bb);
    num(b, c);
    num(b, d);
    num(b, e);
    num(b, f);
    afp_buf_append(b, "cm\n", 3);
}

/* Applies the object area's origin and rotation (clockwise on the page, y downwards). */
static void
area_transform(afp_buf *b, const cv_area *a)
{
    double r = a->rot * PI / 180.0, cs = cos(r), sn = sin(r);

    if (a->rot % 90 == 0)
    {
        cs = (double) lround(cs);
        sn = (double) lround(sn);
    }
    cm(b, cs, sn, -sn, cs, a->xoa, a->yoa);
}

/* Draws an image XObject into its object area following the mapping option. */
void
cv_draw_image(cv_ctx *ctx, const cv_area *a, const pdf_image *img, const char *xname,
              int map_default)
{
    cv_canvas *c = ctx->cv;
    int map = a->map >= 0 ? a->map : map_default, trim = 0;
    double iw, ih, aw = a->w, ah = a->h, px, py, pw, ph;

    if (c == NULL || img->obj == 0 || img->w <= 0 || img->h <= 0)
        return;
    iw = img->xres > 0 ? img->w / img->xres * 72.0 : 0;
    ih = img->yres > 0 ? img->h / img->yres * 72.0 : 0;
    if (iw <= 0 || ih <= 0)
    {
        /* no resolution: the image fills its area (or 240 pels per inch without one) */
        iw = aw > 0 ? aw : img->w * 72.0 / 240.0;
        ih = ah > 0 ? ah : img->h * 72.0 / 240.0;
    }
    if (aw <= 0 || ah <= 0)
    {
        aw = iw;
        ah = ih;
    }
    switch (map)
    {
        case 0x60:             /* scale to fill */
            px = 0, py = 0, pw = aw, ph = ah;
            break;
        case 0x20:             /* scale to fit */
        {
            double s = aw / iw < ah / ih ? aw / iw : ah / ih;

            pw = iw * s, ph = ih * s;
            px = (aw - pw) / 2, py = (ah - ph) / 2;
            break;
        }
        case 0x30:             /* center and trim */
            pw = iw, ph = ih, px = (aw - iw) / 2, py = (ah - ih) / 2, trim = 1;
            break;
        case 0x50:             /* replicate and trim: the image was expanded to the area */
            pw = iw, ph = ih, px = 0, py = 0, trim = 1;
            break;
        default:               /* position (and trim), point-to-pel migration mappings */
            pw = iw, ph = ih, px = a->xoc, py = a->yoc, trim = 1;
            break;
    }
    cv_text_end(c);
    afp_buf_append(&c->cs, "q\n", 2);
    area_transform(&c->cs, a);
    if (trim)
    {
        afp_buf_append(&c->cs, "0 0 ", 4);
        num(&c->cs, aw);
        num(&c->cs, ah);
        afp_buf_append(&c->cs, "re W n\n", 7);
    }
    if (img->mask)
    {
        double black[3] = {0, 0, 0};

        c->fill_space = -1;
        cv_fill(c, 1, img->has_color ? img->rgb : black);
    }
    cm(&c->cs, pw, 0, 0, -ph, px, py + ph);
    afp_buf_printf(&c->cs, "/%s Do\nQ\n", xname);
    c->fill_space = -1;        /* the colour set inside q … Q is gone */
}

/* Draws a light grey, dashed, crossed frame where a missing resource would have been. */
void
cv_placeholder(cv_ctx *ctx, double x, double y, double w, double h)
{
    cv_canvas *c = ctx->cv;

    if (c == NULL)
        return;
    cv_text_end(c);
    afp_buf_append(&c->cs, "q 0.5 w 0.8 G [3 2] 0 d\n", 24);
    num(&c->cs, x);
    num(&c->cs, y);
    num(&c->cs, w);
    num(&c->cs, h);
    afp_buf_append(&c->cs, "re S\n", 5);
    num(&c->cs, x);
    num(&c->cs, y);
    afp_buf_append(&c->cs, "m ", 2);
    num(&c->cs, x + w);
    num(&c->cs, y + h);
    afp_buf_append(&c->cs, "l S\n", 4);
    num(&c->cs, x + w);
    num(&c->cs, y);
    afp_buf_append(&c->cs, "m ", 2);
    num(&c->cs, x);
    num(&c->cs, y + h);
    afp_buf_append(&c->cs, "l S\nQ\n", 6);
}

/* Registers an XObject for the shared resource dictionary. */
const char *
cv_xobject(cv_ctx *ctx, int obj, const char *prefix, char *name, size_t n)
{
    snprintf(name, n, "%s%d", prefix, ++ctx->nxobj);
    afp_buf_printf(&ctx->xobjects, "/%s %d 0 R ", name, obj);
    return name;
}

/* Reports a warning through the options' callback. */
void
cv_warn(cv_ctx *ctx, const char *fmt, ...)
{
    char msg[600];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ctx->stats.warnings++;
    if (ctx->opts->warning)
        ctx->opts->warning(ctx->opts->cb_ctx, msg);
}
