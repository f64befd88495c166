/*
 * afp_convert_resolve.c — external resources of the AFP→PDF converter.
 *
 * An include (IPO, IPS, IOB, a medium overlay of the form map) or an MDR data-object font
 * naming a resource that the file's inline resource group lacks is looked up through the
 * resolver callback of the options (afp_to_pdf in SQL: the afp.resources table; the CLI:
 * --resources DIR). The bytes it returns are either AFP — the resource's Begin … End, bare or
 * inside BRS/BRG, e.g. an overlay file as a resource library holds it — or, for objects and
 * fonts, the raw object (a JPEG, PNG or TIFF file, a TrueType/OpenType font), which is then
 * treated as the data of an object container.
 *
 * External resources are indexed like inline ones, but into a linked list of individually
 * allocated entries, so pointers to resources (held by fonts and by includes in progress) stay
 * valid while more are resolved. Every resolver call is remembered (type, name, result): each
 * name is asked for once per conversion. Offsets of errors inside an external resource are
 * relative to its bytes; the message names the resource.
 */
#include "afp_pdf_int.h"

#include <stdio.h>
#include <string.h>

#define CV_MAX_EXTERNAL 4096        /* resolver calls per conversion */

/* One resolver call: its type and name and the resource chosen (NULL: not found). */
typedef struct cv_tried {
    char type[12];
    char name[64];
    cv_res *res;
    struct cv_tried *next;
} cv_tried;

/* The bytes a resource's start/end offsets refer to. */
const uint8_t *
cv_res_bytes(const cv_ctx *ctx, const cv_res *r, size_t *len)
{
    if (r->base)
    {
        *len = r->base_len;
        return r->base;
    }
    *len = ctx->len;
    return ctx->buf;
}

/* Prefixes the current error message with the external resource it happened in. */
void
cv_res_error_context(cv_ctx *ctx, const cv_res *r, const char *what)
{
    char msg[sizeof(ctx->err->message)];

    if (r == NULL || r->base == NULL)
        return;
    snprintf(msg, sizeof(msg), "in external %s %s (offsets relative to it): %.400s", what, r->name,
             ctx->err->message);
    memcpy(ctx->err->message, msg, sizeof(msg));
}

/* True for the categories that open a presentation space or a data object. */
static int
object_cat(uint8_t c)
{
    return c == 0xFB || c == 0xBB || c == 0xDF || c == 0x5F || c == 0x92 || c == 0xEB;
}

/* Adds an external resource entry (zeroed) to the list. */
static cv_res *
ext_add(cv_ctx *ctx, const uint8_t *base, size_t len)
{
    cv_res *r = afp_alloc(sizeof(*r));

    memset(r, 0, sizeof(*r));
    r->base = base;
    r->base_len = len;
    r->end = len;
    r->next_ext = ctx->ext;
    ctx->ext = r;
    return r;
}

/* Indexes the objects of AFP bytes (outermost overlays, page segments, data objects, with the
 * enclosing BRS name). Returns the first entry added, NULL if none; damaged framing fails. */
static afp_status
index_afp(cv_ctx *ctx, const uint8_t *d, size_t n, cv_res **first)
{
    afp_reader r;
    afp_sf sf;
    int rc, depth = 0, open_depth = -1;
    uint8_t stack[256];
    cv_res *cur = NULL;
    char brs[9] = "";

    *first = NULL;
    afp_reader_init(&r, d, n);
    while ((rc = afp_reader_next(&r, &sf, ctx->err)) == 1)
    {
        uint8_t type = afp_sf_type(sf.id), cat = afp_sf_category(sf.id);

        if (type == AFP_SF_BEGIN)
        {
            if (depth >= 256)
                return afp_error_set(ctx->err, AFP_ERR_LIMIT, sf.offset, afp_sf_abbr(sf.id),
                                     "Begin fields nested deeper than 256 levels");
            if (cat == 0xCE)
                cv_token(sf.data, sf.data_len, brs);
            if (object_cat(cat) && open_depth < 0)
            {
                cur = ext_add(ctx, d, n);
                cv_token(sf.data, sf.data_len, cur->name);
                memcpy(cur->alias, brs, sizeof(brs));
                cur->cat = cat;
                cur->start = (size_t) sf.offset;
                open_depth = depth;
                if (*first == NULL)
                    *first = cur;
            }
            stack[depth++] = cat;
        }
        else if (type == AFP_SF_END)
        {
            int k = afp_sf_open_level(stack, depth, cat);

            if (k < 0)
                continue;
            depth = k;
            if (open_depth >= 0 && depth <= open_depth)
            {
                cur->end = (size_t) (sf.offset + 1 + sf.length);
                open_depth = -1;
            }
            if (cat == 0xCE)
                brs[0] = '\0';
        }
    }
    return rc < 0 ? ctx->err->status : AFP_OK;
}

/* True when the bytes start with a structured field the reader accepts. */
static int
looks_afp(const uint8_t *d, size_t n)
{
    afp_reader r;
    afp_sf sf;
    afp_error e;

    if (n < 9 || d[0] != 0x5A)
        return 0;
    afp_reader_init(&r, d, n);
    return afp_reader_next(&r, &sf, &e) == 1;
}

/* Asks the resolver for type/name once and indexes what it returns; the resource of category
 * cat (0 = any) named name, else the first of that category in the bytes. */
static cv_res *
resolve(cv_ctx *ctx, const char *type, const char *name, uint8_t cat, afp_status *st)
{
    const uint8_t *d = NULL;
    size_t n = 0, count = 0;
    cv_tried *t;
    cv_res *first = NULL, *r, *pick = NULL;

    for (t = ctx->tried; t; t = t->next, count++)
        if (strcmp(t->type, type) == 0 && strcmp(t->name, name) == 0)
            return t->res;
    if (count >= CV_MAX_EXTERNAL)
        return NULL;
    t = afp_alloc(sizeof(*t));
    memset(t, 0, sizeof(*t));
    snprintf(t->type, sizeof(t->type), "%s", type);
    snprintf(t->name, sizeof(t->name), "%s", name);
    t->next = ctx->tried;
    ctx->tried = t;
    if (!ctx->opts->resolve(ctx->opts->resolve_ctx, type, name, &d, &n) || d == NULL || n == 0)
        return NULL;
    if (looks_afp(d, n))
    {
        if ((*st = index_afp(ctx, d, n, &first)) != AFP_OK)
        {
            char msg[sizeof(ctx->err->message)];

            snprintf(msg, sizeof(msg), "external %s %.64s (offsets relative to it): %.400s", type, name,
                     ctx->err->message);
            memcpy(ctx->err->message, msg, sizeof(msg));
            return NULL;
        }
        /* the one named so, else the first of the category (the resolver chose the bytes) */
        for (r = ctx->ext; r && r->base == d; r = r->next_ext)
            if ((!cat || r->cat == cat) && (strcmp(r->name, name) == 0 || strcmp(r->alias, name) == 0))
                pick = r;
        first = NULL;
        for (r = ctx->ext; pick == NULL && r && r->base == d; r = r->next_ext)
            if ((!cat || r->cat == cat) && (first == NULL || r->start < first->start))
                first = r;
        if (pick == NULL)
            pick = first;
    }
    else if (strcmp(type, "overlay") == 0 || strcmp(type, "segment") == 0)
    {
        *st = afp_error_set(ctx->err, AFP_ERR_FORMAT, 0, NULL,
                            "external %s %s is not AFP (it must start with a structured field, "
                            "X'5A')", type, name);
        return NULL;
    }
    else
    {
        /* a raw object: the data of an object container */
        pick = ext_add(ctx, d, n);
        snprintf(pick->name, sizeof(pick->name), "%.8s", name);
        pick->cat = 0x92;
        pick->raw = 1;
        pick->start = 0;
        pick->end = n;
    }
    t->res = pick;
    return pick;
}

/* A resource from the file or, when the file lacks it, from the resolver. */
cv_res *
cv_lookup(cv_ctx *ctx, const char *type, const char *name, const uint8_t *fqn, size_t fqn_len,
          uint8_t cat, afp_status *st)
{
    cv_res *r = cv_find_res(ctx, name, fqn, fqn_len, cat);
    char ascii[64];

    *st = AFP_OK;
    if (r != NULL || ctx->opts->resolve == NULL)
        return r;
    /* resources of external files already read (e.g. two objects in one library file) */
    for (r = ctx->ext; r && name && name[0]; r = r->next_ext)
        if ((!cat || r->cat == cat) && !r->raw &&
            (strcmp(r->name, name) == 0 || strcmp(r->alias, name) == 0))
            return r;
    if ((name == NULL || name[0] == '\0') && fqn != NULL)
    {
        /* a long name (MDR fonts: usually UTF-16BE): its printable ASCII characters */
        size_t i, j = 0;

        for (i = 0; i < fqn_len && j + 1 < sizeof(ascii); i++)
            if (fqn[i] >= 0x20 && fqn[i] < 0x7F)
                ascii[j++] = (char) fqn[i];
        ascii[j] = '\0';
        name = ascii;
    }
    if (name == NULL || name[0] == '\0')
        return NULL;
    r = resolve(ctx, type, name, cat, st);
    if (r == NULL && *st == AFP_OK && strcmp(type, "object") == 0)
        r = resolve(ctx, "image", name, cat, st);
    if (r && cat && r->cat != cat && !r->raw)
        r = NULL;
    return r;
}

/* Releases the external resource list and the resolver call list. */
void
cv_resolve_free(cv_ctx *ctx)
{
    while (ctx->ext)
    {
        cv_res *r = ctx->ext;

        ctx->ext = r->next_ext;
        afp_free(r);
    }
    while (ctx->tried)
    {
        cv_tried *t = ctx->tried;

        ctx->tried = t->next;
        afp_free(t);
    }
}
