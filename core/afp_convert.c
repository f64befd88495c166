/*
 * afp_convert.c — AFP (MO:DCA) to PDF: options, the resource index and the page walker.
 *
 * Pass 1 indexes the resources of the file — the objects of inline resource groups (BRG/BRS)
 * and any image, graphics, overlay, page segment or object container outside a page — by
 * their token name, the name of the enclosing BRS and its FQN X'01' name, keeping only byte
 * offsets. It also counts the pages: a file without any is refused ("no pages").
 *
 * Pass 2 walks the document. Each page (BPG … EPG outside resource containers) is rendered into
 * a content stream: page size and units from the PGD; presentation text through the shared PTOCA
 * interpreter (afp_ptoca.c) with the visitor of afp_convert_canvas.c; image objects (inline, or
 * included by IOB from the index) through afp_convert_ioca.c; overlays (IPO) as form XObjects
 * written once and shared; page segments (IPS) inline at their reference point. The page is
 * written as soon as its EPG arrives, so memory is bounded by the largest page and its
 * resources. Fonts are written at the end, when the glyphs they need are known.
 */
#include "afp_pdf_int.h"

#include "afp_gen.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define CV_MAX_DEPTH 256

/* ------------------------------------------------------------------ options */

/* Defaults. */
void
afp_pdf_options_init(afp_pdf_options *o)
{
    memset(o, 0, sizeof(*o));
    o->missing = AFP_PDF_MISSING_ERROR;
    o->compress = 1;
    o->font_map_table = 1;
    o->raster_fonts = 1;
}

/* Reads the JSON options object. */
afp_status
afp_pdf_options_parse(afp_pdf_options *o, const char *json, size_t len, afp_error *err)
{
    afp_json *root;
    afp_status st;
    size_t i;
    int missing;

    st = afp_json_options_parse(json, len, &root, err);
    if (st != AFP_OK || root == NULL)
        return st;
    for (i = 0; i < root->count && st == AFP_OK; i++)
    {
        const char *k = root->keys[i];
        const afp_json *v = root->items[i];

        if (strcmp(k, "font_map") == 0 || strcmp(k, "raster_fonts") == 0)
            st = cv_fontsel_option(o, k, v, err);     /* afp_convert_fontsel.c */
        else if (strcmp(k, "code_pages") == 0)        /* afp_dbcs.c */
            st = afp_cp_overrides_parse(&o->code_pages, &o->ncode_pages, &o->capcode_pages, v,
                                        "options.code_pages", err);
        else if (strcmp(k, "missing") == 0)           /* error 0, warn 1, ignore 2 */
        {
            if ((st = afp_json_missing_option(v, &missing, err)) == AFP_OK)
                o->missing = (afp_pdf_missing) missing;
        }
        else if (strcmp(k, "fonts") == 0 && v->type == AFP_JSON_STRING &&
                 (strcmp(v->string, "embed") == 0 || strcmp(v->string, "base14") == 0))
            o->base14 = v->string[0] == 'b';
        else if (strcmp(k, "compress") == 0 &&
                 (v->type == AFP_JSON_TRUE || v->type == AFP_JSON_FALSE))
            o->compress = v->type == AFP_JSON_TRUE;
        else if (strcmp(k, "compress") == 0 && v->type == AFP_JSON_NUMBER && v->number >= 1 &&
                 v->number <= 9 && v->number == (int) v->number)
        {
            o->compress = 1;
            o->compress_level = (int) v->number;
        }
        else if (strcmp(k, "copies") == 0 &&
                 (v->type == AFP_JSON_TRUE || v->type == AFP_JSON_FALSE))
            o->copies_pages = v->type == AFP_JSON_TRUE;
        else if (strcmp(k, "copies") == 0)
            st = afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL,
                               "options.copies: expected true or false");
        else if (strcmp(k, "title") == 0 && v->type == AFP_JSON_STRING &&
                 v->string_len < sizeof(o->title))
            memcpy(o->title, v->string, v->string_len + 1);
        else if (strcmp(k, "author") == 0 && v->type == AFP_JSON_STRING &&
                 v->string_len < sizeof(o->author))
            memcpy(o->author, v->string, v->string_len + 1);
        else if (strcmp(k, "pdfa") == 0 && v->type == AFP_JSON_STRING &&
                 (strcmp(v->string, "2b") == 0 || strcmp(v->string, "2B") == 0))
            o->pdfa = 2;
        else if (strcmp(k, "pdfa") == 0 && v->type == AFP_JSON_FALSE)
            o->pdfa = 0;
        else if (strcmp(k, "author") == 0)
            st = afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL,
                               "options.author: expected a string of at most 255 bytes");
        else if (strcmp(k, "pdfa") == 0)
            st = afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL,
                               "options.pdfa: expected \"2b\" (PDF/A-2b) or false");
        else if (strcmp(k, "fonts") == 0)
            st = afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL,
                               "options.fonts: expected \"embed\" or \"base14\"");
        else if (strcmp(k, "compress") == 0)
            st = afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL,
                               "options.compress: expected true, false or a zlib level 1-9");
        else if (strcmp(k, "title") == 0)
            st = afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL,
                               "options.title: expected a string of at most 255 bytes");
        else
            st = afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL,
                               "options: unknown key \"%.100s\" (known: missing, fonts, compress, "
                               "title, author, pdfa, copies, font_map, raster_fonts, code_pages)", k);
    }
    afp_json_free(root);
    if (st == AFP_OK && o->pdfa && o->base14)
        st = afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL,
                           "options.fonts: \"base14\" cannot be combined with \"pdfa\": \"2b\" "
                           "(PDF/A requires every font to be embedded; drop \"fonts\" or use "
                           "\"embed\")");
    return st;
}

/* ------------------------------------------------------------------ pass 1: resources */

/* Decodes an 8-byte token name to upper-case ASCII. */
void
cv_token(const uint8_t *p, size_t n, char out[9])
{
    size_t i;

    afp_token_name(p, n > 8 ? 8 : n, out);
    for (i = 0; out[i]; i++)
        if (out[i] >= 'a' && out[i] <= 'z')
            out[i] = (char) (out[i] - 'a' + 'A');
}

/* True for the categories that open a presentation space or a data object. */
static int
object_category(uint8_t c)
{
    return c == 0xFB || c == 0xBB || c == 0xDF || c == 0x5F || c == 0x92 || c == 0xEB;
}

/* True for Begin categories whose pages are resources, not document pages (as afp_text.c). */
static int
container_category(uint8_t c)
{
    switch (c)
    {
        case 0xC6: case 0xCE: case 0xDF: case 0x5F: case 0xCD: case 0xD9: case 0x87:
        case 0x89: case 0x8A: case 0xCA: case 0xCB:
            return 1;
        default:
            return 0;
    }
}

/* Finds the FQN type X'01' triplet of a BRS (name(8) reserved(2) triplets). */
static void
brs_fqn(const afp_sf *sf, const uint8_t **fqn, size_t *len)
{
    size_t pos = 10;

    *fqn = NULL;
    *len = 0;
    while (pos + 2 <= sf->data_len)
    {
        size_t tl = sf->data[pos];

        if (tl < 2 || pos + tl > sf->data_len)
            return;
        if (sf->data[pos + 1] == 0x02 && tl > 4 && sf->data[pos + 2] == 0x01)
        {
            *fqn = sf->data + pos + 4;
            *len = tl - 4;
            return;
        }
        pos += tl;
    }
}

/* Pass 1: indexes the resources and counts the pages. */
static afp_status
scan(cv_ctx *ctx)
{
    afp_reader r;
    afp_sf sf;
    int rc, depth = 0, containers = 0, in_page = 0, page_depth = -1;
    uint8_t stack[CV_MAX_DEPTH];
    long open[CV_MAX_DEPTH];
    char brs_name[9] = "";
    const uint8_t *brs_q = NULL;
    size_t brs_qlen = 0;
    uint64_t n = 0;

    afp_reader_init(&r, ctx->buf, ctx->len);
    while ((rc = afp_reader_next(&r, &sf, ctx->err)) == 1)
    {
        uint8_t type = afp_sf_type(sf.id), cat = afp_sf_category(sf.id);

        if ((++n & 4095) == 0 && afp_check_interrupt())
            return afp_error_set(ctx->err, AFP_ERR_INTERRUPTED, sf.offset, afp_sf_abbr(sf.id),
                                 "interrupted");
        if ((sf.id == 0xD3A889 || sf.id == 0xD3A989) && !in_page)
            pdf_fontsel_note(&ctx->fonts, &sf, ctx->len);   /* BFN/EFN (afp_convert_fontsel.c) */
        if (type == AFP_SF_BEGIN)
        {
            if (depth >= CV_MAX_DEPTH)
                return afp_error_set(ctx->err, AFP_ERR_LIMIT, sf.offset, afp_sf_abbr(sf.id),
                                     "Begin fields nested deeper than %d levels", CV_MAX_DEPTH);
            open[depth] = -1;
            if (cat == 0xCE)
            {
                cv_token(sf.data, sf.data_len, brs_name);
                brs_fqn(&sf, &brs_q, &brs_qlen);
            }
            if (cat == 0xCD && ctx->fm_offset < 0)
                ctx->fm_offset = sf.offset;         /* the first form map (afp_convert_formmap.c) */
            if (cat == 0xAF && containers == 0 && !in_page)
            {
                in_page = 1;
                page_depth = depth;
                ctx->total_pages++;
            }
            else if (object_category(cat) && !in_page)
            {
                cv_res *res;
                int k, nested = 0;

                for (k = 0; k < depth; k++)
                    if (open[k] >= 0)
                        nested = 1;    /* objects inside an overlay/segment belong to it */
                if (!nested)
                {
                    ctx->res = afp_text_grow(ctx->res, &ctx->capres, ctx->nres + 1, sizeof(cv_res));
                    res = &ctx->res[ctx->nres];
                    memset(res, 0, sizeof(*res));
                    cv_token(sf.data, sf.data_len, res->name);
                    memcpy(res->alias, brs_name, sizeof(brs_name));
                    res->fqn = brs_q;
                    res->fqn_len = brs_qlen;
                    res->cat = cat;
                    res->start = (size_t) sf.offset;
                    res->end = ctx->len;
                    open[depth] = (long) ctx->nres++;
                }
            }
            if (container_category(cat))
                containers++;
            stack[depth++] = cat;
            continue;
        }
        if (type == AFP_SF_END)
        {
            int k = afp_sf_open_level(stack, depth, cat);

            if (k < 0)
                continue;
            while (depth > k)
            {
                depth--;
                if (container_category(stack[depth]))
                    containers--;
                if (open[depth] >= 0)
                    ctx->res[open[depth]].end = (size_t) (sf.offset + 1 + sf.length);
                if (stack[depth] == 0xCE)
                {
                    brs_name[0] = '\0';
                    brs_q = NULL;
                    brs_qlen = 0;
                }
                if (in_page && depth == page_depth)
                    in_page = 0;
            }
        }
    }
    return rc < 0 ? ctx->err->status : AFP_OK;
}

/* Finds a resource by name (token, BRS name or BRS FQN bytes) and category (0 = any). */
cv_res *
cv_find_res(cv_ctx *ctx, const char *name, const uint8_t *fqn, size_t fqn_len, uint8_t cat)
{
    size_t i;

    for (i = 0; i < ctx->nres; i++)
    {
        cv_res *r = &ctx->res[i];

        if (cat && r->cat != cat)
            continue;
        if (fqn && r->fqn && r->fqn_len == fqn_len && memcmp(r->fqn, fqn, fqn_len) == 0)
            return r;
        if (name && name[0] && (strcmp(r->name, name) == 0 || strcmp(r->alias, name) == 0))
            return r;
    }
    return NULL;
}

/* Reports a missing resource according to the options: error, or warning (placeholder). */
afp_status
cv_missing(cv_ctx *ctx, const afp_sf *sf, const char *what, const char *name, double x, double y,
        double w, double h)
{
    if (ctx->opts->missing == AFP_PDF_MISSING_ERROR)
        return afp_error_set(ctx->err, AFP_ERR_FORMAT, sf->offset, afp_sf_abbr(sf->id),
                             "%s %s is not in the file's resource group%s (option "
                             "{\"missing\": \"warn\"} draws a placeholder instead)", what, name,
                             ctx->opts->resolve ? " nor in the resource library" : "");
    if (ctx->opts->missing == AFP_PDF_MISSING_WARN)
    {
        cv_warn(ctx, "at byte offset %lld in %s: %s %s is not in the file's resource group; a "
                "placeholder is drawn", (long long) sf->offset, afp_sf_abbr(sf->id), what, name);
        cv_placeholder(ctx, x, y, w > 0 ? w : 36, h > 0 ? h : 36);
    }
    return AFP_OK;
}

/* ------------------------------------------------------------------ fonts */

/* The PDF font of an AFP font reference, with a one-entry cache. */
pdf_font *
cv_font(cv_ctx *ctx, const afp_font_ref *f)
{
    if (f->dofont)
    {
        cv_res *r = (cv_res *) f->dofont;

        if (!r->font_tried)
        {
            afp_reader rd;
            afp_sf sf;
            afp_buf data;
            afp_error ignored;

            size_t blen;
            const uint8_t *b = cv_res_bytes(ctx, r, &blen);

            r->font_tried = 1;
            afp_buf_init(&data);
            if (r->raw)            /* an external font file (resolver) */
                afp_buf_append(&data, b, blen);
            afp_reader_init(&rd, b, r->raw ? 0 : r->end);
            rd.pos = r->raw ? 0 : r->start;
            while (afp_reader_next(&rd, &sf, &ignored) == 1)
                if (sf.id == 0xD3EE92)     /* OCD */
                    afp_buf_append(&data, sf.data, sf.data_len);
            r->font = pdf_font_carried(&ctx->fonts, &ctx->w, data.data, data.len);
            if (r->font == NULL)
                cv_warn(ctx, "the font carried in object container %s cannot be read; Liberation "
                        "Sans is used instead", r->name);
            afp_buf_free(&data);
        }
        if (r->font)
            return r->font;
    }
    if (ctx->last_pf && ctx->last_dofont == f->dofont && ctx->last_mono == f->mono &&
        strcmp(ctx->last_fcs, f->fcs) == 0 && strcmp(ctx->last_cf, f->cf) == 0 &&
        ctx->last_cp == (f->icp ? (const void *) f->icp : (const void *) f->cp) &&
        ctx->last_dcp == (const void *) f->dcp &&
        ctx->last_size == pdf_font_size(f))
        return ctx->last_pf;
    ctx->last_pf = pdf_font_resolve(&ctx->fonts, &ctx->w, f);  /* afp_convert_fontsel.c */
    ctx->last_cp = f->icp ? (const void *) f->icp : (const void *) f->cp;
    ctx->last_dcp = f->dcp;
    memcpy(ctx->last_cf, f->cf, sizeof(ctx->last_cf));
    ctx->last_size = pdf_font_size(f);
    ctx->last_dofont = f->dofont;
    ctx->last_mono = f->mono;
    memcpy(ctx->last_fcs, f->fcs, sizeof(ctx->last_fcs));
    return ctx->last_pf;
}

/* MDR: maps data-object fonts (TrueType/OpenType, FQN X'DE' + X'8B') to font local IDs. The
 * LID is the X'24' triplet's, else a one-byte FQN X'BE' internal reference. */
static afp_status
parse_mdr(cv_ctx *ctx, const afp_sf *sf)
{
    afp_mdr_group g;
    size_t pos = 0;

    while (afp_mdr_next(sf->data, sf->data_len, &pos, &g))      /* afp_text_include.c */
    {
        const uint8_t *name = g.name;
        size_t nlen = g.name_len;

        if (g.font && name && g.lid >= 0)
        {
            afp_font_ref *f = &ctx->text.fonts[g.lid];
            afp_status rst;
            cv_res *r = cv_lookup(ctx, "font", NULL, name, nlen, 0x92, &rst);
            char shown[64];
            size_t i, j = 0;

            if (rst != AFP_OK)
                return rst;

            *f = ctx->text.deffont;
            f->dbcs = 1;
            f->fds_size20 = g.vfs > 0 ? g.vfs : 200;
            f->dofont = r;
            if (r == NULL)
            {
                /* the name is usually UTF-16BE: show its ASCII characters */
                for (i = 0; i < nlen && j + 1 < sizeof(shown); i++)
                    if (name[i] >= 0x20 && name[i] < 0x7F)
                        shown[j++] = (char) name[i];
                shown[j] = '\0';
                if (ctx->opts->missing == AFP_PDF_MISSING_ERROR)
                    return afp_error_set(ctx->err, AFP_ERR_FORMAT, sf->offset, "MDR",
                                         "data-object font \"%s\" is not in the file's resource "
                                         "group (option {\"missing\": \"warn\"} substitutes "
                                         "Liberation Sans)", shown);
                if (ctx->opts->missing == AFP_PDF_MISSING_WARN)
                    cv_warn(ctx, "at byte offset %lld in MDR: data-object font \"%s\" is not in the "
                            "file's resource group; Liberation Sans is used",
                            (long long) sf->offset, shown);
            }
        }
    }
    return AFP_OK;
}

/* ------------------------------------------------------------------ the walk */

/* Ends the current text object: interprets its pending PTX, restores object fonts. */
static afp_status
text_object_end(cv_ctx *ctx)
{
    afp_status st = afp_ptoca_flush(&ctx->text, ctx->err);

    afp_text_end_object(&ctx->text);           /* afp_text.c */
    if (ctx->cv)
        cv_text_end(ctx->cv);
    return st;
}

/* Walks the fields of a presentation space after its Begin (category cat) up to its End. */
afp_status
cv_walk_space(cv_ctx *ctx, afp_reader *r, cv_space *sp, uint8_t cat)
{
    afp_sf sf;
    uint8_t stack[CV_MAX_DEPTH];
    int depth = 0, rc, in_obj = 0, scope;
    cv_obj obj;
    afp_status st = AFP_OK;
    uint64_t n = 0;

    memset(&obj, 0, sizeof(obj));
    if (ctx->cv)
        ctx->cv->rgb_only = ctx->opts->pdfa != 0;    /* PDF/A: no DeviceCMYK in content */
    while ((rc = afp_reader_next(r, &sf, ctx->err)) == 1)
    {
        uint8_t type = afp_sf_type(sf.id), c = afp_sf_category(sf.id);

        if ((++n & 1023) == 0 && afp_check_interrupt())
        {
            st = afp_error_set(ctx->err, AFP_ERR_INTERRUPTED, sf.offset, afp_sf_abbr(sf.id),
                               "interrupted");
            break;
        }
        if (type == AFP_SF_BEGIN)
        {
            if (depth >= CV_MAX_DEPTH)
            {
                st = afp_error_set(ctx->err, AFP_ERR_LIMIT, sf.offset, afp_sf_abbr(sf.id),
                                   "Begin fields nested deeper than %d levels", CV_MAX_DEPTH);
                break;
            }
            if (c == 0x9B && !in_obj)
            {
                if ((st = text_object_end(ctx)) != AFP_OK)
                    break;
            }
            else if ((c == 0xFB || c == 0xBB || c == 0xEB || c == 0x92) && !in_obj)
            {
                cv_obj_begin(&obj, &sf);
                in_obj = depth + 1;
            }
            stack[depth++] = c;
            continue;
        }
        if (type == AFP_SF_END)
        {
            int k = afp_sf_open_level(stack, depth, c);

            if (k < 0)
            {
                if (c == cat || depth == 0)
                    break;     /* the End of this space (or of something enclosing it) */
                continue;
            }
            while (depth > k && st == AFP_OK)
            {
                uint8_t e = stack[--depth];

                if (e == 0x9B && !in_obj)
                    st = text_object_end(ctx);
                if (in_obj && depth + 1 == in_obj)
                {
                    in_obj = 0;
                    st = cv_obj_draw(ctx, &obj, sp, NULL, NULL);
                    cv_obj_free(&obj);
                    memset(&obj, 0, sizeof(obj));
                }
            }
            if (st != AFP_OK)
                break;
            continue;
        }
        if (in_obj)
        {
            cv_obj_field(&obj, &sf);
            continue;
        }
        if (sf.id == 0xD3EE9B)                 /* PTX */
        {
            afp_ptoca_append(&ctx->text, &sf);
            continue;
        }
        if (sf.id == 0xD3AFD8 || sf.id == 0xD3AF5F || sf.id == 0xD3AFC3)
        {
            /* includes: pending text first, it precedes them */
            if ((st = afp_ptoca_flush(&ctx->text, ctx->err)) != AFP_OK)
                break;
            if (ctx->cv)
                cv_text_end(ctx->cv);
            st = sf.id == 0xD3AFD8 ? cv_include_overlay(ctx, sp, &sf)
               : sf.id == 0xD3AF5F ? cv_include_segment(ctx, sp, &sf) : cv_include_object(ctx, sp, &sf);
            if (st != AFP_OK)
                break;
            continue;
        }
        scope = afp_text_env_scope(stack, depth);    /* afp_text.c */
        if (scope == 0)
            continue;
        switch (sf.id)
        {
            case 0xD3A6AF:     /* PGD */
                if (scope == 1 && sf.data_len >= 12 && sp->kind != SP_SEGMENT)
                {
                    double ux = cv_unit_pt(sf.data[0], cv_u16(sf.data + 2));
                    double uy = cv_unit_pt(sf.data[1], cv_u16(sf.data + 4));

                    if (ux > 0 && uy > 0)
                    {
                        sp->upx = ux;
                        sp->upy = uy;
                        sp->w = cv_s24(sf.data + 6, NULL) * ux;
                        sp->h = cv_s24(sf.data + 9, NULL) * uy;
                    }
                }
                break;
            case 0xD3AB8A:     /* MCF-2 */
            case 0xD3B18A:     /* MCF-1 */
                afp_text_object_fonts(&ctx->text, scope);
                afp_text_map_fonts(&ctx->text, &sf);
                break;
            case 0xD3ABC3:     /* MDR */
                afp_text_object_fonts(&ctx->text, scope);
                st = parse_mdr(ctx, &sf);
                break;
            case 0xD3B19B:     /* PTD-2 */
            case 0xD3A69B:     /* PTD-1 */
                afp_text_set_ptd(&ctx->text, &sf, scope);
                break;
            default:
                break;
        }
        if (st != AFP_OK)
            break;
    }
    if (rc < 0 && st == AFP_OK)
        st = ctx->err->status;
    cv_obj_free(&obj);
    if (st == AFP_OK)
        st = text_object_end(ctx);
    return st;
}

/* Renders one page (its BPG was just read) and writes it. The canvas is reused page after page. */
static afp_status
render_page(cv_ctx *ctx, afp_reader *r, cv_canvas *canvas)
{
    cv_space sp;
    afp_status st;
    int content, page;
    afp_buf head, fmhead;
    double mw, mh;

    cv_canvas_reset(canvas);
    memset(&sp, 0, sizeof(sp));
    sp.kind = SP_PAGE;
    sp.upx = sp.upy = 72.0 / 1440;
    sp.w = 8.5 * 72;
    sp.h = 11 * 72;
    afp_text_env_reset(&ctx->text);
    ctx->cv = canvas;
    st = cv_walk_space(ctx, r, &sp, 0xAF);
    cv_text_end(canvas);
    ctx->cv = NULL;
    if (st == AFP_OK)
    {
        if (!(sp.w > 0 && sp.w < 200 * 72) || !(sp.h > 0 && sp.h < 200 * 72))
        {
            cv_warn(ctx, "page %zu: page size %.1f x %.1f pt is out of range; US letter is used",
                    ctx->npages + 1, sp.w, sp.h);
            sp.w = 8.5 * 72;
            sp.h = 11 * 72;
        }
        /* the form map: medium overlays, medium size, page position (afp_convert_formmap.c) */
        afp_buf_init(&fmhead);
        st = cv_formmap_page(ctx, &sp, &fmhead, &mw, &mh);
        if (st != AFP_OK)
        {
            afp_buf_free(&fmhead);
            return st;
        }
        sp.w = mw;
        sp.h = mh;
        afp_buf_init(&head);
        afp_buf_printf(&head, "1 0 0 -1 0 ");
        pdf_num(&head, sp.h);
        afp_buf_printf(&head, " cm\n");
        afp_buf_append(&head, fmhead.data, fmhead.len);
        afp_buf_free(&fmhead);
        content = pdfw_alloc(&ctx->w);
        page = pdfw_alloc(&ctx->w);
        pdfw_stream2(&ctx->w, content, "", head.data, head.len, canvas->cs.data, canvas->cs.len,
                     1, NULL);
        pdfw_begin(&ctx->w, page);
        pdfw_printf(&ctx->w, "<< /Type /Page /Parent %d 0 R /MediaBox [0 0 ", ctx->pages_obj);
        head.len = 0;
        pdf_num(&head, sp.w);
        afp_buf_putc(&head, ' ');
        pdf_num(&head, sp.h);
        pdfw_append(&ctx->w, head.data, head.len);
        afp_buf_free(&head);
        pdfw_printf(&ctx->w, "] /Resources %d 0 R /Contents %d 0 R >>", ctx->resources_obj,
                    content);
        pdfw_end(&ctx->w);
        ctx->pages = afp_text_grow(ctx->pages, &ctx->cappages, ctx->npages + 1, sizeof(int));
        ctx->pages[ctx->npages++] = page;
        cv_formmap_page_done(ctx, content, sp.w, sp.h);
    }
    return st;
}

/* Pass 2: walks the document and renders its pages. */
static afp_status
render_pages(cv_ctx *ctx)
{
    afp_reader r;
    afp_sf sf;
    int rc, depth = 0, containers = 0;
    uint8_t stack[CV_MAX_DEPTH];
    afp_status st = AFP_OK;
    cv_canvas canvas;

    cv_canvas_init(&canvas);
    afp_reader_init(&r, ctx->buf, ctx->len);
    while ((rc = afp_reader_next(&r, &sf, ctx->err)) == 1)
    {
        uint8_t type = afp_sf_type(sf.id), cat = afp_sf_category(sf.id);

        if (type == AFP_SF_BEGIN)
        {
            if (cat == 0xAF && containers == 0)
            {
                if (afp_check_interrupt())
                {
                    st = afp_error_set(ctx->err, AFP_ERR_INTERRUPTED, sf.offset, "BPG",
                                       "interrupted");
                    break;
                }
                if ((st = render_page(ctx, &r, &canvas)) != AFP_OK)
                    break;
                if (ctx->w.sink_failed)
                {
                    st = afp_error_set(ctx->err, AFP_ERR_ARGUMENT, -1, NULL,
                                       "writing the PDF failed");
                    break;
                }
                if (ctx->opts->progress)
                    ctx->opts->progress(ctx->opts->cb_ctx, (int64_t) ctx->npages,
                                        (int64_t) r.pos, (int64_t) ctx->len);
                continue;
            }
            if (depth >= CV_MAX_DEPTH)
            {
                st = afp_error_set(ctx->err, AFP_ERR_LIMIT, sf.offset, afp_sf_abbr(sf.id),
                                   "Begin fields nested deeper than %d levels", CV_MAX_DEPTH);
                break;
            }
            if (container_category(cat))
                containers++;
            stack[depth++] = cat;
        }
        else if (type == AFP_SF_END)
        {
            int k = afp_sf_open_level(stack, depth, cat);

            while (k >= 0 && depth > k)
                if (container_category(stack[--depth]))
                    containers--;
        }
        else if (sf.id == 0xD3ABCC && containers == 0)
            cv_formmap_imm(ctx, &sf);          /* IMM: medium map for the next pages */
    }
    cv_canvas_free(&canvas);
    if (st == AFP_OK && rc < 0)
        st = ctx->err->status;
    return st;
}

/* Writes the shared resources, the page tree, the outline (afp_convert_outline.c), the catalog
 * and the document information. */
static void
finish_document(cv_ctx *ctx)
{
    afp_buf fonts, cat;
    int catalog = pdfw_alloc(&ctx->w), info = pdfw_alloc(&ctx->w), outlines;
    size_t i;

    cv_formmap_finish(ctx);    /* copies of a front side without its back */
    afp_buf_init(&fonts);
    pdf_fonts_write(&ctx->fonts, &ctx->w, &fonts);
    ctx->stats.fonts = (int64_t) ctx->fonts.count;
    pdfw_begin(&ctx->w, ctx->resources_obj);
    pdfw_printf(&ctx->w, "<< /ProcSet [/PDF /Text /ImageB /ImageC /ImageI]");
    if (fonts.len)
    {
        pdfw_printf(&ctx->w, " /Font << ");
        pdfw_append(&ctx->w, fonts.data, fonts.len);
        pdfw_printf(&ctx->w, ">>");
    }
    if (ctx->xobjects.len)
    {
        pdfw_printf(&ctx->w, " /XObject << ");
        pdfw_append(&ctx->w, ctx->xobjects.data, ctx->xobjects.len);
        pdfw_printf(&ctx->w, ">>");
    }
    pdfw_printf(&ctx->w, " >>");
    pdfw_end(&ctx->w);
    pdfw_begin(&ctx->w, ctx->pages_obj);
    pdfw_printf(&ctx->w, "<< /Type /Pages /Count %zu /Kids [", ctx->npages);
    for (i = 0; i < ctx->npages; i++)
        pdfw_printf(&ctx->w, "%s%d 0 R", i ? " " : "", ctx->pages[i]);
    pdfw_printf(&ctx->w, "] >>");
    pdfw_end(&ctx->w);
    fonts.len = 0;
    outlines = cv_outline_write(ctx, &fonts);  /* page groups: bookmarks, metadata into fonts */
    if (ctx->opts->title[0])
    {
        afp_buf_printf(&fonts, " /Title ");
        pdf_text_string(&fonts, ctx->opts->title, strlen(ctx->opts->title));
    }
    if (ctx->opts->author[0])
    {
        afp_buf_printf(&fonts, " /Author ");
        pdf_text_string(&fonts, ctx->opts->author, strlen(ctx->opts->author));
    }
    afp_buf_init(&cat);
    if (ctx->opts->pdfa)
    {
        /* PDF/A: the Info entries are re-encoded with the dates, XMP and output intent added */
        afp_buf in;
        uint8_t seed[64];
        int64_t facts[2] = {(int64_t) ctx->len, (int64_t) ctx->npages};
        size_t k = ctx->len < 48 ? ctx->len : 48;

        memcpy(seed, facts, sizeof(facts));
        if (k > 0)
            memcpy(seed + sizeof(facts), ctx->buf + ctx->len - k, k);
        afp_buf_init(&in);
        afp_buf_printf(&in, " /Producer (afp afp_to_pdf)");
        afp_buf_append(&in, fonts.data, fonts.len);
        fonts.len = 0;
        pdfa_finish(&ctx->w, &in, &fonts, &cat, seed, sizeof(facts) + k);
        afp_buf_free(&in);
    }
    pdfw_begin(&ctx->w, catalog);
    pdfw_printf(&ctx->w, "<< /Type /Catalog /Pages %d 0 R", ctx->pages_obj);
    if (outlines)
        pdfw_printf(&ctx->w, " /Outlines %d 0 R /PageMode /UseOutlines", outlines);
    pdfw_append(&ctx->w, cat.data, cat.len);
    cat.len = 0;
    cv_formmap_catalog(ctx, &cat);             /* duplex and copies of the form map */
    pdfw_append(&ctx->w, cat.data, cat.len);
    pdfw_printf(&ctx->w, " >>");
    pdfw_end(&ctx->w);
    pdfw_begin(&ctx->w, info);
    pdfw_printf(&ctx->w, "<<%s", ctx->opts->pdfa ? "" : " /Producer (afp afp_to_pdf)");
    pdfw_append(&ctx->w, fonts.data, fonts.len);
    pdfw_printf(&ctx->w, " >>");
    pdfw_end(&ctx->w);
    pdfw_finish(&ctx->w, catalog, info);
    afp_buf_free(&fonts);
    afp_buf_free(&cat);
}

/* Passes a warning of the font module on. */
static void
font_warn(void *p, const char *msg)
{
    cv_warn((cv_ctx *) p, "%s", msg);
}

/* Converts an AFP print stream to PDF. */
afp_status
afp_to_pdf(const uint8_t *buf, size_t len, const afp_pdf_options *opts, afp_buf *out,
           afp_pdf_stats *stats, afp_error *err)
{
    cv_ctx ctx;
    afp_pdf_options defaults;
    afp_status st;

    if (out == NULL || (buf == NULL && len > 0))
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL, "no input or output buffer given");
    if (opts == NULL)
    {
        afp_pdf_options_init(&defaults);
        opts = &defaults;
    }
    if (opts->pdfa && opts->base14)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL, "options.fonts: \"base14\" cannot "
                             "be combined with \"pdfa\": \"2b\" (PDF/A embeds every font)");
    memset(&ctx, 0, sizeof(ctx));
    ctx.buf = buf;
    ctx.len = len;
    ctx.opts = opts;
    ctx.err = err;
    pdfw_init(&ctx.w, opts->compress);
    ctx.w.pdfa = opts->pdfa;
    ctx.w.level = opts->compress_level;
    pdf_fonts_init(&ctx.fonts, opts->font_dir, opts->base14);
    ctx.fonts.warn = font_warn;
    ctx.fonts.warn_ctx = &ctx;
    afp_buf_init(&ctx.xobjects);
    afp_text_ctx_init(&ctx.text, buf, len, NULL, 1);
    ctx.text.cpo = opts->code_pages;          /* code pages by font, double-byte text */
    ctx.text.ncpo = opts->ncode_pages;
    ctx.text.missing = (int) opts->missing;
    ctx.text.warn = font_warn;
    ctx.text.warn_ctx = &ctx;
    ctx.fm_offset = -1;
    st = scan(&ctx);
    if (st == AFP_OK)
        st = cv_formmap_read(&ctx);
    if (st == AFP_OK && ctx.total_pages == 0)
        st = afp_error_set(err, AFP_ERR_FORMAT, -1, NULL,
                           "no pages: the input has no page (BPG … EPG outside resource groups) "
                           "to convert%s", ctx.nres ? ", only resources" : "");
    if (st == AFP_OK)
        st = afp_text_collect_resources(&ctx.text, err);
    if (st == AFP_OK)
        st = pdf_fontsel_init(&ctx.fonts, buf, len, opts, err);   /* font map, raster fonts */
    if (st == AFP_OK)
    {
        if (opts->write)
        {
            ctx.w.sink = opts->write;
            ctx.w.sink_ctx = opts->cb_ctx;
        }
        cv_text_visitor(&ctx);
        pdfw_printf(&ctx.w, "%%PDF-1.6\n%%\xE2\xE3\xCF\xD3\n");
        ctx.pages_obj = pdfw_alloc(&ctx.w);
        ctx.resources_obj = pdfw_alloc(&ctx.w);
        st = render_pages(&ctx);
    }
    if (st == AFP_OK && pdf_fontsel_cjk_missing(&ctx.fonts)[0])
        st = afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL,
                           "font %s has a double-byte code page but no CJK font could be read "
                           "(install fonts-droid-fallback, set AFP_CJK_FONT to a TrueType font, "
                           "or give the font a font map entry with \"file\")",
                           pdf_fontsel_cjk_missing(&ctx.fonts));
    if (st == AFP_OK && opts->pdfa && pdf_fonts_unembedded(&ctx.fonts) != NULL)
        st = afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL,
                           "PDF/A-2b: font %s would not be embedded (its Liberation font file "
                           "cannot be read; set font_dir or $AFP_FONT_DIR)",
                           pdf_fonts_unembedded(&ctx.fonts));
    if (st == AFP_OK)
    {
        finish_document(&ctx);
        if (ctx.w.sink_failed)
            st = afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL, "writing the PDF failed");
    }
    if (st == AFP_OK)
    {
        afp_buf_append(out, ctx.w.out.data, ctx.w.out.len);
        ctx.stats.pages = (int64_t) ctx.npages;
        if (stats)
            *stats = ctx.stats;
    }
    pdf_fonts_free(&ctx.fonts);
    cv_formmap_free(&ctx);
    cv_resolve_free(&ctx);
    afp_text_ctx_free(&ctx.text);
    afp_buf_free(&ctx.xobjects);
    afp_free(ctx.res);
    afp_free(ctx.pages);
    pdfw_free(&ctx.w);
    return st;
}
