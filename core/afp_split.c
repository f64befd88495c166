/*
 * afp_split.c — splits a print file into one self-contained AFP file per document.
 *
 * A document is an outermost named page group (BNG … ENG) inside a BDT, or a whole BDT … EDT that
 * holds no page group. Each part is written as
 *     [inline resource groups and form maps of the print file]  BDT  [IMM]  BNG … ENG  EDT
 * The resource groups (BRG … ERG) and form maps (BFM … EFM) found outside any document are copied
 * in front of every part, in file order, so each part carries the overlays, page segments, fonts
 * and form map it may use. The BDT is the original field; the IMM is the last Invoke Medium Map
 * seen in the document outside page groups before this group (so the part is printed on the
 * same medium map); the EDT repeats the BDT's name. BPF/EPF are left out. The index values are
 * those afp_documents lists for the same group (TLEs of the group).
 *
 * Parts are handed to a callback one at a time: memory holds one part, not the whole output.
 */
#include "afp.h"
#include "afp_split.h"

#include <string.h>

#define CAT_BDT 0xA8
#define CAT_BNG 0xAD
#define CAT_BRG 0xC6
#define CAT_BFM 0xCD
#define CAT_BPF 0xA5
#define T_BEGIN 0xA8
#define T_END 0xA9
#define ID_IMM 0xD3ABCCu
#define MAX_DEPTH 256

/* A span of the input copied into every part. */
typedef struct span {
    size_t start, end;
} span;

/* State of one split. */
typedef struct split_ctx {
    const uint8_t *buf;
    afp_split_fn fn;
    void *cb;
    afp_error *err;
    span *prefix;
    size_t nprefix, capprefix;
    afp_document_list docs;
    size_t next_doc;            /* next entry of docs to match */
    int64_t seq;
    afp_buf part;
} split_ctx;

/* Appends a span to the prefix list. */
static void
prefix_add(split_ctx *s, size_t start, size_t end)
{
    if (s->nprefix == s->capprefix)
    {
        s->capprefix = s->capprefix ? s->capprefix * 2 : 8;
        s->prefix = afp_realloc(s->prefix, s->capprefix * sizeof(span));
    }
    s->prefix[s->nprefix].start = start;
    s->prefix[s->nprefix].end = end;
    s->nprefix++;
}

/* The afp_documents entry of the next part (levels 0 and 1 only), NULL when none is left. */
static const afp_document *
next_doc(split_ctx *s)
{
    while (s->next_doc < s->docs.count)
    {
        const afp_document *d = &s->docs.items[s->next_doc++];

        if (d->level <= 1)
            return d;
    }
    return NULL;
}

/* Writes a structured field with the given id and data to b. */
static void
put_sf(afp_buf *b, uint32_t id, const uint8_t *d, size_t n)
{
    afp_buf_putc(b, 0x5A);
    afp_buf_put16(b, (uint16_t) (8 + n));
    afp_buf_put24(b, id);
    afp_buf_putc(b, 0);
    afp_buf_put16(b, 0);
    afp_buf_append(b, d, n);
}

/* Builds one part (prefix, BDT, IMM, body, EDT) and hands it to the callback. */
static afp_status
emit(split_ctx *s, const afp_sf *bdt, size_t bdt_end, const span *imm, size_t body_start,
     size_t body_end, int64_t offset)
{
    afp_split_part p;
    const afp_document *d = next_doc(s);
    size_t i;

    s->part.len = 0;
    for (i = 0; i < s->nprefix; i++)
        afp_buf_append(&s->part, s->buf + s->prefix[i].start, s->prefix[i].end - s->prefix[i].start);
    afp_buf_append(&s->part, s->buf + bdt->offset, bdt_end - (size_t) bdt->offset);
    if (imm && imm->end > imm->start)
        afp_buf_append(&s->part, s->buf + imm->start, imm->end - imm->start);
    afp_buf_append(&s->part, s->buf + body_start, body_end - body_start);
    put_sf(&s->part, 0xD3A9A8, bdt->data, bdt->data_len >= 8 ? 8 : bdt->data_len);
    memset(&p, 0, sizeof(p));
    p.seq = ++s->seq;
    p.doc = d;
    p.offset = offset;
    p.afp = s->part.data;
    p.len = s->part.len;
    if (s->fn(s->cb, &p) != 0)
        return afp_error_set(s->err, AFP_ERR_INTERRUPTED, offset, NULL,
                             "splitting stopped after document %lld", (long long) p.seq);
    return AFP_OK;
}

/* Splits buf[0..len) into documents, calling fn for each one. */
afp_status
afp_split(const uint8_t *buf, size_t len, afp_split_fn fn, void *cb, int64_t *count,
          afp_error *err)
{
    split_ctx s;
    afp_reader r;
    afp_sf sf, bdt;
    uint8_t stack[MAX_DEPTH];
    int depth = 0, rc = 0, in_doc = 0, groups = 0;
    size_t copy_start = 0, bdt_end = 0, body_start = 0, doc_start = 0;
    span imm = {0, 0};
    afp_status st = AFP_OK;

    if (buf == NULL || fn == NULL)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL, "no input or callback given");
    memset(&s, 0, sizeof(s));
    memset(&bdt, 0, sizeof(bdt));
    s.buf = buf;
    s.fn = fn;
    s.cb = cb;
    s.err = err;
    afp_buf_init(&s.part);
    st = afp_documents(buf, len, &s.docs, err);
    if (st != AFP_OK)
        goto done;
    afp_reader_init(&r, buf, len);
    while (st == AFP_OK && (rc = afp_reader_next(&r, &sf, err)) == 1)
    {
        uint8_t type = afp_sf_type(sf.id), cat = afp_sf_category(sf.id);
        size_t end = (size_t) sf.offset + 1 + sf.length;

        if (type == T_BEGIN)
        {
            if (depth >= MAX_DEPTH)
            {
                st = afp_error_set(err, AFP_ERR_LIMIT, sf.offset, afp_sf_abbr(sf.id),
                                   "nesting deeper than %d levels", MAX_DEPTH);
                break;
            }
            if (!in_doc && cat == CAT_BDT)
            {
                in_doc = 1;
                groups = 0;
                bdt = sf;
                bdt_end = end;
                doc_start = (size_t) sf.offset;
                imm.start = imm.end = 0;
            }
            else if (in_doc && cat == CAT_BNG && stack[depth - 1] == CAT_BDT)
                body_start = (size_t) sf.offset;
            else if (!in_doc && (cat == CAT_BRG || cat == CAT_BFM)
                     && (depth == 0 || stack[depth - 1] == CAT_BPF))
                copy_start = (size_t) sf.offset;
            stack[depth++] = cat;
        }
        else if (type == T_END)
        {
            if (depth == 0)
                continue;       /* a stray End: leave it out */
            depth--;
            if (in_doc && cat == CAT_BNG && depth >= 1 && stack[depth - 1] == CAT_BDT)
            {
                groups++;
                st = emit(&s, &bdt, bdt_end, &imm, body_start, end, (int64_t) body_start);
            }
            else if (in_doc && cat == CAT_BDT && depth == (stack[0] == CAT_BPF ? 1 : 0))
            {
                if (groups == 0)
                    st = emit(&s, &bdt, bdt_end, NULL, bdt_end, (size_t) sf.offset,
                              (int64_t) doc_start);
                in_doc = 0;
            }
            else if (!in_doc && (cat == CAT_BRG || cat == CAT_BFM)
                     && (depth == 0 || stack[depth - 1] == CAT_BPF))
                prefix_add(&s, copy_start, end);
        }
        else if (in_doc && sf.id == ID_IMM && depth >= 1 && stack[depth - 1] == CAT_BDT)
        {
            imm.start = (size_t) sf.offset;
            imm.end = end;
        }
    }
    if (st == AFP_OK && rc < 0)
        st = err->status;
done:
    if (count)
        *count = s.seq;
    afp_document_list_free(&s.docs);
    afp_free(s.prefix);
    afp_buf_free(&s.part);
    return st;
}
