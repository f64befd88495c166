/*
 * afp_template.c — validation of a template (a parsed JSON tree) against docs/templates.md.
 *
 * Every problem is reported (the walk never stops at the first one) with the JSON path of the
 * offending value, in the form `$.body[2].columns[0].width`, and a short message. Element keys are
 * described by tables: for each element type, which contexts it may appear in (flow = body,
 * repeat and flow `if`; positioned = fixed, every_page, header, footer) and, per key, the kind of
 * value and whether it is required or restricted to one context.
 *
 * Positioned elements need `x` and `y` in every positioned context, header and footer included
 * (as the generator does), although the footer of the first example in docs/templates.md omits
 * them. page.number / page.count may only appear in header, footer and every_page.
 */
#include "afp_bind_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Contexts an element can be in. */
#define CTX_FLOW 1              /* body, repeat body, if inside the body */
#define CTX_POS 2               /* fixed, every_page, header, footer */

/* Key flags. */
#define K_REQ 1                 /* required wherever the element is allowed */
#define K_REQ_POS 2             /* required when positioned */
#define K_POS_ONLY 8            /* allowed only when positioned */
#define K_FLOW_ONLY 16          /* allowed only in flow */

/* Kinds of values. */
enum vkind {
    V_SKIP, V_ANY, V_STR, V_STRING, V_TEXT, V_PATH, V_IDENT, V_NAME8, V_COORD, V_POS, V_NONNEG,
    V_COLOUR, V_FONT, V_BOOL, V_ENUM, V_FONTSIZE, V_FAMILY, V_COPIES, V_SIZE, V_COLUMNS,
    V_FOOTER_ROWS, V_ELEMENTS, V_ELEMS_BAND, V_ELEMS_FIXED, V_ELEMS_EVERY, V_ELEMS_BODY, V_PAGE,
    V_MARGINS, V_DOCUMENT, V_INDEX, V_FORM, V_RESOURCES
};

/* One allowed key of an object. */
typedef struct keyspec {
    const char *key;
    int kind;
    int flags;
    const char *const *choices; /* V_ENUM */
} keyspec;

/* One element type. */
typedef struct elemspec {
    const char *type;
    int ctx;                    /* CTX_FLOW and/or CTX_POS */
    const keyspec *keys;
} elemspec;

/* Walk state. */
typedef struct vctx {
    afp_path_issue_list *out;
    afp_buf path;               /* JSON path of the value being checked (NUL-terminated) */
} vctx;

static const char *const ALIGN4[] = {"left", "right", "center", "justify", NULL};
static const char *const ALIGN3[] = {"left", "right", "center", NULL};
static const char *const BORDERS[] = {"none", "grid", "horizontal", NULL};
static const char *const SYMBOLOGIES[] = {"code128", "qr", "datamatrix", "imb", NULL};
static const char *const STYLES[] = {"regular", "bold", "italic", "bold-italic", NULL};
static const char *const FAMILIES[] = {"Helvetica", "Arial", "Times", "Courier", NULL};
static const char *const ORIENTATIONS[] = {"portrait", "landscape", NULL};
static const char *const DUPLEX[] = {"none", "long", "short", NULL};
static const char *const SIZES[] = {"A4", "Letter", "Legal", NULL};

#define XY(req) {"x", V_COORD, K_POS_ONLY | (req), NULL}, {"y", V_COORD, K_POS_ONLY | (req), NULL}

static const keyspec TEXT_KEYS[] = {
    {"type", V_SKIP, 0, NULL}, {"text", V_TEXT, K_REQ, NULL}, {"font", V_FONT, 0, NULL},
    {"color", V_COLOUR, 0, NULL}, {"align", V_ENUM, 0, ALIGN4}, XY(K_REQ_POS),
    {"width", V_POS, 0, NULL}, {"line_height", V_POS, 0, NULL},
    {"space_before", V_NONNEG, K_FLOW_ONLY, NULL}, {"space_after", V_NONNEG, K_FLOW_ONLY, NULL},
    {NULL, 0, 0, NULL}
};
static const keyspec TABLE_KEYS[] = {
    {"type", V_SKIP, 0, NULL}, {"rows", V_PATH, K_REQ, NULL}, {"as", V_IDENT, 0, NULL},
    {"columns", V_COLUMNS, K_REQ, NULL}, {"header", V_BOOL, 0, NULL}, {"font", V_FONT, 0, NULL},
    {"header_font", V_FONT, 0, NULL}, {"padding", V_NONNEG, 0, NULL},
    {"borders", V_ENUM, 0, BORDERS}, {"border_width", V_NONNEG, 0, NULL},
    {"header_shading", V_COLOUR, 0, NULL}, {"shading", V_COLOUR, 0, NULL},
    {"footer_rows", V_FOOTER_ROWS, 0, NULL}, {NULL, 0, 0, NULL}
};
static const keyspec COLUMN_KEYS[] = {
    {"header", V_TEXT, 0, NULL}, {"value", V_TEXT, K_REQ, NULL}, {"width", V_POS, 0, NULL},
    {"align", V_ENUM, 0, ALIGN3}, {NULL, 0, 0, NULL}
};
static const keyspec REPEAT_KEYS[] = {
    {"type", V_SKIP, 0, NULL}, {"items", V_PATH, K_REQ, NULL}, {"as", V_IDENT, 0, NULL},
    {"body", V_ELEMENTS, K_REQ, NULL}, {NULL, 0, 0, NULL}
};
static const keyspec IF_KEYS[] = {
    {"type", V_SKIP, 0, NULL}, {"test", V_PATH, K_REQ, NULL}, {"equals", V_ANY, 0, NULL},
    {"then", V_ELEMENTS, K_REQ, NULL}, {"else", V_ELEMENTS, 0, NULL}, {NULL, 0, 0, NULL}
};
static const keyspec SPACER_KEYS[] = {
    {"type", V_SKIP, 0, NULL}, {"height", V_NONNEG, K_REQ, NULL}, {NULL, 0, 0, NULL}
};
static const keyspec BREAK_KEYS[] = {{"type", V_SKIP, 0, NULL}, {NULL, 0, 0, NULL}};
static const keyspec LINE_KEYS[] = {
    {"type", V_SKIP, 0, NULL}, {"x1", V_COORD, K_POS_ONLY | K_REQ_POS, NULL},
    {"y1", V_COORD, K_POS_ONLY | K_REQ_POS, NULL}, {"x2", V_COORD, K_POS_ONLY | K_REQ_POS, NULL},
    {"y2", V_COORD, K_POS_ONLY | K_REQ_POS, NULL}, {"width", V_POS, 0, NULL},
    {"color", V_COLOUR, 0, NULL}, {NULL, 0, 0, NULL}
};
static const keyspec BOX_KEYS[] = {
    {"type", V_SKIP, 0, NULL}, XY(K_REQ_POS), {"width", V_POS, K_POS_ONLY | K_REQ_POS, NULL},
    {"height", V_POS, K_REQ, NULL}, {"border_width", V_NONNEG, 0, NULL},
    {"color", V_COLOUR, 0, NULL}, {"fill", V_COLOUR, 0, NULL}, {NULL, 0, 0, NULL}
};
static const keyspec IMAGE_KEYS[] = {
    {"type", V_SKIP, 0, NULL}, {"resource", V_STRING, K_REQ, NULL}, XY(K_REQ_POS),
    {"width", V_POS, 0, NULL}, {"height", V_POS, 0, NULL}, {NULL, 0, 0, NULL}
};
static const keyspec BARCODE_KEYS[] = {
    {"type", V_SKIP, 0, NULL}, {"symbology", V_ENUM, K_REQ, SYMBOLOGIES},
    {"data", V_TEXT, K_REQ, NULL}, XY(K_REQ_POS), {"module_width", V_POS, 0, NULL},
    {"height", V_POS, 0, NULL}, {"hri", V_BOOL, 0, NULL}, {NULL, 0, 0, NULL}
};
static const keyspec RESOURCE_KEYS[] = {
    {"type", V_SKIP, 0, NULL}, {"name", V_NAME8, K_REQ, NULL}, XY(K_REQ_POS),
    {NULL, 0, 0, NULL}
};

static const elemspec ELEMENTS[] = {
    {"text", CTX_FLOW | CTX_POS, TEXT_KEYS},
    {"table", CTX_FLOW, TABLE_KEYS},
    {"repeat", CTX_FLOW, REPEAT_KEYS},
    {"if", CTX_FLOW | CTX_POS, IF_KEYS},
    {"spacer", CTX_FLOW, SPACER_KEYS},
    {"page_break", CTX_FLOW, BREAK_KEYS},
    {"line", CTX_FLOW | CTX_POS, LINE_KEYS},
    {"box", CTX_FLOW | CTX_POS, BOX_KEYS},
    {"image", CTX_FLOW | CTX_POS, IMAGE_KEYS},
    {"barcode", CTX_FLOW | CTX_POS, BARCODE_KEYS},
    {"overlay", CTX_POS, RESOURCE_KEYS},
    {"segment", CTX_POS, RESOURCE_KEYS},
    {NULL, 0, NULL}
};

static const keyspec TOP_KEYS[] = {
    {"name", V_STR, 0, NULL}, {"page", V_PAGE, 0, NULL}, {"font", V_FONT, 0, NULL},
    {"color", V_COLOUR, 0, NULL}, {"document", V_DOCUMENT, 0, NULL}, {"index", V_INDEX, 0, NULL},
    {"form", V_FORM, 0, NULL}, {"resources", V_RESOURCES, 0, NULL},
    {"header", V_ELEMS_BAND, 0, NULL}, {"footer", V_ELEMS_BAND, 0, NULL},
    {"fixed", V_ELEMS_FIXED, 0, NULL}, {"every_page", V_ELEMS_EVERY, 0, NULL},
    {"body", V_ELEMS_BODY, K_REQ, NULL}, {NULL, 0, 0, NULL}
};
static const keyspec PAGE_KEYS[] = {
    {"size", V_SIZE, 0, NULL}, {"orientation", V_ENUM, 0, ORIENTATIONS},
    {"margins", V_MARGINS, 0, NULL}, {NULL, 0, 0, NULL}
};
static const keyspec SIZE_KEYS[] = {
    {"width", V_POS, K_REQ, NULL}, {"height", V_POS, K_REQ, NULL}, {NULL, 0, 0, NULL}
};
static const keyspec MARGIN_KEYS[] = {
    {"top", V_NONNEG, 0, NULL}, {"right", V_NONNEG, 0, NULL}, {"bottom", V_NONNEG, 0, NULL},
    {"left", V_NONNEG, 0, NULL}, {NULL, 0, 0, NULL}
};
static const keyspec FONT_KEYS[] = {
    {"family", V_FAMILY, 0, FAMILIES}, {"style", V_ENUM, 0, STYLES},
    {"size", V_FONTSIZE, 0, NULL}, {NULL, 0, 0, NULL}
};
static const keyspec DOCUMENT_KEYS[] = {{"name", V_TEXT, 0, NULL}, {NULL, 0, 0, NULL}};
static const keyspec FORM_KEYS[] = {
    {"duplex", V_ENUM, 0, DUPLEX}, {"copies", V_COPIES, 0, NULL}, {NULL, 0, 0, NULL}
};
static const keyspec RESOURCES_KEYS[] = {{"embed", V_BOOL, 0, NULL}, {NULL, 0, 0, NULL}};

static void check_value(vctx *c, const afp_json *v, const keyspec *ks, int ctx, int page_ok);

/* ------------------------------------------------------------------ issues and paths */

/* Appends an issue at the current path (printf-style message). */
static void
issue(vctx *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Appends an issue at the current path (printf-style message). */
static void
issue(vctx *c, const char *fmt, ...)
{
    afp_path_issue_list *l = c->out;
    char msg[400];
    va_list ap;
    size_t n;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (l->count == l->cap)
    {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->items = afp_realloc(l->items, l->cap * sizeof(afp_path_issue));
    }
    n = c->path.len;
    l->items[l->count].path = afp_alloc(n + 1);
    memcpy(l->items[l->count].path, c->path.data, n);
    l->items[l->count].path[n] = '\0';
    n = strlen(msg);
    l->items[l->count].message = afp_alloc(n + 1);
    memcpy(l->items[l->count].message, msg, n + 1);
    l->count++;
}

/* Frees the issues of a list and resets it. */
void
afp_path_issue_list_free(afp_path_issue_list *l)
{
    size_t i;

    if (l == NULL)
        return;
    for (i = 0; i < l->count; i++)
    {
        afp_free(l->items[i].path);
        afp_free(l->items[i].message);
    }
    afp_free(l->items);
    l->items = NULL;
    l->count = 0;
    l->cap = 0;
}

/* Appends ".key" (or ."quoted key" when it is not a plain name) to the path; returns the old length. */
static size_t
push_key(vctx *c, const char *key)
{
    size_t old = c->path.len, i, n = strlen(key);
    int plain = n > 0 && !(key[0] >= '0' && key[0] <= '9');

    for (i = 0; i < n && plain; i++)
        plain = (key[i] >= 'a' && key[i] <= 'z') || (key[i] >= 'A' && key[i] <= 'Z') ||
                (key[i] >= '0' && key[i] <= '9') || key[i] == '_';
    afp_buf_putc(&c->path, '.');
    if (plain)
        afp_buf_append(&c->path, key, n);
    else
        afp_buf_json_string(&c->path, key, n);
    afp_buf_cstr(&c->path);
    return old;
}

/* Appends "[i]" to the path; returns the old length. */
static size_t
push_index(vctx *c, size_t i)
{
    size_t old = c->path.len;

    afp_buf_printf(&c->path, "[%zu]", i);
    afp_buf_cstr(&c->path);
    return old;
}

/* Restores the path to an earlier length. */
static void
pop_path(vctx *c, size_t old)
{
    c->path.len = old;
    afp_buf_cstr(&c->path);
}

/* Copies at most 40 bytes of s (cut at a UTF-8 boundary, "..." appended) into out[48]. */
static const char *
clip40(const char *s, char *out)
{
    return afp_bind_clip(s, strlen(s), 40, out);     /* afp_bind.c */
}

/* Edit distance of two short strings (<= 32 bytes); 99 when longer. */
static int
distance(const char *a, const char *b)
{
    int d[33], i, j, la = (int) strlen(a), lb = (int) strlen(b);

    if (la > 32 || lb > 32)
        return 99;
    for (j = 0; j <= lb; j++)
        d[j] = j;
    for (i = 1; i <= la; i++)
    {
        int prev = d[0], t;

        d[0] = i;
        for (j = 1; j <= lb; j++)
        {
            t = d[j];
            d[j] = prev + (a[i - 1] == b[j - 1] ? 0 : 1);
            if (d[j - 1] + 1 < d[j])
                d[j] = d[j - 1] + 1;
            if (t + 1 < d[j])
                d[j] = t + 1;
            prev = t;
        }
    }
    return d[lb];
}

/* The closest candidate to s (a plausible typo), or NULL. */
static const char *
suggest(const char *s, const char *const *cands, size_t stride, size_t count)
{
    const char *best = NULL;
    int bd = 3, limit = (int) strlen(s) / 2 + 1;
    size_t i;

    for (i = 0; i < count; i++)
    {
        const char *k = *(const char *const *) ((const char *) cands + i * stride);
        int d;

        if (k == NULL)
            break;
        d = distance(s, k);
        if (d < bd && d <= limit)
        {
            bd = d;
            best = k;
        }
    }
    return best;
}

/* ------------------------------------------------------------------ scalar checks */

/* True when v is a number. */
static int
is_num(const afp_json *v)
{
    return v != NULL && v->type == AFP_JSON_NUMBER;
}

/* True when v is a string. */
static int
is_str(const afp_json *v)
{
    return v != NULL && v->type == AFP_JSON_STRING && v->string != NULL;
}

/* Reports "expected one of ..." for an enumerated value. */
static void
enum_issue(vctx *c, const afp_json *v, const char *const *choices)
{
    char list[200], b[48];
    const char *hint = NULL;
    size_t i, n = 0;

    for (i = 0; choices[i] != NULL; i++)
    {
        n += (size_t) snprintf(list + n, sizeof(list) - n, "%s\"%s\"",
                               i == 0 ? "" : choices[i + 1] == NULL ? " or " : ", ", choices[i]);
        if (n >= sizeof(list))
            n = sizeof(list) - 1;
    }
    if (is_str(v))
        hint = suggest(v->string, choices, sizeof(choices[0]), i);
    if (hint != NULL)
        issue(c, "unknown value \"%s\" (did you mean \"%s\"?)", clip40(v->string, b), hint);
    else
        issue(c, "expected %s", list);
}

/* Checks a placeholder text (string with well-formed placeholders). */
static void
check_text(vctx *c, const afp_json *v, int page_ok)
{
    char msg[400];
    int page_ref = 0;

    if (!is_str(v))
    {
        issue(c, "expected a string");
        return;
    }
    if (!afp_bind_check(v->string, &page_ref, msg, sizeof(msg)))
        issue(c, "%s", msg);
    else if (page_ref && !page_ok)
        issue(c, "page.number and page.count are only available in header, footer and every_page");
}

/* Checks a data path value ("items", "account.lines"). */
static void
check_path(vctx *c, const afp_json *v, int page_ok)
{
    char b[48];

    if (!is_str(v))
        issue(c, "expected a data path string");
    else if (strstr(v->string, "{{") != NULL)
        issue(c, "expected a data path without {{ }} (e.g. \"items\")");
    else if (!afp_bind_path_valid(v->string, strlen(v->string)))
        issue(c, "\"%s\" is not a valid data path (expected names separated by '.' and [index])",
              clip40(v->string, b));
    else if (!page_ok && (strcmp(v->string, "page.number") == 0 || strcmp(v->string, "page.count") == 0))
        issue(c, "page.number and page.count are only available in header, footer and every_page");
}

/* Checks a loop variable name. */
static void
check_ident(vctx *c, const afp_json *v)
{
    const char *s;
    char b[48];
    int ok;

    if (!is_str(v))
    {
        issue(c, "expected a string");
        return;
    }
    s = v->string;
    ok = (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_';
    for (; ok && *s; s++)
        ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
             *s == '_';
    if (!ok)
        issue(c, "\"%s\" is not a valid variable name (letters, digits and _)", clip40(v->string, b));
    else if (strcmp(v->string, "loop") == 0 || strcmp(v->string, "page") == 0)
        issue(c, "\"%s\" is reserved and cannot be a loop variable name", v->string);
}

/* Checks an AFP resource (token) name: 1 to 8 of A-Z, 0-9, @, # and $. */
static void
check_name8(vctx *c, const afp_json *v)
{
    size_t i, n;
    int ok;

    if (!is_str(v))
    {
        issue(c, "expected a string");
        return;
    }
    n = strlen(v->string);
    ok = n >= 1 && n <= 8;
    for (i = 0; ok && i < n; i++)
    {
        char ch = v->string[i];

        ok = (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '@' || ch == '#' ||
             ch == '$';
    }
    if (!ok)
        issue(c, "expected a resource name of 1 to 8 characters A-Z, 0-9, @, # or $");
}

/* Checks a "#RRGGBB" colour. */
static void
check_colour(vctx *c, const afp_json *v)
{
    int ok = is_str(v) && strlen(v->string) == 7 && v->string[0] == '#';
    int i;

    for (i = 1; ok && i < 7; i++)
    {
        char ch = v->string[i];

        ok = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
    }
    if (!ok)
        issue(c, "expected a colour \"#RRGGBB\"");
}

/* Case-insensitive ASCII string equality. */
static int
ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
    {
        char x = (*a >= 'A' && *a <= 'Z') ? (char) (*a + 32) : *a;
        char y = (*b >= 'A' && *b <= 'Z') ? (char) (*b + 32) : *b;

        if (x != y)
            return 0;
    }
    return *a == *b;
}

/* ------------------------------------------------------------------ objects and elements */

/* Orders (key, index) pairs by key, then index. */
typedef struct keyidx {
    const char *key;
    size_t index;
} keyidx;

/* qsort comparator of keyidx. */
static int
keyidx_cmp(const void *a, const void *b)
{
    const keyidx *x = a, *y = b;
    int r = strcmp(x->key, y->key);

    if (r != 0)
        return r;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Marks in dup[] every member whose key appeared earlier in the object. */
static void
find_duplicates(const afp_json *obj, unsigned char *dup)
{
    keyidx *k = afp_alloc(obj->count * sizeof(keyidx));
    size_t i;

    for (i = 0; i < obj->count; i++)
    {
        k[i].key = obj->keys[i] ? obj->keys[i] : "";
        k[i].index = i;
        dup[i] = 0;
    }
    qsort(k, obj->count, sizeof(keyidx), keyidx_cmp);
    for (i = 1; i < obj->count; i++)
        if (strcmp(k[i].key, k[i - 1].key) == 0)
            dup[k[i].index] = 1;
    afp_free(k);
}

/* Finds a key's spec in a table, NULL if absent. */
static const keyspec *
find_key(const keyspec *keys, const char *key)
{
    for (; keys->key != NULL; keys++)
        if (strcmp(keys->key, key) == 0)
            return keys;
    return NULL;
}

/* Checks an object against a key table: unknown/duplicate/misplaced keys, values, required keys.
 * ctx is the element context (0 for non-element objects). */
static void
check_object(vctx *c, const afp_json *obj, const keyspec *keys, int ctx, int page_ok)
{
    unsigned char *dup;
    size_t i, nk = 0;

    if (obj == NULL || obj->type != AFP_JSON_OBJECT)
    {
        issue(c, "expected an object");
        return;
    }
    while (keys[nk].key != NULL)
        nk++;
    dup = afp_alloc(obj->count ? obj->count : 1);
    find_duplicates(obj, dup);
    for (i = 0; i < obj->count; i++)
    {
        const char *key = obj->keys[i] ? obj->keys[i] : "";
        const keyspec *ks = find_key(keys, key);
        size_t old = push_key(c, key);
        char b[48];

        if (dup[i])
            issue(c, "duplicate key \"%s\"", clip40(key, b));
        else if (ks == NULL)
        {
            const char *hint = suggest(key, &keys[0].key, sizeof(keyspec), nk);

            if (hint != NULL)
                issue(c, "unknown key \"%s\" (did you mean \"%s\"?)", clip40(key, b), hint);
            else
                issue(c, "unknown key \"%s\"", clip40(key, b));
        }
        else if ((ks->flags & K_POS_ONLY) && ctx == CTX_FLOW)
            issue(c, "\"%s\" is only allowed in positioned elements (fixed, every_page, header, "
                  "footer)", key);
        else if ((ks->flags & K_FLOW_ONLY) && (ctx & CTX_POS))
            issue(c, "\"%s\" is only allowed in flow elements (body)", key);
        else
            check_value(c, obj->items[i], ks, ctx, page_ok);
        pop_path(c, old);
    }
    afp_free(dup);
    for (i = 0; i < nk; i++)
    {
        int f = keys[i].flags;

        if (((f & K_REQ) || ((f & K_REQ_POS) && (ctx & CTX_POS))) &&
            afp_json_get(obj, keys[i].key) == NULL)
            issue(c, "missing required key \"%s\"", keys[i].key);
    }
}

/* Checks one element in a context. */
static void
check_element(vctx *c, const afp_json *e, int ctx, int page_ok)
{
    const afp_json *type = afp_json_get(e, "type");
    const elemspec *es;
    char b[48];

    if (e == NULL || e->type != AFP_JSON_OBJECT)
    {
        issue(c, "expected an element object {\"type\": ...}");
        return;
    }
    if (type == NULL)
    {
        issue(c, "missing required key \"type\"");
        return;
    }
    for (es = ELEMENTS; es->type != NULL; es++)
        if (is_str(type) && strcmp(es->type, type->string) == 0)
            break;
    if (es->type == NULL)
    {
        size_t old = push_key(c, "type");

        if (!is_str(type))
            issue(c, "expected a string");
        else
        {
            const char *hint = suggest(type->string, &ELEMENTS[0].type, sizeof(elemspec),
                                       sizeof(ELEMENTS) / sizeof(ELEMENTS[0]) - 1);

            if (hint != NULL)
                issue(c, "unknown element type \"%s\" (did you mean \"%s\"?)",
                      clip40(type->string, b), hint);
            else
                issue(c, "unknown element type \"%s\"", clip40(type->string, b));
        }
        pop_path(c, old);
        return;
    }
    if (!(es->ctx & ctx))
    {
        issue(c, es->ctx == CTX_FLOW
                     ? "element type \"%s\" is only allowed in flow elements (body)"
                     : "element type \"%s\" is only allowed in positioned elements (fixed, "
                       "every_page, header, footer)", es->type);
        return;
    }
    check_object(c, e, es->keys, ctx, page_ok);

    if (strcmp(es->type, "line") == 0 && (ctx & CTX_POS))
    {
        const afp_json *x1 = afp_json_get(e, "x1"), *y1 = afp_json_get(e, "y1");
        const afp_json *x2 = afp_json_get(e, "x2"), *y2 = afp_json_get(e, "y2");

        if (is_num(x1) && is_num(y1) && is_num(x2) && is_num(y2) && x1->number != x2->number &&
            y1->number != y2->number)
            issue(c, "lines must be horizontal or vertical (y1 = y2 or x1 = x2)");
    }
    if (strcmp(es->type, "table") == 0)
    {
        const afp_json *cols = afp_json_get(e, "columns"), *fr = afp_json_get(e, "footer_rows");
        size_t i;

        if (cols != NULL && cols->type == AFP_JSON_ARRAY && cols->count > 0 && fr != NULL &&
            fr->type == AFP_JSON_ARRAY)
            for (i = 0; i < fr->count; i++)
                if (fr->items[i]->type == AFP_JSON_ARRAY && fr->items[i]->count > cols->count)
                {
                    size_t o1 = push_key(c, "footer_rows"), o2 = push_index(c, i);

                    issue(c, "row has %zu cells but the table has %zu columns",
                          fr->items[i]->count, cols->count);
                    pop_path(c, o2);
                    pop_path(c, o1);
                }
    }
}

/* Checks an array of elements in a context. */
static void
check_elements(vctx *c, const afp_json *v, int ctx, int page_ok)
{
    size_t i;

    if (v == NULL || v->type != AFP_JSON_ARRAY)
    {
        issue(c, "expected an array of elements");
        return;
    }
    for (i = 0; i < v->count; i++)
    {
        size_t old = push_index(c, i);

        check_element(c, v->items[i], ctx, page_ok);
        pop_path(c, old);
    }
}

/* Reads a number member of an object (def when absent or not a number). */
static double
num_or(const afp_json *obj, const char *key, double def)
{
    const afp_json *v = afp_json_get(obj, key);

    return is_num(v) ? v->number : def;
}

/* Checks the page object, including that the margins leave room on the page. */
static void
check_page(vctx *c, const afp_json *v)
{
    const afp_json *size, *m;
    double w = 595.28, h = 841.89;

    check_object(c, v, PAGE_KEYS, 0, 0);
    if (v == NULL || v->type != AFP_JSON_OBJECT)
        return;
    size = afp_json_get(v, "size");
    if (is_str(size))
    {
        if (strcmp(size->string, "Letter") == 0)
            w = 612, h = 792;
        else if (strcmp(size->string, "Legal") == 0)
            w = 612, h = 1008;
    }
    else if (size != NULL && size->type == AFP_JSON_OBJECT)
    {
        w = num_or(size, "width", w);
        h = num_or(size, "height", h);
    }
    m = afp_json_get(v, "margins");
    if (m != NULL && m->type == AFP_JSON_OBJECT)
    {
        const afp_json *o = afp_json_get(v, "orientation");
        double t;

        if (is_str(o) && strcmp(o->string, "landscape") == 0)
            t = w, w = h, h = t;
        if (num_or(m, "left", 72) + num_or(m, "right", 72) >= w ||
            num_or(m, "top", 72) + num_or(m, "bottom", 72) >= h)
        {
            size_t old = push_key(c, "margins");

            issue(c, "the margins leave no room on the %.2f x %.2f pt page", w, h);
            pop_path(c, old);
        }
    }
}

/* Checks one value against its key spec. */
static void
check_value(vctx *c, const afp_json *v, const keyspec *ks, int ctx, int page_ok)
{
    size_t i;

    switch (ks->kind)
    {
        case V_SKIP:
        case V_ANY:
            break;
        case V_STR:
            if (!is_str(v))
                issue(c, "expected a string");
            break;
        case V_STRING:
            if (!is_str(v) || v->string[0] == '\0')
                issue(c, "expected a non-empty string");
            break;
        case V_TEXT:
            check_text(c, v, page_ok);
            break;
        case V_PATH:
            check_path(c, v, page_ok);
            break;
        case V_IDENT:
            check_ident(c, v);
            break;
        case V_NAME8:
            check_name8(c, v);
            break;
        case V_COORD:
        case V_NONNEG:
            if (!is_num(v))
                issue(c, "expected a number");
            else if (v->number < 0)
                issue(c, "expected a number >= 0");
            break;
        case V_POS:
            if (!is_num(v))
                issue(c, "expected a number");
            else if (v->number <= 0)
                issue(c, "expected a number > 0");
            break;
        case V_FONTSIZE:
            if (!is_num(v))
                issue(c, "expected a number");
            else if (v->number <= 0 || v->number > 1000)
                issue(c, "expected a font size > 0 and <= 1000 pt");
            break;
        case V_COPIES:
            if (!is_num(v))
                issue(c, "expected a number");
            else if (v->number < 1 || v->number > 255 || v->number != (double) (int) v->number)
                issue(c, "expected an integer from 1 to 255");
            break;
        case V_COLOUR:
            check_colour(c, v);
            break;
        case V_BOOL:
            if (v == NULL || (v->type != AFP_JSON_TRUE && v->type != AFP_JSON_FALSE))
                issue(c, "expected true or false");
            break;
        case V_ENUM:
            for (i = 0; is_str(v) && ks->choices[i] != NULL; i++)
                if (strcmp(v->string, ks->choices[i]) == 0)
                    break;
            if (!is_str(v) || ks->choices[i] == NULL)
                enum_issue(c, v, ks->choices);
            break;
        case V_FAMILY:
            for (i = 0; is_str(v) && FAMILIES[i] != NULL; i++)
                if (ieq(v->string, FAMILIES[i]))
                    break;
            if (!is_str(v) || FAMILIES[i] == NULL)
                enum_issue(c, v, FAMILIES);
            break;
        case V_FONT:
            check_object(c, v, FONT_KEYS, 0, 0);
            break;
        case V_SIZE:
            if (v != NULL && v->type == AFP_JSON_OBJECT)
                check_object(c, v, SIZE_KEYS, 0, 0);
            else
            {
                for (i = 0; is_str(v) && SIZES[i] != NULL; i++)
                    if (strcmp(v->string, SIZES[i]) == 0)
                        break;
                if (!is_str(v) || SIZES[i] == NULL)
                    issue(c, "expected \"A4\", \"Letter\", \"Legal\" or {\"width\": pt, \"height\": pt}");
            }
            break;
        case V_COLUMNS:
            if (v == NULL || v->type != AFP_JSON_ARRAY || v->count == 0)
            {
                issue(c, "expected a non-empty array of columns");
                break;
            }
            for (i = 0; i < v->count; i++)
            {
                size_t old = push_index(c, i);

                check_object(c, v->items[i], COLUMN_KEYS, 0, page_ok);
                pop_path(c, old);
            }
            break;
        case V_FOOTER_ROWS:
            if (v == NULL || v->type != AFP_JSON_ARRAY)
            {
                issue(c, "expected an array of rows (arrays of cell texts)");
                break;
            }
            for (i = 0; i < v->count; i++)
            {
                size_t old = push_index(c, i), j;
                const afp_json *row = v->items[i];

                if (row->type != AFP_JSON_ARRAY)
                    issue(c, "expected an array of cell texts");
                else
                    for (j = 0; j < row->count; j++)
                    {
                        size_t o2 = push_index(c, j);

                        check_text(c, row->items[j], page_ok);
                        pop_path(c, o2);
                    }
                pop_path(c, old);
            }
            break;
        case V_ELEMENTS:
            check_elements(c, v, ctx, page_ok);
            break;
        case V_ELEMS_BAND:
            check_elements(c, v, CTX_POS, 1);
            break;
        case V_ELEMS_FIXED:
            check_elements(c, v, CTX_POS, 0);
            break;
        case V_ELEMS_EVERY:
            check_elements(c, v, CTX_POS, 1);
            break;
        case V_ELEMS_BODY:
            check_elements(c, v, CTX_FLOW, 0);
            break;
        case V_PAGE:
            check_page(c, v);
            break;
        case V_MARGINS:
            check_object(c, v, MARGIN_KEYS, 0, 0);
            break;
        case V_DOCUMENT:
            check_object(c, v, DOCUMENT_KEYS, 0, 0);
            break;
        case V_FORM:
            check_object(c, v, FORM_KEYS, 0, 0);
            break;
        case V_RESOURCES:
            check_object(c, v, RESOURCES_KEYS, 0, 0);
            break;
        case V_INDEX:
            if (v == NULL || v->type != AFP_JSON_OBJECT)
            {
                issue(c, "expected an object of index names and values");
                break;
            }
            {
                unsigned char *dup = afp_alloc(v->count ? v->count : 1);

                find_duplicates(v, dup);
                for (i = 0; i < v->count; i++)
                {
                    const char *key = v->keys[i] ? v->keys[i] : "";
                    size_t old = push_key(c, key);
                    char b[48];

                    if (key[0] == '\0')
                        issue(c, "index names must not be empty");
                    else if (dup[i])
                        issue(c, "duplicate key \"%s\"", clip40(key, b));
                    else
                        check_text(c, v->items[i], 0);
                    pop_path(c, old);
                }
                afp_free(dup);
            }
            break;
    }
}

/* Validates a template; appends every problem to out (none = valid). */
void
afp_template_validate(const afp_json *tmpl, afp_path_issue_list *out)
{
    vctx c;

    c.out = out;
    afp_buf_init(&c.path);
    afp_buf_putc(&c.path, '$');
    afp_buf_cstr(&c.path);
    if (tmpl == NULL || tmpl->type != AFP_JSON_OBJECT)
        issue(&c, "expected a template object");
    else
        check_object(&c, tmpl, TOP_KEYS, 0, 0);
    afp_buf_free(&c.path);
}
