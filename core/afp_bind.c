/*
 * afp_bind.c — binding template text to data: placeholders {{ path | formatter:arg | ... }}
 * (parsing, syntax-only checks for the validator), data paths through the scope chain, value
 * conversion, the formatter chain with `default`, and error messages. The formatters themselves
 * are in afp_bind_fmt.c. The contract (syntax, locales, rounding) is docs/templates.md, section
 * "Placeholders and formatters".
 */
#include "afp_bind_int.h"

#include <stdio.h>
#include <string.h>

#define MAX_FORMATTERS 16
#define MAX_DECIMALS 10

enum fmt_kind { F_NUMBER, F_MONEY, F_DATE, F_UPPER, F_LOWER, F_TRIM, F_DEFAULT };

/* One parsed formatter. */
typedef struct bind_fmt {
    int kind;
    int decimals;               /* number */
    int locale;                 /* number, money */
    char cur[4];                /* money: ISO 4217 code */
    const char *arg;            /* date: pattern; default: text (points into the template) */
    size_t arg_len;
} bind_fmt;

/* One parsed placeholder tmpl[start, end). */
typedef struct bind_ph {
    size_t start, end;
    const char *path;           /* data path, or the text of a "..." literal */
    size_t path_len;
    int literal;
    bind_fmt fmt[MAX_FORMATTERS];
    int nfmt;
} bind_ph;

/* ------------------------------------------------------------------ small helpers */

/* Copies at most max bytes of s[0..n) into out (size max+4), cutting at a UTF-8 boundary and
 * appending "..." when shortened; returns out. For messages here and in afp_template.c. */
const char *
afp_bind_clip(const char *s, size_t n, size_t max, char *out)
{
    size_t k = n;

    if (k > max)
    {
        k = max;
        while (k > 0 && ((unsigned char) s[k] & 0xC0) == 0x80)
            k--;
    }
    memcpy(out, s, k);
    if (k < n)
        memcpy(out + k, "...", 4);
    else
        out[k] = '\0';
    return out;
}

/* Compares s[0..n) with the NUL-terminated word w. */
static int
eq(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(s, w, n) == 0;
}

/* True for a byte that may appear in a path segment (key name). */
static int
seg_char(unsigned char c)
{
    if (c < 0x21 || c == 0x7F)
        return 0;
    return strchr(".[]|{}\"':", c) == NULL;
}

/* 1 when path[0..n) is a syntactically valid data path. */
int
afp_bind_path_valid(const char *path, size_t n)
{
    size_t i = 0;
    int first = 1;

    if (n == 0)
        return 0;
    while (i < n)
    {
        if (path[i] == '[')
        {
            size_t d = ++i;

            if (first)
                return 0;
            while (i < n && path[i] >= '0' && path[i] <= '9')
                i++;
            if (i == d || i >= n || path[i] != ']')
                return 0;
            i++;
        }
        else
        {
            size_t s;

            if (!first)
            {
                if (path[i] != '.')
                    return 0;
                i++;
            }
            s = i;
            while (i < n && seg_char((unsigned char) path[i]))
                i++;
            if (i == s)
                return 0;
        }
        first = 0;
    }
    return 1;
}

/* ------------------------------------------------------------------ placeholder syntax */

/* Fills msg with "placeholder at byte N: <text>" and returns 0. */
static int
ph_fail(char *msg, size_t msgsz, size_t at, const char *text)
{
    if (msg != NULL && msgsz > 0)
        snprintf(msg, msgsz, "placeholder at byte %zu: %s", at, text);
    return 0;
}

/* Parses the locale argument of number/money into *loc; 0 when unknown. */
static int
parse_locale(const char *s, size_t n, int *loc)
{
    if (eq(s, n, "en"))
        *loc = AFP_LOC_EN;
    else if (eq(s, n, "de"))
        *loc = AFP_LOC_DE;
    else if (eq(s, n, "fr"))
        *loc = AFP_LOC_FR;
    else if (eq(s, n, "ch"))
        *loc = AFP_LOC_CH;
    else
        return 0;
    return 1;
}

/* Parses one formatter segment s[0..n) (already trimmed) into f; 0 with msg on error. */
static int
parse_formatter(const char *s, size_t n, bind_fmt *f, size_t at, char *msg, size_t msgsz)
{
    const char *colon = memchr(s, ':', n);
    const char *name = s, *arg = NULL;
    size_t name_len = colon ? (size_t) (colon - s) : n, arg_len = 0;
    char b[200], c1[64];

    memset(f, 0, sizeof(*f));
    afp_bind_trim_blanks(&name, &name_len);
    if (colon != NULL)
    {
        arg = colon + 1;
        arg_len = n - (size_t) (arg - s);
        afp_bind_trim_blanks(&arg, &arg_len);
    }
    if (eq(name, name_len, "upper") || eq(name, name_len, "lower") || eq(name, name_len, "trim"))
    {
        f->kind = name[0] == 'u' ? F_UPPER : name[0] == 'l' ? F_LOWER : F_TRIM;
        if (colon != NULL)
        {
            snprintf(b, sizeof(b), "formatter '%.*s' takes no argument", (int) name_len, name);
            return ph_fail(msg, msgsz, at, b);
        }
        return 1;
    }
    if (eq(name, name_len, "default") || eq(name, name_len, "date"))
    {
        f->kind = name[1] == 'e' ? F_DEFAULT : F_DATE;
        f->arg = arg ? arg : "";
        f->arg_len = arg_len;
        if (f->kind == F_DATE)
        {
            const char *e = afp_fmt_date_check(f->arg, f->arg_len, b, sizeof(b));

            if (e != NULL)
                return ph_fail(msg, msgsz, at, e);
        }
        return 1;
    }
    if (eq(name, name_len, "number") || eq(name, name_len, "money"))
    {
        const char *a[3];
        size_t al[3], k = 0, i;
        const char *q = arg;
        size_t left = arg_len;

        f->kind = name[0] == 'n' ? F_NUMBER : F_MONEY;
        f->locale = AFP_LOC_EN;
        f->decimals = f->kind == F_MONEY ? 2 : 0;
        while (colon != NULL && k < 3)
        {
            const char *c = memchr(q, ':', left);
            size_t l = c ? (size_t) (c - q) : left;

            a[k] = q;
            al[k] = l;
            afp_bind_trim_blanks(&a[k], &al[k]);
            k++;
            if (c == NULL)
                break;
            left -= l + 1;
            q = c + 1;
        }
        if (k == 3)
            return ph_fail(msg, msgsz, at, f->kind == F_MONEY
                           ? "money takes at most two arguments (money:CUR or money:CUR:LOCALE)"
                           : "number takes at most two arguments (number:D or number:D:LOCALE)");
        if (f->kind == F_NUMBER && k >= 1)
        {
            int d = 0;

            for (i = 0; i < al[0]; i++)
            {
                if (a[0][i] < '0' || a[0][i] > '9' || i >= 2)
                    break;
                d = d * 10 + (a[0][i] - '0');
            }
            if (al[0] == 0 || i < al[0] || d > MAX_DECIMALS)
            {
                snprintf(b, sizeof(b), "number: '%s' is not a number of decimals (0 to %d)",
                         afp_bind_clip(a[0], al[0], 20, c1), MAX_DECIMALS);
                return ph_fail(msg, msgsz, at, b);
            }
            f->decimals = d;
        }
        if (f->kind == F_MONEY)
        {
            if (k < 1 || al[0] != 3 || a[0][0] < 'A' || a[0][0] > 'Z' || a[0][1] < 'A' ||
                a[0][1] > 'Z' || a[0][2] < 'A' || a[0][2] > 'Z')
            {
                snprintf(b, sizeof(b), "money: expected a 3-letter ISO 4217 currency code such "
                         "as EUR, found '%s'", k < 1 ? "" : afp_bind_clip(a[0], al[0], 20, c1));
                return ph_fail(msg, msgsz, at, b);
            }
            memcpy(f->cur, a[0], 3);
            f->cur[3] = '\0';
            if (strcmp(f->cur, "JPY") == 0 || strcmp(f->cur, "KRW") == 0 ||
                strcmp(f->cur, "ISK") == 0 || strcmp(f->cur, "CLP") == 0 ||
                strcmp(f->cur, "VND") == 0)
                f->decimals = 0;
        }
        if (k == 2 && !parse_locale(a[1], al[1], &f->locale))
        {
            snprintf(b, sizeof(b), "unknown locale '%s' (expected en, de, fr or ch)",
                     afp_bind_clip(a[1], al[1], 20, c1));
            return ph_fail(msg, msgsz, at, b);
        }
        return 1;
    }
    if (name_len == 0)
        return ph_fail(msg, msgsz, at, "expected a formatter name after '|'");
    snprintf(b, sizeof(b), "unknown formatter '%s' (expected number, money, date, upper, lower, "
             "trim or default)", afp_bind_clip(name, name_len, 40, c1));
    return ph_fail(msg, msgsz, at, b);
}

/* Parses the placeholder that starts at t[start] ("{{") into ph; 0 with msg on error. */
static int
parse_placeholder(const char *t, size_t n, size_t start, bind_ph *ph, char *msg, size_t msgsz)
{
    size_t i = start + 2, close, seg;
    const char *p;
    size_t pl;
    char b[200], c1[80];

    memset(ph, 0, sizeof(*ph));
    ph->start = start;
    while (i < n && afp_bind_is_blank(t[i]))
        i++;
    if (i < n && t[i] == '"')
    {
        const char *q = memchr(t + i + 1, '"', n - i - 1);

        if (q == NULL)
            return ph_fail(msg, msgsz, start, "unterminated \"...\" literal");
        ph->literal = 1;
        ph->path = t + i + 1;
        ph->path_len = (size_t) (q - ph->path);
        i = (size_t) (q - t) + 1;
    }
    for (close = i; close + 1 < n; close++)
        if (t[close] == '}' && t[close + 1] == '}')
            break;
    if (close + 1 >= n)
        return ph_fail(msg, msgsz, start, "unclosed placeholder (expected '}}')");
    ph->end = close + 2;
    /* first segment: the path (or nothing after a literal) */
    for (seg = i; seg < close && t[seg] != '|'; seg++)
        ;
    p = t + i;
    pl = seg - i;
    afp_bind_trim_blanks(&p, &pl);
    if (ph->literal)
    {
        if (pl > 0)
            return ph_fail(msg, msgsz, start, "expected '|' or '}}' after the \"...\" literal");
    }
    else
    {
        if (pl == 0)
            return ph_fail(msg, msgsz, start, "empty data path");
        if (!afp_bind_path_valid(p, pl))
        {
            snprintf(b, sizeof(b), "'%s' is not a valid data path (expected names separated by "
                     "'.' and [index], e.g. items[0].amount)", afp_bind_clip(p, pl, 60, c1));
            return ph_fail(msg, msgsz, start, b);
        }
        ph->path = p;
        ph->path_len = pl;
    }
    /* formatters */
    while (seg < close)
    {
        size_t s = ++seg;       /* skip '|' */

        while (seg < close && t[seg] != '|')
            seg++;
        p = t + s;
        pl = seg - s;
        afp_bind_trim_blanks(&p, &pl);
        if (ph->nfmt == MAX_FORMATTERS)
            return ph_fail(msg, msgsz, start, "too many formatters (at most 16)");
        if (!parse_formatter(p, pl, &ph->fmt[ph->nfmt], start, msg, msgsz))
            return 0;
        ph->nfmt++;
    }
    return 1;
}

/* Position of the next "{{" at or after from, or n. */
static size_t
next_open(const char *t, size_t n, size_t from)
{
    size_t i;

    for (i = from; i + 1 < n; i++)
        if (t[i] == '{' && t[i + 1] == '{')
            return i;
    return n;
}

/* Checks every placeholder of tmpl without data (see afp_bind_int.h). */
int
afp_bind_check(const char *tmpl, int *page_ref, char *msg, size_t msgsz)
{
    size_t n = tmpl ? strlen(tmpl) : 0, i = 0;
    bind_ph ph;

    if (page_ref != NULL)
        *page_ref = 0;
    while ((i = next_open(tmpl, n, i)) < n)
    {
        if (!parse_placeholder(tmpl, n, i, &ph, msg, msgsz))
            return 0;
        if (!ph.literal && page_ref != NULL &&
            (eq(ph.path, ph.path_len, "page.number") || eq(ph.path, ph.path_len, "page.count")))
            *page_ref = 1;
        i = ph.end;
    }
    return 1;
}

/* True when tmpl has a placeholder that refers to page.count. */
int
afp_bind_uses_page_count(const char *tmpl)
{
    size_t n = tmpl ? strlen(tmpl) : 0, i = 0;
    bind_ph ph;

    while ((i = next_open(tmpl, n, i)) < n)
    {
        if (!parse_placeholder(tmpl, n, i, &ph, NULL, 0))
            return 0;
        if (!ph.literal && eq(ph.path, ph.path_len, "page.count"))
            return 1;
        i = ph.end;
    }
    return 0;
}

/* ------------------------------------------------------------------ data lookup */

/* Object member whose key is s[0..n) (the last one with that key). */
static const afp_json *
member_n(const afp_json *v, const char *s, size_t n)
{
    size_t i;

    if (v == NULL || v->type != AFP_JSON_OBJECT || v->keys == NULL)
        return NULL;
    for (i = v->count; i > 0; i--)
        if (v->keys[i - 1] != NULL && eq(s, n, v->keys[i - 1]))
            return v->items[i - 1];
    return NULL;
}

/* Resolves path[0..n) in the scope chain; NULL when it does not exist or is malformed. */
static const afp_json *
lookup_n(const afp_scope *s, const char *path, size_t n)
{
    const afp_scope *sc;
    const afp_json *v = NULL;
    size_t i = 0, f;

    if (s == NULL || !afp_bind_path_valid(path, n))
        return NULL;
    while (i < n && path[i] != '.' && path[i] != '[')
        i++;
    f = i;
    for (sc = s; sc != NULL; sc = sc->parent)
        if (sc->name != NULL && eq(path, f, sc->name))
            break;
    if (sc != NULL)
        v = sc->value;
    else
    {
        /* the data root: the nearest unnamed scope that holds a value (an unnamed scope
         * without a value only carries page.number / page.count) */
        for (sc = s; sc != NULL && (sc->name != NULL || sc->value == NULL); sc = sc->parent)
            ;
        if (sc == NULL)
            return NULL;
        v = member_n(sc->value, path, f);
    }
    while (v != NULL && i < n)
    {
        if (path[i] == '.')
        {
            size_t st = ++i;

            while (i < n && path[i] != '.' && path[i] != '[')
                i++;
            v = member_n(v, path + st, i - st);
        }
        else
        {
            size_t idx = 0;
            int over = 0;

            for (i++; path[i] != ']'; i++)
            {
                if (idx > ((size_t) -1 - 9) / 10)
                    over = 1;
                else
                    idx = idx * 10 + (size_t) (path[i] - '0');
            }
            i++;
            v = (v->type == AFP_JSON_ARRAY && !over && idx < v->count) ? v->items[idx] : NULL;
        }
    }
    return v;
}

/* Resolves a data path in the scope chain (see afp_gen.h); page.* are not JSON values. */
const afp_json *
afp_scope_lookup(const afp_scope *s, const char *path)
{
    if (path == NULL)
        return NULL;
    return lookup_n(s, path, strlen(path));
}

/* Truthiness for "if": exists and is not null, false, 0, "" or an empty array. */
int
afp_json_truthy(const afp_json *v)
{
    if (v == NULL)
        return 0;
    switch (v->type)
    {
        case AFP_JSON_NULL:
        case AFP_JSON_FALSE:
            return 0;
        case AFP_JSON_TRUE:
        case AFP_JSON_OBJECT:
            return 1;
        case AFP_JSON_NUMBER:
            return v->number != 0.0;
        case AFP_JSON_STRING:
            return v->string != NULL && v->string[0] != '\0';
        case AFP_JSON_ARRAY:
            return v->count > 0;
    }
    return 0;
}

/* ------------------------------------------------------------------ binding */

/* Error for a placeholder problem found while binding: "TPATH: placeholder at byte N: ..." */
static afp_status
bind_fail(afp_error *err, const char *tpath, size_t at, const char *fmt_msg)
{
    char tp[220];

    afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL, "%s: %s",
                  afp_bind_clip(tpath, strlen(tpath), 200, tp), fmt_msg);
    if (err != NULL)
        err->offset = (int64_t) at;
    return AFP_ERR_ARGUMENT;
}

/* Resolves one placeholder and applies its formatters, appending the result to out. */
static afp_status
eval_placeholder(const bind_ph *ph, const afp_scope *s, const char *tpath, afp_buf *out,
                 afp_error *err)
{
    afp_buf cur, nxt;
    const char *why = NULL;     /* missing value: "not found" / "is null" */
    char pth[120], val[60], m[400];
    afp_status st = AFP_OK;
    int i;

    afp_buf_init(&cur);
    afp_buf_init(&nxt);
    afp_bind_clip(ph->path, ph->path_len, 100, pth);
    if (ph->literal)
        afp_buf_append(&cur, ph->path, ph->path_len);
    else if (eq(ph->path, ph->path_len, "page.number") || eq(ph->path, ph->path_len, "page.count"))
    {
        const afp_scope *sc;

        for (sc = s; sc != NULL && sc->page_number <= 0; sc = sc->parent)
            ;
        if (sc == NULL)
        {
            snprintf(m, sizeof(m), "placeholder at byte %zu: %s is only available in header, "
                     "footer and every_page", ph->start, pth);
            st = bind_fail(err, tpath, ph->start, m);
            goto done;
        }
        afp_buf_printf(&cur, "%lld", (long long) ((ph->path[5] == 'c' && sc->page_count > 0)
                                                  ? sc->page_count : sc->page_number));
    }
    else
    {
        const afp_json *v = lookup_n(s, ph->path, ph->path_len);

        if (v == NULL)
            why = "not found";
        else if (v->type == AFP_JSON_NULL)
            why = "is null";
        else if (v->type == AFP_JSON_OBJECT || v->type == AFP_JSON_ARRAY)
        {
            snprintf(m, sizeof(m), "data path %s is %s, not a scalar", pth,
                     v->type == AFP_JSON_OBJECT ? "an object" : "an array");
            st = bind_fail(err, tpath, ph->start, m);
            goto done;
        }
        else if (v->type == AFP_JSON_STRING)
            afp_buf_append(&cur, v->string ? v->string : "",
                           v->string ? (v->string_len ? v->string_len : strlen(v->string)) : 0);
        else if (v->type == AFP_JSON_NUMBER)
        {
            if (v->number_text != NULL)
                afp_buf_append(&cur, v->number_text, strlen(v->number_text));
            else
                afp_fmt_double(&cur, v->number);
        }
        else
            afp_buf_append(&cur, v->type == AFP_JSON_TRUE ? "true" : "false",
                           v->type == AFP_JSON_TRUE ? 4 : 5);
    }
    for (i = 0; i < ph->nfmt; i++)
    {
        const bind_fmt *f = &ph->fmt[i];
        const char *t = (const char *) cur.data;
        size_t tl = cur.len;
        int rc = 1, dt[6];

        if (why != NULL)
        {
            if (f->kind == F_DEFAULT)
            {
                afp_buf_append(&cur, f->arg, f->arg_len);
                why = NULL;
            }
            continue;
        }
        if (t == NULL)
            t = "";
        nxt.len = 0;
        switch (f->kind)
        {
            case F_DEFAULT:
                continue;
            case F_NUMBER:
                rc = afp_fmt_number(t, tl, f->decimals, f->locale, &nxt);
                break;
            case F_MONEY:
                rc = afp_fmt_money(t, tl, f->cur, f->decimals, f->locale, &nxt);
                break;
            case F_DATE:
                if (!afp_fmt_parse_iso(t, tl, dt))
                {
                    snprintf(m, sizeof(m), "data path %s: value '%s' is not an ISO date "
                             "(yyyy-mm-dd) or timestamp (yyyy-mm-ddThh:mm:ss)", pth,
                             afp_bind_clip(t, tl, 40, val));
                    st = bind_fail(err, tpath, ph->start, m);
                    goto done;
                }
                afp_fmt_date(dt, f->arg, f->arg_len, &nxt);
                break;
            case F_UPPER:
            case F_LOWER:
                afp_fmt_case(t, tl, f->kind == F_UPPER, &nxt);
                break;
            case F_TRIM:
                afp_fmt_trim(t, tl, &nxt);
                break;
        }
        if (rc != 1)
        {
            snprintf(m, sizeof(m), "data path %s: value '%s' %s", pth, afp_bind_clip(t, tl, 40, val),
                     rc == 0 ? "is not a number" : "is out of range");
            st = bind_fail(err, tpath, ph->start, m);
            goto done;
        }
        {
            afp_buf tmp = cur;

            cur = nxt;
            nxt = tmp;
        }
    }
    if (why != NULL)
    {
        char tp[220];

        afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL, "%s: data path %s %s",
                      afp_bind_clip(tpath, strlen(tpath), 200, tp), pth, why);
        if (err != NULL)
            err->offset = (int64_t) ph->start;
        st = AFP_ERR_ARGUMENT;
        goto done;
    }
    afp_buf_append(out, cur.data, cur.len);
done:
    afp_buf_free(&cur);
    afp_buf_free(&nxt);
    return st;
}

/* Expands the placeholders of tmpl into out (see afp_gen.h); on error out keeps its length. */
afp_status
afp_bind_text(const char *tmpl, const afp_scope *s, const char *tpath, afp_buf *out,
              afp_error *err)
{
    size_t n = tmpl ? strlen(tmpl) : 0, i = 0, start_len = out->len;
    bind_ph ph;
    char msg[400];

    if (tpath == NULL)
        tpath = "$";
    while (i < n)
    {
        size_t o = next_open(tmpl, n, i);

        afp_buf_append(out, tmpl + i, o - i);
        if (o >= n)
            break;
        if (!parse_placeholder(tmpl, n, o, &ph, msg, sizeof(msg)))
        {
            out->len = start_len;
            return bind_fail(err, tpath, o, msg);
        }
        if (eval_placeholder(&ph, s, tpath, out, err) != AFP_OK)
        {
            out->len = start_len;
            return AFP_ERR_ARGUMENT;
        }
        i = ph.end;
    }
    afp_buf_reserve(out, 0);
    return AFP_OK;
}
