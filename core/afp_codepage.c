/*
 * afp_codepage.c — single-byte EBCDIC code pages: lookup by AFP name or number, byte ↔ Unicode
 * conversion and encoding of UTF-8 text.
 *
 * The 256-entry tables are generated from glibc iconv by tools/gen_codepages.sh into
 * afp_codepage_tables.c; this file holds the AFP names and the lookup logic.
 */
#include "afp.h"

#include <string.h>

/* Generated tables (afp_codepage_tables.c). Rows follow the order of afp_cp_gen_number. */
extern const size_t afp_cp_gen_count;
extern const int afp_cp_gen_number[];
extern const uint16_t afp_cp_gen_to_unicode[][256];
extern const uint8_t afp_cp_gen_order[][256];
extern const uint16_t afp_cp_gen_order_count[];

struct afp_codepage {
    int number;             /* CCSID / CPGID: 500, 37, 1140, ... */
    const char *name;       /* canonical AFP code page name */
    int row;                /* row in the generated tables (same order as tools/gen_codepages.sh) */
};

/*
 * AFP names: "T1V1" + 4 digits for CP500 (the name FOP and most AFP generators use), "T100" +
 * 4 digits for the others. afp_codepage_find also accepts the other prefix for every page.
 */
static const struct afp_codepage codepages[] = {
    {500, "T1V10500", 0},
    {37, "T1000037", 1},
    {273, "T1000273", 2},
    {277, "T1000277", 3},
    {278, "T1000278", 4},
    {280, "T1000280", 5},
    {284, "T1000284", 6},
    {285, "T1000285", 7},
    {297, "T1000297", 8},
    {871, "T1000871", 9},
    {1140, "T1001140", 10},
    {1141, "T1001141", 11},
    {1142, "T1001142", 12},
    {1143, "T1001143", 13},
    {1144, "T1001144", 14},
    {1145, "T1001145", 15},
    {1146, "T1001146", 16},
    {1147, "T1001147", 17},
    {1148, "T1001148", 18},
    {1149, "T1001149", 19},
    {1047, "T1001047", 20},
    {1026, "T1001026", 21},
    {875, "T1000875", 22},
};

#define NCODEPAGES (sizeof(codepages) / sizeof(codepages[0]))

/* ASCII lower-casing without locale dependence. */
static char
lower_ascii(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char) (c - 'A' + 'a') : c;
}

/* Case-insensitive comparison of the first n characters of a with the NUL-terminated prefix p. */
static int
has_prefix_ci(const char *a, size_t n, const char *p)
{
    size_t i, pl = strlen(p);

    if (n < pl)
        return 0;
    for (i = 0; i < pl; i++)
        if (lower_ascii(a[i]) != lower_ascii(p[i]))
            return 0;
    return 1;
}

/* Parses s[0..n) as a decimal number of 1..5 digits; -1 if it is anything else. */
static int
parse_number(const char *s, size_t n)
{
    int v = 0;
    size_t i;

    if (n == 0 || n > 5)
        return -1;
    for (i = 0; i < n; i++)
    {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Returns the code page with the given number, checking it against the generated tables. */
static const afp_codepage *
find_by_number(int number)
{
    size_t i;

    for (i = 0; i < NCODEPAGES; i++)
    {
        if (codepages[i].number != number)
            continue;
        /* The rows are fixed by the generator's page order; refuse silently broken tables. */
        if ((size_t) codepages[i].row >= afp_cp_gen_count ||
            afp_cp_gen_number[codepages[i].row] != number)
            return NULL;
        return &codepages[i];
    }
    return NULL;
}

/*
 * Finds a code page by AFP name ("T1V10500", "T1001140": "T1" + "V1" or "00" + four digits) or by
 * number ("500", "cp500", "IBM-1047", "IBM01140", "CCSID 1148"). Case-insensitive; surrounding
 * blanks are ignored. NULL when the name is unknown.
 */
const afp_codepage *
afp_codepage_find(const char *name)
{
    int v = afp_codepage_name_number(name, 0);

    return v > 0 ? find_by_number(v) : NULL;
}

/* The number in a code page name; see afp.h. */
int
afp_codepage_name_number(const char *name, int any_t1)
{
    const char *s;
    size_t n;

    if (name == NULL)
        return -1;
    s = name;
    n = strlen(name);
    while (n > 0 && (*s == ' ' || *s == '\t'))
    {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 8 && has_prefix_ci(s, n, "T1"))
    {
        int v;

        if (any_t1)
        {
            v = parse_number(s + 3, 5);
            return v >= 0 ? v : parse_number(s + 4, 4);
        }
        if (has_prefix_ci(s + 2, n - 2, "V1") || has_prefix_ci(s + 2, n - 2, "00"))
            return parse_number(s + 4, 4);
        return -1;
    }
    if (has_prefix_ci(s, n, "ccsid"))
    {
        s += 5;
        n -= 5;
    }
    else if (has_prefix_ci(s, n, "ibm"))
    {
        s += 3;
        n -= 3;
    }
    else if (has_prefix_ci(s, n, "cp"))
    {
        s += 2;
        n -= 2;
    }
    if (n > 0 && (*s == '-' || *s == '_' || *s == ' '))
    {
        s++;
        n--;
    }
    return parse_number(s, n);
}

/* Canonical AFP name of a code page ("T1V10500"); "" for NULL. */
const char *
afp_codepage_name(const afp_codepage *cp)
{
    return cp ? cp->name : "";
}

/* Code page number (CPGID) of a code page; 0 for NULL. */
int
afp_codepage_number(const afp_codepage *cp)
{
    return cp ? cp->number : 0;
}

/* Unicode code point of byte b; 0xFFFD when undefined (or cp is NULL). */
uint32_t
afp_codepage_to_unicode(const afp_codepage *cp, uint8_t b)
{
    if (cp == NULL)
        return 0xFFFD;
    return afp_cp_gen_to_unicode[cp->row][b];
}

/* Byte for code point u (the lowest one if several bytes map to u); -1 if the page lacks it. */
int
afp_codepage_from_unicode(const afp_codepage *cp, uint32_t u)
{
    const uint16_t *to;
    const uint8_t *order;
    size_t lo = 0, hi;

    if (cp == NULL || u > 0xFFFF || u == 0xFFFD)
        return -1;
    to = afp_cp_gen_to_unicode[cp->row];
    order = afp_cp_gen_order[cp->row];
    hi = afp_cp_gen_order_count[cp->row];
    if (hi > 256)
        hi = 256;
    /* Lower bound: first entry whose code point is >= u. */
    while (lo < hi)
    {
        size_t mid = lo + (hi - lo) / 2;

        if (to[order[mid]] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < afp_cp_gen_order_count[cp->row] && lo < 256 && to[order[lo]] == u)
        return order[lo];
    return -1;
}

/* True for code points worth quoting in a message (not controls, not surrogates). */
static int
printable(uint32_t u)
{
    return u >= 0x20 && !(u >= 0x7F && u <= 0x9F) && !(u >= 0xD800 && u <= 0xDFFF) &&
           u <= 0x10FFFF;
}

/*
 * Encodes n bytes of UTF-8 into the code page, appending to out. On a character the page cannot
 * hold, or on invalid UTF-8, out is left as it was and err names the character, its 1-based
 * character position and (as the error offset) its byte offset in the text.
 */
afp_status
afp_codepage_encode(const afp_codepage *cp, const char *utf8, size_t n, afp_buf *out,
                    afp_error *err)
{
    const uint8_t *s = (const uint8_t *) utf8;
    size_t start_len;
    size_t i = 0, pos = 0;

    if (cp == NULL || out == NULL)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL, "no code page or output buffer given");
    start_len = out->len;
    if (utf8 == NULL && n > 0)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL, "no text given");
    afp_buf_reserve(out, n);
    while (i < n)
    {
        uint32_t u = 0;
        size_t l = afp_utf8_get(s + i, n - i, &u);
        int b;

        pos++;
        if (l == 0)
        {
            out->len = start_len;
            return afp_error_set(err, AFP_ERR_ENCODING, (int64_t) i, NULL,
                                 "invalid UTF-8 byte X'%02X' at position %zu", s[i], pos);
        }
        b = afp_codepage_from_unicode(cp, u);
        if (b < 0)
        {
            out->len = start_len;
            if (printable(u))
                return afp_error_set(err, AFP_ERR_ENCODING, (int64_t) i, NULL,
                                     "character U+%04X '%.*s' at position %zu cannot be encoded "
                                     "in code page %s (CP%d)",
                                     (unsigned) u, (int) l, (const char *) s + i, pos, cp->name,
                                     cp->number);
            return afp_error_set(err, AFP_ERR_ENCODING, (int64_t) i, NULL,
                                 "character U+%04X at position %zu cannot be encoded in code page "
                                 "%s (CP%d)",
                                 (unsigned) u, pos, cp->name, cp->number);
        }
        afp_buf_putc(out, (uint8_t) b);
        i += l;
    }
    return AFP_OK;
}
