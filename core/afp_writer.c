/*
 * afp_writer.c — builds MO:DCA structured fields with correct lengths, Begin/End pairs with
 * matching names, common triplets, and PTOCA presentation text (PTX) with proper chaining.
 *
 * Fields are kept at or below SFLength 32,752 (AFP-NOTES §1.1). Data that does not fit is
 * carried by consecutive complete fields where the data architecture concatenates them (IPD,
 * GAD, OCD, NOP) and by segmented fields (flag X'20') otherwise.
 */
#include "afp.h"

#include <stdio.h>
#include <string.h>

#define MAX_DATA (AFP_SF_WRITE_MAX - AFP_SF_INTRO)

/* Prepares an empty writer. */
void
afp_writer_init(afp_writer *w)
{
    memset(w, 0, sizeof(*w));
    afp_buf_init(&w->out);
}

/* Releases the writer's output buffer. */
void
afp_writer_free(afp_writer *w)
{
    afp_buf_free(&w->out);
}

/* Appends one physical field: 5A, SFLength, ID, flags, two zero reserved bytes, data. */
static void
put_field(afp_writer *w, uint32_t id, uint8_t flags, const uint8_t *data, size_t len)
{
    afp_buf *b = &w->out;

    afp_buf_reserve(b, len + 9);
    afp_buf_putc(b, 0x5A);
    afp_buf_put16(b, (uint16_t) (len + AFP_SF_INTRO));
    afp_buf_put24(b, id);
    afp_buf_putc(b, flags);
    afp_buf_put16(b, 0);
    afp_buf_append(b, data, len);
}

/* True for data fields whose content is the concatenation of consecutive fields. */
static int
concatenating_field(uint32_t id)
{
    return id == 0xD3EEFB || id == 0xD3EEBB || id == 0xD3EE92 || id == 0xD3EEEE;
}

/* Writes one structured field of any data size. */
void
afp_write_sf(afp_writer *w, uint32_t id, const uint8_t *data, size_t len)
{
    size_t pos = 0;

    if (len <= MAX_DATA)
    {
        put_field(w, id, 0, data, len);
        return;
    }
    while (pos < len)
    {
        size_t n = len - pos > MAX_DATA ? MAX_DATA : len - pos;
        uint8_t flags = 0;

        if (!concatenating_field(id) && pos + n < len)
            flags = AFP_FLAG_SEG;
        put_field(w, id, flags, data + pos, n);
        pos += n;
    }
}

/* Encodes an ASCII token name into 8 EBCDIC (CP500) bytes, blank padded. */
void
afp_token_encode(const char *name, uint8_t out[8])
{
    const afp_codepage *cp = afp_codepage_find("T1V10500");
    size_t i;

    memset(out, 0x40, 8);
    for (i = 0; name && name[i] && i < 8; i++)
    {
        int e = cp ? afp_codepage_from_unicode(cp, (uint8_t) name[i]) : -1;

        out[i] = (uint8_t) (e >= 0 ? e : 0x6F);     /* '?' for anything outside CP500 */
    }
}

/* Uses name as a token name when it is one, else makes PREFIXnnnnn from seq. */
int
afp_token_make(const char *name, const char *prefix, uint64_t seq, char out[9])
{
    size_t i, n = name ? strlen(name) : 0;
    int ok = n > 0 && n <= 8;

    for (i = 0; ok && i < n; i++)
        ok = (name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '$' ||
             name[i] == '#' || name[i] == '@';
    if (ok)
        memcpy(out, name, n + 1);
    else
        snprintf(out, 9, "%.3s%05u", prefix, (unsigned) (seq % 100000u));
    return ok;
}

/* ASCII case-insensitive equality. */
int
afp_strieq(const char *a, const char *b)
{
    while (*a && *b)
    {
        char ca = (*a >= 'A' && *a <= 'Z') ? (char) (*a + 32) : *a;
        char cb = (*b >= 'A' && *b <= 'Z') ? (char) (*b + 32) : *b;

        if (ca != cb)
            return 0;
        a++;
        b++;
    }
    return *a == *b;
}

/* Writes the Page Descriptor and the Presentation Text Data Descriptor (format 2) of a page. */
void
afp_write_page_descriptors(afp_writer *w, uint32_t xsize, uint32_t ysize)
{
    afp_buf b;
    int i;

    afp_buf_init(&b);
    for (i = 0; i < 2; i++)
    {
        b.len = 0;
        afp_buf_putc(&b, 0);                /* unit base 10 inches, both axes */
        afp_buf_putc(&b, 0);
        afp_buf_put16(&b, 14400);           /* 1440 units per inch */
        afp_buf_put16(&b, 14400);
        afp_buf_put24(&b, xsize);
        afp_buf_put24(&b, ysize);
        if (i == 0)
        {
            afp_buf_put24(&b, 0);           /* PGD: 3 reserved bytes */
            afp_write_sf(w, 0xD3A6AF, b.data, b.len);
        }
        else
        {
            afp_buf_put16(&b, 0);           /* PTD-2: 2 reserved bytes */
            afp_write_sf(w, 0xD3B19B, b.data, b.len);
        }
    }
    afp_buf_free(&b);
}

/* Writes the OBD (object area of xsize x ysize in 1440ths of an inch, unit base 10 inches) and
 * the OBP that places the area and its content unrotated at (x, y) on the page: the start of
 * the object environment group of a generated image (afp_ioca.c) or bar code (afp_bcoca.c). */
void
afp_write_object_area(afp_writer *w, int32_t x, int32_t y, uint32_t xsize, uint32_t ysize)
{
    afp_buf b;

    afp_buf_init(&b);
    afp_buf_putc(&b, 3);                                    /* Descriptor Position, ID 1 */
    afp_buf_putc(&b, 0x43);
    afp_buf_putc(&b, 1);
    afp_triplet_units(&b, 14400, 14400);
    afp_triplet_area_size(&b, xsize, ysize);
    afp_write_sf(w, 0xD3A66B, b.data, b.len);               /* OBD */

    b.len = 0;
    afp_buf_putc(&b, 1);                                    /* OAPosID */
    afp_buf_putc(&b, 23);                                   /* RGLength (1 byte) */
    afp_buf_put24(&b, (uint32_t) x & 0xFFFFFFu);            /* XoaOset, YoaOset */
    afp_buf_put24(&b, (uint32_t) y & 0xFFFFFFu);
    afp_buf_put16(&b, 0x0000);                              /* XoaOrent 0 degrees */
    afp_buf_put16(&b, 0x2D00);                              /* YoaOrent 90 degrees */
    afp_buf_putc(&b, 0);
    afp_buf_put24(&b, 0);                                   /* XocaOset */
    afp_buf_put24(&b, 0);                                   /* YocaOset */
    afp_buf_put16(&b, 0x0000);                              /* XocaOrent */
    afp_buf_put16(&b, 0x2D00);                              /* YocaOrent */
    afp_buf_putc(&b, 0x01);                                 /* RefCSys: page, standard origin */
    afp_write_sf(w, 0xD3AC6B, b.data, b.len);               /* OBP */
    afp_buf_free(&b);
}

/* Writes a Begin field (name + optional triplets) and remembers it for afp_write_end. */
void
afp_write_begin(afp_writer *w, uint32_t id, const char *name, const uint8_t *triplets, size_t tlen)
{
    afp_buf d;
    int slot = w->depth < 64 ? w->depth : 63;

    afp_buf_init(&d);
    afp_buf_reserve(&d, 10 + tlen);
    afp_token_encode(name, d.data);
    d.len = 8;
    if (id == 0xD3A8A8 || id == 0xD3A8CE)    /* BDT, BRS: two reserved bytes before triplets */
        afp_buf_put16(&d, 0);
    afp_buf_append(&d, triplets, tlen);
    afp_write_sf(w, id, d.data, d.len);
    afp_buf_free(&d);
    w->open_ids[slot] = id;
    memset(w->open_names[slot], 0, sizeof(w->open_names[slot]));
    if (name)
        strncpy(w->open_names[slot], name, 8);
    w->depth++;
}

/* Writes the End field matching the innermost open Begin, with the same name. */
void
afp_write_end(afp_writer *w)
{
    uint8_t name[8];
    int slot;

    if (w->depth == 0)
        return;
    w->depth--;
    slot = w->depth < 64 ? w->depth : 63;
    afp_token_encode(w->open_names[slot], name);
    afp_write_sf(w, (w->open_ids[slot] & 0xFF00FFu) | 0x00A900u, name, 8);
}

/* Appends a Fully Qualified Name triplet (X'02') with an EBCDIC character name. */
void
afp_triplet_fqn(afp_buf *b, uint8_t fqn_type, const char *name_ascii)
{
    const afp_codepage *cp = afp_codepage_find("T1V10500");
    size_t n = strlen(name_ascii), i;

    if (n > 250)
        n = 250;
    afp_buf_putc(b, (uint8_t) (n + 4));
    afp_buf_putc(b, 0x02);
    afp_buf_putc(b, fqn_type);
    afp_buf_putc(b, 0x00);
    for (i = 0; i < n; i++)
    {
        int e = cp ? afp_codepage_from_unicode(cp, (uint8_t) name_ascii[i]) : -1;

        afp_buf_putc(b, (uint8_t) (e >= 0 ? e : 0x6F));
    }
}

/* Appends a Fully Qualified Name triplet with raw name bytes in the given format. */
void
afp_triplet_fqn_raw(afp_buf *b, uint8_t fqn_type, uint8_t fmt, const uint8_t *n, size_t len)
{
    if (len > 250)
        len = 250;
    afp_buf_putc(b, (uint8_t) (len + 4));
    afp_buf_putc(b, 0x02);
    afp_buf_putc(b, fqn_type);
    afp_buf_putc(b, fmt);
    afp_buf_append(b, n, len);
}

/* Appends an Attribute Value triplet (X'36'): two reserved bytes, then the value. */
void
afp_triplet_attr_value(afp_buf *b, const uint8_t *ebcdic, size_t len)
{
    if (len > 250)
        len = 250;
    afp_buf_putc(b, (uint8_t) (len + 4));
    afp_buf_putc(b, 0x36);
    afp_buf_put16(b, 0);
    afp_buf_append(b, ebcdic, len);
}

/* Appends a Resource Local Identifier triplet (X'24'). */
void
afp_triplet_rli(afp_buf *b, uint8_t restype, uint8_t lid)
{
    afp_buf_putc(b, 4);
    afp_buf_putc(b, 0x24);
    afp_buf_putc(b, restype);
    afp_buf_putc(b, lid);
}

/* Appends a Measurement Units triplet (X'4B') with unit base 10 inches. */
void
afp_triplet_units(afp_buf *b, uint16_t xunits, uint16_t yunits)
{
    afp_buf_putc(b, 8);
    afp_buf_putc(b, 0x4B);
    afp_buf_putc(b, 0);
    afp_buf_putc(b, 0);
    afp_buf_put16(b, xunits);
    afp_buf_put16(b, yunits);
}

/* Appends an Object Area Size triplet (X'4C', size type X'02'). */
void
afp_triplet_area_size(afp_buf *b, uint32_t x, uint32_t y)
{
    afp_buf_putc(b, 9);
    afp_buf_putc(b, 0x4C);
    afp_buf_putc(b, 0x02);
    afp_buf_put24(b, x);
    afp_buf_put24(b, y);
}

/* ------------------------------------------------------------------ PTOCA builder */

/* Room kept free in a PTX for the chain-ending NOP. */
#define PTX_LIMIT (MAX_DATA - 2)

/* Starts building presentation text for the current BPT. */
void
afp_ptx_begin(afp_ptx *p, afp_writer *w)
{
    p->w = w;
    afp_buf_init(&p->cur);
    p->in_chain = 0;
}

/* Ends the open chain with an even-type NOP and writes the PTX field. */
static void
ptx_flush(afp_ptx *p)
{
    if (p->cur.len == 0)
        return;
    if (p->in_chain)
    {
        afp_buf_putc(&p->cur, 2);
        afp_buf_putc(&p->cur, 0xF8);
    }
    afp_write_sf(p->w, 0xD3EE9B, p->cur.data, p->cur.len);
    p->cur.len = 0;
    p->in_chain = 0;
}

/* Appends one control sequence (type given as the unchained, even value) to the chain. */
static void
ptx_seq(afp_ptx *p, uint8_t type, const uint8_t *params, size_t n)
{
    size_t need = n + 2 + (p->in_chain ? 0 : 2);

    if (p->cur.len + need > PTX_LIMIT)
        ptx_flush(p);
    if (!p->in_chain)
    {
        afp_buf_putc(&p->cur, 0x2B);
        afp_buf_putc(&p->cur, 0xD3);
        p->in_chain = 1;
    }
    afp_buf_putc(&p->cur, (uint8_t) (n + 2));
    afp_buf_putc(&p->cur, (uint8_t) (type | 1));
    afp_buf_append(&p->cur, params, n);
}

/* Appends a sequence with one signed 2-byte parameter. */
static void
ptx_seq16(afp_ptx *p, uint8_t type, int16_t v)
{
    uint8_t b[2];

    b[0] = (uint8_t) ((uint16_t) v >> 8);
    b[1] = (uint8_t) v;
    ptx_seq(p, type, b, 2);
}

/* Absolute Move Baseline. */
void afp_ptx_amb(afp_ptx *p, int16_t y) { ptx_seq16(p, 0xD2, y); }
/* Absolute Move Inline. */
void afp_ptx_ami(afp_ptx *p, int16_t x) { ptx_seq16(p, 0xC6, x); }
/* Relative Move Inline. */
void afp_ptx_rmi(afp_ptx *p, int16_t dx) { ptx_seq16(p, 0xC8, dx); }
/* Relative Move Baseline. */
void afp_ptx_rmb(afp_ptx *p, int16_t dy) { ptx_seq16(p, 0xD4, dy); }
/* Set Baseline Increment. */
void afp_ptx_svi(afp_ptx *p, int16_t inc) { ptx_seq16(p, 0xC4, inc); }

/* Set Coded Font Local. */
void
afp_ptx_scfl(afp_ptx *p, uint8_t lid)
{
    ptx_seq(p, 0xF0, &lid, 1);
}

/* Set Text Orientation (degrees 0/90/180/270 for the inline and baseline directions). */
void
afp_ptx_sto(afp_ptx *p, uint16_t inline_deg, uint16_t baseline_deg)
{
    uint8_t b[4];
    uint16_t i = (uint16_t) ((inline_deg % 360) << 7), l = (uint16_t) ((baseline_deg % 360) << 7);

    b[0] = (uint8_t) (i >> 8);
    b[1] = (uint8_t) i;
    b[2] = (uint8_t) (l >> 8);
    b[3] = (uint8_t) l;
    ptx_seq(p, 0xF6, b, 4);
}

/* Set Extended Text Color, RGB with 8 bits per component. */
void
afp_ptx_sec_rgb(afp_ptx *p, uint8_t r, uint8_t g, uint8_t b)
{
    uint8_t v[13] = {0x00, 0x01, 0, 0, 0, 0, 8, 8, 8, 0, 0, 0, 0};

    v[10] = r;
    v[11] = g;
    v[12] = b;
    ptx_seq(p, 0x80, v, 13);
}

/* Draws a rule of the given length and width (RWIDTH fraction 0). */
static void
ptx_rule(afp_ptx *p, uint8_t type, int16_t length, int16_t width)
{
    uint8_t b[5];

    b[0] = (uint8_t) ((uint16_t) length >> 8);
    b[1] = (uint8_t) length;
    b[2] = (uint8_t) ((uint16_t) width >> 8);
    b[3] = (uint8_t) width;
    b[4] = 0;
    ptx_seq(p, type, b, 5);
}

/* Draw I-axis Rule. */
void afp_ptx_dir(afp_ptx *p, int16_t length, int16_t width) { ptx_rule(p, 0xE4, length, width); }
/* Draw B-axis Rule. */
void afp_ptx_dbr(afp_ptx *p, int16_t length, int16_t width) { ptx_rule(p, 0xE6, length, width); }

/* Begin Line. */
void
afp_ptx_bln(afp_ptx *p)
{
    ptx_seq(p, 0xD8, NULL, 0);
}

/* Transparent Data, split into sequences of at most 253 data bytes. */
void
afp_ptx_trn(afp_ptx *p, const uint8_t *ebcdic, size_t len)
{
    while (len > 0)
    {
        size_t n = len > 253 ? 253 : len;

        ptx_seq(p, 0xDA, ebcdic, n);
        ebcdic += n;
        len -= n;
    }
}

/* Finishes the presentation text: ends the chain and writes the last PTX. */
void
afp_ptx_end(afp_ptx *p)
{
    ptx_flush(p);
    afp_buf_free(&p->cur);
}
