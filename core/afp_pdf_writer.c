/*
 * afp_pdf_writer.c — a small PDF object writer: numbered objects, streams (FlateDecode with
 * zlib), the cross-reference table and the trailer, plus the number/string/name syntax helpers
 * the converter needs for content streams.
 *
 * Objects are written as soon as they are complete; only their offsets are kept (8 bytes per
 * object), so memory does not grow with the pages already written. Output accumulates in an
 * afp_buf; with a sink (the CLI's file) it is handed on in chunks of about 1 MB. One zlib stream
 * (its memory from afp_alloc) and one output buffer are reused for every compressed stream, so
 * a long document does not allocate and clear zlib's tables once per page.
 */
#include "afp_pdf_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#define FLUSH_CHUNK ((size_t) 1 << 20)
/* zlib level when none is asked for: 3 costs about 30 % less CPU than zlib's default 6 on text
 * pages for 19 % more bytes (docs/BENCHMARKS.md, conversion) */
#define PDFW_LEVEL 3

/* zlib allocator: afp_alloc (palloc in the extension, so an error cannot leak zlib state). */
static voidpf
z_alloc(voidpf opaque, uInt items, uInt size)
{
    (void) opaque;
    return afp_alloc((size_t) items * size);
}

/* zlib deallocator. */
static void
z_free(voidpf opaque, voidpf p)
{
    (void) opaque;
    afp_free(p);
}

/* Prepares an empty writer; object 0 is the free-list head of the xref table. */
void
pdfw_init(pdf_writer *w, int compress)
{
    memset(w, 0, sizeof(*w));
    afp_buf_init(&w->out);
    afp_buf_init(&w->zbuf);
    w->compress = compress;
    w->nobj = 1;
}

/* Releases the writer's buffers and its zlib stream. */
void
pdfw_free(pdf_writer *w)
{
    if (w->zready)
        deflateEnd(&w->zs);
    w->zready = 0;
    afp_buf_free(&w->out);
    afp_buf_free(&w->zbuf);
    afp_free(w->xref);
    w->xref = NULL;
}

/* Reserves the next object number. */
int
pdfw_alloc(pdf_writer *w)
{
    if (w->nobj >= w->capobj)
    {
        size_t cap = w->capobj ? w->capobj * 2 : 64;

        w->xref = afp_realloc(w->xref, cap * sizeof(int64_t));
        w->capobj = cap;
    }
    w->xref[w->nobj] = -1;
    return (int) w->nobj++;
}

/* Appends raw bytes. */
void
pdfw_append(pdf_writer *w, const void *p, size_t n)
{
    afp_buf_append(&w->out, p, n);
}

/* Appends printf-style text. */
void
pdfw_printf(pdf_writer *w, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t) n < sizeof(small))
    {
        afp_buf_append(&w->out, small, (size_t) n);
        return;
    }
    afp_buf_reserve(&w->out, (size_t) n + 1);
    va_start(ap, fmt);
    vsnprintf((char *) w->out.data + w->out.len, (size_t) n + 1, fmt, ap);
    va_end(ap);
    w->out.len += (size_t) n;
}

/* Starts an indirect object and records its offset. */
void
pdfw_begin(pdf_writer *w, int num)
{
    if (num > 0 && (size_t) num < w->nobj)
        w->xref[num] = w->flushed + (int64_t) w->out.len;
    pdfw_printf(w, "%d 0 obj\n", num);
}

/* Ends an indirect object. */
void
pdfw_end(pdf_writer *w)
{
    pdfw_printf(w, "\nendobj\n");
    pdfw_maybe_flush(w);
}

/* Feeds n bytes to the zlib stream, growing w->zbuf as needed; 0 on a zlib error. */
static int
z_feed(pdf_writer *w, const uint8_t *p, size_t n, int finish)
{
    static const uint8_t none[1] = {0};

    if (n == 0 && !finish)
        return 1;
    if (p == NULL)
        p = none;              /* zlib reads nothing when avail_in is 0 */
    for (;;)
    {
        size_t chunk = n > ((size_t) 1 << 30) ? ((size_t) 1 << 30) : n;
        int last = finish && chunk == n, rc;

        w->zs.next_in = (Bytef *) p;
        w->zs.avail_in = (uInt) chunk;
        do
        {
            afp_buf_reserve(&w->zbuf, 65536);
            w->zs.next_out = w->zbuf.data + w->zbuf.len;
            w->zs.avail_out = (uInt) (w->zbuf.cap - w->zbuf.len - 1);
            rc = deflate(&w->zs, last ? Z_FINISH : Z_NO_FLUSH);
            w->zbuf.len = (size_t) (w->zs.next_out - w->zbuf.data);
            if (rc == Z_STREAM_ERROR)
                return 0;
        } while (w->zs.avail_in > 0 || (last && rc != Z_STREAM_END));
        p += chunk;
        n -= chunk;
        if (n == 0)
            return 1;
    }
}

/* Compresses pre[0..npre) followed by data[0..n) into w->zbuf; 0 on failure. */
static int
z_compress(pdf_writer *w, const uint8_t *pre, size_t npre, const uint8_t *data, size_t n)
{
    if (!w->zready)
    {
        memset(&w->zs, 0, sizeof(w->zs));
        w->zs.zalloc = z_alloc;
        w->zs.zfree = z_free;
        if (deflateInit(&w->zs, w->level >= 1 && w->level <= 9 ? w->level : PDFW_LEVEL) != Z_OK)
            return 0;
        w->zready = 1;
    }
    else if (deflateReset(&w->zs) != Z_OK)
        return 0;
    w->zbuf.len = 0;
    return z_feed(w, pre, npre, 0) && z_feed(w, data, n, 1);
}

/* Writes a complete stream object whose data is pre followed by data. */
void
pdfw_stream2(pdf_writer *w, int num, const char *dict, const uint8_t *pre, size_t npre,
             const uint8_t *data, size_t n, int flate, const char *filter)
{
    int deflated = 0;
    char sub[2048];

    dict = pdfa_stream_dict(w, dict, sub, sizeof(sub));    /* before zbuf is used */
    if (flate && w->compress && npre + n > 64 && z_compress(w, pre, npre, data, n) &&
        w->zbuf.len < npre + n)
        deflated = 1;
    pdfw_begin(w, num);
    pdfw_printf(w, "<< %s /Length %zu", dict ? dict : "", deflated ? w->zbuf.len : npre + n);
    if (deflated && filter)
        pdfw_printf(w, " /Filter [/FlateDecode %s]", filter);
    else if (deflated)
        pdfw_printf(w, " /Filter /FlateDecode");
    else if (filter)
        pdfw_printf(w, " /Filter %s", filter);
    pdfw_printf(w, " >>\nstream\n");
    if (deflated)
        pdfw_append(w, w->zbuf.data, w->zbuf.len);
    else
    {
        pdfw_append(w, pre, npre);
        pdfw_append(w, data, n);
    }
    pdfw_printf(w, "\nendstream");
    pdfw_end(w);
    if (w->zbuf.cap > ((size_t) 8 << 20))
    {
        afp_buf_free(&w->zbuf);     /* do not keep a huge image's buffer for the next page */
        afp_buf_init(&w->zbuf);
    }
}

/* Writes a complete stream object. */
void
pdfw_stream(pdf_writer *w, int num, const char *dict, const uint8_t *data, size_t n, int flate,
            const char *filter)
{
    pdfw_stream2(w, num, dict, NULL, 0, data, n, flate, filter);
}

/* Passes buffered output to the sink once a chunk has accumulated. */
void
pdfw_maybe_flush(pdf_writer *w)
{
    if (w->sink == NULL || w->sink_failed || w->out.len < FLUSH_CHUNK)
        return;
    if (w->sink(w->sink_ctx, w->out.data, w->out.len) != 0)
        w->sink_failed = 1;
    w->flushed += (int64_t) w->out.len;
    w->out.len = 0;
}

/* Writes the xref table (objects never written become free entries) and the trailer. */
void
pdfw_finish(pdf_writer *w, int root, int info)
{
    int64_t start = w->flushed + (int64_t) w->out.len;
    size_t i;

    pdfw_printf(w, "xref\n0 %zu\n0000000000 65535 f \n", w->nobj);
    for (i = 1; i < w->nobj; i++)
    {
        if (w->xref[i] >= 0)
            pdfw_printf(w, "%010lld 00000 n \n", (long long) w->xref[i]);
        else
            pdfw_printf(w, "0000000000 00001 f \n");
    }
    pdfw_printf(w, "trailer\n<< /Size %zu /Root %d 0 R", w->nobj, root);
    if (info > 0)
        pdfw_printf(w, " /Info %d 0 R", info);
    if (w->has_id)
    {
        char hex[33];

        for (i = 0; i < 16; i++)
            snprintf(hex + 2 * i, 3, "%02X", w->id[i]);
        pdfw_printf(w, " /ID [<%s> <%s>]", hex, hex);
    }
    pdfw_printf(w, " >>\nstartxref\n%lld\n%%%%EOF\n", (long long) start);
    if (w->sink != NULL && !w->sink_failed && w->out.len > 0)
    {
        if (w->sink(w->sink_ctx, w->out.data, w->out.len) != 0)
            w->sink_failed = 1;
        w->flushed += (int64_t) w->out.len;
        w->out.len = 0;
    }
}

/* Appends a number with at most 4 decimals and no trailing zeros (formatted by hand: content
 * streams hold millions of numbers). */
void
pdf_num(afp_buf *b, double v)
{
    char s[40];
    int n = 0, neg = 0, k;
    unsigned long long whole;
    long frac;
    char digits[24];
    int nd = 0;

    if (!isfinite(v) || fabs(v) > 1e12)
        v = 0;
    if (v < 0)
    {
        neg = 1;
        v = -v;
    }
    whole = (unsigned long long) v;
    frac = lround((v - (double) whole) * 10000.0);
    if (frac >= 10000)
    {
        whole++;
        frac -= 10000;
    }
    if (neg && (whole != 0 || frac != 0))
        s[n++] = '-';
    do
    {
        digits[nd++] = (char) ('0' + whole % 10);
        whole /= 10;
    } while (whole > 0);
    while (nd > 0)
        s[n++] = digits[--nd];
    if (frac != 0)
    {
        s[n++] = '.';
        for (k = 1000; k > 0 && frac > 0; k /= 10)
        {
            s[n++] = (char) ('0' + frac / k);
            frac %= k;
        }
    }
    afp_buf_append(b, s, (size_t) n);
}

/* Appends a text string: a literal for printable ASCII, else UTF-16BE hex with a BOM. */
void
pdf_text_string(afp_buf *b, const char *utf8, size_t n)
{
    const uint8_t *s = (const uint8_t *) utf8;
    size_t i;
    int ascii = 1;

    for (i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7E)
            ascii = 0;
    if (ascii)
    {
        afp_buf_putc(b, '(');
        for (i = 0; i < n; i++)
        {
            if (s[i] == '(' || s[i] == ')' || s[i] == '\\')
                afp_buf_putc(b, '\\');
            afp_buf_putc(b, s[i]);
        }
        afp_buf_putc(b, ')');
        return;
    }
    afp_buf_printf(b, "<FEFF");
    i = 0;
    while (i < n)
    {
        uint32_t u;
        size_t k = afp_utf8_get(s + i, n - i, &u);

        if (k == 0)
        {
            u = 0xFFFD;
            k = 1;
        }
        i += k;
        if (u >= 0x10000)
        {
            u -= 0x10000;
            afp_buf_printf(b, "%04X%04X", 0xD800 + (unsigned) (u >> 10),
                           0xDC00 + (unsigned) (u & 0x3FF));
        }
        else
            afp_buf_printf(b, "%04X", (unsigned) u);
    }
    afp_buf_putc(b, '>');
}

/* Appends a name object. */
void
pdf_name(afp_buf *b, const char *s)
{
    const uint8_t *p = (const uint8_t *) s;

    afp_buf_putc(b, '/');
    for (; *p; p++)
    {
        if (*p < 0x21 || *p > 0x7E || strchr("#()<>[]{}/%", *p) != NULL)
            afp_buf_printf(b, "#%02X", *p);
        else
            afp_buf_putc(b, *p);
    }
}

/* File offset of position q of a joined data stream; -1 when no segment maps it. */
int64_t
pdf_seg_offset(const afp_ptx_seg *segs, size_t nsegs, size_t q)
{
    size_t k;

    if (segs == NULL || nsegs == 0)
        return -1;
    for (k = nsegs; k-- > 0;)
        if (segs[k].stream_off <= q)
            return segs[k].file_off + (int64_t) (q - segs[k].stream_off);
    return segs[0].file_off;
}
