/*
 * afp_convert_formmap.c — the inline form map of the AFP→PDF converter (modca-reference-10
 * Chapter 5: BFM, BDG … EDG, BMM … EMM; MDD, PGP, MMO, MMC, MCC; IMM in the document).
 *
 * The first form map of the file is read once (pass 1 records its BFM). Its document
 * environment group gives defaults that each medium map may override. IMM selects a medium map
 * by name (the first one before any IMM). For each page:
 *
 *   - medium overlays: the X'F2' keywords of the MMC that applies to the side (the MMC of the
 *     first MCC copy subgroup for the front, of the second for the back of a duplex pair; the
 *     first MMC without an MCC) name overlays through the MMO; each is rendered once into a
 *     form XObject (the same as IPO overlays, from the file or the resolver) and painted at the
 *     medium origin below the page content;
 *   - medium size and page position: when the MDD gives the medium size, the PDF page has the
 *     medium's size and the page is placed at the PGP offset and orientation (front or back
 *     repeating group); otherwise the PDF page keeps the page's size (PGD) and medium overlays
 *     are painted at the medium origin relative to the page;
 *   - duplex (MMC X'F4') alternates front and back sides; an IMM starts a new sheet.
 *
 * Copies (MCC) and duplex go into the catalog's /ViewerPreferences (/NumCopies, /Duplex) of
 * the first medium map used; pages are not multiplied unless {"copies": true}, which writes
 * each sheet (one page simplex, front and back duplex) as often as its copy count says (the
 * page objects share one content stream). N-up partitions, constant forms, text suppression,
 * finishing and media selection are not rendered.
 */
#include "afp_pdf_int.h"

#include <stdio.h>
#include <string.h>

#define FM_MAX_MAPS 256
#define FM_MAX_COPIES 1000

/* One MMC: its id, duplex keyword and medium overlay local ids. */
typedef struct fm_mmc {
    int id;
    int duplex;                /* X'F4' value, 0 = not given */
    uint8_t ovl[16];
    int novl;
} fm_mmc;

/* A medium map (or the document environment group's defaults). */
typedef struct fm_map {
    char name[9];
    int have_mdd;
    double mw, mh;             /* medium size in points, 0 = not given */
    double mux, muy;           /* points per medium unit */
    int npgp;
    double pgx[2], pgy[2];     /* page position, medium units: front, back */
    int pgrot[2];
    struct {
        uint8_t id;
        char name[9];
    } mmo[32];
    int nmmo;
    int64_t mmo_offset;
    fm_mmc mmc[8];
    int nmmc;
    int nsub;                  /* MCC copy subgroups */
    int sub_count[8], sub_mmc[8];
} fm_map;

/* The form map and the page/sheet state. */
typedef struct cv_formmap {
    fm_map deg;
    fm_map *maps;
    int nmaps;
    int cur;                   /* current medium map */
    int side;                  /* side of the next page: 0 front, 1 back */
    int catalog_set;           /* duplex/copies of the first map used are recorded */
    int cat_duplex, cat_copies;
    char warned[8][9];         /* unknown medium map names already reported */
    int nwarned;
    int pending;               /* duplex with {"copies": true}: the front page waiting */
    int pend_content;
    double pend_w, pend_h;
} cv_formmap;

/* Reads a medium map field into m. */
static void
fm_field(fm_map *m, const afp_sf *sf)
{
    const uint8_t *d = sf->data;
    size_t n = sf->data_len, pos;

    switch (sf->id)
    {
        case 0xD3A688:         /* MDD */
            if (n >= 12)
            {
                double ux = cv_unit_pt(d[0], cv_u16(d + 2)), uy = cv_unit_pt(d[1], cv_u16(d + 4));
                long xs = ((long) d[6] << 16) | (d[7] << 8) | d[8];
                long ys = ((long) d[9] << 16) | (d[10] << 8) | d[11];

                m->have_mdd = 1;
                m->mux = ux;
                m->muy = uy;
                m->mw = (xs > 0 && xs < 0xFFFFFF) ? xs * ux : 0;
                m->mh = (ys > 0 && ys < 0xFFFFFF) ? ys * uy : 0;
            }
            else if (n >= 6)
            {
                m->have_mdd = 1;
                m->mux = cv_unit_pt(d[0], cv_u16(d + 2));
                m->muy = cv_unit_pt(d[1], cv_u16(d + 4));
            }
            break;
        case 0xD3B1AF:         /* PGP format 2: X'01', groups RGLength XmOset YmOset PGorient SHside */
            m->npgp = 0;
            for (pos = 1; pos + 10 <= n && d[pos] >= 10 && pos + d[pos] <= n; pos += d[pos])
            {
                int side = (d[pos + 9] & 0x0F) == 1 ? 1 : 0;

                m->pgx[side] = cv_s24(d + pos + 1, NULL);
                m->pgy[side] = cv_s24(d + pos + 4, NULL);
                m->pgrot[side] = cv_degrees(cv_u16(d + pos + 7)) / 90 * 90;
                if (m->npgp == 0 && side == 0)
                {
                    m->pgx[1] = m->pgx[0];
                    m->pgy[1] = m->pgy[0];
                    m->pgrot[1] = m->pgrot[0];
                }
                m->npgp++;
            }
            break;
        case 0xD3ACAF:         /* PGP format 1: XmOset YmOset */
            if (n >= 6)
            {
                m->pgx[0] = m->pgx[1] = cv_s24(d, NULL);
                m->pgy[0] = m->pgy[1] = cv_s24(d + 3, NULL);
                m->pgrot[0] = m->pgrot[1] = 0;
                m->npgp = 1;
            }
            break;
        case 0xD3B1DF:         /* MMO: RGLength(1) reserved(3), groups OVLid Flags res(2) name(8) */
            if (n >= 4 && d[0] >= 12)
            {
                m->mmo_offset = sf->offset;
                for (pos = 4; pos + 12 <= n && m->nmmo < 32; pos += d[0])
                {
                    m->mmo[m->nmmo].id = d[pos];
                    cv_token(d + pos + 4, 8, m->mmo[m->nmmo].name);
                    m->nmmo++;
                }
            }
            break;
        case 0xD3A788:         /* MMC: id, X'FF', keyword pairs */
            if (n >= 2 && m->nmmc < 8)
            {
                fm_mmc *c = &m->mmc[m->nmmc++];

                memset(c, 0, sizeof(*c));
                c->id = d[0];
                for (pos = 2; pos + 2 <= n; pos += 2)
                {
                    if (d[pos] == 0xF2 && c->novl < 16)
                        c->ovl[c->novl++] = d[pos + 1];
                    else if (d[pos] == 0xF4)
                        c->duplex = d[pos + 1];
                }
            }
            break;
        case 0xD3A288:         /* MCC: groups Startnum(2) Stopnum(2) reserved MMCid */
            m->nsub = 0;
            for (pos = 0; pos + 6 <= n && m->nsub < 8; pos += 6)
            {
                long start = (long) cv_u16(d + pos), stop = (long) cv_u16(d + pos + 2);

                m->sub_count[m->nsub] = stop >= start ? (int) (stop - start + 1) : 1;
                m->sub_mmc[m->nsub] = d[pos + 5];
                m->nsub++;
            }
            break;
        default:
            break;
    }
}

/* Reads the form map at ctx->fm_offset (the first BFM of the file, if any). */
afp_status
cv_formmap_read(cv_ctx *ctx)
{
    afp_reader r;
    afp_sf sf;
    int rc, capmaps = 0;
    fm_map *m = NULL;
    cv_formmap *fm;

    if (ctx->fm_offset < 0 || ctx->fm)
        return AFP_OK;
    fm = afp_alloc(sizeof(*fm));
    memset(fm, 0, sizeof(*fm));
    ctx->fm = fm;
    afp_reader_init(&r, ctx->buf, ctx->len);
    r.pos = (size_t) ctx->fm_offset;
    while ((rc = afp_reader_next(&r, &sf, ctx->err)) == 1)
    {
        if (sf.id == 0xD3A9CD)                 /* EFM */
            break;
        if (sf.id == 0xD3A8C4)                 /* BDG */
            m = &fm->deg;
        else if (sf.id == 0xD3A8CC && fm->nmaps < FM_MAX_MAPS)     /* BMM */
        {
            if (fm->nmaps == capmaps)
            {
                capmaps = capmaps ? capmaps * 2 : 4;
                fm->maps = afp_realloc(fm->maps, (size_t) capmaps * sizeof(fm_map));
            }
            m = &fm->maps[fm->nmaps++];
            memset(m, 0, sizeof(*m));
            cv_token(sf.data, sf.data_len, m->name);
        }
        else if (sf.id == 0xD3A9C4 || sf.id == 0xD3A9CC)           /* EDG, EMM */
            m = NULL;
        else if (m)
            fm_field(m, &sf);
    }
    return rc < 0 ? ctx->err->status : AFP_OK;
}

/* The current medium map, NULL without a form map. */
static fm_map *
cur_map(cv_formmap *fm)
{
    if (fm == NULL)
        return NULL;
    if (fm->nmaps == 0)
        return &fm->deg;
    return &fm->maps[fm->cur >= 0 && fm->cur < fm->nmaps ? fm->cur : 0];
}

/* The MMC with id, in the map or the defaults; NULL if none. */
static const fm_mmc *
find_mmc(const cv_formmap *fm, const fm_map *m, int id)
{
    int i;

    for (i = 0; i < m->nmmc; i++)
        if (m->mmc[i].id == id)
            return &m->mmc[i];
    for (i = 0; i < fm->deg.nmmc; i++)
        if (fm->deg.mmc[i].id == id)
            return &fm->deg.mmc[i];
    return NULL;
}

/* The MMC that applies to a side of the map (front: first copy subgroup, back: second of a
 * duplex pair); the first MMC without an MCC. */
static const fm_mmc *
side_mmc(const cv_formmap *fm, const fm_map *m, int side)
{
    const fm_mmc *front;

    if (m->nsub == 0)
        return m->nmmc ? &m->mmc[0] : fm->deg.nmmc ? &fm->deg.mmc[0] : NULL;
    front = find_mmc(fm, m, m->sub_mmc[0]);
    if (side == 1 && m->nsub >= 2 && front && (front->duplex == 2 || front->duplex == 3))
        return find_mmc(fm, m, m->sub_mmc[1]);
    return front;
}

/* Duplex keyword of a map (0 not given, 1 simplex, 2 normal, 3 tumble). */
static int
map_duplex(const cv_formmap *fm, const fm_map *m)
{
    const fm_mmc *c = side_mmc(fm, m, 0);

    return c ? c->duplex : 0;
}

/* Copies of each sheet: the copy counts of the front copy subgroups. */
static int
map_copies(const cv_formmap *fm, const fm_map *m)
{
    int i, total = 0;

    if (m->nsub == 0)
        return 1;
    for (i = 0; i < m->nsub; i++)
    {
        const fm_mmc *c = find_mmc(fm, m, m->sub_mmc[i]);

        total += m->sub_count[i];
        if (c && (c->duplex == 2 || c->duplex == 3))
            i++;               /* its pair: the back sides of the same copies */
    }
    return total > 0 ? total : 1;
}

/* Writes one page object with the given content stream and media box. */
static void
write_page(cv_ctx *ctx, int content, double w, double h)
{
    int page = pdfw_alloc(&ctx->w);
    afp_buf b;

    afp_buf_init(&b);
    afp_buf_printf(&b, "<< /Type /Page /Parent %d 0 R /MediaBox [0 0 ", ctx->pages_obj);
    pdf_num(&b, w);
    afp_buf_putc(&b, ' ');
    pdf_num(&b, h);
    afp_buf_printf(&b, "] /Resources %d 0 R /Contents %d 0 R >>", ctx->resources_obj, content);
    pdfw_begin(&ctx->w, page);
    pdfw_append(&ctx->w, b.data, b.len);
    pdfw_end(&ctx->w);
    afp_buf_free(&b);
    ctx->pages = afp_text_grow(ctx->pages, &ctx->cappages, ctx->npages + 1, sizeof(int));
    ctx->pages[ctx->npages++] = page;
}

/* The copy count to write pages for ({"copies": true}), capped with a warning. */
static int
page_copies(cv_ctx *ctx, const fm_map *m)
{
    int c;

    if (!ctx->opts->copies_pages || ctx->fm == NULL)
        return 1;
    c = map_copies(ctx->fm, m);
    if (c > FM_MAX_COPIES)
    {
        cv_warn(ctx, "medium map %s asks for %d copies; %d are written", m->name, c,
                FM_MAX_COPIES);
        c = FM_MAX_COPIES;
    }
    return c;
}

/* Writes the copies of a front page still waiting for its back side. */
static void
flush_pending(cv_ctx *ctx)
{
    cv_formmap *fm = ctx->fm;
    int k, n;

    if (fm == NULL || !fm->pending)
        return;
    n = page_copies(ctx, cur_map(fm));
    for (k = 1; k < n; k++)
        write_page(ctx, fm->pend_content, fm->pend_w, fm->pend_h);
    fm->pending = 0;
}

/* IMM: selects the medium map by name and starts a new sheet. */
void
cv_formmap_imm(cv_ctx *ctx, const afp_sf *sf)
{
    cv_formmap *fm = ctx->fm;
    char name[9];
    int i;

    if (fm == NULL || sf->data_len < 8)
        return;
    flush_pending(ctx);
    fm->side = 0;
    cv_token(sf->data, 8, name);
    for (i = 0; i < fm->nmaps; i++)
        if (strcmp(fm->maps[i].name, name) == 0)
        {
            fm->cur = i;
            return;
        }
    for (i = 0; i < fm->nwarned; i++)
        if (strcmp(fm->warned[i], name) == 0)
            return;            /* reported once per name (batches invoke a map per document) */
    if (fm->nwarned < 8)
        memcpy(fm->warned[fm->nwarned++], name, sizeof(name));
    else
        return;
    cv_warn(ctx, "at byte offset %lld in IMM: medium map %s is not in the form map; the current "
            "one stays", (long long) sf->offset, name);
}

/* Paints the medium overlays of a side at (x, y) into head. */
static afp_status
medium_overlays(cv_ctx *ctx, const fm_map *m, const fm_mmc *c, double x, double y, afp_buf *head)
{
    int i, k;
    afp_status st = AFP_OK;

    for (i = 0; c && i < c->novl && st == AFP_OK; i++)
    {
        const char *name = NULL;
        int64_t off = m->nmmo ? m->mmo_offset : ctx->fm->deg.mmo_offset;
        cv_res *res;

        for (k = 0; k < m->nmmo && !name; k++)
            if (m->mmo[k].id == c->ovl[i])
                name = m->mmo[k].name;
        for (k = 0; k < ctx->fm->deg.nmmo && !name; k++)
            if (ctx->fm->deg.mmo[k].id == c->ovl[i])
                name = ctx->fm->deg.mmo[k].name;
        if (name == NULL)
        {
            cv_warn(ctx, "medium map %s: medium overlay local id %d has no MMO entry", m->name,
                    c->ovl[i]);
            continue;
        }
        res = cv_lookup(ctx, "overlay", name, NULL, 0, 0xDF, &st);
        if (st != AFP_OK)
            break;
        if (res == NULL)
        {
            afp_sf sf;
            cv_canvas tmp, *outer = ctx->cv;

            memset(&sf, 0, sizeof(sf));
            sf.id = 0xD3B1DF;
            sf.offset = off;
            cv_canvas_init(&tmp);
            ctx->cv = &tmp;
            st = cv_missing(ctx, &sf, "medium overlay", name, x, y, 0, 0);
            ctx->cv = outer;
            afp_buf_append(head, tmp.cs.data, tmp.cs.len);
            cv_canvas_free(&tmp);
            continue;
        }
        if (res->busy)
            continue;
        if ((st = cv_overlay_form(ctx, res)) != AFP_OK || res->obj == 0)
            break;
        afp_buf_printf(head, "q 1 0 0 1 ");
        pdf_num(head, x);
        afp_buf_putc(head, ' ');
        pdf_num(head, y);
        afp_buf_printf(head, " cm /%s Do Q\n", res->img.name);
    }
    return st;
}

/* After a page was walked: medium overlays and page position into head, the media box size. */
afp_status
cv_formmap_page(cv_ctx *ctx, const cv_space *sp, afp_buf *head, double *mw, double *mh)
{
    cv_formmap *fm = ctx->fm;
    fm_map *m = cur_map(fm);
    const fm_mmc *c;
    double mux, muy, px, py, mediumw, mediumh;
    int side, rot, duplex;
    afp_status st;

    *mw = sp->w;
    *mh = sp->h;
    if (m == NULL)
        return AFP_OK;
    side = fm->side;
    duplex = map_duplex(fm, m);
    if (!fm->catalog_set)
    {
        fm->catalog_set = 1;
        fm->cat_duplex = duplex;
        fm->cat_copies = map_copies(fm, m);
    }
    if (duplex == 2 || duplex == 3)
        fm->side = !fm->side;
    c = side_mmc(fm, m, side);
    mux = m->have_mdd ? m->mux : fm->deg.have_mdd ? fm->deg.mux : sp->upx;
    muy = m->have_mdd ? m->muy : fm->deg.have_mdd ? fm->deg.muy : sp->upy;
    mediumw = m->have_mdd ? m->mw : fm->deg.mw;
    mediumh = m->have_mdd ? m->mh : fm->deg.mh;
    if (m->npgp)
        px = m->pgx[side] * mux, py = m->pgy[side] * muy, rot = m->pgrot[side];
    else if (fm->deg.npgp)
        px = fm->deg.pgx[side] * mux, py = fm->deg.pgy[side] * muy, rot = fm->deg.pgrot[side];
    else
        px = py = 0, rot = 0;
    if (mediumw > 0 && mediumh > 0 && mediumw < 200 * 72 && mediumh < 200 * 72)
    {
        /* the PDF page is the medium: overlays at its origin, the page at its position */
        *mw = mediumw;
        *mh = mediumh;
        st = medium_overlays(ctx, m, c, 0, 0, head);
        if (st == AFP_OK && (px != 0 || py != 0 || rot != 0))
        {
            afp_buf_printf(head, "%d %d %d %d ", rot == 0 ? 1 : rot == 180 ? -1 : 0,
                           rot == 90 ? 1 : rot == 270 ? -1 : 0, rot == 90 ? -1 : rot == 270 ? 1 : 0,
                           rot == 0 ? 1 : rot == 180 ? -1 : 0);
            pdf_num(head, px);
            afp_buf_putc(head, ' ');
            pdf_num(head, py);
            afp_buf_printf(head, " cm\n");
        }
        return st;
    }
    /* medium size unknown: the PDF page is the page; the medium origin relative to it */
    return medium_overlays(ctx, m, c, -px, -py, head);
}

/* Called after a page object was written: more copies of the sheet ({"copies": true}). */
void
cv_formmap_page_done(cv_ctx *ctx, int content, double w, double h)
{
    cv_formmap *fm = ctx->fm;
    fm_map *m = cur_map(fm);
    int n, k, duplex;

    if (m == NULL || (n = page_copies(ctx, m)) <= 1)
        return;
    duplex = map_duplex(fm, m);
    if (duplex == 2 || duplex == 3)
    {
        if (!fm->pending)
        {
            /* a front side: wait for the back side */
            fm->pending = 1;
            fm->pend_content = content;
            fm->pend_w = w;
            fm->pend_h = h;
            return;
        }
        for (k = 1; k < n; k++)
        {
            write_page(ctx, fm->pend_content, fm->pend_w, fm->pend_h);
            write_page(ctx, content, w, h);
        }
        fm->pending = 0;
        return;
    }
    for (k = 1; k < n; k++)
        write_page(ctx, content, w, h);
}

/* Before the page tree is written: the copies of a front page without its back. */
void
cv_formmap_finish(cv_ctx *ctx)
{
    flush_pending(ctx);
}

/* Catalog entries: /ViewerPreferences with /Duplex and /NumCopies of the first map used. */
void
cv_formmap_catalog(cv_ctx *ctx, afp_buf *b)
{
    cv_formmap *fm = ctx->fm;
    int copies;

    if (fm == NULL || !fm->catalog_set)
        return;
    copies = ctx->opts->copies_pages ? 1 : fm->cat_copies;
    if (fm->cat_duplex < 1 || fm->cat_duplex > 3)
    {
        if (copies <= 1)
            return;
        afp_buf_printf(b, " /ViewerPreferences << /NumCopies %d >>", copies);
        return;
    }
    afp_buf_printf(b, " /ViewerPreferences << /Duplex /%s",
                   fm->cat_duplex == 1 ? "Simplex" : fm->cat_duplex == 2 ? "DuplexFlipLongEdge"
                                                                         : "DuplexFlipShortEdge");
    if (copies > 1)
        afp_buf_printf(b, " /NumCopies %d", copies);
    afp_buf_printf(b, " >>");
}

/* The number of copies the first medium map asks for (1 without a form map). */
int
cv_formmap_copies(cv_ctx *ctx)
{
    fm_map *m = cur_map(ctx->fm);

    return m ? map_copies(ctx->fm, m) : 1;
}

/* Releases the form map. */
void
cv_formmap_free(cv_ctx *ctx)
{
    if (ctx->fm)
    {
        afp_free(ctx->fm->maps);
        afp_free(ctx->fm);
        ctx->fm = NULL;
    }
}
