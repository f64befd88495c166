/*
 * afp_compose_args.c — validation and conversion of afp_compose_text()'s jsonb arguments.
 *
 * docs:    [{"name": "LETTER01", "index": {"Account": "123"}, "text": "page 1\fpage 2"}, ...]
 *          or a single such object. "text" is required; "name" and "index" are optional
 *          (null is the same as absent); index values must be strings. Unknown keys are errors
 *          (they are almost always typos).
 * options: {"page_width_in": 8.27, "page_height_in": 11.69, "margin_in": 0.75,
 *           "font_size_pt": 10, "codepage": "T1V10500", "lines_per_page": 0}; every key optional.
 *
 * Every error is 22023 invalid_parameter_value and names the jsonb path, array positions counted
 * from 0 as in jsonb's -> operator: "docs[2].index.Account must be a string, not number".
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "afp_compose_args.h"
#include "afp_pg.h"

/* Defaults documented in core/afp.h for afp_compose_opts. */
#define AFP_DEFAULT_PAGE_WIDTH_IN  8.27
#define AFP_DEFAULT_PAGE_HEIGHT_IN 11.69
#define AFP_DEFAULT_MARGIN_IN      0.75
#define AFP_DEFAULT_FONT_SIZE_PT   10.0

/* Names the JSON type of a value for error messages. */
static const char *
afp_jsonb_type_name(const JsonbValue *v)
{
    switch (v->type)
    {
        case jbvNull:
            return "null";
        case jbvString:
            return "string";
        case jbvNumeric:
            return "number";
        case jbvBool:
            return "boolean";
        case jbvArray:
            return "array";
        case jbvObject:
            return "object";
        case jbvBinary:
            return JsonContainerIsArray(v->val.binary.data) ? "array" : "object";
        default:
            return "unknown";
    }
}

/* Raises the 22023 error used for every malformed argument. */
static void
afp_jsonb_fail(const char *path, const char *what, const JsonbValue *v) pg_attribute_noreturn();

/* Raises "PATH must be WHAT, not TYPE" (or "PATH WHAT" when v is NULL). */
static void
afp_jsonb_fail(const char *path, const char *what, const JsonbValue *v)
{
    if (v)
        ereport(ERROR,
                (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                 errmsg("afp_compose_text: %s must be %s, not %s", path, what,
                        afp_jsonb_type_name(v))));
    ereport(ERROR,
            (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
             errmsg("afp_compose_text: %s %s", path, what)));
    pg_unreachable();
}

/* Appends ".key" to a path (key is not NUL-terminated in jsonb). */
static char *
afp_jsonb_path_key(const char *path, const JsonbValue *key)
{
    return psprintf("%s.%.*s", path, key->val.string.len, key->val.string.val);
}

/* True when a jsonb key equals the C string name. */
static bool
afp_jsonb_key_is(const JsonbValue *key, const char *name)
{
    return key->val.string.len == (int) strlen(name) &&
        memcmp(key->val.string.val, name, key->val.string.len) == 0;
}

/* True when v is a JSON object (only nested containers reach here as jbvBinary). */
static bool
afp_jsonb_is_object(const JsonbValue *v)
{
    return v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data);
}

/* Returns a string value as palloc'd UTF-8, or raises "PATH must be a string". */
static char *
afp_jsonb_utf8(const JsonbValue *v, const char *path, size_t *len)
{
    if (v->type != jbvString)
        afp_jsonb_fail(path, "a string", v);
    return afp_pg_utf8_from_server(v->val.string.val, v->val.string.len, len);
}

/* Returns a number value as a double, or raises "PATH must be a number". */
static double
afp_jsonb_number(const JsonbValue *v, const char *path)
{
    if (v->type != jbvNumeric)
        afp_jsonb_fail(path, "a number", v);
    return DatumGetFloat8(DirectFunctionCall1(numeric_float8, NumericGetDatum(v->val.numeric)));
}

/* Steps an iterator over the members of a jsonb object (without descending into values):
 * returns true with the next member's key and value, false after the last one. */
static bool
afp_jsonb_next_member(JsonbIterator **it, JsonbValue *key, JsonbValue *v)
{
    JsonbIteratorToken tok;

    while ((tok = JsonbIteratorNext(it, v, true)) != WJB_DONE)
    {
        if (tok == WJB_KEY)
            *key = *v;
        else if (tok == WJB_VALUE)
            return true;
    }
    return false;
}

/* Reads an index object: every value must be a string. */
static void
afp_compose_index(JsonbContainer *obj, const char *path, afp_compose_doc *doc)
{
    JsonbIterator *it = JsonbIteratorInit(obj);
    JsonbValue key = {0}, v;
    afp_index_pair *pairs;
    size_t n = 0;

    pairs = palloc0(sizeof(afp_index_pair) * (JsonContainerSize(obj) + 1));
    while (afp_jsonb_next_member(&it, &key, &v))
    {
        char *kpath = afp_jsonb_path_key(path, &key);

        if (key.val.string.len == 0)
            afp_jsonb_fail(path, "has an empty key (index names must not be empty)", NULL);
        pairs[n].name = afp_pg_utf8_from_server(key.val.string.val, key.val.string.len, NULL);
        pairs[n].value = afp_jsonb_utf8(&v, kpath, NULL);
        n++;
    }
    doc->index = pairs;
    doc->index_count = n;
}

/* Reads one document object (path is "docs[i]" or "docs"). */
static void
afp_compose_doc_from(const JsonbValue *elem, const char *path, afp_compose_doc *doc)
{
    JsonbIterator *it;
    JsonbValue key = {0}, v;
    bool have_text = false;

    if (!afp_jsonb_is_object(elem))
        afp_jsonb_fail(path, "an object with keys name, index, text", elem);
    memset(doc, 0, sizeof(*doc));
    it = JsonbIteratorInit(elem->val.binary.data);
    while (afp_jsonb_next_member(&it, &key, &v))
    {
        char *kpath = afp_jsonb_path_key(path, &key);

        if (afp_jsonb_key_is(&key, "text"))
        {
            doc->text = afp_jsonb_utf8(&v, kpath, &doc->text_len);
            have_text = true;
        }
        else if (afp_jsonb_key_is(&key, "name"))
        {
            if (v.type != jbvNull)
                doc->name = afp_jsonb_utf8(&v, kpath, NULL);
        }
        else if (afp_jsonb_key_is(&key, "index"))
        {
            if (v.type == jbvNull)
                continue;
            if (!afp_jsonb_is_object(&v))
                afp_jsonb_fail(kpath, "an object of strings", &v);
            afp_compose_index(v.val.binary.data, kpath, doc);
        }
        else
            afp_jsonb_fail(kpath, "is not a known key (expected name, index, text)", NULL);
    }
    if (!have_text)
        afp_jsonb_fail(psprintf("%s.text", path), "is missing", NULL);
}

/* Reads the docs argument: an array of document objects or a single object. */
afp_compose_doc *
afp_compose_docs_from_jsonb(Jsonb *docs, size_t *ndocs)
{
    afp_compose_doc *out;
    JsonbValue whole;

    if (JB_ROOT_IS_SCALAR(docs))
    {
        JsonbValue v;

        JsonbExtractScalar(&docs->root, &v);
        afp_jsonb_fail("docs", "an array of objects or an object", &v);
    }
    if (JB_ROOT_IS_OBJECT(docs))
    {
        whole.type = jbvBinary;
        whole.val.binary.data = &docs->root;
        whole.val.binary.len = VARSIZE(docs) - VARHDRSZ;
        out = palloc(sizeof(afp_compose_doc));
        afp_compose_doc_from(&whole, "docs", out);
        *ndocs = 1;
        return out;
    }
    else
    {
        uint32 n = JsonContainerSize(&docs->root), i;

        if (n == 0)
            afp_jsonb_fail("docs", "is an empty array (at least one document is needed)", NULL);
        out = palloc(sizeof(afp_compose_doc) * n);
        for (i = 0; i < n; i++)
        {
            JsonbValue *elem = getIthJsonbValueFromContainer(&docs->root, i);

            afp_compose_doc_from(elem, psprintf("docs[%u]", i), &out[i]);
        }
        *ndocs = n;
        return out;
    }
}

/* Checks that a dimension option is finite and inside (lo, hi] (or [lo, hi] when lo_ok). */
static double
afp_compose_dim(const JsonbValue *v, const char *path, double lo, bool lo_ok, double hi)
{
    double d = afp_jsonb_number(v, path);

    if (isnan(d) || d > hi || d < lo || (!lo_ok && d == lo))
    {
        if (lo_ok)
            ereport(ERROR,
                    (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                     errmsg("afp_compose_text: %s must be between %g and %g, not %g", path, lo, hi, d)));
        ereport(ERROR,
                (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                 errmsg("afp_compose_text: %s must be greater than %g and at most %g, not %g", path, lo,
                        hi, d)));
    }
    return d;
}

/* Reads the options object, starting from the documented defaults. */
void
afp_compose_opts_from_jsonb(Jsonb *options, afp_compose_opts *opts)
{
    JsonbIterator *it;
    JsonbValue key = {0}, v;

    memset(opts, 0, sizeof(*opts));
    opts->page_width_in = AFP_DEFAULT_PAGE_WIDTH_IN;
    opts->page_height_in = AFP_DEFAULT_PAGE_HEIGHT_IN;
    opts->margin_in = AFP_DEFAULT_MARGIN_IN;
    opts->font_size_pt = AFP_DEFAULT_FONT_SIZE_PT;
    opts->codepage = NULL;
    opts->lines_per_page = 0;

    if (!JB_ROOT_IS_OBJECT(options))
    {
        JsonbValue whole;

        if (JB_ROOT_IS_SCALAR(options))
            JsonbExtractScalar(&options->root, &whole);
        else
            whole.type = jbvArray;
        afp_jsonb_fail("options", "an object", &whole);
    }
    it = JsonbIteratorInit(&options->root);
    while (afp_jsonb_next_member(&it, &key, &v))
    {
        char *kpath = afp_jsonb_path_key("options", &key);

        /* ranges as the core accepts them (it also checks that the margins leave room and that
         * the size is one of the IBM core font sizes); checked here to name the jsonb path */
        if (afp_jsonb_key_is(&key, "page_width_in"))
            opts->page_width_in = afp_compose_dim(&v, kpath, 1, true, 22);
        else if (afp_jsonb_key_is(&key, "page_height_in"))
            opts->page_height_in = afp_compose_dim(&v, kpath, 1, true, 22);
        else if (afp_jsonb_key_is(&key, "margin_in"))
            opts->margin_in = afp_compose_dim(&v, kpath, 0, false, 11);
        else if (afp_jsonb_key_is(&key, "font_size_pt"))
            opts->font_size_pt = afp_compose_dim(&v, kpath, 0, false, 72);
        else if (afp_jsonb_key_is(&key, "lines_per_page"))
        {
            double d = afp_compose_dim(&v, kpath, 0, true, 10000);

            if (d != floor(d))
                afp_jsonb_fail(kpath, "must be a whole number", NULL);
            opts->lines_per_page = (int) d;
        }
        else if (afp_jsonb_key_is(&key, "codepage"))
        {
            char *cp = afp_jsonb_utf8(&v, kpath, NULL);

            if (afp_codepage_find(cp) == NULL)
                ereport(ERROR,
                        (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                         errmsg("afp_compose_text: %s: unknown code page \"%s\"", kpath, cp),
                         errhint("Use an AFP code page name such as T1V10500 or T1001148, or a number such as 500.")));
            opts->codepage = cp;
        }
        else
            afp_jsonb_fail(kpath, "is not a known option (expected page_width_in, page_height_in, margin_in, font_size_pt, codepage, lines_per_page)", NULL);
    }
}
