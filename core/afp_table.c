/*
 * afp_table.c — table layout for the generator: column widths, cells wrapped with real glyph
 * metrics, rows kept whole across page breaks, the header row repeated on every page the table
 * continues on, shading and grid rules (PTOCA rules).
 */
#include "afp_layout.h"

#include <math.h>
#include <string.h>

#define MAX_COLS 64

typedef struct tcol {
    const char *header;         /* template text */
    const char *value;
    double width;
    int align;
} tcol;

typedef struct tcell {
    afp_buf text;
    lay_line *lines;
    size_t nlines;
} tcell;

typedef struct ttable {
    tcol cols[MAX_COLS];
    size_t ncols;
    gen_font font, hfont;
    double pad, bw, total_w;
    int borders;                /* 0 none, 1 grid, 2 horizontal */
    int has_header;
    int has_hshade, has_shade;
    uint32_t hshade, shade, rgb;
    const char *path;
} ttable;

/* Frees the cells of a measured row. */
static void
cells_free(tcell *c, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
    {
        afp_buf_free(&c[i].text);
        afp_free(c[i].lines);
    }
}

/* Binds and wraps the cells of one row; returns its height in points via *h. texts[i] are
 * template strings (NULL = empty cell). */
static afp_status
measure_row(const ttable *t, const char *const *texts, const gen_font *f, const afp_scope *s, const char *rpath,
            tcell *cells, double *h, afp_error *err)
{
    size_t i, maxl = 1;
    afp_status st = AFP_OK;

    for (i = 0; i < t->ncols; i++)
    {
        afp_buf_init(&cells[i].text);
        cells[i].lines = NULL;
        cells[i].nlines = 0;
    }
    for (i = 0; i < t->ncols && st == AFP_OK; i++)
    {
        char *cp = lay_path(rpath, NULL, (long) i);

        if (texts[i])
            st = afp_bind_text(texts[i], s, cp, &cells[i].text, err);
        if (st == AFP_OK)
        {
            cells[i].nlines = lay_wrap(cells[i].text.data ? (const char *) cells[i].text.data : "", cells[i].text.len,
                                       f, t->cols[i].width - 2 * t->pad, &cells[i].lines);
            if (cells[i].nlines > maxl)
                maxl = cells[i].nlines;
        }
        afp_free(cp);
    }
    *h = (double) maxl * f->size * 1.2 + 2 * t->pad;
    return st;
}

/* Draws a measured row with its top at L->y on the current page. */
static afp_status
draw_row(lay_ctx *L, const ttable *t, tcell *cells, const gen_font *f, double h, int shaded, uint32_t shade,
         const char *rpath, afp_error *err)
{
    gen_page *p = lay_cur_page(L);
    double x = L->left, y = L->y, asc = afp_font_ascent(f->m) * f->size;
    size_t i, j;
    afp_status st = AFP_OK;

    if (shaded)
        lay_rule(p, x, y, t->total_w, h, 1, shade);
    for (i = 0; i < t->ncols && st == AFP_OK; i++)
    {
        for (j = 0; j < cells[i].nlines && st == AFP_OK; j++)
            st = lay_place_line(L, p, (const char *) cells[i].text.data, &cells[i].lines[j], x + t->pad,
                                y + t->pad + asc + (double) j * f->size * 1.2, t->cols[i].width - 2 * t->pad,
                                t->cols[i].align == LAY_JUSTIFY ? LAY_LEFT : t->cols[i].align, f, t->rgb, rpath,
                                err);
        x += t->cols[i].width;
    }
    if (t->borders)
    {
        lay_rule(p, L->left, y, t->total_w, t->bw, 1, t->rgb);
        lay_rule(p, L->left, y + h - t->bw, t->total_w, t->bw, 1, t->rgb);
        if (t->borders == 1)
        {
            x = L->left;
            for (i = 0; i <= t->ncols; i++)
            {
                double vx = i == t->ncols ? L->left + t->total_w - t->bw : x;

                lay_rule(p, vx, y, h, t->bw, 0, t->rgb);
                if (i < t->ncols)
                    x += t->cols[i].width;
            }
        }
    }
    L->y += h;
    return st;
}

/* Draws the header row (measured each time: it may use page-independent data only). */
static afp_status
draw_header(lay_ctx *L, const ttable *t, const afp_scope *s, afp_error *err)
{
    const char *texts[MAX_COLS];
    tcell cells[MAX_COLS];
    double h;
    size_t i;
    afp_status st;
    char *hp = lay_path(t->path, "columns", 0);

    for (i = 0; i < t->ncols; i++)
        texts[i] = t->cols[i].header;
    st = measure_row(t, texts, &t->hfont, s, hp, cells, &h, err);
    if (st == AFP_OK)
        st = draw_row(L, t, cells, &t->hfont, h, t->has_hshade, t->hshade, hp, err);
    cells_free(cells, t->ncols);
    afp_free(hp);
    return st;
}

/* Height of the header row (0 without header). */
static afp_status
header_height(const ttable *t, const afp_scope *s, double *h, afp_error *err)
{
    const char *texts[MAX_COLS];
    tcell cells[MAX_COLS];
    size_t i;
    afp_status st;

    *h = 0;
    if (!t->has_header)
        return AFP_OK;
    for (i = 0; i < t->ncols; i++)
        texts[i] = t->cols[i].header;
    st = measure_row(t, texts, &t->hfont, s, t->path, cells, h, err);
    cells_free(cells, t->ncols);
    return st;
}

/* Places one body row: breaks the page (repeating the header) when it does not fit. */
static afp_status
place_row(lay_ctx *L, const ttable *t, const char *const *texts, const afp_scope *s, double hh, int shaded,
          const char *rpath, size_t rowno, afp_error *err)
{
    tcell cells[MAX_COLS];
    double h;
    afp_status st = measure_row(t, texts, &t->font, s, rpath, cells, &h, err);

    if (st == AFP_OK && h + hh > L->bottom - L->top + 0.001)
        st = afp_error_set(err, AFP_ERR_ARGUMENT, -1, "",
                           "%s: table row %zu is %.1f pt tall and cannot fit on a page (body height %.1f pt)",
                           t->path, rowno, h + hh, L->bottom - L->top);
    if (st == AFP_OK && L->y + h > L->bottom + 0.001)
    {
        lay_new_page(L);
        if (t->has_header)
            st = draw_header(L, t, s, err);
    }
    if (st == AFP_OK)
        st = draw_row(L, t, cells, &t->font, h, shaded, t->shade, rpath, err);
    cells_free(cells, t->ncols);
    return st;
}

/* Reads the columns of a table. */
static afp_status
read_columns(lay_ctx *L, ttable *t, const afp_json *el, const char *path, afp_error *err)
{
    const afp_json *cols = afp_json_get(el, "columns");
    double fixed = 0;
    size_t i, unsized = 0;
    afp_status st;

    if (cols == NULL || cols->type != AFP_JSON_ARRAY || cols->count == 0)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s.columns: expected a non-empty array", path);
    if (cols->count > MAX_COLS)
        return afp_error_set(err, AFP_ERR_LIMIT, -1, "", "%s.columns: more than %d columns", path, MAX_COLS);
    t->ncols = cols->count;
    for (i = 0; i < t->ncols; i++)
    {
        char *cp = lay_path(path, "columns", 0);
        char *ip = lay_path(cp, NULL, (long) i);
        const afp_json *c = cols->items[i];

        afp_free(cp);
        if (c->type != AFP_JSON_OBJECT)
            st = afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s: expected a column object", ip);
        else if ((st = lay_str(c, "header", &t->cols[i].header, ip, err)) == AFP_OK &&
                 (st = lay_str(c, "value", &t->cols[i].value, ip, err)) == AFP_OK &&
                 (st = lay_num(c, "width", 0, &t->cols[i].width, ip, err)) == AFP_OK)
            st = lay_align(c, &t->cols[i].align, ip, err);
        afp_free(ip);
        if (st != AFP_OK)
            return st;
        if (t->cols[i].width > 0)
            fixed += t->cols[i].width;
        else
            unsized++;
    }
    for (i = 0; i < t->ncols; i++)
        if (t->cols[i].width <= 0)
            t->cols[i].width = (L->right - L->left - fixed) / (double) unsized;
    t->total_w = 0;
    for (i = 0; i < t->ncols; i++)
    {
        if (t->cols[i].width <= 2 * t->pad + 1)
            return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s.columns[%zu]: column is too narrow (%.1f pt)",
                                 path, i, t->cols[i].width);
        t->total_w += t->cols[i].width;
    }
    if (t->total_w > L->right - L->left + 0.5)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s.columns: %.1f pt of columns exceed the body width %.1f pt",
                             path, t->total_w, L->right - L->left);
    return AFP_OK;
}

/* Lays out a table element in the flow. */
afp_status
lay_table(lay_ctx *L, const afp_json *el, const afp_scope *s, const char *path, afp_error *err)
{
    ttable t;
    const char *rows_path, *as, *bstr, *hs, *sh;
    const afp_json *rows, *hdr = afp_json_get(el, "header"), *foot = afp_json_get(el, "footer_rows");
    gen_font hbase;
    double hh;
    size_t i;
    afp_status st;

    memset(&t, 0, sizeof(t));
    t.path = path;
    t.rgb = L->base_rgb;
    if ((st = lay_str(el, "rows", &rows_path, path, err)) != AFP_OK || (st = lay_str(el, "as", &as, path, err)) != AFP_OK ||
        (st = lay_str(el, "borders", &bstr, path, err)) != AFP_OK ||
        (st = lay_str(el, "header_shading", &hs, path, err)) != AFP_OK ||
        (st = lay_str(el, "shading", &sh, path, err)) != AFP_OK ||
        (st = lay_num(el, "padding", 3, &t.pad, path, err)) != AFP_OK ||
        (st = lay_num(el, "border_width", 0.5, &t.bw, path, err)) != AFP_OK ||
        (st = lay_font(afp_json_get(el, "font"), &L->base_font, &t.font, path, err)) != AFP_OK)
        return st;
    hbase = t.font;
    hbase.style = (afp_style) (hbase.style | AFP_STYLE_BOLD);
    if ((st = afp_font_load(hbase.family, hbase.style, &hbase.m, err)) != AFP_OK ||
        (st = lay_font(afp_json_get(el, "header_font"), &hbase, &t.hfont, path, err)) != AFP_OK)
        return st;
    t.borders = 1;
    if (bstr && strcmp(bstr, "none") == 0)
        t.borders = 0;
    else if (bstr && strcmp(bstr, "horizontal") == 0)
        t.borders = 2;
    else if (bstr && strcmp(bstr, "grid") != 0)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s.borders: expected none, grid or horizontal", path);
    t.has_hshade = hs != NULL;
    t.has_shade = sh != NULL;
    if ((st = lay_color(hs, &t.hshade, path, err)) != AFP_OK || (st = lay_color(sh, &t.shade, path, err)) != AFP_OK)
        return st;
    t.has_header = hdr == NULL || hdr->type == AFP_JSON_TRUE;
    if ((st = read_columns(L, &t, el, path, err)) != AFP_OK)
        return st;
    if (rows_path == NULL)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s.rows: missing", path);
    rows = afp_scope_lookup(s, rows_path);
    if (rows == NULL)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s.rows: data path %s not found", path, rows_path);
    if (rows->type != AFP_JSON_ARRAY)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s.rows: data path %s is not an array", path, rows_path);
    if ((st = header_height(&t, s, &hh, err)) != AFP_OK)
        return st;

    /* header together with at least the first row */
    lay_cur_page(L);
    if (t.has_header)
    {
        if (L->y + hh > L->bottom + 0.001)
            lay_new_page(L);
        if ((st = draw_header(L, &t, s, err)) != AFP_OK)
            return st;
    }
    for (i = 0; i < rows->count && st == AFP_OK; i++)
    {
        const char *texts[MAX_COLS];
        lay_loop loop;
        size_t c;
        char *rp = lay_path(rows_path, NULL, (long) i);
        char *tp = lay_path(path, "rows", 0);

        afp_free(rp);
        rp = lay_path(tp, NULL, (long) i);
        afp_free(tp);
        for (c = 0; c < t.ncols; c++)
            texts[c] = t.cols[c].value;
        lay_loop_init(&loop, s, as ? as : "item", rows->items[i], i, rows->count);
        if (afp_check_interrupt())
            st = afp_error_set(err, AFP_ERR_INTERRUPTED, -1, "", "generation interrupted");
        else
            st = place_row(L, &t, texts, &loop.item_scope, t.has_header ? hh : 0, t.has_shade && (i % 2 == 1), rp,
                           i + 1, err);
        lay_loop_free(&loop);
        afp_free(rp);
    }
    if (st == AFP_OK && foot)
    {
        if (foot->type != AFP_JSON_ARRAY)
            return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s.footer_rows: expected an array of rows", path);
        for (i = 0; i < foot->count && st == AFP_OK; i++)
        {
            const afp_json *row = foot->items[i];
            const char *texts[MAX_COLS];
            size_t c;
            char *fp = lay_path(path, "footer_rows", 0);
            char *rp = lay_path(fp, NULL, (long) i);

            afp_free(fp);
            if (row->type != AFP_JSON_ARRAY || row->count > t.ncols)
                st = afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s: expected an array of at most %zu cells", rp,
                                   t.ncols);
            for (c = 0; c < t.ncols && st == AFP_OK; c++)
            {
                texts[c] = NULL;
                if (c < row->count && row->items[c]->type == AFP_JSON_STRING)
                    texts[c] = row->items[c]->string;
                else if (c < row->count)
                    st = afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s[%zu]: expected a string", rp, c);
            }
            if (st == AFP_OK)
                st = place_row(L, &t, texts, s, t.has_header ? hh : 0, 0, rp, rows->count + i + 1, err);
            afp_free(rp);
        }
    }
    return st;
}
