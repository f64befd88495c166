/*
 * afp_compose.c — composes plain text into an AFP print file with the core writer.
 *
 * One BDT holds one named page group (BNG…ENG) per document, each with its index values as TLEs.
 * Pages use 1440 units per inch (PGD/PTD-2), Courier from the IBM core fonts (font character set
 * C042xxxx, size suffix per AFP-NOTES §1.10) mapped by MCF-2 with local ID 1, and text drawn with
 * AMB/AMI/TRN in one chained PTOCA sequence per line group.
 */
#include "afp.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define UNITS_PER_INCH 1440

/* Size suffixes of IBM core font character set names (FOP's table, AFP-NOTES §1.10). */
static const struct { double pt; const char *suffix; } font_sizes[] = {
    {6, "60"}, {7, "70"}, {8, "80"}, {9, "90"}, {10, "00"}, {11, "A0"}, {12, "B0"}, {14, "D0"},
    {16, "F0"}, {18, "H0"}, {20, "J0"}, {24, "N0"}, {30, "T0"}, {36, "Z0"},
};

/* Finds the character-set size suffix for a point size; NULL when it is not a core size. */
static const char *
size_suffix(double pt)
{
    size_t i;

    for (i = 0; i < sizeof(font_sizes) / sizeof(font_sizes[0]); i++)
        if (fabs(font_sizes[i].pt - pt) < 0.01)
            return font_sizes[i].suffix;
    return NULL;
}

/* One line of text to place: the UTF-8 bytes of the line. */
typedef struct line_ref {
    const char *p;
    size_t n;
    int new_page;           /* a form feed precedes this line */
} line_ref;

/* Splits text into display lines: at '\n', at '\f' (new page), and wraps at cols characters
 * (at the last blank when there is one). Tabs must already be expanded by the caller. */
static line_ref *
split_lines(const char *text, size_t len, size_t cols, size_t *count)
{
    line_ref *lines = NULL;
    size_t n = 0, cap = 0, pos = 0;
    int pending_page = 0;

    while (pos <= len)
    {
        size_t start = pos, end, chars = 0, last_blank = (size_t) -1, i;

        /* find the end of this logical line */
        end = start;
        while (end < len && text[end] != '\n' && text[end] != '\f')
            end++;
        i = start;
        do
        {
            size_t cut = end, next;

            chars = 0;
            last_blank = (size_t) -1;
            for (i = start; i < end; i++)
            {
                if (((uint8_t) text[i] & 0xC0) != 0x80)
                {
                    if (chars == cols)
                        break;
                    chars++;
                    if (text[i] == ' ')
                        last_blank = i;
                }
            }
            if (i < end)
            {
                cut = (last_blank != (size_t) -1 && last_blank > start) ? last_blank : i;
                next = cut < end && text[cut] == ' ' ? cut + 1 : cut;
            }
            else
                next = end;
            if (n == cap)
            {
                cap = cap ? cap * 2 : 64;
                lines = afp_realloc(lines, cap * sizeof(line_ref));
            }
            lines[n].p = text + start;
            lines[n].n = cut - start;
            while (lines[n].n > 0 && (lines[n].p[lines[n].n - 1] == '\r' || lines[n].p[lines[n].n - 1] == ' '))
                lines[n].n--;
            lines[n].new_page = pending_page;
            pending_page = 0;
            n++;
            start = next;
        } while (start < end);
        if (end >= len)
            break;
        if (text[end] == '\f')
            pending_page = 1;
        pos = end + 1;
    }
    *count = n;
    return lines;
}

/* Writes the active environment group of a page. */
static void
write_aeg(afp_writer *w, const char *fcs, const char *cpname, uint32_t xsize, uint32_t ysize)
{
    afp_buf b;

    afp_write_begin(w, 0xD3A8C9, NULL, NULL, 0);        /* BAG */
    afp_buf_init(&b);
    afp_buf_put16(&b, 0);                               /* RGLength, patched below */
    afp_triplet_fqn(&b, 0x85, cpname);
    afp_triplet_fqn(&b, 0x86, fcs);
    afp_triplet_rli(&b, 0x05, 1);
    afp_buf_putc(&b, 4);                                /* Character Rotation 0 */
    afp_buf_putc(&b, 0x26);
    afp_buf_put16(&b, 0);
    b.data[0] = (uint8_t) (b.len >> 8);
    b.data[1] = (uint8_t) b.len;
    afp_write_sf(w, 0xD3AB8A, b.data, b.len);           /* MCF-2 */

    afp_write_page_descriptors(w, xsize, ysize);       /* PGD, PTD-2 */
    afp_buf_free(&b);
    afp_write_end(w);                                   /* EAG */
}

/* Picks the code page for a document: the requested one, else CP500, else CP1148 (CP500 + €). */
static afp_status
pick_codepage(const afp_compose_opts *o, const afp_compose_doc *d, size_t di, const afp_codepage **cp,
              afp_error *err)
{
    static const char *const fallback[] = {"T1V10500", "T1001148"};
    afp_buf tmp;
    afp_error e;
    size_t i;

    afp_buf_init(&tmp);
    if (o->codepage)
    {
        *cp = afp_codepage_find(o->codepage);
        if (*cp == NULL)
            return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "unknown code page '%s'", o->codepage);
        if (afp_codepage_encode(*cp, d->text, d->text_len, &tmp, &e) != AFP_OK)
        {
            afp_buf_free(&tmp);
            return afp_error_set(err, e.status, -1, "", "document %zu: %s", di + 1, e.message);
        }
        afp_buf_free(&tmp);
        return AFP_OK;
    }
    for (i = 0; i < 2; i++)
    {
        *cp = afp_codepage_find(fallback[i]);
        tmp.len = 0;
        if (*cp && afp_codepage_encode(*cp, d->text, d->text_len, &tmp, &e) == AFP_OK)
        {
            afp_buf_free(&tmp);
            return AFP_OK;
        }
    }
    afp_buf_free(&tmp);
    return afp_error_set(err, AFP_ERR_ENCODING, -1, "", "document %zu: %s", di + 1, e.message);
}

/* Writes the TLEs of a document; values must be CP500-encodable. */
static afp_status
write_index(afp_writer *w, const afp_compose_doc *d, size_t di, afp_error *err)
{
    const afp_codepage *cp500 = afp_codepage_find("T1V10500");
    afp_buf t, name, value;
    afp_error e;
    size_t i;
    afp_status st = AFP_OK;

    afp_buf_init(&t);
    afp_buf_init(&name);
    afp_buf_init(&value);
    for (i = 0; i < d->index_count && st == AFP_OK; i++)
    {
        name.len = value.len = t.len = 0;
        if (afp_codepage_encode(cp500, d->index[i].name, strlen(d->index[i].name), &name, &e) != AFP_OK ||
            afp_codepage_encode(cp500, d->index[i].value, strlen(d->index[i].value), &value, &e) != AFP_OK)
        {
            st = afp_error_set(err, AFP_ERR_ENCODING, -1, "", "document %zu, index '%s': %s", di + 1,
                               d->index[i].name, e.message);
            break;
        }
        if (name.len == 0 || name.len > 250 || value.len > 250)
        {
            st = afp_error_set(err, AFP_ERR_ARGUMENT, -1, "",
                               "document %zu, index '%s': names must be 1..250 and values 0..250 characters",
                               di + 1, d->index[i].name);
            break;
        }
        afp_triplet_fqn_raw(&t, 0x0B, 0x00, name.data, name.len);
        afp_triplet_attr_value(&t, value.data, value.len);
        afp_write_sf(w, 0xD3A090, t.data, t.len);       /* TLE */
    }
    afp_buf_free(&t);
    afp_buf_free(&name);
    afp_buf_free(&value);
    return st;
}

/* Composes plain-text documents into one AFP print file. */
afp_status
afp_compose_text(const afp_compose_doc *docs, size_t ndocs, const afp_compose_opts *opts, afp_buf *out,
                 afp_error *err)
{
    afp_compose_opts o;
    const char *suffix;
    char fcs[9];
    uint32_t xsize, ysize;
    int32_t margin, line_h, char_w, ascent;
    size_t cols, rows, di;
    afp_writer w;
    afp_status st = AFP_OK;

    if (opts)
        o = *opts;
    else
        memset(&o, 0, sizeof(o));
    if (o.page_width_in <= 0)
        o.page_width_in = 8.27;
    if (o.page_height_in <= 0)
        o.page_height_in = 11.69;
    if (o.margin_in <= 0)
        o.margin_in = 0.75;
    if (o.font_size_pt <= 0)
        o.font_size_pt = 10;
    if (o.page_width_in > 22 || o.page_height_in > 22 || o.page_width_in < 1 || o.page_height_in < 1)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "page size %.2fx%.2f in is outside 1..22 inches",
                             o.page_width_in, o.page_height_in);
    suffix = size_suffix(o.font_size_pt);
    if (suffix == NULL)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "",
                             "font size %.1f pt is not an IBM core font size (6,7,8,9,10,11,12,14,16,18,20,24,30,36)",
                             o.font_size_pt);
    if (ndocs == 0)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "no documents to compose");
    snprintf(fcs, sizeof(fcs), "C042%s", suffix);   /* C042 = Courier roman medium */
    if (strlen(fcs) < 8)
        strcat(fcs, "00");
    xsize = (uint32_t) lround(o.page_width_in * UNITS_PER_INCH);
    ysize = (uint32_t) lround(o.page_height_in * UNITS_PER_INCH);
    margin = (int32_t) lround(o.margin_in * UNITS_PER_INCH);
    char_w = (int32_t) lround(o.font_size_pt * 0.6 * UNITS_PER_INCH / 72.0);   /* Courier: 600/1000 em */
    line_h = (int32_t) lround(o.font_size_pt * 1.2 * UNITS_PER_INCH / 72.0);
    ascent = (int32_t) lround(o.font_size_pt * 0.8 * UNITS_PER_INCH / 72.0);
    if ((int32_t) xsize <= 2 * margin + char_w || (int32_t) ysize <= 2 * margin + line_h)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, "", "margins leave no room for text");
    cols = (size_t) ((xsize - 2 * (uint32_t) margin) / (uint32_t) char_w);
    rows = (size_t) ((ysize - 2 * (uint32_t) margin - (uint32_t) ascent) / (uint32_t) line_h) + 1;
    if (o.lines_per_page > 0 && (size_t) o.lines_per_page < rows)
        rows = (size_t) o.lines_per_page;

    afp_writer_init(&w);
    afp_write_begin(&w, 0xD3A8A8, "AFPDOC", NULL, 0);  /* BDT */
    for (di = 0; di < ndocs && st == AFP_OK; di++)
    {
        const afp_compose_doc *d = &docs[di];
        const afp_codepage *cp;
        char tok[9], pname[9];
        line_ref *lines;
        size_t nlines, li = 0, page = 0;
        afp_buf triplets, enc;
        afp_error e;

        st = pick_codepage(&o, d, di, &cp, err);
        if (st != AFP_OK)
            break;
        afp_token_make(d->name, "DOC", di + 1, tok);
        afp_buf_init(&triplets);
        if (d->name && strcmp(tok, d->name) != 0)
        {
            /* full name as FQN X'01' (EBCDIC) when it is not a token name */
            afp_buf n;

            afp_buf_init(&n);
            if (afp_codepage_encode(afp_codepage_find("T1V10500"), d->name, strlen(d->name), &n, &e) != AFP_OK)
            {
                afp_buf_free(&n);
                afp_buf_free(&triplets);
                st = afp_error_set(err, AFP_ERR_ENCODING, -1, "", "document %zu name: %s", di + 1, e.message);
                break;
            }
            afp_triplet_fqn_raw(&triplets, 0x01, 0x00, n.data, n.len);
            afp_buf_free(&n);
        }
        afp_write_begin(&w, 0xD3A8AD, tok, triplets.data, triplets.len);  /* BNG */
        afp_buf_free(&triplets);
        st = write_index(&w, d, di, err);
        if (st != AFP_OK)
            break;
        lines = split_lines(d->text, d->text_len, cols, &nlines);
        afp_buf_init(&enc);
        while (li < nlines || page == 0)
        {
            afp_ptx p;
            size_t row = 0;

            if (afp_check_interrupt())
            {
                st = afp_error_set(err, AFP_ERR_INTERRUPTED, -1, "", "composition interrupted");
                break;
            }
            page++;
            snprintf(pname, sizeof(pname), "P%07zu", page % 10000000);
            afp_write_begin(&w, 0xD3A8AF, pname, NULL, 0);                 /* BPG */
            write_aeg(&w, fcs, afp_codepage_name(cp), xsize, ysize);
            afp_write_begin(&w, 0xD3A89B, NULL, NULL, 0);                  /* BPT */
            afp_ptx_begin(&p, &w);
            afp_ptx_scfl(&p, 1);
            afp_ptx_svi(&p, (int16_t) line_h);
            while (li < nlines && row < rows)
            {
                if (lines[li].new_page && row > 0)
                    break;
                if (lines[li].n > 0)
                {
                    enc.len = 0;
                    if (afp_codepage_encode(cp, lines[li].p, lines[li].n, &enc, &e) != AFP_OK)
                    {
                        st = afp_error_set(err, e.status, -1, "", "document %zu: %s", di + 1, e.message);
                        break;
                    }
                    afp_ptx_amb(&p, (int16_t) (margin + ascent + (int32_t) row * line_h));
                    afp_ptx_ami(&p, (int16_t) margin);
                    afp_ptx_trn(&p, enc.data, enc.len);
                }
                row++;
                li++;
            }
            afp_ptx_end(&p);
            afp_write_end(&w);                                              /* EPT */
            afp_write_end(&w);                                              /* EPG */
            if (st != AFP_OK)
                break;
            if (li >= nlines)
                break;
        }
        afp_buf_free(&enc);
        afp_free(lines);
        if (st == AFP_OK)
            afp_write_end(&w);                                              /* ENG */
    }
    if (st == AFP_OK)
    {
        afp_write_end(&w);                                                  /* EDT */
        afp_buf_append(out, w.out.data, w.out.len);
    }
    afp_writer_free(&w);
    return st;
}
