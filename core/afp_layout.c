/*
 * afp_layout.c — lays out one document of a template (docs/templates.md) into page display
 * lists: flowing body with automatic page breaks, text wrapped and aligned with real glyph
 * metrics, tables with repeated headers and rows kept whole, positioned elements, header and
 * footer with page numbers resolved once the page count is known.
 *
 * Lengths in templates are points; display lists use output units (1440 per inch, PT per point).
 */
#include "afp_layout.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_NEST 64

const char *const lay_codepage_names[LAY_NCODEPAGES] = {"T1V10500", "T1001148"};

/* ------------------------------------------------------------------ small helpers */

/* Formats "<base>.<key>" or "<base>[i]" into a fresh path buffer (caller frees). */
char *
lay_path(const char *base, const char *key, long index)
{
    afp_buf b;

    afp_buf_init(&b);
    if (key)
        afp_buf_printf(&b, "%s.%s", base, key);
    else
        afp_buf_printf(&b, "%s[%ld]", base, index);
    return afp_buf_cstr(&b);
}

/* Number member or a default; a present non-number is an error. */
afp_status
lay_num(const afp_json *obj, const char *key, double def, double *out, const char *path, afp_error *err)
{
    const afp_json *v = afp_json_get(obj, key);

    if (v == NULL || v->type == AFP_JSON_NULL)
    {
        *out = def;
        return AFP_OK;
    }
    if (v->type != AFP_JSON_NUMBER || !isfinite(v->number))
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s.%s: expected a number", path, key);
    *out = v->number;
    return AFP_OK;
}

/* String member or NULL; a present non-string is an error. */
afp_status
lay_str(const afp_json *obj, const char *key, const char **out, const char *path, afp_error *err)
{
    const afp_json *v = afp_json_get(obj, key);

    *out = NULL;
    if (v == NULL || v->type == AFP_JSON_NULL)
        return AFP_OK;
    if (v->type != AFP_JSON_STRING)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s.%s: expected a string", path, key);
    *out = v->string;
    return AFP_OK;
}

/* Parses "#RRGGBB" (NULL keeps *rgb). */
afp_status
lay_color(const char *s, uint32_t *rgb, const char *path, afp_error *err)
{
    unsigned v;
    char tail;

    if (s == NULL)
        return AFP_OK;
    if (strlen(s) != 7 || s[0] != '#' || sscanf(s + 1, "%6x%c", &v, &tail) != 1)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s: colour '%s' is not #RRGGBB", path, s);
    *rgb = v;
    return AFP_OK;
}

/* Resolves a font object on top of an inherited font. */
afp_status
lay_font(const afp_json *fobj, const gen_font *inherit, gen_font *out, const char *path, afp_error *err)
{
    const char *fam = NULL, *sty = NULL;
    double size;
    afp_status st;

    *out = *inherit;
    if (fobj == NULL)
        return AFP_OK;
    if (fobj->type != AFP_JSON_OBJECT)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s: expected a font object", path);
    if ((st = lay_str(fobj, "family", &fam, path, err)) != AFP_OK ||
        (st = lay_str(fobj, "style", &sty, path, err)) != AFP_OK ||
        (st = lay_num(fobj, "size", inherit->size, &size, path, err)) != AFP_OK)
        return st;
    if (fam)
    {
        int f = afp_font_parse_family(fam);

        if (f < 0)
            return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "",
                                 "%s.family: unknown font '%s' (Helvetica, Times or Courier)", path, fam);
        out->family = (afp_family) f;
    }
    if (sty)
    {
        int s = afp_font_parse_style(sty);

        if (s < 0)
            return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "",
                                 "%s.style: unknown style '%s' (regular, bold, italic, bold-italic)", path, sty);
        out->style = (afp_style) s;
    }
    if (size < 2 || size > 144)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s.size: %.1f pt is outside 2..144", path, size);
    out->size = size;
    return afp_font_load(out->family, out->style, &out->m, err);
}

/* ------------------------------------------------------------------ display lists */

/* Appends an item to a page and returns it (zeroed but for kind). */
gen_item *
lay_add_item(gen_page *p, gen_item_kind kind)
{
    gen_item *it;

    if (p->count == p->cap)
    {
        p->cap = p->cap ? p->cap * 2 : 64;
        p->items = afp_realloc(p->items, p->cap * sizeof(gen_item));
    }
    it = &p->items[p->count++];
    memset(it, 0, sizeof(*it));
    it->kind = kind;
    return it;
}

/* Frees the display lists of a document. */
void
lay_doc_free(gen_doc *d)
{
    size_t i, j;

    for (i = 0; i < d->count; i++)
    {
        for (j = 0; j < d->pages[i].count; j++)
        {
            gen_item *it = &d->pages[i].items[j];

            if (it->kind == GI_TEXT)
                afp_free(it->bytes);
            if (it->kind == GI_BARCODE)
                afp_free((void *) it->bc.data);
        }
        afp_free(d->pages[i].items);
    }
    afp_free(d->pages);
    memset(d, 0, sizeof(*d));
}

/* Appends an empty page to the document. */
static void
new_page(lay_ctx *L)
{
    gen_doc *d = L->doc;

    if (d->count == d->cap)
    {
        d->cap = d->cap ? d->cap * 2 : 8;
        d->pages = afp_realloc(d->pages, d->cap * sizeof(gen_page));
    }
    memset(&d->pages[d->count], 0, sizeof(gen_page));
    d->count++;
    L->y = L->top;
}

/* The page flow content currently goes to. */
static gen_page *
cur_page(lay_ctx *L)
{
    if (L->doc->count == 0)
        new_page(L);
    return &L->doc->pages[L->doc->count - 1];
}

/* Encodes a text run (CP500, else CP1148 for €) and adds it at (x, baseline) in points; spaces
 * advance by the font's space width plus extra_space points (justification, via SVI). */
static afp_status
text_run_ex(lay_ctx *L, gen_page *p, double x, double baseline, const gen_font *f, uint32_t rgb,
            const char *s, size_t n, double extra_space, const char *path, afp_error *err)
{
    afp_buf enc;
    afp_error e;
    int cp;
    gen_item *it;

    if (n == 0)
        return AFP_OK;
    afp_buf_init(&enc);
    for (cp = 0; cp < LAY_NCODEPAGES; cp++)
    {
        enc.len = 0;
        afp_error_clear(&e);
        if (afp_codepage_encode(afp_codepage_find(lay_codepage_names[cp]), s, n, &enc, &e) == AFP_OK)
            break;
        if (e.status != AFP_ERR_ENCODING)
            break;
    }
    if (cp == LAY_NCODEPAGES)
    {
        afp_buf_free(&enc);
        return afp_error_set(err, AFP_ERR_ENCODING, -1, "", "%s: %s (nor in T1001148)", path, e.message);
    }
    it = lay_add_item(p, GI_TEXT);
    it->x = (int32_t) lround(x * PT);
    it->y = (int32_t) lround(baseline * PT);
    it->font = *f;
    it->rgb = rgb;
    it->codepage = cp;
    it->bytes = enc.data;
    it->nbytes = enc.len;
    it->space_inc = (int32_t) lround((afp_font_text_width(f->m, " ", 1, f->size) + extra_space) * PT);
    (void) L;
    return AFP_OK;
}

/* Adds a text run with the font's natural space width. */
afp_status
lay_text_run(lay_ctx *L, gen_page *p, double x, double baseline, const gen_font *f, uint32_t rgb,
             const char *s, size_t n, const char *path, afp_error *err)
{
    return text_run_ex(L, p, x, baseline, f, rgb, s, n, 0, path, err);
}

/* Adds a rule (or filled rectangle) with top-left (x, y), in points. */
void
lay_rule(gen_page *p, double x, double y, double len, double thick, int horizontal, uint32_t rgb)
{
    gen_item *it = lay_add_item(p, GI_RULE);

    it->x = (int32_t) lround(x * PT);
    it->y = (int32_t) lround(y * PT);
    it->w = (int32_t) lround(len * PT);
    it->h = (int32_t) lround(thick * PT);
    if (it->h < 1)
        it->h = 1;
    it->horizontal = horizontal;
    it->rgb = rgb;
}

/* Exported: the page the flow currently writes to. */
gen_page *
lay_cur_page(lay_ctx *L)
{
    return cur_page(L);
}

/* Exported: starts a new flow page. */
void
lay_new_page(lay_ctx *L)
{
    new_page(L);
}

/* ------------------------------------------------------------------ text wrapping */

/* Splits s into lines no wider than width (points) at the font; returns the count. Lines break
 * at '\n' and at blanks; a word wider than the line is broken between characters. */
size_t
lay_wrap(const char *s, size_t n, const gen_font *f, double width, lay_line **out)
{
    lay_line *lines = NULL;
    size_t count = 0, cap = 0, pos = 0;

    while (pos <= n)
    {
        size_t start = pos, end = pos, last_break = (size_t) -1;
        double wsum = 0;

        while (end < n && s[end] != '\n')
        {
            uint32_t u;
            size_t l = afp_utf8_get((const uint8_t *) s + end, n - end, &u);
            double cw;

            if (l == 0)
            {
                l = 1;
                u = '?';
            }
            cw = afp_font_text_width(f->m, s + end, l, f->size);
            if (wsum + cw > width + 0.001 && end > start)
            {
                if (last_break != (size_t) -1)
                    end = last_break;
                break;
            }
            if (u == ' ')
                last_break = end;
            wsum += cw;
            end += l;
        }
        if (count == cap)
        {
            cap = cap ? cap * 2 : 16;
            lines = afp_realloc(lines, cap * sizeof(lay_line));
        }
        lines[count].start = start;
        lines[count].len = end - start;
        while (lines[count].len > 0 && s[start + lines[count].len - 1] == ' ')
            lines[count].len--;
        lines[count].width = afp_font_text_width(f->m, s + start, lines[count].len, f->size);
        lines[count].hard = (end >= n || s[end] == '\n');
        count++;
        if (end >= n)
            break;
        pos = end + 1;          /* skip the blank or newline we broke at */
        if (s[end] != '\n' && s[end] != ' ')
            pos = end;          /* broke inside a word */
        while (pos < n && s[pos] == ' ' && s[end] != '\n')
            pos++;
    }
    *out = lines;
    return count;
}

/* Places one wrapped line at (x, baseline) with alignment inside width. */
afp_status
lay_place_line(lay_ctx *L, gen_page *p, const char *s, const lay_line *ln, double x, double baseline,
               double width, int align, const gen_font *f, uint32_t rgb, const char *path, afp_error *err)
{
    const char *t = s + ln->start;

    if (align == LAY_RIGHT)
        return lay_text_run(L, p, x + width - ln->width, baseline, f, rgb, t, ln->len, path, err);
    if (align == LAY_CENTER)
        return lay_text_run(L, p, x + (width - ln->width) / 2, baseline, f, rgb, t, ln->len, path, err);
    if (align == LAY_JUSTIFY && !ln->hard)
    {
        size_t i, gaps = 0;

        for (i = 0; i < ln->len; i++)
            if (t[i] == ' ')
                gaps++;
        if (gaps > 0)
            return text_run_ex(L, p, x, baseline, f, rgb, t, ln->len, (width - ln->width) / (double) gaps, path,
                               err);
    }
    return lay_text_run(L, p, x, baseline, f, rgb, t, ln->len, path, err);
}

/* Parses an align value. */
afp_status
lay_align(const afp_json *el, int *align, const char *path, afp_error *err)
{
    const char *a = NULL;
    afp_status st = lay_str(el, "align", &a, path, err);

    if (st != AFP_OK)
        return st;
    *align = LAY_LEFT;
    if (a == NULL || strcmp(a, "left") == 0)
        return AFP_OK;
    if (strcmp(a, "right") == 0)
        *align = LAY_RIGHT;
    else if (strcmp(a, "center") == 0 || strcmp(a, "centre") == 0)
        *align = LAY_CENTER;
    else if (strcmp(a, "justify") == 0)
        *align = LAY_JUSTIFY;
    else
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s.align: unknown alignment '%s'", path, a);
    return AFP_OK;
}

/* ------------------------------------------------------------------ flow elements */

/* Makes sure h points fit below the cursor, breaking the page if needed (an empty page always
 * accepts, so content taller than a page is placed and clipped rather than looping). */
static void
ensure_room(lay_ctx *L, double h)
{
    cur_page(L);
    if (L->y + h > L->bottom + 0.001 && L->y > L->top + 0.001)
        new_page(L);
}

/* Text paragraph in the flow. */
static afp_status
flow_text(lay_ctx *L, const afp_json *el, const afp_scope *s, const char *path, afp_error *err)
{
    const char *tmpl;
    gen_font f;
    uint32_t rgb = L->base_rgb;
    const char *col;
    double lh, before, after, width;
    int align;
    afp_buf txt;
    lay_line *lines = NULL;
    size_t n, i;
    afp_status st;
    char *tp;

    if ((st = lay_str(el, "text", &tmpl, path, err)) != AFP_OK)
        return st;
    if (tmpl == NULL)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s.text: missing", path);
    if ((st = lay_font(afp_json_get(el, "font"), &L->base_font, &f, path, err)) != AFP_OK ||
        (st = lay_str(el, "color", &col, path, err)) != AFP_OK ||
        (st = lay_color(col, &rgb, path, err)) != AFP_OK ||
        (st = lay_num(el, "line_height", 1.2, &lh, path, err)) != AFP_OK ||
        (st = lay_num(el, "space_before", 0, &before, path, err)) != AFP_OK ||
        (st = lay_num(el, "space_after", 0, &after, path, err)) != AFP_OK ||
        (st = lay_num(el, "width", L->right - L->left, &width, path, err)) != AFP_OK ||
        (st = lay_align(el, &align, path, err)) != AFP_OK)
        return st;
    afp_buf_init(&txt);
    tp = lay_path(path, "text", 0);
    st = afp_bind_text(tmpl, s, tp, &txt, err);
    if (st == AFP_OK)
    {
        double line_h = f.size * lh;
        double asc = afp_font_ascent(f.m) * f.size;

        cur_page(L);
        if (L->y > L->top + 0.001)
            L->y += before;
        n = lay_wrap((const char *) (txt.data ? txt.data : (uint8_t *) ""), txt.len, &f, width, &lines);
        for (i = 0; i < n && st == AFP_OK; i++)
        {
            ensure_room(L, line_h);
            st = lay_place_line(L, cur_page(L), (const char *) txt.data, &lines[i], L->left, L->y + asc, width,
                                align, &f, rgb, tp, err);
            L->y += line_h;
        }
        L->y += after;
        afp_free(lines);
    }
    afp_free(tp);
    afp_buf_free(&txt);
    return st;
}

/* Repeat: the body once per array item, with the loop variable and loop.index/count in scope. */
static afp_status
flow_repeat(lay_ctx *L, const afp_json *el, const afp_scope *s, const char *path, int positioned,
            afp_error *err)
{
    const char *items_path, *as;
    const afp_json *arr, *body = afp_json_get(el, "body");
    afp_status st;
    size_t i;
    char *bp;

    if ((st = lay_str(el, "items", &items_path, path, err)) != AFP_OK ||
        (st = lay_str(el, "as", &as, path, err)) != AFP_OK)
        return st;
    if (items_path == NULL)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s.items: missing", path);
    arr = afp_scope_lookup(s, items_path);
    if (arr == NULL)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s.items: data path %s not found", path, items_path);
    if (arr->type != AFP_JSON_ARRAY)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s.items: data path %s is not an array", path,
                             items_path);
    bp = lay_path(path, "body", 0);
    for (i = 0; i < arr->count && (st = AFP_OK) == AFP_OK; i++)
    {
        lay_loop loop;

        lay_loop_init(&loop, s, as ? as : "item", arr->items[i], i, arr->count);
        st = positioned ? lay_positioned(L, body, &loop.item_scope, bp, err)
                        : lay_flow(L, body, &loop.item_scope, bp, err);
        lay_loop_free(&loop);
        if (st != AFP_OK)
            break;
    }
    afp_free(bp);
    return st;
}

/* If: then/else branch by a data test. */
static afp_status
flow_if(lay_ctx *L, const afp_json *el, const afp_scope *s, const char *path, int positioned, afp_error *err)
{
    const char *test;
    const afp_json *v, *eq = afp_json_get(el, "equals");
    afp_status st;
    int truth;
    const char *branch;
    char *bp;

    if ((st = lay_str(el, "test", &test, path, err)) != AFP_OK)
        return st;
    if (test == NULL)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s.test: missing", path);
    v = afp_scope_lookup(s, test);
    if (eq)
    {
        afp_buf a, b;

        afp_buf_init(&a);
        afp_buf_init(&b);
        if (v)
            afp_json_write(v, &a);
        afp_json_write(eq, &b);
        truth = v && a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
        if (!truth && v && v->type == AFP_JSON_NUMBER && eq->type == AFP_JSON_NUMBER)
            truth = v->number == eq->number;
        afp_buf_free(&a);
        afp_buf_free(&b);
    }
    else
        truth = afp_json_truthy(v);
    branch = truth ? "then" : "else";
    if (afp_json_get(el, branch) == NULL)
        return AFP_OK;
    bp = lay_path(path, branch, 0);
    st = positioned ? lay_positioned(L, afp_json_get(el, branch), s, bp, err)
                    : lay_flow(L, afp_json_get(el, branch), s, bp, err);
    afp_free(bp);
    return st;
}

/* Reads a line/box/image/barcode geometry value. */
static afp_status
need_num(const afp_json *el, const char *key, double *out, const char *path, afp_error *err)
{
    if (afp_json_get(el, key) == NULL)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s.%s: missing", path, key);
    return lay_num(el, key, 0, out, path, err);
}

/* Draws a box outline and/or fill with top-left (x, y) on page p. */
static afp_status
draw_box(gen_page *p, const afp_json *el, double x, double y, double w, double h, uint32_t base_rgb,
         const char *path, afp_error *err)
{
    const char *col, *fill;
    uint32_t rgb = base_rgb, frgb = 0;
    double bw;
    afp_status st;

    if ((st = lay_str(el, "color", &col, path, err)) != AFP_OK ||
        (st = lay_color(col, &rgb, path, err)) != AFP_OK ||
        (st = lay_str(el, "fill", &fill, path, err)) != AFP_OK ||
        (st = lay_color(fill, &frgb, path, err)) != AFP_OK ||
        (st = lay_num(el, "border_width", fill ? 0 : 0.5, &bw, path, err)) != AFP_OK)
        return st;
    if (w <= 0 || h <= 0)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s: width and height must be positive", path);
    if (fill)
        lay_rule(p, x, y, w, h, 1, frgb);
    if (bw > 0)
    {
        lay_rule(p, x, y, w, bw, 1, rgb);
        lay_rule(p, x, y + h - bw, w, bw, 1, rgb);
        lay_rule(p, x, y, h, bw, 0, rgb);
        lay_rule(p, x + w - bw, y, h, bw, 0, rgb);
    }
    return AFP_OK;
}

/* Image in the flow or at a position: size from the template or the image's resolution. */
static afp_status
place_image(lay_ctx *L, const afp_json *el, const afp_scope *s, const char *path, int positioned,
            gen_page *fixed_page, afp_error *err)
{
    const char *res;
    const uint8_t *data;
    size_t len;
    afp_image_info info;
    double w, h, x = L->left, y;
    afp_status st;
    gen_item *it;
    gen_page *p;

    (void) s;
    if ((st = lay_str(el, "resource", &res, path, err)) != AFP_OK)
        return st;
    if (res == NULL)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s.resource: missing", path);
    if (L->res == NULL || !L->res(L->res_ctx, "image", res, &data, &len))
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s.resource: image '%s' is not in the resource library",
                             path, res);
    if ((st = afp_image_probe(data, len, &info, err)) != AFP_OK)
        return afp_error_set(err, st, -1, "", "%s: image '%s': %s", path, res, err->message);
    if ((st = lay_num(el, "width", 0, &w, path, err)) != AFP_OK ||
        (st = lay_num(el, "height", 0, &h, path, err)) != AFP_OK)
        return st;
    if (w <= 0 && h <= 0)
    {
        w = info.width * 72.0 / (info.xdpi > 0 ? info.xdpi : 72.0);
        h = info.height * 72.0 / (info.ydpi > 0 ? info.ydpi : 72.0);
    }
    else if (w <= 0)
        w = h * info.width / (double) (info.height ? info.height : 1);
    else if (h <= 0)
        h = w * info.height / (double) (info.width ? info.width : 1);
    if (positioned)
    {
        if ((st = need_num(el, "x", &x, path, err)) != AFP_OK || (st = need_num(el, "y", &y, path, err)) != AFP_OK)
            return st;
        y += L->band_y;
        p = fixed_page;
    }
    else
    {
        if (h > L->bottom - L->top)
            return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s: image '%s' (%.0f pt) is taller than the body",
                                 path, res, h);
        ensure_room(L, h);
        p = cur_page(L);
        y = L->y;
        L->y += h;
    }
    it = lay_add_item(p, GI_IMAGE);
    it->x = (int32_t) lround(x * PT);
    it->y = (int32_t) lround(y * PT);
    it->w = (int32_t) lround(w * PT);
    it->h = (int32_t) lround(h * PT);
    it->bytes = (uint8_t *) data;
    it->nbytes = len;
    it->res = res;
    snprintf(it->name, sizeof(it->name), "I%07zu", ++L->object_seq % 10000000);
    return AFP_OK;
}

/* Bar code in the flow or at a position. */
static afp_status
place_barcode(lay_ctx *L, const afp_json *el, const afp_scope *s, const char *path, int positioned,
              gen_page *fixed_page, afp_error *err)
{
    const char *sym, *data;
    const afp_json *hri = afp_json_get(el, "hri");
    afp_barcode bc;
    afp_buf txt;
    double x = L->left, y, w, h;
    afp_status st;
    gen_item *it;
    gen_page *p;
    int t;
    char *dp;

    memset(&bc, 0, sizeof(bc));
    if ((st = lay_str(el, "symbology", &sym, path, err)) != AFP_OK ||
        (st = lay_str(el, "data", &data, path, err)) != AFP_OK ||
        (st = lay_num(el, "module_width", 0, &bc.module_pt, path, err)) != AFP_OK ||
        (st = lay_num(el, "height", 0, &bc.height_pt, path, err)) != AFP_OK)
        return st;
    if (sym == NULL || (t = afp_symbology_parse(sym)) < 0)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s.symbology: expected code128, qr, datamatrix or imb",
                             path);
    if (data == NULL)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s.data: missing", path);
    bc.type = (afp_symbology) t;
    bc.hri = hri ? hri->type == AFP_JSON_TRUE : 1;
    afp_buf_init(&txt);
    dp = lay_path(path, "data", 0);
    st = afp_bind_text(data, s, dp, &txt, err);
    if (st == AFP_OK)
    {
        afp_buf_cstr(&txt);
        bc.data = (const char *) txt.data;
        bc.data_len = txt.len;
        st = afp_barcode_check(&bc, err);
        if (st != AFP_OK)
            afp_error_set(err, st, -1, "", "%s: %s", dp, err->message);
    }
    afp_free(dp);
    if (st != AFP_OK)
    {
        afp_buf_free(&txt);
        return st;
    }
    afp_barcode_size(&bc, &w, &h);
    if (positioned)
    {
        if ((st = need_num(el, "x", &x, path, err)) != AFP_OK || (st = need_num(el, "y", &y, path, err)) != AFP_OK)
        {
            afp_buf_free(&txt);
            return st;
        }
        y += L->band_y;         /* footer elements are placed relative to the footer band */
        p = fixed_page;
    }
    else
    {
        ensure_room(L, h);
        p = cur_page(L);
        y = L->y;
        L->y += h;
    }
    it = lay_add_item(p, GI_BARCODE);
    bc.x = (int32_t) lround(x * PT);
    bc.y = (int32_t) lround(y * PT);
    it->bc = bc;
    it->x = bc.x;
    it->y = bc.y;
    snprintf(it->name, sizeof(it->name), "B%07zu", ++L->object_seq % 10000000);
    return AFP_OK;          /* txt.data now owned by the item (bc.data) */
}

/* The type of an element: it must be an object with a "type" string. */
static afp_status
element_type(const afp_json *el, const char *path, const char **type, afp_error *err)
{
    afp_status st;

    *type = NULL;
    if (el->type != AFP_JSON_OBJECT)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s: expected an element object", path);
    if ((st = lay_str(el, "type", type, path, err)) != AFP_OK)
        return st;
    if (*type == NULL)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s.type: missing", path);
    return AFP_OK;
}

/* The element types that flow and positioned lists both take ("if", "repeat", "image",
 * "barcode"), laid out flowing (positioned 0) or onto page (positioned 1). Returns 1 with the
 * result in *st when type is one of them, else 0. */
static int
shared_element(lay_ctx *L, const afp_json *el, const afp_scope *s, const char *path, const char *type,
               int positioned, gen_page *page, afp_status *st, afp_error *err)
{
    if (strcmp(type, "if") == 0)
        *st = flow_if(L, el, s, path, positioned, err);
    else if (strcmp(type, "repeat") == 0)
        *st = flow_repeat(L, el, s, path, positioned, err);
    else if (strcmp(type, "image") == 0)
        *st = place_image(L, el, s, path, positioned, page, err);
    else if (strcmp(type, "barcode") == 0)
        *st = place_barcode(L, el, s, path, positioned, page, err);
    else
        return 0;
    return 1;
}

/* One flow element. */
static afp_status
flow_element(lay_ctx *L, const afp_json *el, const afp_scope *s, const char *path, afp_error *err)
{
    const char *type;
    afp_status st;

    if ((st = element_type(el, path, &type, err)) != AFP_OK ||
        shared_element(L, el, s, path, type, 0, NULL, &st, err))
        return st;
    if (strcmp(type, "text") == 0)
        return flow_text(L, el, s, path, err);
    if (strcmp(type, "table") == 0)
        return lay_table(L, el, s, path, err);
    if (strcmp(type, "page_break") == 0)
    {
        if (L->doc->count == 0 || L->y > L->top + 0.001)
            new_page(L);
        return AFP_OK;
    }
    if (strcmp(type, "spacer") == 0)
    {
        double h;

        if ((st = need_num(el, "height", &h, path, err)) != AFP_OK)
            return st;
        cur_page(L);
        L->y += h;
        if (L->y > L->bottom)
            new_page(L);
        return AFP_OK;
    }
    if (strcmp(type, "line") == 0)
    {
        const char *col;
        uint32_t rgb = L->base_rgb;
        double w;

        if ((st = lay_num(el, "width", 0.5, &w, path, err)) != AFP_OK ||
            (st = lay_str(el, "color", &col, path, err)) != AFP_OK ||
            (st = lay_color(col, &rgb, path, err)) != AFP_OK)
            return st;
        ensure_room(L, w + 4);
        L->y += 2;
        lay_rule(cur_page(L), L->left, L->y, L->right - L->left, w, 1, rgb);
        L->y += w + 2;
        return AFP_OK;
    }
    if (strcmp(type, "box") == 0)
    {
        double h;

        if ((st = need_num(el, "height", &h, path, err)) != AFP_OK)
            return st;
        ensure_room(L, h);
        st = draw_box(cur_page(L), el, L->left, L->y, L->right - L->left, h, L->base_rgb, path, err);
        L->y += h;
        return st;
    }
    return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s.type: unknown flow element '%s'", path, type);
}

/* One positioned element on page L->fixed_page. */
static afp_status
positioned_element(lay_ctx *L, const afp_json *el, const afp_scope *s, const char *path, afp_error *err)
{
    gen_page *p = L->fixed_page;
    const char *type;
    afp_status st;
    double x, y;

    if ((st = element_type(el, path, &type, err)) != AFP_OK ||
        shared_element(L, el, s, path, type, 1, p, &st, err))
        return st;
    if (strcmp(type, "line") == 0)
    {
        double x1, y1, x2, y2, w;
        const char *col;
        uint32_t rgb = L->base_rgb;

        if ((st = need_num(el, "x1", &x1, path, err)) != AFP_OK || (st = need_num(el, "y1", &y1, path, err)) != AFP_OK ||
            (st = need_num(el, "x2", &x2, path, err)) != AFP_OK || (st = need_num(el, "y2", &y2, path, err)) != AFP_OK ||
            (st = lay_num(el, "width", 0.5, &w, path, err)) != AFP_OK ||
            (st = lay_str(el, "color", &col, path, err)) != AFP_OK || (st = lay_color(col, &rgb, path, err)) != AFP_OK)
            return st;
        y1 += L->band_y;
        y2 += L->band_y;
        if (fabs(y1 - y2) < 0.01)
            lay_rule(p, x1 < x2 ? x1 : x2, y1 - w / 2, fabs(x2 - x1), w, 1, rgb);
        else if (fabs(x1 - x2) < 0.01)
            lay_rule(p, x1 - w / 2, y1 < y2 ? y1 : y2, fabs(y2 - y1), w, 0, rgb);
        else
            return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s: lines must be horizontal or vertical", path);
        return AFP_OK;
    }
    if ((st = need_num(el, "x", &x, path, err)) != AFP_OK || (st = need_num(el, "y", &y, path, err)) != AFP_OK)
        return st;
    y += L->band_y;
    if (strcmp(type, "box") == 0)
    {
        double w, h;

        if ((st = need_num(el, "width", &w, path, err)) != AFP_OK || (st = need_num(el, "height", &h, path, err)) != AFP_OK)
            return st;
        return draw_box(p, el, x, y, w, h, L->base_rgb, path, err);
    }
    if (strcmp(type, "overlay") == 0 || strcmp(type, "segment") == 0)
    {
        const char *name;
        gen_item *it;
        size_t i, n;

        if ((st = lay_str(el, "name", &name, path, err)) != AFP_OK)
            return st;
        n = name ? strlen(name) : 0;
        if (n == 0 || n > 8)
            return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s.name: expected a resource name of 1..8 characters",
                                 path);
        for (i = 0; i < n; i++)
            if (!((name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '$' ||
                  name[i] == '#' || name[i] == '@'))
                return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "",
                                     "%s.name: '%s' is not an AFP token name (A-Z 0-9 $ # @)", path, name);
        it = lay_add_item(p, type[0] == 'o' ? GI_OVERLAY : GI_SEGMENT);
        it->x = (int32_t) lround(x * PT);
        it->y = (int32_t) lround(y * PT);
        memcpy(it->name, name, n + 1);
        return AFP_OK;
    }
    if (strcmp(type, "text") == 0)
    {
        const char *tmpl, *col;
        gen_font f;
        uint32_t rgb = L->base_rgb;
        double lh, width;
        int align;
        afp_buf txt;
        lay_line *lines = NULL;
        size_t n, i;
        char *tp;

        if ((st = lay_str(el, "text", &tmpl, path, err)) != AFP_OK)
            return st;
        if (tmpl == NULL)
            return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s.text: missing", path);
        if ((st = lay_font(afp_json_get(el, "font"), &L->base_font, &f, path, err)) != AFP_OK ||
            (st = lay_str(el, "color", &col, path, err)) != AFP_OK || (st = lay_color(col, &rgb, path, err)) != AFP_OK ||
            (st = lay_num(el, "line_height", 1.2, &lh, path, err)) != AFP_OK ||
            (st = lay_align(el, &align, path, err)) != AFP_OK)
            return st;
        if ((st = lay_num(el, "width", (align == LAY_LEFT || align == LAY_JUSTIFY) ? L->page_w - L->margin_r - x : 0,
                          &width, path, err)) != AFP_OK)
            return st;
        afp_buf_init(&txt);
        tp = lay_path(path, "text", 0);
        st = afp_bind_text(tmpl, s, tp, &txt, err);
        if (st == AFP_OK)
        {
            double asc = afp_font_ascent(f.m) * f.size;
            double wrapw = width > 0 ? width : 1e9;

            n = lay_wrap((const char *) (txt.data ? txt.data : (uint8_t *) ""), txt.len, &f, wrapw, &lines);
            for (i = 0; i < n && st == AFP_OK; i++)
            {
                double lx = x, lw = width;

                /* without a width, right/center align to the x position */
                if (width <= 0 && align == LAY_RIGHT)
                    lx = x - lines[i].width, lw = lines[i].width;
                else if (width <= 0 && align == LAY_CENTER)
                    lx = x - lines[i].width / 2, lw = lines[i].width;
                st = lay_place_line(L, p, (const char *) txt.data, &lines[i], lx, y + asc + (double) i * f.size * lh,
                                    lw, width <= 0 ? LAY_LEFT : align, &f, rgb, tp, err);
            }
            afp_free(lines);
        }
        afp_free(tp);
        afp_buf_free(&txt);
        return st;
    }
    return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s.type: unknown positioned element '%s'", path, type);
}

/* Lays out an array of elements, flowing or positioned (onto L->fixed_page, y offset
 * L->band_y), checking for interrupts between elements. */
static afp_status
lay_elements(lay_ctx *L, const afp_json *arr, const afp_scope *s, const char *path, int positioned,
             afp_error *err)
{
    size_t i;
    afp_status st = AFP_OK;

    if (arr == NULL)
        return AFP_OK;
    if (arr->type != AFP_JSON_ARRAY)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s: expected an array of elements", path);
    if (++L->nest > MAX_NEST)
        return afp_error_set(err, AFP_ERR_LIMIT, -1, "", "%s: elements nested deeper than %d", path, MAX_NEST);
    for (i = 0; i < arr->count && st == AFP_OK; i++)
    {
        char *ep = lay_path(path, NULL, (long) i);

        if (afp_check_interrupt())
            st = afp_error_set(err, AFP_ERR_INTERRUPTED, -1, "", "generation interrupted");
        else if (positioned)
            st = positioned_element(L, arr->items[i], s, ep, err);
        else
            st = flow_element(L, arr->items[i], s, ep, err);
        afp_free(ep);
    }
    L->nest--;
    return st;
}

/* Lays out an array of flow elements. */
afp_status
lay_flow(lay_ctx *L, const afp_json *arr, const afp_scope *s, const char *path, afp_error *err)
{
    return lay_elements(L, arr, s, path, 0, err);
}

/* Lays out an array of positioned elements onto L->fixed_page (y offset L->band_y). */
afp_status
lay_positioned(lay_ctx *L, const afp_json *arr, const afp_scope *s, const char *path, afp_error *err)
{
    return lay_elements(L, arr, s, path, 1, err);
}

/* Sets up the loop scopes for one item: "<as>" = item, "loop" = {index, count}. */
void
lay_loop_init(lay_loop *lp, const afp_scope *parent, const char *as, const afp_json *item, size_t index,
              size_t count)
{
    char buf[64];
    afp_error e;

    snprintf(buf, sizeof(buf), "{\"index\": %zu, \"count\": %zu}", index + 1, count);
    lp->loop_value = NULL;
    afp_json_parse(buf, strlen(buf), &lp->loop_value, &e);
    memset(&lp->loop_scope, 0, sizeof(lp->loop_scope));
    lp->loop_scope.parent = parent;
    lp->loop_scope.name = "loop";
    lp->loop_scope.value = lp->loop_value;
    lp->loop_scope.page_number = parent ? parent->page_number : 0;
    lp->loop_scope.page_count = parent ? parent->page_count : 0;
    lp->item_scope = lp->loop_scope;
    lp->item_scope.parent = &lp->loop_scope;
    lp->item_scope.name = as;
    lp->item_scope.value = item;
}

/* Frees the loop scope's value. */
void
lay_loop_free(lay_loop *lp)
{
    afp_json_free(lp->loop_value);
}

/* Lays out the body of a document (flow) into L->doc; at least one page results. */
afp_status
lay_body(lay_ctx *L, const afp_json *body, const afp_scope *s, afp_error *err)
{
    afp_status st;

    L->y = L->top;
    st = lay_flow(L, body, s, "$.body", err);
    if (st == AFP_OK)
        cur_page(L);
    return st;
}
