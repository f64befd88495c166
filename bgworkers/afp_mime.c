/*
 * afp_mime.c — builds the RFC 5322 / MIME message of an email and signs it with DKIM.
 *
 * Structure (CRLF line ends, every part base64 so that no line exceeds 78 characters and no
 * user text reaches the body unencoded):
 *
 *   multipart/mixed                      (only with an attachment)
 *     multipart/alternative              (only with an HTML part)
 *       text/plain; charset=UTF-8
 *       text/html; charset=UTF-8
 *     application/pdf or application/vnd.ibm.modcap; attachment
 *
 * Headers: DKIM-Signature (when a key is configured), From, To, Subject (RFC 2047 encoded when
 * needed), Date, Message-ID, List-Unsubscribe + List-Unsubscribe-Post (RFC 8058, when an https
 * URL is configured), MIME-Version, Content-Type. Header values are checked or cleaned so that
 * no CR/LF from data can start a header of its own.
 *
 * DKIM (RFC 6376): rsa-sha256, c=relaxed/relaxed, signed headers = all of the above except the
 * signature itself; the private key is parsed once and cached while the PEM text is unchanged.
 */
#include "postgres.h"

#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "lib/stringinfo.h"

#include "afp_delivery.h"

/* Largest attachment accepted (its base64 form must fit a 1 GB StringInfo with headroom). */
#define AFP_MAX_ATTACHMENT  (256 * 1024 * 1024)

typedef struct Header
{
    const char *name;
    char       *value;          /* may contain folding (CRLF followed by a space or tab) */
} Header;

#define MAX_HEADERS 12

/* DKIM key cache: the last PEM text seen and its parsed key. */
static char     *cached_pem = NULL;
static EVP_PKEY *cached_key = NULL;

/* Frees the cached DKIM key. */
void
afp_mime_reset_cache(void)
{
    if (cached_key)
        EVP_PKEY_free(cached_key);
    cached_key = NULL;
    if (cached_pem)
        free(cached_pem);
    cached_pem = NULL;
}

/* Returns the parsed key for pem (cached), or NULL with reason set. */
static EVP_PKEY *
dkim_key(const char *pem, const char **reason)
{
    BIO        *bio;
    EVP_PKEY   *key;

    if (cached_pem && strcmp(cached_pem, pem) == 0)
        return cached_key;
    afp_mime_reset_cache();
    bio = BIO_new_mem_buf(pem, -1);
    if (bio == NULL)
    {
        *reason = "DKIM key: out of memory";
        return NULL;
    }
    key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (key == NULL || EVP_PKEY_base_id(key) != EVP_PKEY_RSA)
    {
        ERR_clear_error();
        if (key)
            EVP_PKEY_free(key);
        *reason = "DKIM key: dkim_private_key is not a PEM RSA private key";
        return NULL;
    }
    cached_pem = strdup(pem);
    if (cached_pem == NULL)
    {
        EVP_PKEY_free(key);
        *reason = "DKIM key: out of memory";
        return NULL;
    }
    cached_key = key;
    return key;
}

/* Appends data as base64 in lines of 76 characters, each ending in CRLF. */
static void
append_base64(StringInfo out, const unsigned char *data, size_t len)
{
    unsigned char line[80];
    size_t      i;

    for (i = 0; i < len; i += 57)
    {
        int         n = (int) Min((size_t) 57, len - i);
        int         k = EVP_EncodeBlock(line, data + i, n);

        appendBinaryStringInfo(out, (const char *) line, k);
        appendStringInfoString(out, "\r\n");
    }
}

/* Appends a text part's content as base64, with bare LF and CR turned into CRLF first. */
static void
append_text_base64(StringInfo out, const char *text)
{
    StringInfoData crlf;
    const char *p;

    initStringInfo(&crlf);
    for (p = text; *p; p++)
    {
        if (*p == '\r')
        {
            appendStringInfoString(&crlf, "\r\n");
            if (p[1] == '\n')
                p++;
        }
        else if (*p == '\n')
            appendStringInfoString(&crlf, "\r\n");
        else
            appendStringInfoChar(&crlf, *p);
    }
    append_base64(out, (const unsigned char *) crlf.data, crlf.len);
    pfree(crlf.data);
}

/* True when s is printable ASCII only (no control characters, no 8-bit bytes). */
static bool
is_printable_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char) *s < 0x20 || (unsigned char) *s > 0x7e)
            return false;
    return true;
}

/* Length of the UTF-8 sequence starting with byte c (1 for stray bytes). */
static int
utf8_len(unsigned char c)
{
    if (c >= 0xf0)
        return 4;
    if (c >= 0xe0)
        return 3;
    if (c >= 0xc0)
        return 2;
    return 1;
}

/*
 * Appends s as a header value: as is when it is short printable ASCII without "=?", else as
 * RFC 2047 encoded words (UTF-8, base64) of at most 45 bytes each, folded with CRLF SP.
 * Control characters (CR, LF, ...) become spaces first.
 */
static void
append_header_text(StringInfo out, const char *s)
{
    StringInfoData clean;
    size_t      i = 0;
    bool        first = true;
    const char *p;

    initStringInfo(&clean);
    for (p = s; *p; p++)
        appendStringInfoChar(&clean, ((unsigned char) *p < 0x20 || *p == 0x7f) ? ' ' : *p);

    if (is_printable_ascii(clean.data) && clean.len <= 70 && strstr(clean.data, "=?") == NULL)
    {
        appendStringInfoString(out, clean.data);
        pfree(clean.data);
        return;
    }
    while (i < (size_t) clean.len)
    {
        size_t      n = 0;
        unsigned char enc[80];
        int         k;

        /* whole UTF-8 characters only, at most 45 bytes (60 base64 characters) per word */
        while (i + n < (size_t) clean.len)
        {
            int         c = utf8_len((unsigned char) clean.data[i + n]);

            if (n + c > 45)
                break;
            n += c;
        }
        if (n == 0)
            n = Min((size_t) 4, clean.len - i);
        if (i + n > (size_t) clean.len)
            n = clean.len - i;
        k = EVP_EncodeBlock(enc, (const unsigned char *) clean.data + i, (int) n);
        if (!first)
            appendStringInfoString(out, "\r\n ");
        appendStringInfoString(out, "=?UTF-8?B?");
        appendBinaryStringInfo(out, (const char *) enc, k);
        appendStringInfoString(out, "?=");
        first = false;
        i += n;
    }
    pfree(clean.data);
}

/* True when s is a plain addr-spec: printable ASCII, one '@', no spaces or <>()[],;:"\. */
static bool
valid_address(const char *s)
{
    const char *at;

    if (s == NULL || *s == '\0' || strlen(s) > 254 || !is_printable_ascii(s))
        return false;
    if (strpbrk(s, " <>()[],;:\"\\") != NULL)
        return false;
    at = strchr(s, '@');
    return at != NULL && at != s && at[1] != '\0' && strchr(at + 1, '@') == NULL;
}

/* Extracts the addr-spec of a From value: the text between the last <...>, else all, trimmed. */
char *
afp_mime_address_of(const char *from)
{
    const char *lt = strrchr(from, '<');
    const char *gt = lt ? strchr(lt, '>') : NULL;
    char       *r;

    if (lt && gt)
        r = pnstrdup(lt + 1, gt - lt - 1);
    else
        r = pstrdup(from);
    return r;
}

/* Appends the From header value: "Display" <addr> (display encoded when not ASCII) or addr. */
static bool
append_from(StringInfo out, const char *from)
{
    char       *addr = afp_mime_address_of(from);
    const char *lt = strrchr(from, '<');
    char       *display;
    char       *p;

    /* trim */
    while (*addr == ' ' || *addr == '\t')
        addr++;
    for (p = addr + strlen(addr); p > addr && (p[-1] == ' ' || p[-1] == '\t'); p--)
        p[-1] = '\0';
    if (!valid_address(addr))
        return false;
    if (lt == NULL)
    {
        appendStringInfoString(out, addr);
        return true;
    }
    display = pnstrdup(from, lt - from);
    /* trim spaces and surrounding quotes */
    for (p = display + strlen(display); p > display && (p[-1] == ' ' || p[-1] == '\t' || p[-1] == '"'); p--)
        p[-1] = '\0';
    while (*display == ' ' || *display == '\t' || *display == '"')
        display++;
    if (*display != '\0')
    {
        if (is_printable_ascii(display))
        {
            appendStringInfoChar(out, '"');
            for (p = display; *p; p++)
            {
                if (*p == '"' || *p == '\\')
                    appendStringInfoChar(out, '\\');
                appendStringInfoChar(out, *p);
            }
            appendStringInfoString(out, "\" ");
        }
        else
        {
            append_header_text(out, display);
            appendStringInfoChar(out, ' ');
        }
    }
    appendStringInfo(out, "<%s>", addr);
    return true;
}

/* Replaces every character outside [A-Za-z0-9.-] (and atext specials when atext) by '-'. */
static char *
sanitize(const char *s, bool atext)
{
    char       *r = pstrdup(s);
    char       *p;

    for (p = r; *p; p++)
    {
        unsigned char c = (unsigned char) *p;

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || (atext && c != '\0' && strchr("_!#$%&'*+/=?^`{|}~", c))))
            *p = '-';
    }
    return r;
}

/* "<key@domain>" for an idempotency key; domain defaults to localhost. */
char *
afp_mime_message_id(const char *key, const char *domain)
{
    return psprintf("<%s@%s>", sanitize(key, true),
                    (domain && *domain) ? sanitize(domain, false) : "localhost");
}

/* RFC 5322 date in UTC, e.g. "Tue, 03 Mar 2026 08:15:00 +0000" (no locale involved). */
static void
append_date(StringInfo out, pg_time_t t)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t      tt = (time_t) t;
    struct tm   tm;

    gmtime_r(&tt, &tm);
    appendStringInfo(out, "%s, %02d %s %04d %02d:%02d:%02d +0000",
                     days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* True when a URL can go into <...> of List-Unsubscribe (printable ASCII, no space or <>). */
static bool
valid_link(const char *s)
{
    return s && *s && is_printable_ascii(s) && strpbrk(s, " <>\"") == NULL;
}

/* Appends one relaxed-canonicalised header (RFC 6376 3.4.2): lowercase name, unfolded value
 * with whitespace runs collapsed and trimmed; with CRLF unless it is the signature itself. */
static void
canon_header(StringInfo out, const char *name, const char *value, bool crlf)
{
    const char *p;
    bool        ws = false;
    bool        started = false;

    for (p = name; *p; p++)
        appendStringInfoChar(out, pg_ascii_tolower((unsigned char) *p));
    appendStringInfoChar(out, ':');
    for (p = value; *p; p++)
    {
        if (*p == '\r' || *p == '\n')
            continue;
        if (*p == ' ' || *p == '\t')
        {
            ws = true;
            continue;
        }
        if (ws && started)
            appendStringInfoChar(out, ' ');
        ws = false;
        started = true;
        appendStringInfoChar(out, *p);
    }
    if (crlf)
        appendStringInfoString(out, "\r\n");
}

/* Buffered SHA-256 input (one EVP_DigestUpdate per 4 kB instead of per character). */
typedef struct HashBuf
{
    EVP_MD_CTX *ctx;
    size_t      n;
    bool        ok;
    char        buf[4096];
} HashBuf;

/* Feeds len bytes to the digest through the buffer. */
static void
hash_put(HashBuf *h, const char *s, size_t len)
{
    if (h->n + len > sizeof(h->buf))
    {
        h->ok = h->ok && EVP_DigestUpdate(h->ctx, h->buf, h->n) == 1;
        h->n = 0;
        if (len > sizeof(h->buf))
        {
            h->ok = h->ok && EVP_DigestUpdate(h->ctx, s, len) == 1;
            return;
        }
    }
    memcpy(h->buf + h->n, s, len);
    h->n += len;
}

/*
 * SHA-256 of the relaxed-canonicalised body (RFC 6376 3.4.4): whitespace runs inside a line
 * become one space, trailing whitespace goes, empty lines at the end go, and a non-empty body
 * ends with CRLF. Returns false on an OpenSSL failure.
 */
static bool
body_hash(const char *body, size_t len, unsigned char *digest)
{
    HashBuf    *h = palloc(sizeof(HashBuf));
    size_t      pos = 0;
    long        empty_lines = 0;
    unsigned int dlen = 0;
    bool        ok;

    h->n = 0;
    h->ctx = EVP_MD_CTX_new();
    h->ok = h->ctx != NULL && EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) == 1;
    while (pos < len && h->ok)
    {
        const char *start = body + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t      raw = nl ? (size_t) (nl - start) : len - pos;
        size_t      i;
        bool        ws = false;
        bool        any = false;

        pos += raw + (nl ? 1 : 0);
        if (raw > 0 && start[raw - 1] == '\r')
            raw--;
        for (i = 0; i < raw; i++)
        {
            char        c = start[i];

            if (c == ' ' || c == '\t')
            {
                ws = true;
                continue;
            }
            if (!any)
            {
                for (; empty_lines > 0; empty_lines--)
                    hash_put(h, "\r\n", 2);
                any = true;
            }
            if (ws)
                hash_put(h, " ", 1);
            ws = false;
            hash_put(h, &c, 1);
        }
        if (any)
            hash_put(h, "\r\n", 2);
        else
            empty_lines++;
    }
    if (h->ok && h->n > 0)
        h->ok = EVP_DigestUpdate(h->ctx, h->buf, h->n) == 1;
    ok = h->ok && EVP_DigestFinal_ex(h->ctx, digest, &dlen) == 1 && dlen == 32;
    EVP_MD_CTX_free(h->ctx);
    pfree(h);
    return ok;
}

/*
 * Computes the DKIM-Signature header value for the headers hs[0..n) and body. Returns NULL on
 * success with *value set, else the reason.
 */
static const char *
dkim_sign(const AfpEmail *e, const Header *hs, int n, const char *body, size_t body_len,
          char **value)
{
    unsigned char bh[32];
    unsigned char bh64[64];
    StringInfoData tags, canon;
    EVP_PKEY   *key;
    EVP_MD_CTX *ctx;
    unsigned char *sig;
    size_t      siglen = 0;
    const char *reason = NULL;
    char       *sig64;
    int         i, k;
    pg_time_t   now = e->date;

    if (e->dkim_selector == NULL || e->dkim_domain == NULL || *e->dkim_selector == '\0' ||
        *e->dkim_domain == '\0' || strcmp(sanitize(e->dkim_selector, false), e->dkim_selector) != 0 ||
        strcmp(sanitize(e->dkim_domain, false), e->dkim_domain) != 0)
        return "DKIM: dkim_selector and dkim_domain must be set to host-name syntax";
    key = dkim_key(e->dkim_key_pem, &reason);
    if (key == NULL)
        return reason;
    if (!body_hash(body, body_len, bh))
    {
        ERR_clear_error();
        return "DKIM: SHA-256 failed";
    }
    EVP_EncodeBlock(bh64, bh, 32);

    initStringInfo(&tags);
    appendStringInfo(&tags, "v=1; a=rsa-sha256; c=relaxed/relaxed; d=%s; s=%s;\r\n\tt=%lld; h=",
                     e->dkim_domain, e->dkim_selector, (long long) now);
    for (i = 0; i < n; i++)
    {
        const char *p;

        if (i > 0)
            appendStringInfoChar(&tags, ':');
        for (p = hs[i].name; *p; p++)
            appendStringInfoChar(&tags, pg_ascii_tolower((unsigned char) *p));
    }
    appendStringInfo(&tags, ";\r\n\tbh=%s;\r\n\tb=", (const char *) bh64);

    initStringInfo(&canon);
    for (i = 0; i < n; i++)
        canon_header(&canon, hs[i].name, hs[i].value, true);
    canon_header(&canon, "DKIM-Signature", tags.data, false);

    /* OpenSSL section: no palloc (no ERROR) while ctx and sig are allocated */
    sig = palloc(EVP_PKEY_get_size(key) + 16);
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL ||
        EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) != 1 ||
        EVP_DigestSignUpdate(ctx, canon.data, canon.len) != 1 ||
        EVP_DigestSignFinal(ctx, NULL, &siglen) != 1 ||
        siglen > (size_t) EVP_PKEY_get_size(key) + 16 ||
        EVP_DigestSignFinal(ctx, sig, &siglen) != 1)
        reason = "DKIM: RSA signing failed";
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    if (reason)
        return reason;

    sig64 = palloc(siglen * 4 / 3 + 8);
    k = EVP_EncodeBlock((unsigned char *) sig64, sig, (int) siglen);
    /* fold the signature; verifiers drop the whole b= value, whitespace included */
    for (i = 0; i < k; i += 72)
    {
        if (i > 0)
            appendStringInfoString(&tags, "\r\n\t ");
        appendBinaryStringInfo(&tags, sig64 + i, Min(72, k - i));
    }
    *value = tags.data;
    return NULL;
}

/* Appends "--boundary\r\n" + part headers for a base64 text part and its content. */
static void
append_text_part(StringInfo out, const char *boundary, const char *subtype, const char *text)
{
    appendStringInfo(out, "--%s\r\nContent-Type: text/%s; charset=UTF-8\r\n"
                     "Content-Transfer-Encoding: base64\r\n\r\n", boundary, subtype);
    append_text_base64(out, text);
}

/* Builds the message; see afp_delivery.h. */
const char *
afp_mime_build(const AfpEmail *e, StringInfo out, const char **code)
{
    Header      hs[MAX_HEADERS];
    int         n = 0;
    StringInfoData v, body;
    char        rnd[24];
    uint64      r1 = 0, r2 = 0;
    char       *mixed, *alt;
    char       *dkim = NULL;
    const char *reason;
    bool        has_attachment = e->attachment != NULL;
    bool        has_html = e->html != NULL && *e->html != '\0';
    int         i;

    *code = "invalid:message";
    if (!valid_address(e->to))
        return "recipient is not a plain email address";
    if (e->from == NULL || *e->from == '\0')
    {
        *code = "config:from";
        return "the provider has no \"from\" in its config";
    }
    if (has_attachment && e->attachment_len > AFP_MAX_ATTACHMENT)
        return "attachment larger than 256 MB";

    /* headers */
    initStringInfo(&v);
    if (!append_from(&v, e->from))
    {
        *code = "config:from";
        return "the provider's \"from\" is not an address or \"Name <address>\"";
    }
    hs[n].name = "From", hs[n++].value = v.data;
    hs[n].name = "To", hs[n++].value = pstrdup(e->to);
    initStringInfo(&v);
    append_header_text(&v, e->subject ? e->subject : "");
    hs[n].name = "Subject", hs[n++].value = v.data;
    initStringInfo(&v);
    append_date(&v, e->date);
    hs[n].name = "Date", hs[n++].value = v.data;
    hs[n].name = "Message-ID", hs[n++].value = pstrdup(e->message_id);
    if (e->unsubscribe_url || e->unsubscribe_mailto)
    {
        bool        https = e->unsubscribe_url && pg_strncasecmp(e->unsubscribe_url, "https://", 8) == 0;

        if ((e->unsubscribe_url && !valid_link(e->unsubscribe_url)) ||
            (e->unsubscribe_mailto && !valid_link(e->unsubscribe_mailto)))
        {
            *code = "config:unsubscribe";
            return "unsubscribe_url / unsubscribe_mailto must be printable ASCII without spaces or <>";
        }
        initStringInfo(&v);
        if (e->unsubscribe_url)
            appendStringInfo(&v, "<%s>", e->unsubscribe_url);
        if (e->unsubscribe_mailto)
            appendStringInfo(&v, "%s<%s>", e->unsubscribe_url ? ",\r\n " : "", e->unsubscribe_mailto);
        hs[n].name = "List-Unsubscribe", hs[n++].value = v.data;
        if (https)
            hs[n].name = "List-Unsubscribe-Post", hs[n++].value = pstrdup("List-Unsubscribe=One-Click");
    }
    hs[n].name = "MIME-Version", hs[n++].value = pstrdup("1.0");

    /* boundaries: "=_" never occurs in base64 content */
    {
        uint64      r[2];      /* one call: each call of OpenSSL's generator costs a getpid() */

        if (pg_strong_random(r, sizeof(r)))
            r1 = r[0], r2 = r[1];
        else
            r1 = (uint64) e->date, r2 = (uint64) (uintptr_t) e;
    }
    snprintf(rnd, sizeof(rnd), "%016llx", (unsigned long long) (r1 ^ (r2 << 1)));
    mixed = psprintf("=_afp_mixed_%s", rnd);
    alt = psprintf("=_afp_alt_%s", rnd);

    initStringInfo(&body);
    initStringInfo(&v);
    if (has_attachment)
    {
        appendStringInfo(&v, "multipart/mixed;\r\n boundary=\"%s\"", mixed);
        appendStringInfo(&body, "--%s\r\n", mixed);
    }
    if (has_html)
    {
        if (has_attachment)
            appendStringInfo(&body, "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n", alt);
        else
            appendStringInfo(&v, "multipart/alternative;\r\n boundary=\"%s\"", alt);
        append_text_part(&body, alt, "plain", e->text ? e->text : "");
        append_text_part(&body, alt, "html", e->html);
        appendStringInfo(&body, "--%s--\r\n", alt);
    }
    else if (has_attachment)
    {
        appendStringInfoString(&body, "Content-Type: text/plain; charset=UTF-8\r\n"
                               "Content-Transfer-Encoding: base64\r\n\r\n");
        append_text_base64(&body, e->text ? e->text : "");
    }
    else
    {
        appendStringInfoString(&v, "text/plain; charset=UTF-8");
        hs[n].name = "Content-Type", hs[n++].value = v.data;
        hs[n].name = "Content-Transfer-Encoding", hs[n++].value = pstrdup("base64");
        append_text_base64(&body, e->text ? e->text : "");
    }
    if (has_attachment)
    {
        const char *name = sanitize(e->attachment_name ? e->attachment_name : "document", false);
        const char *type = e->attachment_type && is_printable_ascii(e->attachment_type)
            ? e->attachment_type : "application/octet-stream";

        appendStringInfo(&body, "--%s\r\nContent-Type: %s; name=\"%s\"\r\n"
                         "Content-Disposition: attachment; filename=\"%s\"\r\n"
                         "Content-Transfer-Encoding: base64\r\n\r\n", mixed, type, name, name);
        append_base64(&body, (const unsigned char *) e->attachment, e->attachment_len);
        appendStringInfo(&body, "--%s--\r\n", mixed);
    }
    if (has_html || has_attachment)
        hs[n].name = "Content-Type", hs[n++].value = v.data;
    Assert(n <= MAX_HEADERS);

    if (e->dkim_key_pem && *e->dkim_key_pem)
    {
        reason = dkim_sign(e, hs, n, body.data, body.len, &dkim);
        if (reason)
        {
            *code = "config:dkim";
            return reason;
        }
    }

    /* assemble */
    enlargeStringInfo(out, body.len + 4096);
    if (dkim)
        appendStringInfo(out, "DKIM-Signature: %s\r\n", dkim);
    for (i = 0; i < n; i++)
        appendStringInfo(out, "%s: %s\r\n", hs[i].name, hs[i].value);
    appendStringInfoString(out, "\r\n");
    appendBinaryStringInfo(out, body.data, body.len);
    pfree(body.data);
    *code = NULL;
    return NULL;
}
