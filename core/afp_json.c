/*
 * afp_json.c — a strict RFC 8259 JSON parser and writer for templates and data.
 *
 * The parser is iterative (an explicit stack of open containers, at most AFP_JSON_MAX_DEPTH deep),
 * validates UTF-8, decodes \uXXXX escapes including surrogate pairs, and keeps the literal text
 * of every number (number_text) so formatting can work from the exact decimal value. Errors are
 * AFP_ERR_FORMAT with the byte offset and what was expected; too deep nesting is AFP_ERR_LIMIT.
 *
 * Deliberate restrictions: "\u0000" is rejected (strings and keys are NUL-terminated C strings,
 * and PostgreSQL text cannot hold NUL either), and numbers outside the range of a double are
 * rejected. Duplicate object keys are kept in document order; afp_json_get returns the last one
 * (as jsonb does).
 */
#include "afp_gen.h"

#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AFP_JSON_MAX_DEPTH 256

/* One open array or object while parsing. */
typedef struct json_frame {
    afp_json *node;
    size_t cap;                 /* allocated slots of node->items (and node->keys) */
    char *key;                  /* object: key of the member whose value comes next */
} json_frame;

/* Parser state. */
typedef struct json_parser {
    const uint8_t *s;
    size_t n;
    size_t pos;
    afp_error *err;
    json_frame stack[AFP_JSON_MAX_DEPTH];
    int depth;
    afp_buf tmp;                /* scratch for decoding strings */
    size_t steps;               /* values parsed, for the interrupt hook */
} json_parser;

/* Describes the byte at the current position for an error message ("'x'", "end of input"). */
static const char *
describe_here(json_parser *p, char *buf, size_t bufsz)
{
    uint8_t c;

    if (p->pos >= p->n)
        return "end of input";
    c = p->s[p->pos];
    if (c >= 0x21 && c < 0x7F)
        snprintf(buf, bufsz, "'%c'", c);
    else if (c == ' ')
        snprintf(buf, bufsz, "a blank");
    else
        snprintf(buf, bufsz, "byte X'%02X'", c);
    return buf;
}

/* Fails with "at byte offset N: expected WHAT, found X" at the current position. */
static afp_status
expected(json_parser *p, const char *what)
{
    char b[32];

    return afp_error_set(p->err, AFP_ERR_FORMAT, (int64_t) p->pos, NULL, "expected %s, found %s",
                         what, describe_here(p, b, sizeof(b)));
}

/* Skips JSON whitespace (blank, tab, line feed, carriage return). */
static void
skip_ws(json_parser *p)
{
    while (p->pos < p->n)
    {
        uint8_t c = p->s[p->pos];

        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

/* Allocates a zeroed node of the given type. */
static afp_json *
new_node(afp_json_type t)
{
    afp_json *v = afp_alloc(sizeof(afp_json));

    memset(v, 0, sizeof(*v));
    v->type = t;
    return v;
}

/* Copies n bytes into a new NUL-terminated string. */
static char *
dup_n(const void *s, size_t n)
{
    char *d = afp_alloc(n + 1);

    if (n > 0)
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* Value of one hex digit, -1 if c is not one. */
static int
hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads the 4 hex digits of a \u escape at p->pos (just after the 'u'). */
static afp_status
read_hex4(json_parser *p, uint32_t *out)
{
    uint32_t v = 0;
    int i;

    for (i = 0; i < 4; i++)
    {
        int h = p->pos < p->n ? hexval(p->s[p->pos]) : -1;

        if (h < 0)
            return expected(p, "a hexadecimal digit in a \\u escape");
        v = (v << 4) | (uint32_t) h;
        p->pos++;
    }
    *out = v;
    return AFP_OK;
}

/* Parses a string literal at p->pos (on the opening quote) into p->tmp (not NUL-counted). */
static afp_status
parse_string_raw(json_parser *p)
{
    p->tmp.len = 0;
    p->pos++;                   /* opening quote */
    for (;;)
    {
        uint8_t c;

        if (p->pos >= p->n)
            return expected(p, "'\"' to end the string");
        c = p->s[p->pos];
        if (c == '"')
        {
            p->pos++;
            return AFP_OK;
        }
        if (c < 0x20)
            return afp_error_set(p->err, AFP_ERR_FORMAT, (int64_t) p->pos, NULL,
                                 "control character X'%02X' in a string (it must be escaped)", c);
        if (c == '\\')
        {
            uint8_t e;
            uint32_t u, lo;
            size_t esc = p->pos;

            p->pos++;
            if (p->pos >= p->n)
                return expected(p, "an escape character after '\\'");
            e = p->s[p->pos++];
            switch (e)
            {
                case '"': afp_buf_putc(&p->tmp, '"'); break;
                case '\\': afp_buf_putc(&p->tmp, '\\'); break;
                case '/': afp_buf_putc(&p->tmp, '/'); break;
                case 'b': afp_buf_putc(&p->tmp, '\b'); break;
                case 'f': afp_buf_putc(&p->tmp, '\f'); break;
                case 'n': afp_buf_putc(&p->tmp, '\n'); break;
                case 'r': afp_buf_putc(&p->tmp, '\r'); break;
                case 't': afp_buf_putc(&p->tmp, '\t'); break;
                case 'u':
                    if (read_hex4(p, &u) != AFP_OK)
                        return p->err ? p->err->status : AFP_ERR_FORMAT;
                    if (u == 0)
                        return afp_error_set(p->err, AFP_ERR_FORMAT, (int64_t) esc, NULL,
                                             "\\u0000 is not supported in strings");
                    if (u >= 0xDC00 && u <= 0xDFFF)
                        return afp_error_set(p->err, AFP_ERR_FORMAT, (int64_t) esc, NULL,
                                             "unpaired low surrogate \\u%04X", (unsigned) u);
                    if (u >= 0xD800 && u <= 0xDBFF)
                    {
                        if (p->pos + 1 >= p->n || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
                            return afp_error_set(p->err, AFP_ERR_FORMAT, (int64_t) esc, NULL,
                                                 "high surrogate \\u%04X is not followed by a "
                                                 "\\u escape of a low surrogate", (unsigned) u);
                        p->pos += 2;
                        if (read_hex4(p, &lo) != AFP_OK)
                            return p->err ? p->err->status : AFP_ERR_FORMAT;
                        if (lo < 0xDC00 || lo > 0xDFFF)
                            return afp_error_set(p->err, AFP_ERR_FORMAT, (int64_t) esc, NULL,
                                                 "high surrogate \\u%04X is followed by \\u%04X, "
                                                 "not by a low surrogate", (unsigned) u,
                                                 (unsigned) lo);
                        u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                    }
                    afp_utf8_put(&p->tmp, u);
                    break;
                default:
                    p->pos--;
                    return expected(p, "one of \" \\ / b f n r t u after '\\'");
            }
            continue;
        }
        if (c < 0x80)
        {
            /* copy a run of plain ASCII at once */
            size_t start = p->pos;

            while (p->pos < p->n && p->s[p->pos] >= 0x20 && p->s[p->pos] < 0x80 &&
                   p->s[p->pos] != '"' && p->s[p->pos] != '\\')
                p->pos++;
            afp_buf_append(&p->tmp, p->s + start, p->pos - start);
        }
        else
        {
            uint32_t u;
            size_t l = afp_utf8_get(p->s + p->pos, p->n - p->pos, &u);

            if (l == 0)
                return afp_error_set(p->err, AFP_ERR_FORMAT, (int64_t) p->pos, NULL,
                                     "invalid UTF-8 byte X'%02X' in a string", c);
            afp_buf_append(&p->tmp, p->s + p->pos, l);
            p->pos += l;
        }
    }
}

/* Converts a validated JSON number literal to a double, independent of the C locale. */
static double
number_value(const char *lit, size_t n)
{
    char local[64];
    char *copy = n < sizeof(local) ? local : afp_alloc(n + 1);
    const char *dp = localeconv()->decimal_point;
    size_t i;
    double d;

    memcpy(copy, lit, n);
    copy[n] = '\0';
    /* strtod honours LC_NUMERIC; the literal always uses '.', so swap in the locale's point
     * when it is a different single character. */
    if (dp != NULL && dp[0] != '\0' && dp[0] != '.' && dp[1] == '\0')
        for (i = 0; i < n; i++)
            if (copy[i] == '.')
                copy[i] = dp[0];
    d = strtod(copy, NULL);
    if (copy != local)
        afp_free(copy);
    return d;
}

/* Parses a number at p->pos (on '-' or a digit) into a NUMBER node. */
static afp_status
parse_number(json_parser *p, afp_json **out)
{
    size_t start = p->pos;
    afp_json *v;
    double d;

    if (p->s[p->pos] == '-')
        p->pos++;
    if (p->pos >= p->n || p->s[p->pos] < '0' || p->s[p->pos] > '9')
        return expected(p, "a digit");
    if (p->s[p->pos] == '0')
        p->pos++;
    else
        while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            p->pos++;
    if (p->pos < p->n && p->s[p->pos] == '.')
    {
        p->pos++;
        if (p->pos >= p->n || p->s[p->pos] < '0' || p->s[p->pos] > '9')
            return expected(p, "a digit after the decimal point");
        while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            p->pos++;
    }
    if (p->pos < p->n && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E'))
    {
        p->pos++;
        if (p->pos < p->n && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
            p->pos++;
        if (p->pos >= p->n || p->s[p->pos] < '0' || p->s[p->pos] > '9')
            return expected(p, "a digit in the exponent");
        while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            p->pos++;
    }
    d = number_value((const char *) p->s + start, p->pos - start);
    if (!isfinite(d))
        return afp_error_set(p->err, AFP_ERR_FORMAT, (int64_t) start, NULL,
                             "number %.*s is out of range", (int) (p->pos - start > 40 ? 40 : p->pos - start),
                             (const char *) p->s + start);
    v = new_node(AFP_JSON_NUMBER);
    v->number = d;
    v->number_text = dup_n(p->s + start, p->pos - start);
    *out = v;
    return AFP_OK;
}

/* Matches the literal word (true/false/null) at p->pos. */
static int
match_word(json_parser *p, const char *w)
{
    size_t l = strlen(w);

    if (p->n - p->pos < l || memcmp(p->s + p->pos, w, l) != 0)
        return 0;
    p->pos += l;
    return 1;
}

/* Adds child to the innermost open container (or makes it the root). */
static void
attach(json_parser *p, afp_json **root, afp_json *child)
{
    json_frame *f;
    afp_json *c;

    if (p->depth == 0)
    {
        *root = child;
        return;
    }
    f = &p->stack[p->depth - 1];
    c = f->node;
    if (c->count == f->cap)
    {
        f->cap = f->cap ? f->cap * 2 : 4;
        c->items = afp_realloc(c->items, f->cap * sizeof(afp_json *));
        if (c->type == AFP_JSON_OBJECT)
            c->keys = afp_realloc(c->keys, f->cap * sizeof(char *));
    }
    c->items[c->count] = child;
    if (c->type == AFP_JSON_OBJECT)
    {
        c->keys[c->count] = f->key;
        f->key = NULL;
    }
    c->count++;
}

/* Parses `"key" :` of an object member into the innermost frame. */
static afp_status
parse_key(json_parser *p)
{
    json_frame *f = &p->stack[p->depth - 1];

    skip_ws(p);
    if (p->pos >= p->n || p->s[p->pos] != '"')
        return expected(p, "'\"' to start an object key");
    if (parse_string_raw(p) != AFP_OK)
        return p->err ? p->err->status : AFP_ERR_FORMAT;
    f->key = dup_n(p->tmp.data, p->tmp.len);
    skip_ws(p);
    if (p->pos >= p->n || p->s[p->pos] != ':')
        return expected(p, "':' after an object key");
    p->pos++;
    return AFP_OK;
}

/* The parse loop: values, then separators/closers, with an explicit container stack. */
static afp_status
parse_all(json_parser *p, afp_json **root)
{
    for (;;)
    {
        afp_json *v = NULL;
        uint8_t c;

        /* ---- a value is expected here */
        if ((++p->steps & 4095) == 0 && afp_check_interrupt())
            return afp_error_set(p->err, AFP_ERR_INTERRUPTED, (int64_t) p->pos, NULL, "interrupted");
        skip_ws(p);
        if (p->pos >= p->n)
            return expected(p, "a JSON value");
        c = p->s[p->pos];
        if (c == '{' || c == '[')
        {
            if (p->depth >= AFP_JSON_MAX_DEPTH)
                return afp_error_set(p->err, AFP_ERR_LIMIT, (int64_t) p->pos, NULL,
                                     "nesting deeper than %d arrays/objects", AFP_JSON_MAX_DEPTH);
            v = new_node(c == '{' ? AFP_JSON_OBJECT : AFP_JSON_ARRAY);
            attach(p, root, v);
            p->stack[p->depth].node = v;
            p->stack[p->depth].cap = 0;
            p->stack[p->depth].key = NULL;
            p->depth++;
            p->pos++;
            skip_ws(p);
            if (p->pos < p->n && p->s[p->pos] == (c == '{' ? '}' : ']'))
            {
                p->pos++;
                p->depth--;
            }
            else
            {
                if (c == '{' && parse_key(p) != AFP_OK)
                    return p->err ? p->err->status : AFP_ERR_FORMAT;
                continue;       /* first member / element */
            }
        }
        else
        {
            if (c == '"')
            {
                if (parse_string_raw(p) != AFP_OK)
                    return p->err ? p->err->status : AFP_ERR_FORMAT;
                v = new_node(AFP_JSON_STRING);
                v->string = dup_n(p->tmp.data, p->tmp.len);
                v->string_len = p->tmp.len;
            }
            else if (c == '-' || (c >= '0' && c <= '9'))
            {
                if (parse_number(p, &v) != AFP_OK)
                    return p->err ? p->err->status : AFP_ERR_FORMAT;
            }
            else if (match_word(p, "true"))
                v = new_node(AFP_JSON_TRUE);
            else if (match_word(p, "false"))
                v = new_node(AFP_JSON_FALSE);
            else if (match_word(p, "null"))
                v = new_node(AFP_JSON_NULL);
            else
                return expected(p, "a JSON value (object, array, string, number, true, false or null)");
            attach(p, root, v);
        }

        /* ---- after a complete value: a separator, a closer or the end */
        for (;;)
        {
            json_frame *f;

            skip_ws(p);
            if (p->depth == 0)
            {
                if (p->pos < p->n)
                    return expected(p, "the end of input after the JSON value");
                return AFP_OK;
            }
            f = &p->stack[p->depth - 1];
            if (p->pos < p->n && p->s[p->pos] == ',')
            {
                p->pos++;
                if (f->node->type == AFP_JSON_OBJECT && parse_key(p) != AFP_OK)
                    return p->err ? p->err->status : AFP_ERR_FORMAT;
                break;          /* next value */
            }
            if (p->pos < p->n &&
                p->s[p->pos] == (f->node->type == AFP_JSON_OBJECT ? '}' : ']'))
            {
                p->pos++;
                p->depth--;
                continue;
            }
            return expected(p, f->node->type == AFP_JSON_OBJECT
                                   ? "',' or '}' after an object member"
                                   : "',' or ']' after an array element");
        }
    }
}

/* Parses UTF-8 JSON text into a tree (free with afp_json_free). */
afp_status
afp_json_parse(const char *text, size_t len, afp_json **out, afp_error *err)
{
    json_parser *p = afp_alloc(sizeof(json_parser));
    afp_json *root = NULL;
    afp_status st;
    int i;

    memset(p, 0, sizeof(*p));
    p->s = (const uint8_t *) text;
    p->n = text ? len : 0;
    p->err = err;
    afp_buf_init(&p->tmp);
    afp_error_clear(err);
    st = parse_all(p, &root);
    if (st != AFP_OK)
    {
        if (err != NULL && err->status == AFP_OK)
            st = afp_error_set(err, AFP_ERR_FORMAT, (int64_t) p->pos, NULL, "invalid JSON");
        for (i = 0; i < p->depth; i++)
            afp_free(p->stack[i].key);
        afp_json_free(root);
        root = NULL;
    }
    afp_buf_free(&p->tmp);
    afp_free(p);
    *out = root;
    return st;
}

/* Frees a tree made by afp_json_parse (or built with afp_alloc the same way); NULL is ignored. */
void
afp_json_free(afp_json *v)
{
    size_t i;

    if (v == NULL)
        return;
    for (i = 0; i < v->count; i++)
    {
        if (v->keys)
            afp_free(v->keys[i]);
        if (v->items)
            afp_json_free(v->items[i]);
    }
    afp_free(v->items);
    afp_free(v->keys);
    afp_free(v->string);
    afp_free(v->number_text);
    afp_free(v);
}

/* Object member by key: the last member with that key, NULL if absent or v is no object. */
const afp_json *
afp_json_get(const afp_json *v, const char *key)
{
    size_t i;

    if (v == NULL || v->type != AFP_JSON_OBJECT || key == NULL || v->keys == NULL)
        return NULL;
    for (i = v->count; i > 0; i--)
        if (v->keys[i - 1] != NULL && strcmp(v->keys[i - 1], key) == 0)
            return v->items[i - 1];
    return NULL;
}

/* Parses the text of an options argument, which must be a JSON object. *root gets the tree
 * (free with afp_json_free), or NULL when there is no text (json NULL or len 0: no options).
 * Bad JSON or a value other than an object is AFP_ERR_ARGUMENT. */
afp_status
afp_json_options_parse(const char *json, size_t len, afp_json **root, afp_error *err)
{
    afp_status st;

    *root = NULL;
    if (json == NULL || len == 0)
        return AFP_OK;
    st = afp_json_parse(json, len, root, err);
    if (st != AFP_OK)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL, "options: %s", err->message);
    if ((*root)->type != AFP_JSON_OBJECT)
    {
        afp_json_free(*root);
        *root = NULL;
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL, "options must be a JSON object");
    }
    return AFP_OK;
}

/* The "missing" option of conversion and text extraction: *out = 0 for "error", 1 for "warn",
 * 2 for "ignore"; any other value is AFP_ERR_ARGUMENT (*out unchanged). */
afp_status
afp_json_missing_option(const afp_json *v, int *out, afp_error *err)
{
    static const char *const choices[] = {"error", "warn", "ignore"};
    int i;

    for (i = 0; v->type == AFP_JSON_STRING && i < 3; i++)
        if (strcmp(v->string, choices[i]) == 0)
        {
            *out = i;
            return AFP_OK;
        }
    return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL,
                         "options.missing: expected \"error\", \"warn\" or \"ignore\"");
}

/* Writes a double as a JSON number ("null" when not finite), with '.' whatever the locale. */
static void
write_double(afp_buf *out, double d)
{
    char b[64];
    const char *dp = localeconv()->decimal_point;
    size_t i;

    if (!isfinite(d))
    {
        afp_buf_append(out, "null", 4);
        return;
    }
    if (d == floor(d) && fabs(d) < 1e15)
        snprintf(b, sizeof(b), "%.0f", d);
    else
        snprintf(b, sizeof(b), "%.17g", d);
    if (dp != NULL && dp[0] != '\0' && dp[0] != '.' && dp[1] == '\0')
        for (i = 0; b[i]; i++)
            if (b[i] == dp[0])
                b[i] = '.';
    afp_buf_append(out, b, strlen(b));
}

/* Serialises v as compact JSON (numbers keep their literal text when they have one). */
void
afp_json_write(const afp_json *v, afp_buf *out)
{
    size_t i;

    if (v == NULL)
    {
        afp_buf_append(out, "null", 4);
        return;
    }
    switch (v->type)
    {
        case AFP_JSON_NULL: afp_buf_append(out, "null", 4); break;
        case AFP_JSON_FALSE: afp_buf_append(out, "false", 5); break;
        case AFP_JSON_TRUE: afp_buf_append(out, "true", 4); break;
        case AFP_JSON_NUMBER:
            if (v->number_text != NULL)
                afp_buf_append(out, v->number_text, strlen(v->number_text));
            else
                write_double(out, v->number);
            break;
        case AFP_JSON_STRING:
            afp_buf_json_string(out, v->string ? v->string : "",
                                v->string ? (v->string_len ? v->string_len : strlen(v->string)) : 0);
            break;
        case AFP_JSON_ARRAY:
            afp_buf_putc(out, '[');
            for (i = 0; i < v->count; i++)
            {
                if (i > 0)
                    afp_buf_putc(out, ',');
                afp_json_write(v->items[i], out);
            }
            afp_buf_putc(out, ']');
            break;
        case AFP_JSON_OBJECT:
            afp_buf_putc(out, '{');
            for (i = 0; i < v->count; i++)
            {
                const char *k = v->keys && v->keys[i] ? v->keys[i] : "";

                if (i > 0)
                    afp_buf_putc(out, ',');
                afp_buf_json_string(out, k, strlen(k));
                afp_buf_putc(out, ':');
                afp_json_write(v->items[i], out);
            }
            afp_buf_putc(out, '}');
            break;
    }
}
