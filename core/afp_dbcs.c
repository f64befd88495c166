/*
 * afp_dbcs.c — double-byte code pages: names and CPGIDs, the decoding of the generated tables,
 * per-font code page assignments ("code_pages" option) and the text extraction options.
 *
 * The generated tables (afp_dbcs_tables.c, tools/gen_dbcs.sh) are base64 streams of segments;
 * each table is decoded once per process into a 64K-entry array (code → Unicode, 0 undefined)
 * kept in plain malloc memory (afp_alloc is palloc in a short-lived context in the extension),
 * like the font cache of afp_convert_fonts.c. A table with a base is the base plus differences.
 */
#include "afp_dbcs.h"

#include "afp_gen.h"
#include "afp_text_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Generated tables (afp_dbcs_tables.c). */
extern const size_t afp_dbcs_gen_count;
extern const char *const afp_dbcs_gen_name[];
extern const int afp_dbcs_gen_base[];
extern const char *const afp_dbcs_gen_data[];

/* Rows of the generated tables (tools/gen_dbcs.sh order). */
enum { R939, R1399, R933, R1364, R935, R1388, R937, R1371, R950, R936, R943, R949, NROWS };

struct afp_dbcs {
    int number;             /* CPGID or CCSID */
    int row;                /* generated table */
    int mixed;              /* ASCII-based with single bytes */
    int ebcdic;
    char name[12];          /* "CP300" … */
    const char *table;      /* iconv name of the table, checked against the generated names */
};

/* Known numbers: the DBCS CPGIDs and the CCSIDs of the mixed/host pages that contain them. */
static const struct afp_dbcs pages[] = {
    {300, R939, 0, 1, "CP300", "IBM939"},       /* Japanese host DBCS (930, 939, 5026, 5035) */
    {930, R939, 0, 1, "CP930", "IBM939"},
    {939, R939, 0, 1, "CP939", "IBM939"},
    {4396, R939, 0, 1, "CP4396", "IBM939"},
    {5026, R939, 0, 1, "CP5026", "IBM939"},
    {5035, R939, 0, 1, "CP5035", "IBM939"},
    {16684, R1399, 0, 1, "CP16684", "IBM1399"}, /* Japanese host DBCS with JIS X 0213 (1390, 1399) */
    {1390, R1399, 0, 1, "CP1390", "IBM1399"},
    {1399, R1399, 0, 1, "CP1399", "IBM1399"},
    {834, R933, 0, 1, "CP834", "IBM933"},       /* Korean host DBCS (933) */
    {933, R933, 0, 1, "CP933", "IBM933"},
    {4930, R1364, 0, 1, "CP4930", "IBM1364"},   /* Korean host DBCS, all Hangul (1364) */
    {1364, R1364, 0, 1, "CP1364", "IBM1364"},
    {837, R935, 0, 1, "CP837", "IBM935"},       /* Simplified Chinese host DBCS (935) */
    {935, R935, 0, 1, "CP935", "IBM935"},
    {4933, R1388, 0, 1, "CP4933", "IBM1388"},   /* Simplified Chinese host DBCS, GBK (1388) */
    {1388, R1388, 0, 1, "CP1388", "IBM1388"},
    {835, R937, 0, 1, "CP835", "IBM937"},       /* Traditional Chinese host DBCS (937) */
    {937, R937, 0, 1, "CP937", "IBM937"},
    {1371, R1371, 0, 1, "CP1371", "IBM1371"},
    {947, R950, 0, 0, "CP947", "CP950"},        /* Big5 DBCS (PC) */
    {950, R950, 1, 0, "CP950", "CP950"},        /* Big5 mixed with ASCII */
    {1385, R936, 0, 0, "CP1385", "CP936"},      /* GBK DBCS (PC) */
    {1380, R936, 0, 0, "CP1380", "CP936"},      /* GB 2312 DBCS (PC), a subset of GBK */
    {936, R936, 1, 0, "CP936", "CP936"},
    {1386, R936, 1, 0, "CP1386", "CP936"},
    {941, R943, 0, 0, "CP941", "IBM943"},       /* Japanese DBCS (PC) */
    {943, R943, 1, 0, "CP943", "IBM943"},       /* Shift-JIS mixed */
    {932, R943, 1, 0, "CP932", "IBM943"},
    {1362, R949, 0, 0, "CP1362", "CP949"},      /* Korean DBCS (PC), Unified Hangul */
    {949, R949, 1, 0, "CP949", "CP949"},
    {1363, R949, 1, 0, "CP1363", "CP949"},
};

#define NPAGES (sizeof(pages) / sizeof(pages[0]))

/* Decoded tables, per row. */
typedef struct dbcs_table {
    uint32_t *map;          /* 65536 entries */
    uint8_t lead[256];
    size_t count;
    int failed;
} dbcs_table;

static dbcs_table tables[NROWS];

/* Value of a base64 character, -1 for anything else. */
static int
b64_value(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Base64 byte reader over a generated stream. */
typedef struct b64_reader {
    const char *s;
    uint32_t bits;
    int nbits;
    int bad;
} b64_reader;

/* Next byte of the stream; -1 at the end. */
static int
b64_byte(b64_reader *r)
{
    while (r->nbits < 8)
    {
        int v;

        if (*r->s == '\0' || *r->s == '=')
            return -1;
        v = b64_value(*r->s++);
        if (v < 0)
        {
            r->bad = 1;
            return -1;
        }
        r->bits = (r->bits << 6) | (uint32_t) v;
        r->nbits += 6;
    }
    r->nbits -= 8;
    return (int) ((r->bits >> r->nbits) & 0xFF);
}

/* Next varint of the stream; 0 (and r->bad) when it ends inside one or is too long. */
static uint32_t
b64_varint(b64_reader *r, int *end)
{
    uint32_t v = 0;
    int shift = 0, b;

    *end = 0;
    do
    {
        b = b64_byte(r);
        if (b < 0)
        {
            if (shift > 0)
                r->bad = 1;
            *end = 1;
            return 0;
        }
        if (shift > 28)
        {
            r->bad = 1;
            *end = 1;
            return 0;
        }
        v |= (uint32_t) (b & 0x7F) << shift;
        shift += 7;
    } while (b & 0x80);
    return v;
}

/* Applies the stream of row to map (segments of code gaps, counts and Unicode deltas).
 * Returns 0 when the stream is damaged. */
static int
apply_stream(int row, uint32_t *map)
{
    b64_reader r;
    uint32_t code = 0, prev_u = 0;
    int end;

    memset(&r, 0, sizeof(r));
    r.s = afp_dbcs_gen_data[row];
    for (;;)
    {
        uint32_t gap = b64_varint(&r, &end), n, k;

        if (end)
            break;
        n = b64_varint(&r, &end);
        if (end || (uint64_t) code + gap + n > 65536)
            return 0;
        code += gap;
        for (k = 0; k < n; k++)
        {
            uint32_t z = b64_varint(&r, &end);
            int64_t d = (z & 1) ? -(int64_t) ((z + 1) / 2) : (int64_t) (z / 2);
            int64_t u = (int64_t) prev_u + d;

            if (end || u < 0 || u > 0x10FFFF)
                return 0;
            map[code++] = (uint32_t) u;
            prev_u = (uint32_t) u;
        }
    }
    return !r.bad;
}

/* Decodes a row (and its base) once per process; NULL when it cannot be loaded. */
static dbcs_table *
load_row(int row)
{
    dbcs_table *t;
    int base;
    uint32_t c;

    if (row < 0 || row >= NROWS || (size_t) row >= afp_dbcs_gen_count)
        return NULL;
    t = &tables[row];
    if (t->map || t->failed)
        return t->map ? t : NULL;
    base = afp_dbcs_gen_base[row];
    t->map = calloc(65536, sizeof(uint32_t));
    if (t->map == NULL || (base >= 0 && (base >= NROWS || !apply_stream(base, t->map))) ||
        !apply_stream(row, t->map))
    {
        free(t->map);
        t->map = NULL;
        t->failed = 1;
        return NULL;
    }
    for (c = 0; c < 65536; c++)
        if (t->map[c] != 0)
        {
            t->count++;
            if (c >= 0x100)
                t->lead[c >> 8] = 1;
        }
    return t;
}

/* The page with a number whose table loads, or NULL. */
static const afp_dbcs *
by_number(int number)
{
    size_t i;

    for (i = 0; i < NPAGES; i++)
        if (pages[i].number == number)
        {
            /* rows are fixed by the generator's order: refuse silently broken tables */
            if ((size_t) pages[i].row >= afp_dbcs_gen_count ||
                strcmp(afp_dbcs_gen_name[pages[i].row], pages[i].table) != 0 ||
                load_row(pages[i].row) == NULL)
                return NULL;
            return &pages[i];
        }
    return NULL;
}

/* Finds a DBCS page by number, CP/IBM/CCSID name or AFP resource name. */
const afp_dbcs *
afp_dbcs_find(const char *name)
{
    int v = afp_codepage_name_number(name, 1);

    return v > 0 ? by_number(v) : NULL;
}

/* Canonical name ("CP950"); "" for NULL. */
const char *
afp_dbcs_name(const afp_dbcs *d)
{
    return d ? d->name : "";
}

/* Number (CPGID or CCSID) of a page; 0 for NULL. */
int
afp_dbcs_number(const afp_dbcs *d)
{
    return d ? d->number : 0;
}

/* True when b starts a two-byte character. */
int
afp_dbcs_is_lead(const afp_dbcs *d, uint8_t b)
{
    const dbcs_table *t;

    if (d == NULL || !d->mixed)
        return 1;
    t = load_row(d->row);
    return t != NULL && t->map[b] == 0 && t->lead[b];
}

/* Unicode of a code, 0 when undefined. Pure double-byte pages define no single byte. */
uint32_t
afp_dbcs_to_unicode(const afp_dbcs *d, uint32_t code)
{
    const dbcs_table *t;

    if (d == NULL || code > 0xFFFF || (code < 0x100 && !d->mixed))
        return 0;
    t = load_row(d->row);
    return t ? t->map[code] : 0;
}

/* The variable space code of a page. */
uint32_t
afp_dbcs_space(const afp_dbcs *d)
{
    if (d == NULL)
        return 0xFFFFFFFFu;
    if (d->ebcdic)
        return 0x4040;
    return d->mixed ? 0x20 : 0xFFFFFFFFu;
}

/* Number of defined codes of the page's table. */
size_t
afp_dbcs_count(const afp_dbcs *d)
{
    const dbcs_table *t = d ? load_row(d->row) : NULL;

    return t ? t->count : 0;
}

/* ------------------------------------------------------------------ code page assignments */

/* Reads the "code_pages" object. */
afp_status
afp_cp_overrides_parse(afp_cp_override **items, size_t *count, size_t *cap,
                       const struct afp_json *v, const char *where, afp_error *err)
{
    size_t i;

    if (v->type != AFP_JSON_OBJECT)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL, "%s: expected an object "
                             "{\"FONTNAME\": \"CODEPAGE\", …}", where);
    for (i = 0; i < v->count; i++)
    {
        const char *k = v->keys[i];
        const afp_json *val = v->items[i];
        afp_cp_override *o;
        size_t kl = strlen(k), j;

        if (kl == 0 || kl > 16)
            return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL, "%s: font name pattern "
                                 "\"%.40s\" must have 1 to 16 characters", where, k);
        for (j = 0; j < kl; j++)
            if (!((k[j] >= 'A' && k[j] <= 'Z') || (k[j] >= 'a' && k[j] <= 'z') ||
                  (k[j] >= '0' && k[j] <= '9') || k[j] == '*' || k[j] == '?' || k[j] == '@' ||
                  k[j] == '#' || k[j] == '$' || k[j] == '_' || k[j] == '-'))
                return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL, "%s: font name pattern "
                                     "\"%.40s\" may hold letters, digits, @ # $ _ - and the "
                                     "wildcards * ?", where, k);
        if (val->type != AFP_JSON_STRING && val->type != AFP_JSON_NUMBER)
            return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL, "%s.%s: expected a code page "
                                 "name or number", where, k);
        *items = afp_text_grow(*items, cap, *count + 1, sizeof(afp_cp_override));
        o = &(*items)[*count];
        memset(o, 0, sizeof(*o));
        memcpy(o->pattern, k, kl + 1);
        {
            char name[32];

            if (val->type == AFP_JSON_NUMBER)
                snprintf(name, sizeof(name), "%.0f", val->number >= 0 && val->number < 1e6
                         ? val->number : -1.0);
            else
                snprintf(name, sizeof(name), "%.31s", val->string);
            o->dcp = afp_dbcs_find(name);
            if (o->dcp == NULL)
                o->cp = afp_codepage_find(name);
            if (o->dcp == NULL && o->cp == NULL)
                return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL, "%s.%s: unknown code page "
                                     "\"%s\" (double-byte: 300, 16684, 834, 4930, 837, 4933, "
                                     "835, 1371, 947, 950, 1385, 936, 941, 943, 1362, 949 …; or "
                                     "a single-byte EBCDIC page such as 500 or 1140)", where, k,
                                     name);
        }
        (*count)++;
    }
    return AFP_OK;
}

/* The first assignment whose pattern matches the coded font or font character set name. */
const afp_cp_override *
afp_cp_override_match(const afp_cp_override *items, size_t count, const char *cf,
                      const char *fcs)
{
    size_t i;

    for (i = 0; i < count; i++)
        if ((cf && cf[0] && afp_glob_ci(items[i].pattern, cf)) ||
            (fcs && fcs[0] && afp_glob_ci(items[i].pattern, fcs)))
            return &items[i];
    return NULL;
}

/* ------------------------------------------------------------------ text options */

/* Reads the options of text extraction. */
afp_status
afp_text_options_parse(afp_text_options *o, const char *json, size_t len, afp_error *err)
{
    afp_json *root;
    afp_status st;
    size_t i;

    st = afp_json_options_parse(json, len, &root, err);
    if (st != AFP_OK || root == NULL)
        return st;
    for (i = 0; i < root->count && st == AFP_OK; i++)
    {
        const char *k = root->keys[i];
        const afp_json *v = root->items[i];

        if (strcmp(k, "code_pages") == 0)
            st = afp_cp_overrides_parse(&o->code_pages, &o->ncode_pages, &o->capcode_pages, v,
                                        "options.code_pages", err);
        else if (strcmp(k, "missing") == 0)         /* error 0, warn 1, ignore 2 */
            st = afp_json_missing_option(v, &o->missing, err);
        else if (strcmp(k, "includes") == 0 &&
                 (v->type == AFP_JSON_TRUE || v->type == AFP_JSON_FALSE))
            o->no_includes = v->type == AFP_JSON_FALSE;
        else if (strcmp(k, "includes") == 0)
            st = afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL,
                               "options.includes: expected true or false");
        else
            st = afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL, "options: unknown key \"%.100s\" "
                               "(known: code_pages, missing, includes)", k);
    }
    afp_json_free(root);
    return st;
}

/* Frees the code page assignments. */
void
afp_text_options_free(afp_text_options *o)
{
    afp_free(o->code_pages);
    o->code_pages = NULL;
    o->ncode_pages = o->capcode_pages = 0;
}
