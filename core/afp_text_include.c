/*
 * afp_text_include.c — text of overlays (IPO → BMO…EMO) and page segments (IPS → BPS…EPS)
 * included by a page, for text extraction (afp_text.c).
 *
 * The resources are looked up by name among the BMO/BPS objects of the file itself (inline
 * resource groups BRG…ERG, or objects outside any page), matching the token name of the Begin
 * field or the name of the enclosing BRS. Text extraction has no external resource resolver: an
 * include naming a resource the file lacks contributes no text, like an unresolvable font falls
 * back to CP500 (with a warning through the caller's warning callback, when one is set).
 *
 * An included resource's text is decoded at the include's position: the IPO/IPS offsets (units
 * of the including page's or overlay's PGD, 1440 per inch when it has none) are added to the
 * positions of its runs, so that reading order puts the text where it is printed. The overlay's
 * own environment (MCF/MDR, PGD, PTD of its AEG) applies inside it; a page segment uses the fonts and
 * text descriptor of the including page. Overlay rotation (IPO X'2D' bytes 14-15) is not applied.
 * An include loop (a resource including itself, directly or through others) is a format error
 * at the offset of the include; nesting deeper than TEXT_MAX_INCLUDE is a limit error, and so is
 * reading more than 64 times the input size in includes (repeated or nested includes).
 */
#include "afp_text_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define TEXT_MAX_INCLUDE 16
#define TEXT_INC_MAX_DEPTH 256

/* An overlay or page segment found in the file. */
typedef struct text_res {
    char name[9];               /* token name of the Begin field */
    char alias[9];              /* name of the enclosing BRS, "" if none */
    uint8_t cat;                /* 0xDF overlay, 0x5F page segment */
    size_t start;               /* offset of its Begin field */
    int busy;                   /* being extracted (include loops) */
} text_res;

/* The resources of the file (built on the first include). */
typedef struct afp_text_res_index {
    text_res *items;
    size_t n, cap;
} afp_text_res_index;

/* State of the including space that an include replaces and restores (afp_text_int.h). */
struct afp_text_saved {
    afp_font_ref fonts[256], saved_fonts[256];
    int obj_fonts;
    const uint8_t *page_ptd, *obj_ptd;
    size_t page_ptd_len, obj_ptd_len;
    uint32_t page_ptd_id, obj_ptd_id;
    double org_x, org_y, pgd_upi_x, pgd_upi_y;
};

/* Decodes an 8-byte token name into ASCII (X'FFFF…' → ""). */
static void
res_name(const uint8_t *p, size_t n, char out[9])
{
    if (n > 8)
        n = 8;
    if (n < 8 || (p[0] == 0xFF && p[1] == 0xFF))
    {
        out[0] = '\0';
        return;
    }
    afp_token_name(p, n, out);
}

/* Indexes every BMO and BPS of the file (with the name of an enclosing BRS). Framing errors end
 * the scan: the walk of the pages reports them. */
static void
build_index(afp_text_ctx *ctx)
{
    afp_text_res_index *ix = afp_alloc(sizeof(*ix));
    afp_reader r;
    afp_sf sf;
    afp_error ignored;
    char brs[9] = "";

    memset(ix, 0, sizeof(*ix));
    ctx->res_index = ix;
    /* repeated and nested includes re-read their resources: bound the total (as repeat strings) */
    ctx->inc_budget = (int64_t) (ctx->len > ((size_t) 1 << 36) ? ((size_t) 1 << 36) : ctx->len) * 64
                      + ((int64_t) 1 << 20);
    afp_error_clear(&ignored);
    afp_reader_init(&r, ctx->buf, ctx->len);
    while (afp_reader_next(&r, &sf, &ignored) == 1)
    {
        if (sf.id == 0xD3A8CE)                  /* BRS */
            res_name(sf.data, sf.data_len, brs);
        else if (sf.id == 0xD3A9CE)             /* ERS */
            brs[0] = '\0';
        else if (sf.id == 0xD3A8DF || sf.id == 0xD3A85F)    /* BMO, BPS */
        {
            text_res *t;

            ix->items = afp_text_grow(ix->items, &ix->cap, ix->n + 1, sizeof(text_res));
            t = &ix->items[ix->n++];
            memset(t, 0, sizeof(*t));
            res_name(sf.data, sf.data_len, t->name);
            memcpy(t->alias, brs, sizeof(brs));
            t->cat = afp_sf_category(sf.id);
            t->start = (size_t) sf.offset;
        }
    }
}

/* The resource of category cat named name, or NULL (the first match in file order). */
static text_res *
find_res(afp_text_ctx *ctx, uint8_t cat, const char *name)
{
    afp_text_res_index *ix;
    size_t i;

    if (ctx->res_index == NULL)
        build_index(ctx);
    ix = ctx->res_index;
    for (i = 0; i < ix->n; i++)
        if (ix->items[i].cat == cat && name[0] &&
            (strcmp(ix->items[i].name, name) == 0 || strcmp(ix->items[i].alias, name) == 0))
            return &ix->items[i];
    return NULL;
}

/* Releases the resource index of a context. */
void
afp_text_include_free(afp_text_ctx *ctx)
{
    afp_text_res_index *ix = ctx->res_index;

    if (ix == NULL)
        return;
    afp_free(ix->items);
    afp_free(ix);
    ctx->res_index = NULL;
}

/* Units per inch of a descriptor axis (base 0 = per 10 inches, 1 = per 10 cm); 0 if unusable. */
static double
axis_upi(uint8_t base, unsigned units)
{
    if (units == 0 || base > 1)
        return 0;
    return base == 0 ? units / 10.0 : units * 0.254;
}

/* Records the measurement units of a PGD (X'D3A6AF') of the current page or overlay. */
void
afp_text_set_pgd(afp_text_ctx *ctx, const uint8_t *d, size_t n)
{
    if (n < 6)
        return;
    ctx->pgd_upi_x = axis_upi(d[0], ((unsigned) d[2] << 8) | d[3]);
    ctx->pgd_upi_y = axis_upi(d[1], ((unsigned) d[4] << 8) | d[5]);
}

/* Reads the repeating group at *pos of MDR (X'D3ABC3') data d[0..n) into g and moves *pos past
 * it; 0 when no well-formed group is left. Triplets: FQN X'DE' (data-object font name), FQN
 * X'BE' of length 5 or X'24' (local ID), X'8B' data-object font descriptor (vertical size).
 * Shared by text extraction (below) and the PDF converter (afp_convert.c). */
int
afp_mdr_next(const uint8_t *d, size_t n, size_t *pos, afp_mdr_group *g)
{
    size_t rgl, q = 2;

    memset(g, 0, sizeof(*g));
    g->lid = -1;
    if (*pos + 2 > n)
        return 0;
    rgl = ((size_t) d[*pos] << 8) | d[*pos + 1];
    if (rgl < 2 || rgl > n - *pos)
        return 0;
    while (q + 2 <= rgl)
    {
        const uint8_t *t = d + *pos + q;
        size_t tl = t[0];

        if (tl < 2 || q + tl > rgl)
            break;
        if (t[1] == 0x02 && tl > 4 && t[2] == 0xDE)
        {
            g->name = t + 4;
            g->name_len = tl - 4;
        }
        else if (t[1] == 0x02 && tl == 5 && t[2] == 0xBE && g->lid < 0)
            g->lid = t[4];
        else if (t[1] == 0x24 && tl >= 4)
            g->lid = t[3];
        else if (t[1] == 0x8B && tl >= 6)
        {
            g->font = 1;
            g->vfs = (t[4] << 8) | t[5];
        }
        q += tl;
    }
    *pos += rgl;
    return 1;
}

/* MDR (X'D3ABC3') in an AEG or a text object's OEG: a repeating group with a data-object font
 * descriptor (X'8B') maps its local ID (X'24', or an FQN X'BE' of length 5) to a data-object
 * font (TrueType/OpenType), whose text is UTF-16BE. Other groups are ignored. */
void
afp_text_map_mdr(afp_text_ctx *ctx, const afp_sf *sf)
{
    afp_mdr_group g;
    size_t pos = 0;

    while (afp_mdr_next(sf->data, sf->data_len, &pos, &g))
        if (g.font && g.lid >= 0)
        {
            afp_font_ref *f = &ctx->fonts[g.lid];

            *f = ctx->deffont;
            f->dbcs = 1;
            f->fds_size20 = g.vfs > 0 ? g.vfs : 200;
            f->size10 = f->fds_size20 / 2;
        }
}

/* Text units per inch of the descriptor the pending text object uses (as afp_ptoca.c). */
static double
text_upi(const afp_text_ctx *ctx)
{
    const uint8_t *d = ctx->obj_ptd ? ctx->obj_ptd : ctx->page_ptd;
    size_t n = ctx->obj_ptd ? ctx->obj_ptd_len : ctx->page_ptd_len;
    int64_t upi;

    if (d == NULL || n < 4)
        return 1440;
    upi = d[0] == 0x01 ? (int64_t) (((unsigned) d[2] << 8) | d[3]) * 254 / 1000
                       : (int64_t) (((unsigned) d[2] << 8) | d[3]) / 10;
    return upi > 0 ? (double) upi : 1440;
}

/* Decodes the pending text object and moves its runs by the current include origin. */
static afp_status
flush_at_origin(afp_text_ctx *ctx, afp_error *err)
{
    size_t n0 = ctx->nruns, k;
    double upi = text_upi(ctx);
    int64_t dx = (int64_t) llround(ctx->org_x * upi), dy = (int64_t) llround(ctx->org_y * upi);
    afp_status st = afp_ptoca_flush(ctx, err);

    if (dx != 0 || dy != 0)
        for (k = n0; k < ctx->nruns; k++)
        {
            ctx->runs[k].x += dx;
            ctx->runs[k].xend += dx;
            ctx->runs[k].y += dy;
        }
    return st;
}

/* Walks the fields of a resource from its Begin field at res->start to its End: text objects,
 * the overlay's environment, nested includes. */
static afp_status
walk_resource(afp_text_ctx *ctx, const text_res *res, afp_error *err)
{
    afp_reader r;
    afp_sf sf;
    uint8_t stack[TEXT_INC_MAX_DEPTH];
    int depth = 0, rc, scope;
    afp_status st;

    afp_reader_init(&r, ctx->buf, ctx->len);
    r.pos = res->start;
    while ((rc = afp_reader_next(&r, &sf, err)) == 1)
    {
        uint8_t type = afp_sf_type(sf.id), cat = afp_sf_category(sf.id);

        ctx->inc_budget -= (int64_t) sf.length + 1;
        if (ctx->inc_budget < 0)
            return afp_error_set(err, AFP_ERR_LIMIT, sf.offset, afp_sf_abbr(sf.id),
                                 "included overlays and page segments read more than 64 times "
                                 "the input size");
        if ((++ctx->inc_fields & 4095) == 0 && afp_check_interrupt())
            return afp_error_set(err, AFP_ERR_INTERRUPTED, sf.offset, afp_sf_abbr(sf.id),
                                 "interrupted");
        if (type == AFP_SF_BEGIN)
        {
            if (depth >= TEXT_INC_MAX_DEPTH)
                return afp_error_set(err, AFP_ERR_LIMIT, sf.offset, afp_sf_abbr(sf.id),
                                     "Begin fields nested deeper than %d levels",
                                     TEXT_INC_MAX_DEPTH);
            stack[depth++] = cat;
            if (cat == 0x9B)
            {
                if ((st = flush_at_origin(ctx, err)) != AFP_OK)
                    return st;
                afp_text_end_object(ctx);   /* afp_text.c */
            }
            continue;
        }
        if (type == AFP_SF_END)
        {
            int k = afp_sf_open_level(stack, depth, cat);

            if (k < 0)
                continue;
            while (depth > k)
                if (stack[--depth] == 0x9B)
                {
                    if ((st = flush_at_origin(ctx, err)) != AFP_OK)
                        return st;
                    afp_text_end_object(ctx);   /* afp_text.c */
                }
            if (depth == 0)
                break;          /* the resource's End */
            continue;
        }
        if (depth == 0)
            break;              /* not inside the resource (damaged index entry) */
        if (sf.id == 0xD3EE9B)
        {
            afp_ptoca_append(ctx, &sf);
            continue;
        }
        if (sf.id == 0xD3AFD8 || sf.id == 0xD3AF5F)
        {
            if ((st = afp_text_include(ctx, &sf, err)) != AFP_OK)
                return st;
            continue;
        }
        scope = afp_text_env_scope(stack, depth);   /* afp_text.c */
        if (scope != 0)
            afp_text_env_field(ctx, &sf, scope);
    }
    if (rc < 0)
        return err ? err->status : AFP_ERR_FORMAT;
    return flush_at_origin(ctx, err);
}

/* Signed 24-bit big-endian value. */
static int32_t
s24(const uint8_t *p)
{
    int32_t v = ((int32_t) p[0] << 16) | (p[1] << 8) | p[2];

    return (v & 0x800000) ? v - 0x1000000 : v;
}

/* Saves or restores (restore != 0) the environment of the including space. */
static void
swap_state(afp_text_ctx *ctx, afp_text_saved *s, int restore)
{
#define TEXT_SWAP(field) do { if (restore) memcpy(&ctx->field, &s->field, sizeof(s->field)); \
                              else memcpy(&s->field, &ctx->field, sizeof(s->field)); } while (0)
    TEXT_SWAP(fonts);
    TEXT_SWAP(saved_fonts);
    TEXT_SWAP(obj_fonts);
    TEXT_SWAP(page_ptd);
    TEXT_SWAP(obj_ptd);
    TEXT_SWAP(page_ptd_len);
    TEXT_SWAP(obj_ptd_len);
    TEXT_SWAP(page_ptd_id);
    TEXT_SWAP(obj_ptd_id);
    TEXT_SWAP(org_x);
    TEXT_SWAP(org_y);
    TEXT_SWAP(pgd_upi_x);
    TEXT_SWAP(pgd_upi_y);
#undef TEXT_SWAP
}

/* Saves the text environment of the including space (fonts, descriptors, include origin, PGD
 * units) into a new afp_text_saved; also used by the PDF converter around an overlay. */
afp_text_saved *
afp_text_env_save(afp_text_ctx *ctx)
{
    afp_text_saved *s = afp_alloc(sizeof(*s));

    swap_state(ctx, s, 0);
    return s;
}

/* Restores a text environment saved by afp_text_env_save and frees it. */
void
afp_text_env_restore(afp_text_ctx *ctx, afp_text_saved *s)
{
    swap_state(ctx, s, 1);
    afp_free(s);
}

/* IPO (X'D3AFD8') or IPS (X'D3AF5F') in a page or an included resource: decodes the text of the
 * named overlay / page segment at the include's offset. */
afp_status
afp_text_include(afp_text_ctx *ctx, const afp_sf *sf, afp_error *err)
{
    int overlay = sf->id == 0xD3AFD8;
    const char *what = overlay ? "overlay" : "page segment";
    char name[9];
    text_res *res;
    afp_text_saved *saved;
    double ux, uy;
    afp_status st;

    if (ctx->no_includes || sf->data_len < 14)
        return AFP_OK;
    res_name(sf->data, 8, name);
    if ((st = flush_at_origin(ctx, err)) != AFP_OK)
        return st;
    res = find_res(ctx, overlay ? 0xDF : 0x5F, name);
    if (res == NULL)
    {
        if (ctx->warn)
        {
            char msg[160];

            snprintf(msg, sizeof(msg), "%s %s included at byte %lld is not in the file; its "
                     "text is not extracted", what, name[0] ? name : "(unnamed)",
                     (long long) sf->offset);
            ctx->warn(ctx->warn_ctx, msg);
        }
        return AFP_OK;
    }
    if (res->busy)
        return afp_error_set(err, AFP_ERR_FORMAT, sf->offset, afp_sf_abbr(sf->id),
                             "%s %s includes itself (directly or through other includes)", what,
                             name);
    if (ctx->inc_depth >= TEXT_MAX_INCLUDE)
        return afp_error_set(err, AFP_ERR_LIMIT, sf->offset, afp_sf_abbr(sf->id),
                             "includes of overlays and page segments nested deeper than %d "
                             "levels", TEXT_MAX_INCLUDE);
    saved = afp_text_env_save(ctx);
    ux = ctx->pgd_upi_x > 0 ? ctx->pgd_upi_x : 1440;
    uy = ctx->pgd_upi_y > 0 ? ctx->pgd_upi_y : 1440;
    ctx->org_x += s24(sf->data + 8) / ux;
    ctx->org_y += s24(sf->data + 11) / uy;
    ctx->obj_ptd = NULL;
    ctx->obj_ptd_len = 0;
    ctx->obj_fonts = 0;
    if (overlay)
    {
        /* an overlay has its own environment: fonts, units and descriptor of its AEG */
        int i;

        for (i = 0; i < 256; i++)
            ctx->fonts[i] = ctx->deffont;
        ctx->page_ptd = NULL;
        ctx->page_ptd_len = 0;
        ctx->pgd_upi_x = ctx->pgd_upi_y = 0;
    }
    res->busy = 1;
    ctx->inc_depth++;
    st = walk_resource(ctx, res, err);
    ctx->inc_depth--;
    res->busy = 0;
    afp_text_env_restore(ctx, saved);
    return st;
}
