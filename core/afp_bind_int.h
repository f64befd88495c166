/*
 * afp_bind_int.h — internal interface of the placeholder binder: syntax-only checks used by the
 * template validator (afp_template.c, implemented in afp_bind.c) and the value formatters
 * (afp_bind_fmt.c) used by afp_bind.c.
 */
#ifndef AFP_BIND_INT_H
#define AFP_BIND_INT_H

#include "afp_gen.h"

/* Checks every placeholder of tmpl (NUL-terminated) without data: closing braces, data path
 * syntax, formatter names and their arguments (decimals, currency code, locale, date pattern).
 * Returns 1 when all are well-formed; otherwise 0 with msg set to the first problem, without the
 * template path ("placeholder at byte 5: unknown formatter 'uper'"). When page_ref is not NULL it
 * is set to 1 if a placeholder refers to page.number or page.count, else 0. */
int afp_bind_check(const char *tmpl, int *page_ref, char *msg, size_t msgsz);

/* 1 when path[0..n) is a syntactically valid data path ("a.b", "items[2].x"). */
int afp_bind_path_valid(const char *path, size_t n);

/* Copies at most max bytes of s[0..n) into out (room for max + 4), cut at a UTF-8 boundary
 * with "..." appended when shortened; returns out (for messages; afp_bind.c). */
const char *afp_bind_clip(const char *s, size_t n, size_t max, char *out);
/* True for the ASCII blanks space, tab, CR and LF (afp_bind_fmt.c). */
int afp_bind_is_blank(char c);
/* Trims those blanks from both ends of [*s, *s + *n) (afp_bind_fmt.c). */
void afp_bind_trim_blanks(const char **s, size_t *n);

/* Locales of number:D:LOCALE and money:CUR:LOCALE. */
enum { AFP_LOC_EN = 0, AFP_LOC_DE = 1, AFP_LOC_FR = 2, AFP_LOC_CH = 3 };

/* Checks a date pattern; NULL when valid, else a message (static, or written into buf). */
const char *afp_fmt_date_check(const char *p, size_t n, char *buf, size_t bufsz);
/* Parses an ISO date "yyyy-mm-dd" with optional time "Thh:mm[:ss[.f]]" and zone (ignored) into
 * f = {year, month, day, hour, minute, second}; 1 when valid. */
int afp_fmt_parse_iso(const char *s, size_t n, int f[6]);
/* Appends the date f formatted with a pattern accepted by afp_fmt_date_check. */
void afp_fmt_date(const int f[6], const char *p, size_t n, afp_buf *out);
/* Appends the decimal number s[0..n) (JSON number syntax, also leading zeros or '+', blanks
 * around) rounded half away from zero to dec decimals, with the grouping and decimal separators
 * of loc. Returns 1; 0 (nothing appended) when s is not a number; -1 when out of range. */
int afp_fmt_number(const char *s, size_t n, int dec, int loc, afp_buf *out);
/* Appends s[0..n) as an amount of currency cur (3 letters) in locale loc; rc as afp_fmt_number. */
int afp_fmt_money(const char *s, size_t n, const char *cur, int decimals, int loc, afp_buf *out);
/* Appends s[0..n) upper-cased (upper != 0) or lower-cased. */
void afp_fmt_case(const char *s, size_t n, int upper, afp_buf *out);
/* Appends s[0..n) without leading/trailing white space (ASCII, U+00A0). */
void afp_fmt_trim(const char *s, size_t n, afp_buf *out);
/* Appends a number that has no literal text (shortest usual form, '.' as decimal point). */
void afp_fmt_double(afp_buf *out, double d);

#endif
