/*
 * afp_bind_fmt.c — the value formatters of the placeholder binder (afp_bind.c): decimal numbers
 * with grouping and rounding from the decimal text, money in the en/de/fr/ch locales, ISO dates
 * with patterns, upper/lower case mapping and trimming. Contract: docs/templates.md.
 */
#include "afp_bind_int.h"

#include <stdio.h>
#include <string.h>

#define MAX_INT_DIGITS 400      /* numbers with more integer digits are "out of range" */

static const char NBSP[] = "\xC2\xA0";     /* U+00A0 NO-BREAK SPACE */

/* True for the ASCII blanks (space, tab, CR, LF) allowed around placeholder paths, formatters,
 * arguments and numbers (afp_bind.c and here). */
int
afp_bind_is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Trims ASCII blanks from both ends of [*s, *s + *n). */
void
afp_bind_trim_blanks(const char **s, size_t *n)
{
    while (*n > 0 && afp_bind_is_blank(**s))
    {
        (*s)++;
        (*n)--;
    }
    while (*n > 0 && afp_bind_is_blank((*s)[*n - 1]))
        (*n)--;
}

/* ------------------------------------------------------------------ dates */

/* Validates a date pattern; returns NULL or a message (static text or written into buf). */
const char *
afp_fmt_date_check(const char *p, size_t n, char *buf, size_t bufsz)
{
    size_t i = 0;

    if (n == 0)
        return "date: expected a pattern such as dd.MM.yyyy";
    while (i < n)
    {
        char c = p[i];
        size_t run = 1;

        if (c == '\'')
        {
            i++;
            while (i < n && p[i] != '\'')
                i++;
            if (i >= n)
                return "date: unterminated quote in the pattern";
            i++;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
        {
            i++;
            continue;
        }
        while (i + run < n && p[i + run] == c)
            run++;
        if (!((c == 'y' && (run == 2 || run == 4)) || (c == 'M' && run <= 4) ||
              ((c == 'd' || c == 'H' || c == 'm' || c == 's') && run <= 2)))
        {
            snprintf(buf, bufsz, "date: '%.*s' is not a pattern letter group (use yyyy, yy, MMMM, "
                     "MMM, MM, M, dd, d, HH, H, mm, m, ss, s; quote literal letters with ')",
                     (int) (run > 8 ? 8 : run), p + i);
            return buf;
        }
        i += run;
    }
    return NULL;
}

/* Parses the next fixed-width decimal field of an ISO date; -1 when not digits. */
static int
digits_at(const char *s, size_t n, size_t at, size_t w)
{
    int v = 0;
    size_t i;

    if (at + w > n)
        return -1;
    for (i = at; i < at + w; i++)
    {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Parses "yyyy-mm-dd" with an optional time "Thh:mm[:ss[.f]]" and zone (ignored); 1 if valid. */
int
afp_fmt_parse_iso(const char *s, size_t n, int f[6])
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    size_t i;
    int leap;

    memset(f, 0, 6 * sizeof(int));
    f[0] = digits_at(s, n, 0, 4);
    f[1] = digits_at(s, n, 5, 2);
    f[2] = digits_at(s, n, 8, 2);
    if (f[0] < 1 || n < 10 || s[4] != '-' || s[7] != '-' || f[1] < 1 || f[1] > 12 || f[2] < 1)
        return 0;
    leap = (f[0] % 4 == 0 && f[0] % 100 != 0) || f[0] % 400 == 0;
    if (f[2] > mdays[f[1] - 1] || (f[1] == 2 && f[2] == 29 && !leap))
        return 0;
    if (n == 10)
        return 1;
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
        return 0;
    f[3] = digits_at(s, n, 11, 2);
    f[4] = digits_at(s, n, 14, 2);
    if (f[3] < 0 || f[3] > 23 || n < 16 || s[13] != ':' || f[4] < 0 || f[4] > 59)
        return 0;
    i = 16;
    if (i < n && s[i] == ':')
    {
        f[5] = digits_at(s, n, 17, 2);
        if (f[5] < 0 || f[5] > 60)
            return 0;
        i = 19;
        if (i < n && (s[i] == '.' || s[i] == ','))
        {
            size_t d = ++i;

            while (i < n && s[i] >= '0' && s[i] <= '9')
                i++;
            if (i == d)
                return 0;
        }
    }
    if (i < n && (s[i] == 'Z' || s[i] == 'z'))
        i++;
    else if (i < n && (s[i] == '+' || s[i] == '-'))
    {
        if (digits_at(s, n, i + 1, 2) < 0)
            return 0;
        i += 3;
        if (i < n && s[i] == ':')
            i++;
        if (i < n)
        {
            if (digits_at(s, n, i, 2) < 0)
                return 0;
            i += 2;
        }
    }
    return i == n;
}

/* Formats the date fields f (y, M, d, H, m, s) with a pattern accepted by afp_fmt_date_check. */
void
afp_fmt_date(const int f[6], const char *p, size_t n, afp_buf *out)
{
    static const char *const months[12] = {
        "January", "February", "March", "April", "May", "June", "July", "August", "September",
        "October", "November", "December"
    };
    size_t i = 0;

    while (i < n)
    {
        char c = p[i];
        size_t run = 1;
        int v;

        if (c == '\'')
        {
            size_t s = ++i;

            while (i < n && p[i] != '\'')
                i++;
            if (i == s)
                afp_buf_putc(out, '\'');        /* '' is a quote */
            else
                afp_buf_append(out, p + s, i - s);
            i++;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
        {
            afp_buf_putc(out, (uint8_t) c);
            i++;
            continue;
        }
        while (i + run < n && p[i + run] == c)
            run++;
        i += run;
        if (c == 'M' && run >= 3)
        {
            const char *m = months[f[1] - 1];

            afp_buf_append(out, m, run == 3 ? 3 : strlen(m));
            continue;
        }
        v = c == 'y' ? f[0] : c == 'M' ? f[1] : c == 'd' ? f[2] : c == 'H' ? f[3]
            : c == 'm' ? f[4] : f[5];
        if (c == 'y' && run == 2)
            afp_buf_printf(out, "%02d", v % 100);
        else if (c == 'y')
            afp_buf_printf(out, "%04d", v);
        else
            afp_buf_printf(out, run == 2 ? "%02d" : "%d", v);
    }
}

/* ------------------------------------------------------------------ numbers */

/* Appends a number given without literal text (e.g. built by the generator). */
void
afp_fmt_double(afp_buf *out, double d)
{
    char b[64];
    size_t i;

    if (d > -9e15 && d < 9e15 && d == (double) (int64_t) d)
        snprintf(b, sizeof(b), "%lld", (long long) d);
    else
        snprintf(b, sizeof(b), "%.15g", d);
    for (i = 0; b[i]; i++)
        if (b[i] == ',')
            b[i] = '.';         /* whatever LC_NUMERIC says */
    afp_buf_append(out, b, strlen(b));
}

/* Formats the decimal number in s[0..n) rounded to dec decimals (half away from zero) with the
 * grouping and decimal separators of loc. Returns 1, 0 when s is not a number, -1 when it has
 * more than MAX_INT_DIGITS integer digits. *neg is set for a non-zero negative result. */
static int
format_decimal(const char *s, size_t n, int dec, int loc, afp_buf *out, int *neg)
{
    afp_buf dig;
    size_t i = 0, nint = 0, k, j;
    long exp = 0, point;
    int eneg = 0, round_up = 0, rc = 1;
    const char *grp = loc == AFP_LOC_DE ? "." : loc == AFP_LOC_FR ? NBSP
                      : loc == AFP_LOC_CH ? "'" : ",";
    char dsep = (loc == AFP_LOC_DE || loc == AFP_LOC_FR) ? ',' : '.';

    *neg = 0;
    afp_bind_trim_blanks(&s, &n);
    afp_buf_init(&dig);
    if (i < n && (s[i] == '-' || s[i] == '+'))
        *neg = s[i++] == '-';
    while (i < n && s[i] >= '0' && s[i] <= '9')
    {
        afp_buf_putc(&dig, (uint8_t) s[i++]);
        nint++;
    }
    if (nint == 0)
        goto not_number;
    if (i < n && s[i] == '.')
    {
        size_t d = ++i;

        while (i < n && s[i] >= '0' && s[i] <= '9')
            afp_buf_putc(&dig, (uint8_t) s[i++]);
        if (i == d)
            goto not_number;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E'))
    {
        size_t d;

        i++;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            eneg = s[i++] == '-';
        d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
        {
            if (exp < 100000)
                exp = exp * 10 + (s[i] - '0');
            i++;
        }
        if (i == d)
            goto not_number;
    }
    if (i != n)
        goto not_number;
    /* value = 0.DIGITS x 10^point after stripping leading zeros */
    point = (long) nint + (eneg ? -exp : exp);
    for (j = 0; j < dig.len && dig.data[j] == '0'; j++)
        point--;
    memmove(dig.data, dig.data + j, dig.len - j);
    dig.len -= j;
    if (dig.len == 0 || point + dec < 0)
        dig.len = 0;            /* zero, or every digit is below half a unit of the last place */
    else if ((size_t) (point + dec) < dig.len)
    {
        k = (size_t) (point + dec);
        round_up = dig.data[k] >= '5';
        dig.len = k;
        if (round_up)
        {
            for (j = k; j > 0 && dig.data[j - 1] == '9'; j--)
                dig.data[j - 1] = '0';
            if (j > 0)
                dig.data[j - 1]++;
            else
            {
                afp_buf_reserve(&dig, 1);
                memmove(dig.data + 1, dig.data, dig.len);
                dig.data[0] = '1';
                dig.len++;
                point++;
            }
        }
    }
    if (dig.len == 0)
        *neg = 0;
    if (point > MAX_INT_DIGITS)
    {
        rc = -1;
        goto done;
    }
    if (dig.len == 0 || point <= 0)
        afp_buf_putc(out, '0');
    else
        for (j = 0; j < (size_t) point; j++)
        {
            if (j > 0 && ((size_t) point - j) % 3 == 0)
                afp_buf_append(out, grp, strlen(grp));
            afp_buf_putc(out, j < dig.len ? dig.data[j] : '0');
        }
    if (dec > 0)
    {
        afp_buf_putc(out, (uint8_t) dsep);
        for (j = 0; j < (size_t) dec; j++)
        {
            long pos = point + (long) j;

            afp_buf_putc(out, (dig.len > 0 && pos >= 0 && (size_t) pos < dig.len)
                                  ? dig.data[pos] : '0');
        }
    }
    goto done;
not_number:
    rc = 0;
done:
    afp_buf_free(&dig);
    return rc;
}

/* Appends s[0..n) as a number with dec decimals and the separators of loc (see afp_bind_int.h). */
int
afp_fmt_number(const char *s, size_t n, int dec, int loc, afp_buf *out)
{
    afp_buf num;
    int neg, rc;

    afp_buf_init(&num);
    rc = format_decimal(s, n, dec, loc, &num, &neg);
    if (rc == 1)
    {
        if (neg)
            afp_buf_putc(out, '-');
        afp_buf_append(out, num.data, num.len);
    }
    afp_buf_free(&num);
    return rc;
}

/* Appends the money form of the number s[0..n) (see docs/templates.md); rc as afp_fmt_number. */
int
afp_fmt_money(const char *s, size_t n, const char *cur, int decimals, int loc, afp_buf *out)
{
    const char *sym = strcmp(cur, "EUR") == 0 ? "\xE2\x82\xAC" : strcmp(cur, "USD") == 0 ? "$"
                      : strcmp(cur, "GBP") == 0 ? "\xC2\xA3" : strcmp(cur, "JPY") == 0
                      ? "\xC2\xA5" : cur;
    int is_code = sym == cur;
    afp_buf num;
    int neg, rc;

    afp_buf_init(&num);
    rc = format_decimal(s, n, decimals, loc, &num, &neg);
    if (rc == 1)
    {
        if (loc == AFP_LOC_DE || loc == AFP_LOC_FR)
        {
            if (neg)
                afp_buf_putc(out, '-');
            afp_buf_append(out, num.data, num.len);
            afp_buf_append(out, NBSP, 2);
            afp_buf_append(out, sym, strlen(sym));
        }
        else if (loc == AFP_LOC_CH)
        {
            afp_buf_append(out, sym, strlen(sym));
            afp_buf_append(out, NBSP, 2);
            if (neg)
                afp_buf_putc(out, '-');
            afp_buf_append(out, num.data, num.len);
        }
        else
        {
            if (neg)
                afp_buf_putc(out, '-');
            afp_buf_append(out, sym, strlen(sym));
            if (is_code)
                afp_buf_append(out, NBSP, 2);
            afp_buf_append(out, num.data, num.len);
        }
    }
    afp_buf_free(&num);
    return rc;
}

/* ------------------------------------------------------------------ text */

/* Upper-case mapping of one code point (ß is handled by the caller). */
static uint32_t
to_upper(uint32_t u)
{
    if ((u >= 'a' && u <= 'z') || (u >= 0xE0 && u <= 0xFE && u != 0xF7) ||
        (u >= 0x3B1 && u <= 0x3C9 && u != 0x3C2) || (u >= 0x430 && u <= 0x44F))
        return u - 0x20;
    if (u >= 0x450 && u <= 0x45F)
        return u - 0x50;
    if (u == 0xFF)
        return 0x178;
    if (u == 0x3C2)
        return 0x3A3;           /* final sigma */
    if (((u >= 0x100 && u <= 0x137) || (u >= 0x14A && u <= 0x177)) && (u & 1) && u != 0x131)
        return u - 1;
    if (((u >= 0x139 && u <= 0x148) || (u >= 0x179 && u <= 0x17E)) && !(u & 1))
        return u - 1;
    return u;
}

/* Lower-case mapping of one code point. */
static uint32_t
to_lower(uint32_t u)
{
    if ((u >= 'A' && u <= 'Z') || (u >= 0xC0 && u <= 0xDE && u != 0xD7) ||
        (u >= 0x391 && u <= 0x3A9 && u != 0x3A2) || (u >= 0x410 && u <= 0x42F))
        return u + 0x20;
    if (u >= 0x400 && u <= 0x40F)
        return u + 0x50;
    if (u == 0x178)
        return 0xFF;
    if (((u >= 0x100 && u <= 0x137) || (u >= 0x14A && u <= 0x177)) && !(u & 1) && u != 0x130)
        return u + 1;
    if (((u >= 0x139 && u <= 0x148) || (u >= 0x179 && u <= 0x17E)) && (u & 1))
        return u + 1;
    return u;
}

/* Appends s[0..n) upper- or lower-cased; invalid UTF-8 bytes are copied unchanged. */
void
afp_fmt_case(const char *s, size_t n, int upper, afp_buf *out)
{
    size_t i = 0;

    while (i < n)
    {
        uint32_t u;
        size_t l = afp_utf8_get((const uint8_t *) s + i, n - i, &u);

        if (l == 0)
        {
            afp_buf_putc(out, (uint8_t) s[i++]);
            continue;
        }
        i += l;
        if (upper && u == 0xDF)
            afp_buf_append(out, "SS", 2);
        else
            afp_utf8_put(out, upper ? to_upper(u) : to_lower(u));
    }
}

/* Length of a trimmable blank (ASCII white space or U+00A0) at s[0..n), 0 if none. */
static size_t
blank_len(const char *s, size_t n)
{
    if (n >= 1 && (afp_bind_is_blank(s[0]) || s[0] == '\f' || s[0] == '\v'))
        return 1;
    if (n >= 2 && (unsigned char) s[0] == 0xC2 && (unsigned char) s[1] == 0xA0)
        return 2;
    return 0;
}

/* Appends s[0..n) without leading and trailing white space (ASCII blanks, \f, \v, U+00A0). */
void
afp_fmt_trim(const char *s, size_t n, afp_buf *out)
{
    size_t a = 0, b = n, l;

    while (a < b && (l = blank_len(s + a, b - a)) > 0)
        a += l;
    while (b > a)
    {
        if (afp_bind_is_blank(s[b - 1]) || s[b - 1] == '\f' || s[b - 1] == '\v')
            b--;
        else if (b - a >= 2 && (unsigned char) s[b - 2] == 0xC2 && (unsigned char) s[b - 1] == 0xA0)
            b -= 2;
        else
            break;
    }
    afp_buf_append(out, s + a, b - a);
}
