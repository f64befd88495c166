/*
 * afp_convert_objects.c — data objects and includes of the AFP→PDF converter.
 *
 * Data objects (BIM image, BGR graphics, BBC bar code, BOC object container) are collected
 * field by field: the OEG's OBD (units, area size), OBP (area origin, rotation, content
 * origin) and MIO/MGO (mapping option), the descriptor (IDD/GDD) and the data (IPD/GAD/OCD)
 * joined into one stream with a map back to file offsets. Then they are drawn: images through
 * afp_convert_ioca.c (resources are written once and shared; an unsupported encoding is an
 * error, or a placeholder and a warning with {"missing": "warn"}), object containers as JPEG
 * (passed through), PNG or TIFF (afp_convert_image.c); graphics through afp_convert_goca.c; bar
 * codes through afp_convert_bcoca.c.
 *
 * Includes: IPO renders the overlay once into a form XObject (its own environment: fonts,
 * descriptors) and paints it at its offset and rotation; IPS (and IOB of a page segment) walks
 * a page segment's objects in the including page's environment at the reference point; IOB
 * reads an object resource and draws it with the IOB's position, rotation, area size and
 * mapping overriding the object's. Resources the file lacks come from the resolver of the
 * options (afp_convert_resolve.c); errors inside them name the external resource.
 */
#include "afp_pdf_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define CV_MAX_INCLUDE 8

/* ------------------------------------------------------------------ data objects */

/* Releases an object's collected data. */
void
cv_obj_free(cv_obj *o)
{
    afp_buf_free(&o->data);
    afp_free(o->segs);
}

/* Starts collecting a data object. */
void
cv_obj_begin(cv_obj *o, const afp_sf *sf)
{
    memset(o, 0, sizeof(*o));
    afp_buf_init(&o->data);
    o->cat = afp_sf_category(sf->id);
    o->offset = sf->offset;
    o->map = -1;
    cv_token(sf->data, sf->data_len, o->name);
}

/* Reads the mapping option of an MIO/MGO/MBC/MCD (RGLength(2) + X'04' triplet). */
static int
map_option(const afp_sf *sf)
{
    size_t pos = 2;

    while (pos + 3 <= sf->data_len)
    {
        size_t tl = sf->data[pos];

        if (tl < 2 || pos + tl > sf->data_len)
            break;
        if (sf->data[pos + 1] == 0x04 && tl >= 3)
            return sf->data[pos + 2];
        pos += tl;
    }
    return -1;
}

/* Takes one field of a data object's OEG or data. */
void
cv_obj_field(cv_obj *o, const afp_sf *sf)
{
    const uint8_t *d = sf->data;
    size_t n = sf->data_len;

    switch (sf->id)
    {
        case 0xD3A66B:         /* OBD: triplets X'4B' units, X'4C' size */
        {
            afp_triplet_iter it;
            afp_triplet t;
            afp_error ignored;

            afp_triplet_iter_init(&it, d, n, sf->data_offset);
            while (afp_triplet_next(&it, &t, &ignored) == 1)
            {
                if (t.id == 0x4B && t.len >= 6)
                {
                    o->oux = cv_unit_pt(t.data[0], cv_u16(t.data + 2));
                    o->ouy = cv_unit_pt(t.data[1], cv_u16(t.data + 4));
                }
                else if (t.id == 0x4C && t.len >= 7)
                {
                    o->oaw = cv_s24(t.data + 1, NULL);
                    o->oah = cv_s24(t.data + 4, NULL);
                }
            }
            break;
        }
        case 0xD3AC6B:         /* OBP: OAPosID(1) RGLength(1) XoaOset(3) YoaOset(3) XoaOrent(2)
                                * YoaOrent(2) reserved(1) XocaOset(3) YocaOset(3) … RefCSys(1) */
            if (n >= 19)
            {
                o->xoa = cv_s24(d + 2, NULL);
                o->yoa = cv_s24(d + 5, NULL);
                o->rot = cv_degrees(cv_u16(d + 8));
                o->xoc = cv_s24(d + 13, NULL);
                o->yoc = cv_s24(d + 16, NULL);
                o->have_obp = 1;
            }
            break;
        case 0xD3ABFB:         /* MIO */
        case 0xD3ABBB:         /* MGO */
            o->map = map_option(sf);
            break;
        case 0xD3A6FB:         /* IDD */
        case 0xD3A6BB:         /* GDD */
        case 0xD3A6EB:         /* BDD */
            o->desc = d;
            o->desc_len = n;
            break;
        case 0xD3EEFB:         /* IPD */
        case 0xD3EEBB:         /* GAD */
        case 0xD3EE92:         /* OCD */
        case 0xD3EEEB:         /* BDA */
            if (n > 0)
            {
                o->segs = afp_text_grow(o->segs, &o->capsegs, o->nsegs + 1, sizeof(afp_ptx_seg));
                o->segs[o->nsegs].stream_off = o->data.len;
                o->segs[o->nsegs].file_off = sf->data_offset;
                o->nsegs++;
                afp_buf_append(&o->data, d, n);
            }
            break;
        default:
            break;
    }
}

/* Reads a data object resource (Begin … End) into o. */
static afp_status
obj_read(cv_ctx *ctx, const cv_res *res, cv_obj *o)
{
    afp_reader r;
    afp_sf sf;
    int rc, first = 1;

    size_t blen;
    const uint8_t *b = cv_res_bytes(ctx, res, &blen);

    if (res->raw)
    {
        /* an external raw object (JPEG, PNG, TIFF …): the data of an object container */
        memset(o, 0, sizeof(*o));
        afp_buf_init(&o->data);
        o->cat = 0x92;
        o->map = -1;
        memcpy(o->name, res->name, sizeof(o->name));
        afp_buf_append(&o->data, b, blen);
        return AFP_OK;
    }
    afp_reader_init(&r, b, res->end);
    r.pos = res->start;
    while ((rc = afp_reader_next(&r, &sf, ctx->err)) == 1)
    {
        if (first)
        {
            cv_obj_begin(o, &sf);
            first = 0;
            continue;
        }
        cv_obj_field(o, &sf);
    }
    if (first)
        cv_obj_begin(o, &sf);
    return rc < 0 ? ctx->err->status : AFP_OK;
}

/* Object area of an object in a space, with IOB overrides (iob may be NULL). */
static void
obj_area(const cv_obj *o, const cv_space *sp, const cv_iob *iob, cv_area *a)
{
    double ux = o->oux > 0 ? o->oux : sp->upx, uy = o->ouy > 0 ? o->ouy : sp->upy;

    a->xoa = sp->ox + o->xoa * sp->upx;
    a->yoa = sp->oy + o->yoa * sp->upy;
    a->rot = o->rot;
    a->w = o->oaw * ux;
    a->h = o->oah * uy;
    a->xoc = o->xoc * ux;
    a->yoc = o->yoc * uy;
    a->map = o->map;
    if (iob == NULL)
        return;
    if (!isnan(iob->xoa))
        a->xoa = sp->ox + iob->xoa;
    if (!isnan(iob->yoa))
        a->yoa = sp->oy + iob->yoa;
    if (iob->rot >= 0)
        a->rot = iob->rot;
    if (!isnan(iob->xoc))
        a->xoc = iob->xoc;
    if (!isnan(iob->yoc))
        a->yoc = iob->yoc;
    if (iob->w > 0 && iob->h > 0)
    {
        a->w = iob->w;
        a->h = iob->h;
    }
    if (iob->map >= 0)
        a->map = iob->map;
}

/* Draws a collected object. res: the resource it came from (image cache), or NULL. */
afp_status
cv_obj_draw(cv_ctx *ctx, cv_obj *o, const cv_space *sp, const cv_iob *iob, cv_res *res)
{
    cv_area a;
    afp_status st = AFP_OK;

    obj_area(o, sp, iob, &a);
    if (o->cat == 0xFB)
    {
        pdf_image local, *img = res ? &res->img : &local;
        char why[160] = "";
        long tw = 0, th = 0;

        if (a.map == 0x50 && a.w > 0 && a.h > 0)
        {
            /* replicate and trim: expand the image to its area (not cached) */
            img = &local;
            res = NULL;
            if (o->desc && o->desc_len >= 9 && cv_u16(o->desc + 1) > 0 && cv_u16(o->desc + 3) > 0)
            {
                /* pels per inch of the IDD resolution (per 10 inches or per 10 cm) */
                double k = o->desc[0] == 0x01 ? 0.254 : 0.1;

                tw = (long) ceil(a.w / 72.0 * cv_u16(o->desc + 1) * k);
                th = (long) ceil(a.h / 72.0 * cv_u16(o->desc + 3) * k);
            }
        }
        if (res == NULL || res->img.obj == 0)
        {
            st = pdf_ioca_write(&ctx->w, o->desc, o->desc_len, o->data.data, o->data.len, o->segs,
                                o->nsegs, tw, th, img, why, sizeof(why), ctx->err);
            if (st != AFP_OK)
                return st;
            if (img->obj == 0 && img->unsupported)
            {
                /* an encoding we cannot render: like a missing resource (error, placeholder) */
                if (ctx->opts->missing == AFP_PDF_MISSING_ERROR)
                    return afp_error_set(ctx->err, AFP_ERR_FORMAT, o->offset, "BIM",
                                         "image %s: %s (option {\"missing\": \"warn\"} draws a "
                                         "placeholder instead)", o->name, why);
                if (ctx->opts->missing == AFP_PDF_MISSING_WARN)
                {
                    cv_warn(ctx, "at byte offset %lld: image %s not drawn: %s; a placeholder is "
                            "drawn", (long long) o->offset, o->name, why);
                    cv_placeholder(ctx, a.xoa, a.yoa, a.w > 0 ? a.w : 36, a.h > 0 ? a.h : 36);
                }
                img->unsupported = 0;
                return AFP_OK;
            }
            if (img->obj == 0)
            {
                cv_warn(ctx, "at byte offset %lld: image %s not drawn: %s", (long long) o->offset,
                        o->name, why);
                return AFP_OK;
            }
            if (img->mask_ignored)
                cv_warn(ctx, "at byte offset %lld: image %s: its transparency mask is not applied "
                        "(fax-coded bilevel image); all its toned pels are drawn",
                        (long long) o->offset, o->name);
            cv_xobject(ctx, img->obj, "Im", img->name, sizeof(img->name));
            ctx->stats.images++;
        }
        cv_draw_image(ctx, &a, img, img->name, 0x20);
    }
    else if (o->cat == 0x92)
    {
        /* object containers: JPEG passes through, PNG and TIFF are decoded */
        pdf_image local, *img = res ? &res->img : &local;

        if (res == NULL || res->img.obj == 0)
        {
            int done = pdf_jpeg_write(&ctx->w, o->data.data, o->data.len, img);
            const char *what = NULL;

            if (!done)
                st = pdf_png_write(&ctx->w, o->data.data, o->data.len, o->offset, img, &done,
                                   ctx->err);
            if (!done && st == AFP_OK)
                st = pdf_tiff_write(&ctx->w, o->data.data, o->data.len, o->offset, img, &done,
                                    ctx->err);
            if (st != AFP_OK)
                return st;
            if (!done)
            {
                if (o->data.len >= 5 && memcmp(o->data.data, "%PDF-", 5) == 0)
                    what = "a PDF (PDF object containers are not supported: rasterising or "
                           "importing PDF pages is not implemented)";
                else if (o->data.len >= 4 && (memcmp(o->data.data, "\0\1\0\0", 4) == 0 ||
                                              memcmp(o->data.data, "OTTO", 4) == 0 ||
                                              memcmp(o->data.data, "true", 4) == 0))
                    what = NULL;   /* a font: used through the MDR, nothing to draw */
                else
                    what = "of an unsupported type (JPEG, PNG and TIFF containers are drawn)";
                if (what)
                    cv_warn(ctx, "at byte offset %lld: object container %s is not rendered: it is "
                            "%s", (long long) o->offset, o->name, what);
                return AFP_OK;
            }
            cv_xobject(ctx, img->obj, "Im", img->name, sizeof(img->name));
            ctx->stats.images++;
        }
        cv_draw_image(ctx, &a, img, img->name, 0x20);
    }
    else if (o->cat == 0xBB)
        st = cv_goca_draw(ctx, &a, o->desc, o->desc_len, o->data.data, o->data.len, o->segs,
                          o->nsegs);
    else if (o->cat == 0xEB)
        st = cv_bcoca_draw(ctx, &a, o->desc, o->desc_len, o->data.data, o->data.len, o->offset);
    return st;
}

/* ------------------------------------------------------------------ includes */

/* Renders an overlay resource into a form XObject (once). */
afp_status
cv_overlay_form(cv_ctx *ctx, cv_res *res)
{
    cv_canvas canvas, *outer = ctx->cv;
    cv_space sp;
    afp_text_saved *saved;
    afp_reader r;
    afp_sf sf;
    afp_status st;
    afp_buf dict;
    int rc;

    if (res->obj || res->busy)
        return AFP_OK;
    res->busy = 1;
    cv_canvas_init(&canvas);
    canvas.fill_space = -1;    /* a form inherits the colour in effect where it is painted */
    memset(&sp, 0, sizeof(sp));
    sp.kind = SP_OVERLAY;
    sp.upx = sp.upy = 72.0 / 1440;
    sp.w = 8.5 * 72;
    sp.h = 11 * 72;
    saved = afp_text_env_save(&ctx->text);   /* afp_text_include.c */
    afp_text_env_reset(&ctx->text);          /* afp_text.c */
    ctx->cv = &canvas;
    {
        size_t blen;
        const uint8_t *b = cv_res_bytes(ctx, res, &blen);

        afp_reader_init(&r, b, res->end);
    }
    r.pos = res->start;
    rc = afp_reader_next(&r, &sf, ctx->err);     /* the BMO */
    st = rc < 0 ? ctx->err->status : rc == 0 ? AFP_OK : cv_walk_space(ctx, &r, &sp, 0xDF);
    if (st != AFP_OK)
        cv_res_error_context(ctx, res, "overlay");
    cv_text_end(&canvas);
    ctx->cv = outer;
    afp_text_env_restore(&ctx->text, saved);
    if (st == AFP_OK)
    {
        res->obj = pdfw_alloc(&ctx->w);
        afp_buf_init(&dict);
        afp_buf_printf(&dict, "/Type /XObject /Subtype /Form /BBox [0 0 ");
        pdf_num(&dict, sp.w);
        afp_buf_putc(&dict, ' ');
        pdf_num(&dict, sp.h);
        afp_buf_printf(&dict, "] /Resources %d 0 R", ctx->resources_obj);
        pdfw_stream(&ctx->w, res->obj, afp_buf_cstr(&dict), canvas.cs.data, canvas.cs.len, 1, NULL);
        cv_xobject(ctx, res->obj, "Fm", res->img.name, sizeof(res->img.name));
        afp_buf_free(&dict);
    }
    cv_canvas_free(&canvas);
    res->busy = 0;
    return st;
}

/* IPO: draws an overlay at its offset (page units) and rotation. */
afp_status
cv_include_overlay(cv_ctx *ctx, const cv_space *sp, const afp_sf *sf)
{
    char name[9];
    double x, y;
    int rot = 0;
    cv_res *res;
    afp_status st;
    cv_canvas *c = ctx->cv;

    if (sf->data_len < 14)
        return AFP_OK;
    cv_token(sf->data, 8, name);
    x = sp->ox + cv_s24(sf->data + 8, NULL) * sp->upx;
    y = sp->oy + cv_s24(sf->data + 11, NULL) * sp->upy;
    if (sf->data_len >= 16)
        rot = cv_degrees(cv_u16(sf->data + 14)) / 90 * 90;
    res = cv_lookup(ctx, "overlay", name, NULL, 0, 0xDF, &st);
    if (st != AFP_OK)
        return st;
    if (res == NULL)
        return cv_missing(ctx, sf, "overlay", name, x, y, 0, 0);
    if (res->busy || ctx->depth >= CV_MAX_INCLUDE)
        return AFP_OK;
    ctx->depth++;
    st = cv_overlay_form(ctx, res);
    ctx->depth--;
    if (st != AFP_OK || res->obj == 0 || c == NULL)
        return st;
    cv_text_end(c);
    afp_buf_printf(&c->cs, "q %d %d %d %d ", rot == 0 ? 1 : rot == 180 ? -1 : 0,
                   rot == 90 ? 1 : rot == 270 ? -1 : 0, rot == 90 ? -1 : rot == 270 ? 1 : 0,
                   rot == 0 ? 1 : rot == 180 ? -1 : 0);
    pdf_num(&c->cs, x);
    afp_buf_putc(&c->cs, ' ');
    pdf_num(&c->cs, y);
    afp_buf_printf(&c->cs, " cm /%s Do Q\n", res->img.name);
    c->fill_space = -1;
    return AFP_OK;
}

/* Renders the page segment name at (ox, oy) (points on the canvas); sf for messages. */
static afp_status
segment_at(cv_ctx *ctx, const cv_space *sp, const afp_sf *sf, const char *name, double sx,
           double sy)
{
    cv_res *res;
    cv_space seg;
    afp_reader r;
    afp_sf begin;
    afp_status st;
    int rc;
    double ox, oy;
    size_t blen;
    const uint8_t *b;

    seg = *sp;
    seg.kind = SP_SEGMENT;
    seg.ox = sx;
    seg.oy = sy;
    res = cv_lookup(ctx, "segment", name, NULL, 0, 0x5F, &st);
    if (st != AFP_OK)
        return st;
    if (res == NULL)
        return cv_missing(ctx, sf, "page segment", name, seg.ox, seg.oy, 0, 0);
    if (res->busy || ctx->depth >= CV_MAX_INCLUDE)
        return AFP_OK;
    res->busy = 1;
    ctx->depth++;
    ox = ctx->cv ? ctx->cv->ox : 0;
    oy = ctx->cv ? ctx->cv->oy : 0;
    if (ctx->cv)
    {
        ctx->cv->ox = seg.ox;
        ctx->cv->oy = seg.oy;
    }
    b = cv_res_bytes(ctx, res, &blen);
    afp_reader_init(&r, b, res->end);
    r.pos = res->start;
    rc = afp_reader_next(&r, &begin, ctx->err);
    st = rc < 0 ? ctx->err->status : rc == 0 ? AFP_OK : cv_walk_space(ctx, &r, &seg, 0x5F);
    if (st != AFP_OK)
        cv_res_error_context(ctx, res, "page segment");
    if (ctx->cv)
    {
        cv_text_end(ctx->cv);
        ctx->cv->ox = ox;
        ctx->cv->oy = oy;
    }
    ctx->depth--;
    res->busy = 0;
    return st;
}

/* IPS: renders a page segment's objects at the reference point (page units). */
afp_status
cv_include_segment(cv_ctx *ctx, const cv_space *sp, const afp_sf *sf)
{
    char name[9];

    if (sf->data_len < 14)
        return AFP_OK;
    cv_token(sf->data, 8, name);
    return segment_at(ctx, sp, sf, name, sp->ox + cv_s24(sf->data + 8, NULL) * sp->upx,
                      sp->oy + cv_s24(sf->data + 11, NULL) * sp->upy);
}

/* IOB: includes an image, graphics or bar code object (or a page segment) from the index. */
afp_status
cv_include_object(cv_ctx *ctx, const cv_space *sp, const afp_sf *sf)
{
    const uint8_t *d = sf->data;
    size_t n = sf->data_len;
    char name[9];
    cv_iob iob;
    cv_res *res;
    cv_obj o;
    afp_status st;
    int ff;
    double ux = sp->upx, uy = sp->upy;
    long aw = 0, ah = 0;

    if (n < 27)
        return AFP_OK;
    cv_token(d, 8, name);
    iob.xoa = cv_s24(d + 10, &ff) * sp->upx;
    if (ff)
        iob.xoa = NAN;
    iob.yoa = cv_s24(d + 13, &ff) * sp->upy;
    if (ff)
        iob.yoa = NAN;
    iob.rot = cv_u16(d + 16) == 0xFFFF ? -1 : cv_degrees(cv_u16(d + 16));
    iob.map = -1;
    iob.w = iob.h = 0;
    {
        afp_triplet_iter it;
        afp_triplet t;
        afp_error ignored;

        afp_triplet_iter_init(&it, d + 27, n - 27, sf->data_offset + 27);
        while (afp_triplet_next(&it, &t, &ignored) == 1)
        {
            if (t.id == 0x4B && t.len >= 6)
            {
                ux = cv_unit_pt(t.data[0], cv_u16(t.data + 2));
                uy = cv_unit_pt(t.data[1], cv_u16(t.data + 4));
            }
            else if (t.id == 0x4C && t.len >= 7)
            {
                aw = cv_s24(t.data + 1, NULL);
                ah = cv_s24(t.data + 4, NULL);
            }
            else if (t.id == 0x04 && t.len >= 1)
                iob.map = t.data[0];
        }
    }
    iob.w = aw * ux;
    iob.h = ah * uy;
    iob.xoc = cv_s24(d + 20, &ff) * ux;
    if (ff)
        iob.xoc = NAN;
    iob.yoc = cv_s24(d + 23, &ff) * uy;
    if (ff)
        iob.yoc = NAN;
    if (d[9] == 0x5F)          /* a page segment at the object area origin */
        return segment_at(ctx, sp, sf, name, sp->ox + (isnan(iob.xoa) ? 0 : iob.xoa),
                          sp->oy + (isnan(iob.yoa) ? 0 : iob.yoa));
    res = cv_lookup(ctx, "object", name, NULL, 0, d[9], &st);
    if (st != AFP_OK)
        return st;
    if (res == NULL)
        return cv_missing(ctx, sf, "object", name, sp->ox + (isnan(iob.xoa) ? 0 : iob.xoa),
                       sp->oy + (isnan(iob.yoa) ? 0 : iob.yoa), iob.w, iob.h);
    if (res->busy || ctx->depth >= CV_MAX_INCLUDE)
        return AFP_OK;
    res->busy = 1;
    st = obj_read(ctx, res, &o);
    if (st == AFP_OK)
        st = cv_obj_draw(ctx, &o, sp, &iob, res);
    if (st != AFP_OK)
        cv_res_error_context(ctx, res, "object");
    cv_obj_free(&o);
    res->busy = 0;
    return st;
}
