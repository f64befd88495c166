/*
 * afp_util.c — allocation hooks, interrupt hook, errors, growable buffers and UTF-8 helpers
 * shared by the whole format core.
 */
#include "afp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Default allocator: malloc that aborts on exhaustion (the core never handles NULL). */
static void *
default_alloc(size_t size, void *ctx)
{
    void *p;
    (void) ctx;
    p = malloc(size ? size : 1);
    if (p == NULL)
    {
        fputs("afp: out of memory\n", stderr);
        abort();
    }
    return p;
}

/* Default reallocator matching default_alloc. */
static void *
default_realloc(void *ptr, size_t size, void *ctx)
{
    void *p;
    (void) ctx;
    p = realloc(ptr, size ? size : 1);
    if (p == NULL)
    {
        fputs("afp: out of memory\n", stderr);
        abort();
    }
    return p;
}

/* Default free. */
static void
default_free(void *ptr, void *ctx)
{
    (void) ctx;
    free(ptr);
}

static afp_allocator current_allocator = {default_alloc, default_realloc, default_free, NULL};
static afp_interrupt_fn current_interrupt = NULL;

/* Installs the allocator used by the core; NULL restores the malloc family. */
void
afp_set_allocator(const afp_allocator *a)
{
    if (a == NULL)
    {
        current_allocator.alloc = default_alloc;
        current_allocator.realloc = default_realloc;
        current_allocator.free = default_free;
        current_allocator.ctx = NULL;
    }
    else
        current_allocator = *a;
}

/* Allocates size bytes with the installed allocator. */
void *
afp_alloc(size_t size)
{
    return current_allocator.alloc(size, current_allocator.ctx);
}

/* Resizes an allocation made by afp_alloc (ptr may be NULL). */
void *
afp_realloc(void *ptr, size_t size)
{
    if (ptr == NULL)
        return afp_alloc(size);
    return current_allocator.realloc(ptr, size, current_allocator.ctx);
}

/* Frees an allocation made by afp_alloc (NULL is ignored). */
void
afp_free(void *ptr)
{
    if (ptr != NULL)
        current_allocator.free(ptr, current_allocator.ctx);
}

/* Installs the hook long loops call to honour cancellation. */
void
afp_set_interrupt_hook(afp_interrupt_fn fn)
{
    current_interrupt = fn;
}

/* Returns non-zero when the caller should abort (interrupt pending). */
int
afp_check_interrupt(void)
{
    return current_interrupt ? current_interrupt() : 0;
}

/* Resets an error to "no error". */
void
afp_error_clear(afp_error *err)
{
    if (err == NULL)
        return;
    err->status = AFP_OK;
    err->offset = -1;
    err->sf[0] = '\0';
    err->message[0] = '\0';
}

/* Fills an error record; the message is prefixed with the byte offset and field when known. */
afp_status
afp_error_set(afp_error *err, afp_status st, int64_t offset, const char *sf, const char *fmt, ...)
{
    va_list ap;
    size_t n = 0;

    if (err == NULL)
        return st;
    err->status = st;
    err->offset = offset;
    snprintf(err->sf, sizeof(err->sf), "%s", sf ? sf : "");
    err->message[0] = '\0';
    if (offset >= 0 && sf && sf[0])
        n = (size_t) snprintf(err->message, sizeof(err->message), "at byte offset %lld (%s): ",
                              (long long) offset, sf);
    else if (offset >= 0)
        n = (size_t) snprintf(err->message, sizeof(err->message), "at byte offset %lld: ",
                              (long long) offset);
    if (n >= sizeof(err->message))
        n = sizeof(err->message) - 1;
    va_start(ap, fmt);
    vsnprintf(err->message + n, sizeof(err->message) - n, fmt, ap);
    va_end(ap);
    return st;
}

/* Initialises an empty buffer. */
void
afp_buf_init(afp_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

/* Releases a buffer's storage. */
void
afp_buf_free(afp_buf *b)
{
    afp_free(b->data);
    afp_buf_init(b);
}

/* Makes room for extra more bytes (plus one for a terminating NUL). */
void
afp_buf_reserve(afp_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    size_t cap;

    if (need <= b->cap)
        return;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    b->data = afp_realloc(b->data, cap);
    b->cap = cap;
}

/* Appends n bytes. */
void
afp_buf_append(afp_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    afp_buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

/* Appends one byte. */
void
afp_buf_putc(afp_buf *b, uint8_t c)
{
    afp_buf_reserve(b, 1);
    b->data[b->len++] = c;
}

/* Appends a big-endian 16-bit value. */
void
afp_buf_put16(afp_buf *b, uint16_t v)
{
    afp_buf_reserve(b, 2);
    b->data[b->len++] = (uint8_t) (v >> 8);
    b->data[b->len++] = (uint8_t) v;
}

/* Appends a big-endian 24-bit value. */
void
afp_buf_put24(afp_buf *b, uint32_t v)
{
    afp_buf_reserve(b, 3);
    b->data[b->len++] = (uint8_t) (v >> 16);
    b->data[b->len++] = (uint8_t) (v >> 8);
    b->data[b->len++] = (uint8_t) v;
}

/* Appends printf-formatted text. */
void
afp_buf_printf(afp_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    afp_buf_reserve(b, (size_t) n);
    va_start(ap, fmt);
    vsnprintf((char *) b->data + b->len, (size_t) n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t) n;
}

/* Appends s as a JSON string literal; invalid UTF-8 bytes become U+FFFD. */
void
afp_buf_json_string(afp_buf *b, const char *s, size_t n)
{
    size_t i = 0;

    afp_buf_putc(b, '"');
    while (i < n)
    {
        uint8_t c = (uint8_t) s[i];
        uint32_t u;
        size_t l;

        if (c == '"' || c == '\\')
        {
            afp_buf_putc(b, '\\');
            afp_buf_putc(b, c);
            i++;
        }
        else if (c < 0x20)
        {
            afp_buf_printf(b, "\\u%04x", c);
            i++;
        }
        else if (c < 0x80)
        {
            afp_buf_putc(b, c);
            i++;
        }
        else if ((l = afp_utf8_get((const uint8_t *) s + i, n - i, &u)) > 0)
        {
            afp_buf_append(b, s + i, l);
            i += l;
        }
        else
        {
            afp_utf8_put(b, 0xFFFD);
            i++;
        }
    }
    afp_buf_putc(b, '"');
}

/* NUL-terminates the buffer and returns its data. */
char *
afp_buf_cstr(afp_buf *b)
{
    afp_buf_reserve(b, 0);
    b->data[b->len] = '\0';
    return (char *) b->data;
}

/* Appends a Unicode code point as UTF-8 (invalid code points become U+FFFD). */
void
afp_utf8_put(afp_buf *b, uint32_t u)
{
    if (u > 0x10FFFF || (u >= 0xD800 && u <= 0xDFFF))
        u = 0xFFFD;
    if (u < 0x80)
        afp_buf_putc(b, (uint8_t) u);
    else if (u < 0x800)
    {
        afp_buf_putc(b, (uint8_t) (0xC0 | (u >> 6)));
        afp_buf_putc(b, (uint8_t) (0x80 | (u & 0x3F)));
    }
    else if (u < 0x10000)
    {
        afp_buf_putc(b, (uint8_t) (0xE0 | (u >> 12)));
        afp_buf_putc(b, (uint8_t) (0x80 | ((u >> 6) & 0x3F)));
        afp_buf_putc(b, (uint8_t) (0x80 | (u & 0x3F)));
    }
    else
    {
        afp_buf_putc(b, (uint8_t) (0xF0 | (u >> 18)));
        afp_buf_putc(b, (uint8_t) (0x80 | ((u >> 12) & 0x3F)));
        afp_buf_putc(b, (uint8_t) (0x80 | ((u >> 6) & 0x3F)));
        afp_buf_putc(b, (uint8_t) (0x80 | (u & 0x3F)));
    }
}

/* Decodes one UTF-8 character (strict: no overlongs, no surrogates); 0 when invalid. */
size_t
afp_utf8_get(const uint8_t *s, size_t n, uint32_t *u)
{
    uint32_t c;
    size_t len, i;

    if (n == 0)
        return 0;
    c = s[0];
    if (c < 0x80)
    {
        *u = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF)
    {
        len = 2;
        c &= 0x1F;
    }
    else if (c >= 0xE0 && c <= 0xEF)
    {
        len = 3;
        c &= 0x0F;
    }
    else if (c >= 0xF0 && c <= 0xF4)
    {
        len = 4;
        c &= 0x07;
    }
    else
        return 0;
    if (n < len)
        return 0;
    for (i = 1; i < len; i++)
    {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
        (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *u = c;
    return len;
}

/* ASCII case-insensitive glob match ('*', '?'); see afp.h. */
int
afp_glob_ci(const char *p, const char *s)
{
    const char *star = NULL, *resume = NULL;

    while (*s)
    {
        char pc = *p, sc = *s;

        if (pc >= 'a' && pc <= 'z')
            pc = (char) (pc - 'a' + 'A');
        if (sc >= 'a' && sc <= 'z')
            sc = (char) (sc - 'a' + 'A');
        if (pc == '*')
        {
            star = ++p;
            resume = s;
        }
        else if (pc != '\0' && (pc == '?' || pc == sc))
        {
            p++;
            s++;
        }
        else if (star)
        {
            p = star;
            s = ++resume;
        }
        else
            return 0;
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}
