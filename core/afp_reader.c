/*
 * afp_reader.c — walks the structured fields of a MO:DCA byte stream.
 *
 * Framing (modca-reference-10 Chapter 3): X'5A', SFLength (2 bytes, 8..32767, counts itself and
 * everything after it), SFTypeID (3 bytes), flag byte, 2 reserved bytes (real files put sequence
 * numbers there: ignored), optional extension (X'80'), data, optional padding (X'08').
 * Every length is checked against the bytes that remain before it is used.
 */
#include "afp.h"

#include <string.h>

/* Prepares a reader over buf[0..len). */
void
afp_reader_init(afp_reader *r, const uint8_t *buf, size_t len)
{
    memset(r, 0, sizeof(*r));
    r->buf = buf;
    r->len = len;
}

/* Works out the padding length of a field whose padded region is p[0..n); -1 if inconsistent. */
static long
padding_length(const uint8_t *p, size_t n)
{
    long pad;

    if (n == 0)
        return -1;
    pad = p[n - 1];
    if (pad == 0)
    {
        /* long form: X'00' last, the two bytes before give the padding length */
        if (n < 3)
            return -1;
        pad = ((long) p[n - 3] << 8) | p[n - 2];
        if (pad < 3)
            return -1;
    }
    if ((size_t) pad > n)
        return -1;
    return pad;
}

/* Reads the next structured field; 1 = field, 0 = end of input, -1 = damaged input. */
int
afp_reader_next(afp_reader *r, afp_sf *sf, afp_error *err)
{
    size_t pos = r->pos;
    size_t remain;
    const uint8_t *p;
    uint16_t sflen;
    uint32_t id;
    const char *abbr;
    size_t body_len;
    const uint8_t *body;
    int64_t body_off;

    if (pos >= r->len)
        return 0;
    remain = r->len - pos;
    p = r->buf + pos;
    if (p[0] != 0x5A)
    {
        afp_error_set(err, AFP_ERR_FORMAT, (int64_t) pos, "",
                      "expected X'5A' (structured field introducer) after field %lld, found X'%02X'",
                      (long long) r->seq, p[0]);
        return -1;
    }
    if (remain < 1 + AFP_SF_INTRO)
    {
        afp_error_set(err, AFP_ERR_FORMAT, (int64_t) pos, "",
                      "truncated structured field introducer: %zu bytes remain, 9 needed", remain);
        return -1;
    }
    sflen = (uint16_t) ((p[1] << 8) | p[2]);
    id = ((uint32_t) p[3] << 16) | ((uint32_t) p[4] << 8) | p[5];
    abbr = afp_sf_abbr(id);
    if (sflen < AFP_SF_INTRO || sflen > AFP_SF_MAX_LENGTH)
    {
        afp_error_set(err, AFP_ERR_FORMAT, (int64_t) pos, abbr,
                      "invalid SFLength %u for field %06X (must be 8..32767)", sflen, id);
        return -1;
    }
    if ((size_t) sflen + 1 > remain)
    {
        afp_error_set(err, AFP_ERR_FORMAT, (int64_t) pos, abbr,
                      "field %06X is truncated: SFLength %u needs %u bytes, only %zu remain", id,
                      sflen, sflen + 1, remain);
        return -1;
    }
    if (p[3] != 0xD3)
    {
        afp_error_set(err, AFP_ERR_FORMAT, (int64_t) pos, abbr,
                      "invalid structured field identifier %06X (class code must be X'D3')", id);
        return -1;
    }

    memset(sf, 0, sizeof(*sf));
    sf->offset = (int64_t) pos;
    sf->length = sflen;
    sf->id = id;
    sf->flags = p[6];
    body = p + 1 + AFP_SF_INTRO;
    body_len = (size_t) sflen - AFP_SF_INTRO;
    body_off = (int64_t) (pos + 1 + AFP_SF_INTRO);

    if (sf->flags & AFP_FLAG_EXT)
    {
        size_t extlen;

        if (body_len < 1 || body[0] < 1 || (size_t) body[0] > body_len)
        {
            afp_error_set(err, AFP_ERR_FORMAT, body_off, abbr,
                          "extension flag set but extension length %u does not fit in the %zu data bytes",
                          body_len ? body[0] : 0, body_len);
            return -1;
        }
        extlen = body[0];
        sf->ext = body + 1;
        sf->ext_len = extlen - 1;
        body += extlen;
        body_len -= extlen;
        body_off += (int64_t) extlen;
    }
    if (sf->flags & AFP_FLAG_PAD)
    {
        long pad = padding_length(body, body_len);

        if (pad < 0)
        {
            afp_error_set(err, AFP_ERR_FORMAT, body_off + (int64_t) body_len - 1, abbr,
                          "padding flag set but the padding length byte(s) are inconsistent with the %zu data bytes",
                          body_len);
            return -1;
        }
        sf->pad_len = (size_t) pad;
        body_len -= (size_t) pad;
    }
    sf->data = body;
    sf->data_len = body_len;
    sf->data_offset = body_off;

    if (afp_sf_type(id) == AFP_SF_END && r->depth > 0)
        r->depth--;
    sf->depth = r->depth;
    if (afp_sf_type(id) == AFP_SF_BEGIN)
        r->depth++;

    r->pos = pos + 1 + sflen;
    r->seq++;
    return 1;
}

/* The level of the innermost open Begin of category cat in stack[0..depth) (the categories of
 * the open Begin fields, outermost first), or -1 when none is open: the level an End of that
 * category closes, with every level above it. */
int
afp_sf_open_level(const uint8_t *stack, int depth, uint8_t cat)
{
    int k = depth - 1;

    while (k >= 0 && stack[k] != cat)
        k--;
    return k;
}

/* Decodes an EBCDIC token name (CP500 letters, digits, national characters) into ASCII. */
char *
afp_token_name(const uint8_t *p, size_t n, char *out)
{
    static const char *const hi = "{ABCDEFGHI......}JKLMNOPQR......\\.STUVWXYZ......0123456789......";
    size_t i, end = 0;

    for (i = 0; i < n; i++)
    {
        uint8_t c = p[i];
        char o = '?';

        if (c >= 0xC0)
            o = hi[c - 0xC0];
        else if (c == 0x40)
            o = ' ';
        else if (c >= 0x81 && c <= 0x89)
            o = (char) ('a' + (c - 0x81));
        else if (c >= 0x91 && c <= 0x99)
            o = (char) ('j' + (c - 0x91));
        else if (c >= 0xA2 && c <= 0xA9)
            o = (char) ('s' + (c - 0xA2));
        else if (c == 0x5B)
            o = '$';
        else if (c == 0x7B)
            o = '#';
        else if (c == 0x7C)
            o = '@';
        else if (c == 0x4B)
            o = '.';
        else if (c == 0x60)
            o = '-';
        else if (c == 0x6D)
            o = '_';
        else if (c == 0x61)
            o = '/';
        if (o == '.' && c != 0x4B)
            o = '?';
        out[i] = o;
        if (o != ' ')
            end = i + 1;
    }
    out[end] = '\0';
    return out;
}
