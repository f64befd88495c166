/*
 * afp_generate.c — the generator: template + data → AFP print file.
 *
 * Print file:  [BRG BRS BFM … EFM ERS ERG]  BDT [IMM] (document)* EDT
 * Document:    BNG(name) TLE* (page)* ENG
 * Page:        BPG BAG MCF-2 PGD PTD-2 EAG BPT PTX* EPT [image / bar code objects] [IPO/IPS] EPG
 *
 * Units are 1440 per inch in PGD and PTD-2 (AFP-NOTES §1.4). Fonts are IBM core font character
 * sets with a code page (CP500, or CP1148 when the text needs the euro sign), one MCF-2 repeating
 * group per font used on the page. Documents are written one at a time, so a batch holds one
 * document's layout in memory regardless of how many documents it has.
 */
#include "afp_layout.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

struct afp_generator {
    const afp_json *tmpl;
    afp_resource_fn res;
    void *res_ctx;
    afp_buf *out;
    afp_writer w;
    double page_w, page_h, mt, mr, mb, ml;
    gen_font font;
    uint32_t rgb;
    int64_t ndocs;
    char img_names[64][65];     /* images written once to the inline resource group ... */
    char img_tokens[64][9];     /* ... under these resource names, included per page by IOB */
    size_t nimg;
};

#define FORM_MAP_NAME "F1AFPGEN"
#define MEDIUM_MAP_NAME "M1AFPGEN"

/* Moves what the writer produced to the caller's output buffer. */
static void
drain(afp_generator *g)
{
    afp_buf_append(g->out, g->w.out.data, g->w.out.len);
    g->w.out.len = 0;
}

/* Reads page size, orientation and margins. */
static afp_status
read_page(afp_generator *g, afp_error *err)
{
    const afp_json *page = afp_json_get(g->tmpl, "page");
    const afp_json *size = afp_json_get(page, "size"), *m = afp_json_get(page, "margins");
    const char *orient = NULL;
    afp_status st;

    g->page_w = 595.28;
    g->page_h = 841.89;
    if (page && page->type != AFP_JSON_OBJECT)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "$.page: expected an object");
    if (size && size->type == AFP_JSON_STRING)
    {
        if (strcmp(size->string, "Letter") == 0)
            g->page_w = 612, g->page_h = 792;
        else if (strcmp(size->string, "Legal") == 0)
            g->page_w = 612, g->page_h = 1008;
        else if (strcmp(size->string, "A4") != 0)
            return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "$.page.size: unknown size '%s' (A4, Letter, Legal)",
                                 size->string);
    }
    else if (size && size->type == AFP_JSON_OBJECT)
    {
        if ((st = lay_num(size, "width", 0, &g->page_w, "$.page.size", err)) != AFP_OK ||
            (st = lay_num(size, "height", 0, &g->page_h, "$.page.size", err)) != AFP_OK)
            return st;
    }
    else if (size)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "$.page.size: expected a name or {width, height}");
    if (g->page_w < 72 || g->page_h < 72 || g->page_w > 1584 || g->page_h > 1584)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "$.page.size: %.1f x %.1f pt is outside 72..1584 pt",
                             g->page_w, g->page_h);
    if ((st = lay_str(page, "orientation", &orient, "$.page", err)) != AFP_OK)
        return st;
    if (orient && strcmp(orient, "landscape") == 0)
    {
        double t = g->page_w;

        g->page_w = g->page_h;
        g->page_h = t;
    }
    else if (orient && strcmp(orient, "portrait") != 0)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "$.page.orientation: expected portrait or landscape");
    if (m && m->type != AFP_JSON_OBJECT)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "$.page.margins: expected an object");
    if ((st = lay_num(m, "top", 72, &g->mt, "$.page.margins", err)) != AFP_OK ||
        (st = lay_num(m, "right", 72, &g->mr, "$.page.margins", err)) != AFP_OK ||
        (st = lay_num(m, "bottom", 72, &g->mb, "$.page.margins", err)) != AFP_OK ||
        (st = lay_num(m, "left", 72, &g->ml, "$.page.margins", err)) != AFP_OK)
        return st;
    if (g->mt < 0 || g->mr < 0 || g->mb < 0 || g->ml < 0 || g->ml + g->mr >= g->page_w - 36 ||
        g->mt + g->mb >= g->page_h - 36)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "$.page.margins: margins leave less than 36 pt of body");
    return AFP_OK;
}

/* Writes the inline form map (duplex, copies) in a resource group before the document. */
static afp_status
write_form_map(afp_generator *g, const afp_json *form, afp_error *err)
{
    const char *duplex = NULL;
    double copies = 1;
    uint8_t dup = 0x01;
    afp_buf b;
    afp_status st;
    int sides, i;

    if (form->type != AFP_JSON_OBJECT)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "$.form: expected an object");
    if ((st = lay_str(form, "duplex", &duplex, "$.form", err)) != AFP_OK ||
        (st = lay_num(form, "copies", 1, &copies, "$.form", err)) != AFP_OK)
        return st;
    if (duplex == NULL || strcmp(duplex, "none") == 0)
        dup = 0x01;
    else if (strcmp(duplex, "long") == 0)
        dup = 0x02;
    else if (strcmp(duplex, "short") == 0)
        dup = 0x03;
    else
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "$.form.duplex: expected none, long or short");
    if (copies < 1 || copies > 255 || copies != floor(copies))
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "$.form.copies: expected an integer 1..255");
    sides = dup == 0x01 ? 1 : 2;

    afp_buf_init(&b);
    afp_buf_putc(&b, 10);                                                   /* X'21' form map */
    afp_buf_putc(&b, 0x21);
    afp_buf_putc(&b, 0xFE);
    afp_buf_append(&b, "\0\0\0\0\0\0\0", 7);
    afp_write_begin(&g->w, 0xD3A8CE, FORM_MAP_NAME, b.data, b.len);         /* BRS */
    afp_write_begin(&g->w, 0xD3A8CD, FORM_MAP_NAME, NULL, 0);               /* BFM */
    afp_write_begin(&g->w, 0xD3A8C4, "D1AFPGEN", NULL, 0);                  /* BDG */
    b.len = 0;                                                              /* MDD */
    afp_buf_putc(&b, 0);
    afp_buf_putc(&b, 0);
    afp_buf_put16(&b, 14400);
    afp_buf_put16(&b, 14400);
    afp_buf_put24(&b, (uint32_t) lround(g->page_w * PT));
    afp_buf_put24(&b, (uint32_t) lround(g->page_h * PT));
    afp_buf_putc(&b, 0);
    afp_write_sf(&g->w, 0xD3A688, b.data, b.len);
    afp_write_end(&g->w);                                                   /* EDG */
    afp_write_begin(&g->w, 0xD3A8CC, MEDIUM_MAP_NAME, NULL, 0);             /* BMM */
    b.len = 0;                                                              /* PGP-2 */
    afp_buf_putc(&b, 0x01);
    for (i = 0; i < sides; i++)
    {
        afp_buf_putc(&b, 10);
        afp_buf_put24(&b, 0);
        afp_buf_put24(&b, 0);
        afp_buf_put16(&b, 0);
        afp_buf_putc(&b, (uint8_t) i);      /* X'00' front, X'01' back */
    }
    afp_write_sf(&g->w, 0xD3B1AF, b.data, b.len);
    b.len = 0;                                                              /* MCC */
    for (i = 0; i < sides; i++)
    {
        afp_buf_put16(&b, (uint16_t) (i * (int) copies + 1));
        afp_buf_put16(&b, (uint16_t) ((i + 1) * (int) copies));
        afp_buf_putc(&b, 0);
        afp_buf_putc(&b, 1);
    }
    afp_write_sf(&g->w, 0xD3A288, b.data, b.len);
    b.len = 0;                                                              /* MMC */
    afp_buf_putc(&b, 1);
    afp_buf_putc(&b, 0xFF);
    afp_buf_putc(&b, 0xF4);
    afp_buf_putc(&b, dup);
    afp_write_sf(&g->w, 0xD3A788, b.data, b.len);
    afp_write_end(&g->w);                                                   /* EMM */
    afp_write_end(&g->w);                                                   /* EFM */
    afp_write_end(&g->w);                                                   /* ERS */
    afp_buf_free(&b);
    return AFP_OK;
}

/* Collects the names of overlays and page segments the template includes (type "overlay" or
 * "segment" elements anywhere in it) into names[] as "o:NAME" / "s:NAME"; returns the count. */
static size_t
collect_includes(const afp_json *v, char names[][11], size_t n, size_t max)
{
    size_t i;

    if (v == NULL)
        return n;
    if (v->type == AFP_JSON_OBJECT)
    {
        const afp_json *t = afp_json_get(v, "type"), *nm = afp_json_get(v, "name");

        if (t && nm && t->type == AFP_JSON_STRING && nm->type == AFP_JSON_STRING && nm->string_len <= 8 &&
            (strcmp(t->string, "overlay") == 0 || strcmp(t->string, "segment") == 0))
        {
            char key[11];
            size_t k;

            snprintf(key, sizeof(key), "%c:%s", t->string[0], nm->string);
            for (k = 0; k < n; k++)
                if (strcmp(names[k], key) == 0)
                    break;
            if (k == n && n < max)
                memcpy(names[n++], key, sizeof(key));
        }
    }
    if (v->type == AFP_JSON_OBJECT || v->type == AFP_JSON_ARRAY)
        for (i = 0; i < v->count; i++)
            n = collect_includes(v->items[i], names, n, max);
    return n;
}

/* Collects the resource names of the images the template uses (type "image" elements). */
static void
collect_images(afp_generator *g, const afp_json *v)
{
    size_t i;

    if (v == NULL)
        return;
    if (v->type == AFP_JSON_OBJECT)
    {
        const afp_json *t = afp_json_get(v, "type"), *r = afp_json_get(v, "resource");

        if (t && r && t->type == AFP_JSON_STRING && r->type == AFP_JSON_STRING && strcmp(t->string, "image") == 0 &&
            r->string_len > 0 && r->string_len < sizeof(g->img_names[0]) && g->nimg < 64)
        {
            size_t k;

            for (k = 0; k < g->nimg; k++)
                if (strcmp(g->img_names[k], r->string) == 0)
                    break;
            if (k == g->nimg)
            {
                memcpy(g->img_names[g->nimg], r->string, r->string_len + 1);
                snprintf(g->img_tokens[g->nimg], 9, "I1%06u", (unsigned) (g->nimg + 1));
                g->nimg++;
            }
        }
    }
    if (v->type == AFP_JSON_OBJECT || v->type == AFP_JSON_ARRAY)
        for (i = 0; i < v->count; i++)
            collect_images(g, v->items[i]);
}

/* Writes every image the template uses once into the inline resource group (BRS X'21' IOCA):
 * pages then include them by IOB, instead of carrying the image data on every page. Images
 * missing from the library are skipped here; the layout reports them with their path. */
static afp_status
write_image_resources(afp_generator *g, afp_error *err)
{
    afp_buf t;
    size_t i, kept = 0;
    afp_status st = AFP_OK;

    afp_buf_init(&t);
    for (i = 0; i < g->nimg && st == AFP_OK; i++)
    {
        const uint8_t *data;
        size_t len;
        afp_image_info info;
        afp_error e;

        if (g->res == NULL || !g->res(g->res_ctx, "image", g->img_names[i], &data, &len) ||
            afp_image_probe(data, len, &info, &e) != AFP_OK)
            continue;
        t.len = 0;
        afp_buf_putc(&t, 10);                                               /* X'21' IOCA */
        afp_buf_putc(&t, 0x21);
        afp_buf_putc(&t, 0x06);
        afp_buf_append(&t, "\0\0\0\0\0\0\0", 7);
        afp_write_begin(&g->w, 0xD3A8CE, g->img_tokens[i], t.data, t.len);   /* BRS */
        /* natural size at the file's resolution; each IOB gives the size actually used */
        st = afp_image_write(&g->w, g->img_tokens[i], data, len, 0, 0,
                             (int32_t) (info.width * 1440.0 / (info.xdpi > 0 ? info.xdpi : 72.0)) + 1,
                             (int32_t) (info.height * 1440.0 / (info.ydpi > 0 ? info.ydpi : 72.0)) + 1, err);
        afp_write_end(&g->w);                                                 /* ERS */
        if (st == AFP_OK)
        {
            if (kept != i)
            {
                memcpy(g->img_names[kept], g->img_names[i], sizeof(g->img_names[0]));
                memcpy(g->img_tokens[kept], g->img_tokens[i], sizeof(g->img_tokens[0]));
            }
            kept++;
        }
    }
    g->nimg = kept;
    afp_buf_free(&t);
    return st;
}

/* Writes an Include Object for an image resource at (x, y) with size w × h (1440ths). */
static void
write_iob(afp_generator *g, const char *token, int32_t x, int32_t y, int32_t w, int32_t h)
{
    afp_buf b;

    afp_buf_init(&b);
    afp_buf_reserve(&b, 8);
    afp_token_encode(token, b.data);
    b.len = 8;
    afp_buf_putc(&b, 0);                    /* reserved */
    afp_buf_putc(&b, 0xFB);                 /* object type: IOCA image */
    afp_buf_put24(&b, (uint32_t) x & 0xFFFFFF);
    afp_buf_put24(&b, (uint32_t) y & 0xFFFFFF);
    afp_buf_put16(&b, 0x0000);              /* X-axis rotation 0 */
    afp_buf_put16(&b, 0x2D00);              /* Y-axis rotation 90 */
    afp_buf_put24(&b, 0);                   /* object content at the area origin */
    afp_buf_put24(&b, 0);
    afp_buf_putc(&b, 0x01);                 /* page coordinate system */
    afp_triplet_units(&b, 14400, 14400);
    afp_triplet_area_size(&b, (uint32_t) w, (uint32_t) h);
    afp_buf_putc(&b, 3);                    /* X'04' Mapping Option: scale to fill */
    afp_buf_putc(&b, 0x04);
    afp_buf_putc(&b, 0x60);
    afp_write_sf(&g->w, 0xD3AFC3, b.data, b.len);                         /* IOB */
    afp_buf_free(&b);
}

/* Copies the overlays and page segments the template uses into the inline resource group, so
 * the print file is self-contained. Each must be one valid BMO…EMO / BPS…EPS object. */
static afp_status
embed_resources(afp_generator *g, afp_error *err)
{
    char names[64][11];
    size_t n = collect_includes(g->tmpl, names, 0, 64), i;
    afp_buf t;
    afp_status st = AFP_OK;

    afp_buf_init(&t);
    for (i = 0; i < n && st == AFP_OK; i++)
    {
        int overlay = names[i][0] == 'o';
        const char *name = names[i] + 2;
        const uint8_t *data;
        size_t len;
        afp_reader r;
        afp_sf sf;
        afp_error e;
        afp_issue_list issues = {0};
        size_t k;

        if (g->res == NULL || !g->res(g->res_ctx, overlay ? "overlay" : "segment", name, &data, &len))
        {
            st = afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "$.resources.embed: %s '%s' is not in the resource library",
                               overlay ? "overlay" : "page segment", name);
            break;
        }
        afp_reader_init(&r, data, len);
        afp_error_clear(&e);
        if (afp_reader_next(&r, &sf, &e) != 1 || sf.id != (overlay ? 0xD3A8DFu : 0xD3A85Fu))
        {
            st = afp_error_set(err, AFP_ERR_FORMAT, -1, "", "%s '%s' must start with %s", overlay ? "overlay" : "page segment",
                               name, overlay ? "BMO" : "BPS");
            break;
        }
        afp_validate(data, len, &issues, &e);
        for (k = 0; k < issues.count; k++)
            if (issues.items[k].severity == AFP_SEV_ERROR)
            {
                st = afp_error_set(err, AFP_ERR_FORMAT, -1, "", "%s '%s': %s", overlay ? "overlay" : "page segment", name,
                                   issues.items[k].message);
                break;
            }
        afp_issue_list_free(&issues);
        if (st != AFP_OK)
            break;
        t.len = 0;
        afp_buf_putc(&t, 10);                                               /* X'21' resource type */
        afp_buf_putc(&t, 0x21);
        afp_buf_putc(&t, overlay ? 0xFC : 0xFB);
        afp_buf_append(&t, "\0\0\0\0\0\0\0", 7);
        afp_write_begin(&g->w, 0xD3A8CE, name, t.data, t.len);              /* BRS */
        afp_buf_append(&g->w.out, data, len);
        afp_write_end(&g->w);                                               /* ERS */
    }
    afp_buf_free(&t);
    return st;
}

/* Starts a print file. */
afp_status
afp_generator_begin(afp_generator **out_g, const afp_json *tmpl, afp_resource_fn res, void *res_ctx, afp_buf *out,
                    afp_error *err)
{
    afp_generator *g;
    gen_font base;
    const char *col = NULL;
    const afp_json *form, *embed;
    afp_status st;

    *out_g = NULL;
    if (tmpl == NULL || tmpl->type != AFP_JSON_OBJECT)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "$: a template must be a JSON object");
    if (afp_json_get(tmpl, "body") == NULL)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "$.body: missing");
    g = afp_alloc(sizeof(*g));
    memset(g, 0, sizeof(*g));
    g->tmpl = tmpl;
    g->res = res;
    g->res_ctx = res_ctx;
    g->out = out;
    afp_writer_init(&g->w);
    memset(&base, 0, sizeof(base));
    base.family = AFP_FAMILY_HELVETICA;
    base.style = AFP_STYLE_REGULAR;
    base.size = 10;
    if ((st = afp_font_load(base.family, base.style, &base.m, err)) != AFP_OK ||
        (st = read_page(g, err)) != AFP_OK ||
        (st = lay_font(afp_json_get(tmpl, "font"), &base, &g->font, "$.font", err)) != AFP_OK ||
        (st = lay_str(tmpl, "color", &col, "$", err)) != AFP_OK || (st = lay_color(col, &g->rgb, "$.color", err)) != AFP_OK)
    {
        afp_generator_abort(g);
        return st;
    }
    form = afp_json_get(tmpl, "form");
    embed = afp_json_get(afp_json_get(tmpl, "resources"), "embed");
    collect_images(g, tmpl);
    if (form || (embed && embed->type == AFP_JSON_TRUE) || g->nimg > 0)
    {
        afp_write_begin(&g->w, 0xD3A8C6, "R1AFPGEN", NULL, 0);             /* BRG */
        st = form ? write_form_map(g, form, err) : AFP_OK;
        if (st == AFP_OK)
            st = write_image_resources(g, err);
        if (st == AFP_OK && embed && embed->type == AFP_JSON_TRUE)
            st = embed_resources(g, err);
        if (st != AFP_OK)
        {
            afp_generator_abort(g);
            return st;
        }
        afp_write_end(&g->w);                                             /* ERG */
    }
    afp_write_begin(&g->w, 0xD3A8A8, "AFPGEN", NULL, 0);                  /* BDT */
    if (form)
    {
        uint8_t name[8];

        afp_token_encode(MEDIUM_MAP_NAME, name);
        afp_write_sf(&g->w, 0xD3ABCC, name, 8);                           /* IMM */
    }
    drain(g);
    *out_g = g;
    return AFP_OK;
}

/* Encodes a string in CP500 for names and index values. */
static afp_status
cp500(const char *s, afp_buf *out, const char *path, afp_error *err)
{
    afp_error e;

    out->len = 0;
    if (afp_codepage_encode(afp_codepage_find("T1V10500"), s, strlen(s), out, &e) != AFP_OK)
        return afp_error_set(err, e.status, -1, "", "%s: %s", path, e.message);
    return AFP_OK;
}

/* Writes BNG with the document name and the TLEs of the template's index. */
static afp_status
write_group_start(afp_generator *g, const afp_scope *s, afp_error *err)
{
    const afp_json *docobj = afp_json_get(g->tmpl, "document"), *index = afp_json_get(g->tmpl, "index");
    const char *name_t = NULL;
    afp_buf name, enc, enc2, trip;
    char tok[9];
    afp_status st = AFP_OK;
    size_t i;

    afp_buf_init(&name);
    afp_buf_init(&enc);
    afp_buf_init(&enc2);
    afp_buf_init(&trip);
    if (docobj && (st = lay_str(docobj, "name", &name_t, "$.document", err)) != AFP_OK)
        goto done;
    if (name_t && (st = afp_bind_text(name_t, s, "$.document.name", &name, err)) != AFP_OK)
        goto done;
    afp_token_make(name.len ? afp_buf_cstr(&name) : NULL, "DOC", (uint64_t) g->ndocs, tok);
    if (name.len && strcmp(tok, (char *) name.data) != 0)
    {
        if ((st = cp500((char *) name.data, &enc, "$.document.name", err)) != AFP_OK)
            goto done;
        afp_triplet_fqn_raw(&trip, 0x01, 0x00, enc.data, enc.len > 250 ? 250 : enc.len);
    }
    afp_write_begin(&g->w, 0xD3A8AD, tok, trip.data, trip.len);          /* BNG */
    if (index && index->type != AFP_JSON_OBJECT)
    {
        st = afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "$.index: expected an object of name: text");
        goto done;
    }
    for (i = 0; index && i < index->count && st == AFP_OK; i++)
    {
        char *ip = lay_path("$.index", index->keys[i], 0);

        name.len = 0;
        if (index->items[i]->type != AFP_JSON_STRING)
            st = afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s: expected a string", ip);
        else if ((st = afp_bind_text(index->items[i]->string, s, ip, &name, err)) == AFP_OK &&
                 (st = cp500(index->keys[i], &enc, ip, err)) == AFP_OK &&
                 (st = cp500(afp_buf_cstr(&name), &enc2, ip, err)) == AFP_OK)
        {
            if (enc.len == 0 || enc.len > 250 || enc2.len > 250)
                st = afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "%s: index names must be 1..250 and values 0..250 characters",
                                   ip);
            else
            {
                trip.len = 0;
                afp_triplet_fqn_raw(&trip, 0x0B, 0x00, enc.data, enc.len);
                afp_triplet_attr_value(&trip, enc2.data, enc2.len);
                afp_write_sf(&g->w, 0xD3A090, trip.data, trip.len);     /* TLE */
            }
        }
        afp_free(ip);
    }
done:
    afp_buf_free(&name);
    afp_buf_free(&enc);
    afp_buf_free(&enc2);
    afp_buf_free(&trip);
    return st;
}

/* A distinct font (family, style, size, code page) on a page and its local ID. */
typedef struct page_font {
    afp_family family;
    afp_style style;
    int32_t size20;             /* size in 1/20 pt */
    int codepage;
} page_font;

/* Local ID of a text item's font, adding it to the page's list. */
static int
font_lid(page_font *fonts, int *n, const gen_item *it)
{
    int i;
    int32_t sz = (int32_t) lround(it->font.size * 20);

    for (i = 0; i < *n; i++)
        if (fonts[i].family == it->font.family && fonts[i].style == it->font.style && fonts[i].size20 == sz &&
            fonts[i].codepage == it->codepage)
            return i + 1;
    if (*n >= 127)
        return -1;
    fonts[*n].family = it->font.family;
    fonts[*n].style = it->font.style;
    fonts[*n].size20 = sz;
    fonts[*n].codepage = it->codepage;
    return ++*n;
}

/* Writes the active environment group of a page: fonts, page and text descriptors. */
static void
write_aeg(afp_generator *g, const page_font *fonts, int nfonts)
{
    afp_buf b, rg;
    int i;
    uint32_t xs = (uint32_t) lround(g->page_w * PT), ys = (uint32_t) lround(g->page_h * PT);

    afp_buf_init(&b);
    afp_buf_init(&rg);
    afp_write_begin(&g->w, 0xD3A8C9, NULL, NULL, 0);                      /* BAG */
    for (i = 0; i < nfonts; i++)
    {
        char cs[9];
        int outline = 0;

        afp_font_ibm_charset(fonts[i].family, fonts[i].style, fonts[i].size20 / 20.0, cs, &outline);
        rg.len = 0;
        afp_buf_put16(&rg, 0);
        afp_triplet_fqn(&rg, 0x85, lay_codepage_names[fonts[i].codepage]);
        afp_triplet_fqn(&rg, 0x86, cs);
        afp_triplet_rli(&rg, 0x05, (uint8_t) (i + 1));
        if (outline)
        {
            /* X'1F' Font Descriptor Specification: weight, width class, size in 1440ths */
            afp_buf_putc(&rg, 9);
            afp_buf_putc(&rg, 0x1F);
            afp_buf_putc(&rg, (fonts[i].style & AFP_STYLE_BOLD) ? 0x07 : 0x05);
            afp_buf_putc(&rg, 0x05);
            afp_buf_put16(&rg, (uint16_t) fonts[i].size20);
            afp_buf_put16(&rg, (uint16_t) fonts[i].size20);
            afp_buf_putc(&rg, 0x00);
        }
        rg.data[0] = (uint8_t) (rg.len >> 8);
        rg.data[1] = (uint8_t) rg.len;
        if (b.len + rg.len > AFP_SF_WRITE_MAX - AFP_SF_INTRO)
        {
            afp_write_sf(&g->w, 0xD3AB8A, b.data, b.len);
            b.len = 0;
        }
        afp_buf_append(&b, rg.data, rg.len);
    }
    if (b.len)
        afp_write_sf(&g->w, 0xD3AB8A, b.data, b.len);                    /* MCF-2 */
    afp_write_page_descriptors(&g->w, xs, ys);                            /* PGD, PTD-2 */
    afp_write_end(&g->w);                                                 /* EAG */
    afp_buf_free(&b);
    afp_buf_free(&rg);
}

/* Writes one laid-out page. */
static afp_status
write_page(afp_generator *g, const gen_page *p, size_t pageno, afp_error *err)
{
    page_font fonts[127];
    int nfonts = 0, cur_lid = -1;
    int32_t cur_svi = -1;
    uint32_t cur_rgb = 0xFFFFFFFFu;
    size_t i;
    char pname[9];
    afp_ptx x;
    afp_status st = AFP_OK;

    for (i = 0; i < p->count; i++)
        if (p->items[i].kind == GI_TEXT && font_lid(fonts, &nfonts, &p->items[i]) < 0)
            return afp_error_set(err, AFP_ERR_LIMIT, -1, "", "page %zu uses more than 127 fonts", pageno);
    snprintf(pname, sizeof(pname), "P%07zu", pageno % 10000000);
    afp_write_begin(&g->w, 0xD3A8AF, pname, NULL, 0);                     /* BPG */
    write_aeg(g, fonts, nfonts);
    afp_write_begin(&g->w, 0xD3A89B, NULL, NULL, 0);                      /* BPT */
    afp_ptx_begin(&x, &g->w);
    for (i = 0; i < p->count; i++)
    {
        const gen_item *it = &p->items[i];

        if (it->kind != GI_TEXT && it->kind != GI_RULE)
            continue;
        if (it->rgb != cur_rgb)
        {
            afp_ptx_sec_rgb(&x, (uint8_t) (it->rgb >> 16), (uint8_t) (it->rgb >> 8), (uint8_t) it->rgb);
            cur_rgb = it->rgb;
        }
        afp_ptx_amb(&x, (int16_t) it->y);
        afp_ptx_ami(&x, (int16_t) it->x);
        if (it->kind == GI_TEXT)
        {
            int lid = font_lid(fonts, &nfonts, it);

            if (lid != cur_lid)
            {
                afp_ptx_scfl(&x, (uint8_t) lid);
                cur_lid = lid;
                cur_svi = -1;   /* a font change resets the variable space increment */
            }
            if (it->space_inc != cur_svi)
            {
                afp_ptx_svi(&x, (int16_t) it->space_inc);
                cur_svi = it->space_inc;
            }
            afp_ptx_trn(&x, it->bytes, it->nbytes);
        }
        else if (it->horizontal)
            afp_ptx_dir(&x, (int16_t) it->w, (int16_t) it->h);
        else
            afp_ptx_dbr(&x, (int16_t) it->w, (int16_t) it->h);
    }
    afp_ptx_end(&x);
    afp_write_end(&g->w);                                                 /* EPT */
    for (i = 0; i < p->count && st == AFP_OK; i++)
    {
        const gen_item *it = &p->items[i];

        if (it->kind == GI_IMAGE)
        {
            size_t k;

            for (k = 0; k < g->nimg; k++)
                if (it->res && strcmp(g->img_names[k], it->res) == 0)
                    break;
            if (k < g->nimg)
                write_iob(g, g->img_tokens[k], it->x, it->y, it->w, it->h);
            else
                st = afp_image_write(&g->w, it->name, it->bytes, it->nbytes, it->x, it->y, it->w, it->h, err);
        }
        else if (it->kind == GI_BARCODE)
            st = afp_barcode_write(&g->w, it->name, &it->bc, err);
        else if (it->kind == GI_OVERLAY || it->kind == GI_SEGMENT)
        {
            afp_buf b;

            afp_buf_init(&b);
            afp_buf_reserve(&b, 16);
            afp_token_encode(it->name, b.data);
            b.len = 8;
            afp_buf_put24(&b, (uint32_t) it->x & 0xFFFFFF);
            afp_buf_put24(&b, (uint32_t) it->y & 0xFFFFFF);
            if (it->kind == GI_OVERLAY)
            {
                afp_buf_put16(&b, 0);       /* rotation 0 */
                afp_write_sf(&g->w, 0xD3AFD8, b.data, b.len);             /* IPO */
            }
            else
                afp_write_sf(&g->w, 0xD3AF5F, b.data, b.len);             /* IPS */
            afp_buf_free(&b);
        }
    }
    afp_write_end(&g->w);                                                 /* EPG */
    return st;
}

/* Adds header, footer, fixed and every-page elements to each laid-out page. */
static afp_status
decorate_pages(afp_generator *g, lay_ctx *L, const afp_scope *root, afp_error *err)
{
    size_t i, n = L->doc->count;
    afp_status st = AFP_OK;

    for (i = 0; i < n && st == AFP_OK; i++)
    {
        afp_scope ps = *root;   /* the data root, with the page number and count known */

        ps.page_number = (int64_t) i + 1;
        ps.page_count = (int64_t) n;
        L->fixed_page = &L->doc->pages[i];
        L->band_y = 0;
        if (i == 0)
            st = lay_positioned(L, afp_json_get(g->tmpl, "fixed"), &ps, "$.fixed", err);
        if (st == AFP_OK)
            st = lay_positioned(L, afp_json_get(g->tmpl, "every_page"), &ps, "$.every_page", err);
        if (st == AFP_OK)
            st = lay_positioned(L, afp_json_get(g->tmpl, "header"), &ps, "$.header", err);
        L->band_y = g->page_h - g->mb;
        if (st == AFP_OK)
            st = lay_positioned(L, afp_json_get(g->tmpl, "footer"), &ps, "$.footer", err);
    }
    return st;
}

/* Lays out and writes one document bound to data. */
afp_status
afp_generator_add(afp_generator *g, const afp_json *data, afp_error *err)
{
    afp_scope root;
    gen_doc doc;
    lay_ctx L;
    afp_status st;
    size_t i;
    size_t mark = g->w.out.len;
    int depth = g->w.depth;

    memset(&root, 0, sizeof(root));
    root.value = data;
    memset(&doc, 0, sizeof(doc));
    memset(&L, 0, sizeof(L));
    L.doc = &doc;
    L.top = g->mt;
    L.bottom = g->page_h - g->mb;
    L.left = g->ml;
    L.right = g->page_w - g->mr;
    L.page_w = g->page_w;
    L.page_h = g->page_h;
    L.margin_r = g->mr;
    L.base_font = g->font;
    L.base_rgb = g->rgb;
    L.res = g->res;
    L.res_ctx = g->res_ctx;
    g->ndocs++;

    st = lay_body(&L, afp_json_get(g->tmpl, "body"), &root, err);
    if (st == AFP_OK)
        st = decorate_pages(g, &L, &root, err);
    if (st == AFP_OK)
        st = write_group_start(g, &root, err);
    for (i = 0; st == AFP_OK && i < doc.count; i++)
    {
        if (afp_check_interrupt())
            st = afp_error_set(err, AFP_ERR_INTERRUPTED, -1, "", "generation interrupted");
        else
            st = write_page(g, &doc.pages[i], i + 1, err);
    }
    if (st == AFP_OK)
    {
        afp_write_end(&g->w);                                             /* ENG */
        drain(g);
    }
    else
    {
        /* drop the partial document: nothing half-written reaches the output */
        g->w.out.len = mark;
        g->w.depth = depth;
    }
    lay_doc_free(&doc);
    return st;
}

/* Ends the print file. */
afp_status
afp_generator_end(afp_generator *g, afp_error *err)
{
    (void) err;
    afp_write_end(&g->w);                                                 /* EDT */
    drain(g);
    afp_generator_abort(g);
    return AFP_OK;
}

/* Frees the generator. */
void
afp_generator_abort(afp_generator *g)
{
    if (g == NULL)
        return;
    afp_writer_free(&g->w);
    afp_free(g);
}
