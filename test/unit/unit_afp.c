/*
 * unit_afp.c — helpers shared by the unit tests that build AFP and inspect the output
 * (declared in unit_afp.h). No checks here: the suites assert on what these return.
 */
#include "afp.h"
#include "afp_pdf.h"
#include "unit_afp.h"

#include <stdio.h>
#include <string.h>

/* PGD/PTD data: 240 units per inch, w x h units. */
void
unit_pgd(uint8_t out[15], unsigned w, unsigned h)
{
    memset(out, 0, 15);
    out[2] = 0x09, out[3] = 0x60, out[4] = 0x09, out[5] = 0x60;
    out[6] = (uint8_t) (w >> 16), out[7] = (uint8_t) (w >> 8), out[8] = (uint8_t) w;
    out[9] = (uint8_t) (h >> 16), out[10] = (uint8_t) (h >> 8), out[11] = (uint8_t) h;
}

/* BAG, the map field (when given), PGD and PTD-2 of pw x ph units, EAG. */
void
unit_aeg(afp_writer *w, uint32_t map_id, const afp_buf *map, unsigned pw, unsigned ph)
{
    uint8_t p[15];

    unit_pgd(p, pw, ph);
    afp_write_begin(w, 0xD3A8C9, "AEG1", NULL, 0);
    if (map)
        afp_write_sf(w, map_id, map->data, map->len);
    afp_write_sf(w, 0xD3A6AF, p, 15);
    afp_write_sf(w, 0xD3B19B, p, 14);
    afp_write_end(w);
}

/* One MCF-2 repeating group: FQN X'86' (font character set), FQN X'85' (code page), RLI. */
void
unit_mcf_group(afp_buf *b, uint8_t lid, const char *fcs, const char *cp)
{
    afp_buf g;

    afp_buf_init(&g);
    afp_triplet_fqn(&g, 0x86, fcs);
    afp_triplet_fqn(&g, 0x85, cp);
    afp_triplet_rli(&g, 0x05, lid);
    afp_buf_put16(b, (uint16_t) (g.len + 2));
    afp_buf_append(b, g.data, g.len);
    afp_buf_free(&g);
}

/* Encodes ASCII text in CP500 into out (replacing its contents). */
void
unit_ebcdic(const char *s, afp_buf *out)
{
    afp_error err;

    out->len = 0;
    afp_codepage_encode(afp_codepage_find("T1V10500"), s, strlen(s), out, &err);
}

/* OBD and OBP of a 480 x 240 unit object area at (240, 240). */
void
unit_object_area(afp_writer *w)
{
    static const uint8_t obd[] = {0x03, 0x43, 0x01, 0x08, 0x4B, 0x00, 0x00, 0x09, 0x60, 0x09, 0x60,
                                  0x09, 0x4C, 0x02, 0x00, 0x01, 0xE0, 0x00, 0x00, 0xF0};
    static const uint8_t obp[24] = {0x01, 0x17, 0x00, 0x00, 0xF0, 0x00, 0x00, 0xF0, 0x00, 0x00, 0x2D,
                                    0x00, 0x00, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x2D, 0x00, 0x00};

    afp_write_sf(w, 0xD3A66B, obd, sizeof(obd));
    afp_write_sf(w, 0xD3AC6B, obp, sizeof(obp));
}

/* BDT, BPG, the A4 environment group with the MCF, BPT. */
void
unit_page_begin(afp_writer *w, const afp_buf *mcf)
{
    afp_write_begin(w, 0xD3A8A8, "DOC1", NULL, 0);
    afp_write_begin(w, 0xD3A8AF, "PAGE1", NULL, 0);
    unit_aeg(w, 0xD3AB8A, mcf, UNIT_A4_W, UNIT_A4_H);
    afp_write_begin(w, 0xD3A89B, "PT1", NULL, 0);
}

/* End of the page's last object, EPG, EDT; the document goes to out and the writer is freed. */
void
unit_page_end(afp_writer *w, afp_buf *out)
{
    afp_write_end(w);
    afp_write_end(w);
    afp_write_end(w);
    afp_buf_append(out, w->out.data, w->out.len);
    afp_writer_free(w);
}

/* Offset of the first occurrence of s[0..n) in b, -1 when absent. */
long
unit_find(const afp_buf *b, const uint8_t *s, size_t n)
{
    size_t i;

    for (i = 0; b->len >= n && i + n <= b->len; i++)
        if (memcmp(b->data + i, s, n) == 0)
            return (long) i;
    return -1;
}

/* True when b holds s. */
int
unit_has(const afp_buf *b, const char *s)
{
    return unit_find(b, (const uint8_t *) s, strlen(s)) >= 0;
}

/* Number of occurrences of s in b. */
int
unit_count(const afp_buf *b, const char *s)
{
    size_t n = strlen(s), i;
    int c = 0;

    for (i = 0; b->len >= n && i + n <= b->len; i++)
        if (memcmp(b->data + i, s, n) == 0)
            c++;
    return c;
}

/* Counts one warning into the int ctx points at. */
void
unit_count_warning(void *ctx, const char *msg)
{
    (*(int *) ctx)++;
    (void) msg;
}

/* Uncompressed conversion with options JSON; the options are freed before returning. */
afp_status
unit_convert(const afp_buf *afp, const char *json, afp_buf *pdf, int *warnings, afp_error *err)
{
    afp_pdf_options o;
    afp_status st;

    afp_pdf_options_init(&o);
    o.compress = 0;            /* the JSON may turn it back on */
    afp_error_clear(err);
    pdf->len = 0;
    if (json && (st = afp_pdf_options_parse(&o, json, strlen(json), err)) != AFP_OK)
    {
        afp_pdf_options_free(&o);
        return st;
    }
    if (warnings)
    {
        o.warning = unit_count_warning;
        o.cb_ctx = warnings;
    }
    st = afp_to_pdf(afp->data, afp->len, &o, pdf, NULL, err);
    afp_pdf_options_free(&o);
    return st;
}

/* Validates buf and counts the issues of one severity. */
int
unit_issues(const uint8_t *buf, size_t len, afp_severity sev, char *first, size_t firstsz)
{
    afp_issue_list l = {0};
    afp_error err;
    size_t i;
    int n = 0;

    afp_error_clear(&err);
    afp_validate(buf, len, &l, &err);
    if (first)
        first[0] = '\0';
    for (i = 0; i < l.count; i++)
        if (l.items[i].severity == sev)
        {
            if (n == 0 && first)
                snprintf(first, firstsz, "%s", l.items[i].message);
            n++;
        }
    afp_issue_list_free(&l);
    return n;
}
