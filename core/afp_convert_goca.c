/*
 * afp_convert_goca.c — GOCA graphics (afp-goca-reference-03) drawn as PDF paths.
 *
 * The GDD's Window Specification (X'F6') gives the graphics presentation space window (GPS
 * units, y upwards) and its resolution; the window is mapped onto the object area by the
 * mapping option (scale to fit by default, scale to fill, or position/trim at the window's own
 * resolution). Every coordinate is transformed here into the content stream's points (y
 * downwards, object area origin and rotation applied), so paths, line widths and text share the
 * page's coordinate system.
 *
 * The GAD data (joined over all GAD fields) holds Begin Segment commands (X'70') followed by
 * drawing orders. Supported: lines (GLINE/GCLINE, GRLINE/GCRLINE), boxes with square or rounded
 * corners, full and partial arcs with the arc parameters (GSAP), fillets, cubic Béziers,
 * markers (a cross), areas (GBAR … GEAR, filled with the even-odd or non-zero rule, boundary
 * drawn when asked; pattern symbol X'0F' leaves an area unfilled), colours (GSCOL, GSECOL,
 * GSPCOL), line width (GSLW, GSFLW; normal line width 1/120 inch as GOCA recommends, or the
 * GDD's Set Current Defaults value), line types (GSLT) and character strings (GCHST/GCCHST,
 * drawn as PDF text in the font the character set LID maps, Liberation Sans otherwise, at the
 * GSCC cell height or 10 pt). Other orders are skipped by their length.
 */
#include "afp_pdf_int.h"

#include <math.h>
#include <string.h>

#define KAPPA 0.5522847498
#define PI 3.14159265358979323846

/* Drawing state of one graphics object. */
typedef struct gstate {
    cv_ctx *ctx;
    cv_canvas *c;
    double m[6];                /* GPS units → canvas points: x' = a x + c y + e, y' = b x + d y + f */
    double unit;                /* points per GPS unit (for widths and sizes) */
    double cpx, cpy;            /* current position */
    int space;                  /* colour: 0 default (black), 1 RGB, 2 grey, 4 CMYK */
    double col[4];
    double lw;                  /* line width multiplier */
    double normal_lw;           /* points */
    int ltype;
    int in_area, area_flags, area_open, fill;
    double p, q, r, s;          /* arc parameters */
    uint8_t charset;
    double cellh;               /* character cell height, GPS units (0 = default) */
    int qi, qb;                 /* character direction quadrants */
    int rot;                    /* object area rotation (degrees) */
} gstate;

/* Transforms a GPS point to canvas points. */
static void
xf(const gstate *g, double x, double y, double *px, double *py)
{
    *px = g->m[0] * x + g->m[2] * y + g->m[4];
    *py = g->m[1] * x + g->m[3] * y + g->m[5];
}

/* Appends a number and a blank. */
static void
num(afp_buf *b, double v)
{
    pdf_num(b, v);
    afp_buf_putc(b, ' ');
}

/* Appends "x y OP" for a GPS point. */
static void
pt(gstate *g, double x, double y, const char *op)
{
    double px, py;

    xf(g, x, y, &px, &py);
    num(&g->c->cs, px);
    num(&g->c->cs, py);
    afp_buf_printf(&g->c->cs, "%s\n", op);
}

/* Signed 16-bit big-endian. */
static double
s16(const uint8_t *p)
{
    return (double) (int16_t) (uint16_t) ((p[0] << 8) | p[1]);
}

/* Sets the stroke/fill colour and line style for the next figure. */
static void
style(gstate *g)
{
    static const char *const dash[9] = {"[] 0 d", "[1 2] 0 d", "[3 2] 0 d", "[6 2 1 2] 0 d",
                                        "[1 2 1 4] 0 d", "[8 3] 0 d", "[6 2 1 2 1 2] 0 d",
                                        "[] 0 d", "[] 0 d"};
    double black[4] = {0, 0, 0, 0};

    cv_text_end(g->c);
    cv_fill(g->c, g->space, g->space ? g->col : black);
    num(&g->c->cs, g->lw * g->normal_lw);
    afp_buf_printf(&g->c->cs, "w %s\n", dash[g->ltype >= 0 && g->ltype <= 8 ? g->ltype : 0]);
}

/* Starts a figure: in an area a new subpath, outside one a path for a stroke. */
static void
figure_start(gstate *g, double x, double y)
{
    if (!g->in_area)
        style(g);
    else if (!g->area_open)
    {
        style(g);
        g->area_open = 1;
    }
    pt(g, x, y, "m");
}

/* Ends a figure: stroked outside areas (line type X'08' is invisible). */
static void
figure_end(gstate *g, int closed)
{
    if (g->in_area)
        return;
    afp_buf_printf(&g->c->cs, "%s\n", g->ltype == 8 ? "n" : closed ? "s" : "S");
}

/* Appends a cubic curve from the current point. */
static void
curve(gstate *g, double x1, double y1, double x2, double y2, double x3, double y3)
{
    double p[6];

    xf(g, x1, y1, &p[0], &p[1]);
    xf(g, x2, y2, &p[2], &p[3]);
    xf(g, x3, y3, &p[4], &p[5]);
    num(&g->c->cs, p[0]);
    num(&g->c->cs, p[1]);
    num(&g->c->cs, p[2]);
    num(&g->c->cs, p[3]);
    num(&g->c->cs, p[4]);
    num(&g->c->cs, p[5]);
    afp_buf_append(&g->c->cs, "c\n", 2);
}

/* Appends an elliptical arc of the current arc parameters times mult around (cx, cy), from
 * angle a0 sweeping da (degrees, counter-clockwise in GPS), in pieces of at most 90°. */
static void
arc(gstate *g, double cx, double cy, double mult, double a0, double da)
{
    int n = (int) ceil(fabs(da) / 90.0), k;
    double step, t0;

    if (n < 1)
        n = 1;
    if (n > 8)
        n = 8;
    step = da / n * PI / 180.0;
    t0 = a0 * PI / 180.0;
    for (k = 0; k < n; k++)
    {
        double t1 = t0 + step, h = 4.0 / 3.0 * tan(step / 4);
        double u[8] = {cos(t0) - h * sin(t0), sin(t0) + h * cos(t0),
                       cos(t1) + h * sin(t1), sin(t1) - h * cos(t1), cos(t1), sin(t1), 0, 0};
        double e[6];
        int j;

        for (j = 0; j < 3; j++)
        {
            e[2 * j] = cx + mult * (g->p * u[2 * j] + g->r * u[2 * j + 1]);
            e[2 * j + 1] = cy + mult * (g->s * u[2 * j] + g->q * u[2 * j + 1]);
        }
        curve(g, e[0], e[1], e[2], e[3], e[4], e[5]);
        t0 = t1;
    }
}

/* Point on the arc ellipse at angle a (degrees). */
static void
arc_point(const gstate *g, double cx, double cy, double mult, double a, double *x, double *y)
{
    double t = a * PI / 180.0;

    *x = cx + mult * (g->p * cos(t) + g->r * sin(t));
    *y = cy + mult * (g->s * cos(t) + g->q * sin(t));
}

/* Box from (x0, y0) to (x1, y1), optionally with rounded corners (full axes h, v). */
static void
box(gstate *g, double x0, double y0, double x1, double y1, double h, double v)
{
    double rx = fabs(h) / 2, ry = fabs(v) / 2, sx = x1 > x0 ? 1 : -1, sy = y1 > y0 ? 1 : -1;

    if (rx > fabs(x1 - x0) / 2)
        rx = fabs(x1 - x0) / 2;
    if (ry > fabs(y1 - y0) / 2)
        ry = fabs(y1 - y0) / 2;
    rx *= sx;
    ry *= sy;
    figure_start(g, x0 + rx, y0);
    pt(g, x1 - rx, y0, "l");
    if (rx != 0 && ry != 0)
        curve(g, x1 - rx + KAPPA * rx, y0, x1, y0 + ry - KAPPA * ry, x1, y0 + ry);
    pt(g, x1, y1 - ry, "l");
    if (rx != 0 && ry != 0)
        curve(g, x1, y1 - ry + KAPPA * ry, x1 - rx + KAPPA * rx, y1, x1 - rx, y1);
    pt(g, x0 + rx, y1, "l");
    if (rx != 0 && ry != 0)
        curve(g, x0 + rx - KAPPA * rx, y1, x0, y1 - ry + KAPPA * ry, x0, y1 - ry);
    pt(g, x0, y0 + ry, "l");
    if (rx != 0 && ry != 0)
        curve(g, x0, y0 + ry - KAPPA * ry, x0 + rx - KAPPA * rx, y0, x0 + rx, y0);
    afp_buf_append(&g->c->cs, "h\n", 2);
    figure_end(g, 1);
}

/* Character string at (x, y): one glyph after the other in the character set's font. */
static void
chars(gstate *g, double x, double y, const uint8_t *p, size_t n)
{
    afp_font_ref f = g->ctx->text.fonts[g->charset];
    double size = g->cellh > 0 ? g->cellh * g->unit : 10.0, px, py, ox = g->c->ox, oy = g->c->oy;
    size_t k;
    int save_space = g->c->want_space;
    double save[4];
    afp_ptoca_glyph gl;

    memcpy(save, g->c->want, sizeof(save));
    if (size < 1 || size > 1000)
        size = 10.0;
    f.fds_size20 = (int) lround(size * 20);
    f.dbcs = 0;
    g->c->want_space = g->space;
    memcpy(g->c->want, g->col, sizeof(save));
    g->c->ox = g->c->oy = 0;
    memset(&gl, 0, sizeof(gl));
    gl.qi = g->qi;
    gl.qb = g->qb;
    gl.upi = 72;
    gl.lid = g->charset;
    xf(g, x, y, &px, &py);
    for (k = 0; k < n; k++)
    {
        uint32_t u = f.icp ? f.icp->map[p[k]] : afp_codepage_to_unicode(f.cp, p[k]);

        gl.x = px;
        gl.y = py;
        gl.code = p[k];
        gl.u = u;
        gl.space = p[k] == f.space;
        gl.advance = g->ctx->vis.advance(g->ctx, &f, p[k], gl.space ? 0x20 : u, 72);
        g->ctx->vis.glyph(g->ctx, &gl, &f);
        px += gl.advance * (gl.qi == 0 ? 1 : gl.qi == 2 ? -1 : 0);
        py += gl.advance * (gl.qi == 1 ? 1 : gl.qi == 3 ? -1 : 0);
    }
    g->c->ox = ox;
    g->c->oy = oy;
    g->c->want_space = save_space;
    memcpy(g->c->want, save, sizeof(save));
}

/* Executes one drawing order (code, data d[0..n)). */
static void
order(gstate *g, uint8_t code, const uint8_t *d, size_t n)
{
    size_t k;

    switch (code)
    {
        case 0x0A:             /* GSCOL */
        case 0x26:             /* GSECOL */
        {
            unsigned v = code == 0x0A ? (n ? 0xFF00u | d[0] : 0u)
                       : (n >= 2 ? (unsigned) ((d[0] << 8) | d[1]) : 0u);

            g->space = afp_ptoca_oca_rgb(v, g->col);
            if (v == 0xFF08)   /* colour of medium */
                g->space = 2, g->col[0] = 1;
            break;
        }
        case 0xB2:             /* GSPCOL: the SEC colour layout */
            g->space = afp_ptoca_color(d, n, g->col);
            break;
        case 0x19:             /* GSLW */
            g->lw = n && d[0] ? d[0] : 1;
            break;
        case 0x11:             /* GSFLW */
            if (n >= 2)
                g->lw = (d[0] || d[1]) ? d[0] + d[1] / 256.0 : 1;
            break;
        case 0x18:             /* GSLT */
            g->ltype = n ? d[0] : 0;
            break;
        case 0x28:             /* GSPT: X'0F' blank (no fill), others filled solid */
            g->fill = !(n && d[0] == 0x0F);
            break;
        case 0x21:             /* GSCP */
            if (n >= 4)
                g->cpx = s16(d), g->cpy = s16(d + 2);
            break;
        case 0x22:             /* GSAP */
            if (n >= 8)
                g->p = s16(d), g->q = s16(d + 2), g->r = s16(d + 4), g->s = s16(d + 6);
            break;
        case 0x33:             /* GSCC */
            if (n >= 4)
                g->cellh = fabs(s16(d + 2));
            break;
        case 0x34:             /* GSCA: character angle, multiples of 90° */
            if (n >= 4)
            {
                double a = atan2(s16(d + 2), s16(d)) * 180.0 / PI;
                int q = ((int) lround(a / 90.0) % 4 + 4) % 4;

                /* GPS angles run counter-clockwise with y up; the canvas has y down */
                g->qi = (4 - q + g->rot / 90) % 4;
                g->qb = (g->qi + 1) % 4;
            }
            break;
        case 0x38:             /* GSCS */
            g->charset = n ? d[0] : 0;
            break;
        case 0x68:             /* GBAR */
            cv_text_end(g->c);
            g->in_area = 1;
            g->area_flags = n ? d[0] : 0;
            g->area_open = 0;
            break;
        case 0x60:             /* GEAR */
            if (g->in_area && g->area_open)
            {
                int outline = (g->area_flags & 0x40) != 0, winding = (g->area_flags & 0x20) != 0;

                afp_buf_printf(&g->c->cs, "%s\n", !g->fill ? (outline ? "S" : "n")
                               : outline ? (winding ? "B" : "B*") : (winding ? "f" : "f*"));
            }
            g->in_area = g->area_open = 0;
            break;
        case 0xC1:             /* GLINE */
        case 0x81:             /* GCLINE */
        {
            size_t pos = code == 0xC1 ? 4 : 0;

            if (code == 0xC1 && n >= 4)
                g->cpx = s16(d), g->cpy = s16(d + 2);
            if (n < pos + 4)
                break;
            figure_start(g, g->cpx, g->cpy);
            for (; pos + 4 <= n; pos += 4)
            {
                g->cpx = s16(d + pos);
                g->cpy = s16(d + pos + 2);
                pt(g, g->cpx, g->cpy, "l");
            }
            figure_end(g, 0);
            break;
        }
        case 0xE1:             /* GRLINE */
        case 0xA1:             /* GCRLINE */
        {
            size_t pos = code == 0xE1 ? 4 : 0;

            if (code == 0xE1 && n >= 4)
                g->cpx = s16(d), g->cpy = s16(d + 2);
            if (n < pos + 2)
                break;
            figure_start(g, g->cpx, g->cpy);
            for (; pos + 2 <= n; pos += 2)
            {
                g->cpx += (int8_t) d[pos];
                g->cpy += (int8_t) d[pos + 1];
                pt(g, g->cpx, g->cpy, "l");
            }
            figure_end(g, 0);
            break;
        }
        case 0xC0:             /* GBOX */
        case 0x80:             /* GCBOX */
        {
            size_t o = code == 0xC0 ? 4 : 0;
            double x0 = code == 0xC0 && n >= 6 ? s16(d + 2) : g->cpx;
            double y0 = code == 0xC0 && n >= 6 ? s16(d + 4) : g->cpy;

            if (n < o + 6)
                break;
            box(g, x0, y0, s16(d + o + 2), s16(d + o + 4), n >= o + 8 ? s16(d + o + 6) : 0,
                n >= o + 10 ? s16(d + o + 8) : 0);
            g->cpx = x0;
            g->cpy = y0;
            break;
        }
        case 0xC7:             /* GFARC */
        case 0x87:             /* GCFARC */
        {
            size_t o = code == 0xC7 ? 4 : 0;
            double x, y;

            if (n < o + 2)
                break;
            if (code == 0xC7)
                g->cpx = s16(d), g->cpy = s16(d + 2);
            arc_point(g, g->cpx, g->cpy, d[o] + d[o + 1] / 256.0, 0, &x, &y);
            figure_start(g, x, y);
            arc(g, g->cpx, g->cpy, d[o] + d[o + 1] / 256.0, 0, 360);
            afp_buf_append(&g->c->cs, "h\n", 2);
            figure_end(g, 1);
            break;
        }
        case 0xE3:             /* GPARC */
        case 0xA3:             /* GCPARC */
        {
            size_t o = code == 0xE3 ? 4 : 0;
            double cx, cy, mult, a0, da, x, y;

            if (n < o + 14)
                break;
            if (code == 0xE3)
                g->cpx = s16(d), g->cpy = s16(d + 2);
            cx = s16(d + o);
            cy = s16(d + o + 2);
            mult = d[o + 4] + d[o + 5] / 256.0;
            a0 = (double) (int32_t) (((uint32_t) d[o + 6] << 24) | ((uint32_t) d[o + 7] << 16) |
                                     ((uint32_t) d[o + 8] << 8) | d[o + 9]) / 65536.0;
            da = (double) (int32_t) (((uint32_t) d[o + 10] << 24) | ((uint32_t) d[o + 11] << 16) |
                                     ((uint32_t) d[o + 12] << 8) | d[o + 13]) / 65536.0;
            figure_start(g, g->cpx, g->cpy);
            arc_point(g, cx, cy, mult, a0, &x, &y);
            pt(g, x, y, "l");
            arc(g, cx, cy, mult, fmod(a0, 360.0), fmod(da, 360.0) == 0 ? 360 : fmod(da, 360.0));
            arc_point(g, cx, cy, mult, a0 + da, &g->cpx, &g->cpy);
            figure_end(g, 0);
            break;
        }
        case 0xC5:             /* GFLT: a curve tangent to the polyline at its ends */
        case 0x85:             /* GCFLT */
        {
            double px[64], py[64];
            size_t np = 0, pos = 0;

            if (code == 0x85)
                px[np] = g->cpx, py[np++] = g->cpy;
            for (; pos + 4 <= n && np < 64; pos += 4)
                px[np] = s16(d + pos), py[np++] = s16(d + pos + 2);
            if (np < 2)
                break;
            figure_start(g, px[0], py[0]);
            if (np == 2)
                pt(g, px[1], py[1], "l");
            for (k = 1; np > 2 && k + 1 < np; k++)
            {
                /* quadratic pieces between the midpoints, as cubics */
                double sx = k == 1 ? px[0] : (px[k - 1] + px[k]) / 2;
                double sy = k == 1 ? py[0] : (py[k - 1] + py[k]) / 2;
                double ex = k + 2 == np ? px[k + 1] : (px[k] + px[k + 1]) / 2;
                double ey = k + 2 == np ? py[k + 1] : (py[k] + py[k + 1]) / 2;

                curve(g, sx + 2.0 / 3 * (px[k] - sx), sy + 2.0 / 3 * (py[k] - sy),
                      ex + 2.0 / 3 * (px[k] - ex), ey + 2.0 / 3 * (py[k] - ey), ex, ey);
            }
            g->cpx = px[np - 1];
            g->cpy = py[np - 1];
            figure_end(g, 0);
            break;
        }
        case 0xE5:             /* GCBEZ */
        case 0xA5:             /* GCCBEZ */
        {
            size_t pos = code == 0xE5 ? 4 : 0;

            if (code == 0xE5 && n >= 4)
                g->cpx = s16(d), g->cpy = s16(d + 2);
            if (n < pos + 12)
                break;
            figure_start(g, g->cpx, g->cpy);
            for (; pos + 12 <= n; pos += 12)
            {
                curve(g, s16(d + pos), s16(d + pos + 2), s16(d + pos + 4), s16(d + pos + 6),
                      s16(d + pos + 8), s16(d + pos + 10));
                g->cpx = s16(d + pos + 8);
                g->cpy = s16(d + pos + 10);
            }
            figure_end(g, 0);
            break;
        }
        case 0xC2:             /* GMRK */
        case 0x82:             /* GCMRK: a cross of 5 points */
        {
            size_t pos = 0;
            int first = code == 0x82;

            if (g->in_area)
                break;
            style(g);
            for (; first || pos + 4 <= n; first = 0)
            {
                double x, y, h = 2.5;

                if (!first)
                {
                    g->cpx = s16(d + pos);
                    g->cpy = s16(d + pos + 2);
                    pos += 4;
                }
                xf(g, g->cpx, g->cpy, &x, &y);
                afp_buf_printf(&g->c->cs, "%.4f %.4f m %.4f %.4f l %.4f %.4f m %.4f %.4f l S\n",
                               x - h, y - h, x + h, y + h, x - h, y + h, x + h, y - h);
            }
            break;
        }
        case 0xC3:             /* GCHST */
            if (n >= 4)
            {
                g->cpx = s16(d);
                g->cpy = s16(d + 2);
                chars(g, g->cpx, g->cpy, d + 4, n - 4);
            }
            break;
        case 0x83:             /* GCCHST */
            chars(g, g->cpx, g->cpy, d, n);
            break;
        default:               /* attributes without visible effect here, images, patterns … */
            break;
    }
}

/* Reads the GDD: window, resolution and the normal line width (Set Current Defaults). */
static void
parse_gdd(const uint8_t *d, size_t n, double win[4], double *res, double *normal_lw)
{
    size_t pos = 0;

    while (pos + 2 <= n)
    {
        uint8_t id = d[pos];
        size_t len = d[pos + 1];
        const uint8_t *p = d + pos + 2;

        if (pos + 2 + len > n)
            break;
        if (id == 0xF6 && len >= 18)
        {
            double units = (p[4] << 8) | p[5];

            if (units > 0)
                *res = (p[3] == 0x01 ? units * 0.254 : units / 10.0);     /* per inch */
            win[0] = s16(p + 10);
            win[1] = s16(p + 12);
            win[2] = s16(p + 14);
            win[3] = s16(p + 16);
        }
        else if (id == 0x21 && len >= 6 && p[0] == 0x11)
        {
            /* SCD normal line width: SET(1) MASK(2) FLAGS(1) NORMLW(2) in 1440ths */
            double w = (p[4] << 8) | p[5];

            if (w > 0)
                *normal_lw = w / 20.0;
        }
        pos += 2 + len;
    }
}

/* Draws a graphics object into its area. */
afp_status
cv_goca_draw(cv_ctx *ctx, const cv_area *a, const uint8_t *gdd, size_t gdd_len,
             const uint8_t *d, size_t n, const afp_ptx_seg *segs, size_t nsegs)
{
    gstate g;
    double win[4] = {0, 0, 0, 0}, res = 1440, ww, wh, sx, sy, tx = 0, ty = 0, r, cs, sn;
    double aw = a->w, ah = a->h;
    size_t pos = 0, seg_end = n;
    int map = a->map >= 0 ? a->map : 0x20;

    memset(&g, 0, sizeof(g));
    g.ctx = ctx;
    g.c = ctx->cv;
    g.normal_lw = 72.0 / 120.0;
    if (g.c == NULL)
        return AFP_OK;
    parse_gdd(gdd, gdd_len, win, &res, &g.normal_lw);
    ww = win[1] - win[0];
    wh = win[3] - win[2];
    if (ww <= 0 || wh <= 0)
    {
        ww = aw > 0 ? aw / 72.0 * res : 1;
        wh = ah > 0 ? ah / 72.0 * res : 1;
        win[0] = 0, win[1] = ww, win[2] = 0, win[3] = wh;
    }
    if (aw <= 0 || ah <= 0)
        aw = ww * 72.0 / res, ah = wh * 72.0 / res;
    if (map == 0x60)
        sx = aw / ww, sy = ah / wh;
    else if (map == 0x20)
    {
        sx = sy = aw / ww < ah / wh ? aw / ww : ah / wh;
        tx = (aw - ww * sx) / 2;
        ty = (ah - wh * sy) / 2;
    }
    else
    {
        sx = sy = 72.0 / res;
        if (map == 0x30)
            tx = (aw - ww * sx) / 2, ty = (ah - wh * sy) / 2;
        else
            tx = a->xoc, ty = a->yoc;
    }
    /* area-local (y down): lx = (x - xl) sx + tx, ly = (yt - y) sy + ty; then rotate, offset */
    r = a->rot * PI / 180.0;
    cs = a->rot % 90 == 0 ? (double) lround(cos(r)) : cos(r);
    sn = a->rot % 90 == 0 ? (double) lround(sin(r)) : sin(r);
    g.m[0] = cs * sx;
    g.m[1] = sn * sx;
    g.m[2] = sn * sy;          /* y is flipped: (x, y) ↦ (cs·sx·x + sn·sy·y, sn·sx·x − cs·sy·y) */
    g.m[3] = -cs * sy;
    {
        double lx0 = -win[0] * sx + tx, ly0 = win[3] * sy + ty;

        g.m[4] = a->xoa + cs * lx0 - sn * ly0;
        g.m[5] = a->yoa + sn * lx0 + cs * ly0;
    }
    g.unit = sx;
    g.lw = 1;
    g.ltype = 7;
    g.fill = 1;
    g.p = g.q = 1;
    g.rot = a->rot / 90 * 90;
    g.qi = a->rot / 90 % 4;
    g.qb = (g.qi + 1) % 4;
    /* clip to the object area */
    cv_text_end(g.c);
    afp_buf_append(&g.c->cs, "q\n", 2);
    {
        double x[4], y[4];
        int k;

        for (k = 0; k < 4; k++)
        {
            double lx = (k == 1 || k == 2) ? aw : 0, ly = k >= 2 ? ah : 0;

            x[k] = a->xoa + cs * lx - sn * ly;
            y[k] = a->yoa + sn * lx + cs * ly;
        }
        for (k = 0; k < 4; k++)
        {
            num(&g.c->cs, x[k]);
            num(&g.c->cs, y[k]);
            afp_buf_append(&g.c->cs, k ? "l\n" : "m\n", 2);
        }
        afp_buf_append(&g.c->cs, "h W n\n", 6);
    }
    while (pos < n)
    {
        uint8_t code = d[pos];
        size_t hdr, len;

        if (pos >= seg_end)
            seg_end = n;
        if (code == 0x70 && pos + 2 <= n)
        {
            /* Begin Segment: length(1) name(4) flags(1) reserved(1) SEGL(2) predecessor(4) */
            len = d[pos + 1];
            if (pos + 2 + len > n)
                break;
            seg_end = len >= 8 ? pos + 2 + len + (((size_t) d[pos + 8] << 8) | d[pos + 9]) : n;
            if (seg_end > n)
                seg_end = n;
            pos += 2 + len;
            continue;
        }
        if (code == 0x00)
        {
            pos++;
            continue;
        }
        if (code == 0xFE)
        {
            hdr = 4;
            len = pos + 4 <= n ? ((size_t) d[pos + 2] << 8) | d[pos + 3] : n;
        }
        else if ((code & 0x88) == 0x08 || code == 0x71)
        {
            hdr = 1;
            len = 1;
        }
        else
        {
            hdr = 2;
            len = pos + 2 <= n ? d[pos + 1] : n;
        }
        if (pos + hdr > n || len > n - pos - hdr)
        {
            afp_buf_append(&g.c->cs, "Q\n", 2);
            g.c->fill_space = -1;
            return afp_error_set(ctx->err, AFP_ERR_FORMAT, pdf_seg_offset(segs, nsegs, pos), "GAD",
                                 "GOCA drawing order X'%02X' with length %zu runs past the end of "
                                 "the graphics data (%zu bytes left)", code,
                                 len, pos + hdr <= n ? n - pos - hdr : 0);
        }
        order(&g, code, d + pos + hdr, len);
        pos += hdr + len;
    }
    cv_text_end(g.c);
    afp_buf_append(&g.c->cs, "Q\n", 2);
    g.c->fill_space = -1;
    return AFP_OK;
}
