/*
 * afp_validate.c — structural validation of a MO:DCA stream.
 *
 * Checks, in one pass: framing (via the reader), flag bits, segmentation runs, Begin/End
 * pairing and names (modca-reference-10 Chapter 3 "Begin/End" and Chapter 4 Figures 23–32),
 * where common fields may appear, the triplets and repeating groups of fields the core decodes,
 * and the control-sequence chains of presentation text (ptoca-reference-04 Chapter 3).
 */
#include "afp.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MAX_DEPTH 64

typedef struct open_begin {
    uint32_t id;
    int64_t offset;
    uint8_t name[8];
    int has_name;
    int children;           /* fields seen directly inside */
    int aeg_count;          /* BPG/BMO: active environment groups seen */
    int pgd_seen;           /* BAG: PGD seen */
} open_begin;

typedef struct vstate {
    afp_issue_list *out;
    open_begin stack[MAX_DEPTH];
    int depth;
    int overflow;           /* Begins beyond MAX_DEPTH (counted, not tracked) */
} vstate;

/* Frees the issue list's storage. */
void
afp_issue_list_free(afp_issue_list *l)
{
    afp_free(l->items);
    l->items = NULL;
    l->count = l->cap = 0;
}

/* Records one problem. */
static void add_issue(vstate *v, afp_severity sev, int64_t offset, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static void
add_issue(vstate *v, afp_severity sev, int64_t offset, const char *fmt, ...)
{
    afp_issue *is;
    va_list ap;

    if (v->out->count == v->out->cap)
    {
        v->out->cap = v->out->cap ? v->out->cap * 2 : 16;
        v->out->items = afp_realloc(v->out->items, v->out->cap * sizeof(afp_issue));
    }
    is = &v->out->items[v->out->count++];
    is->severity = sev;
    is->offset = offset;
    va_start(ap, fmt);
    vsnprintf(is->message, sizeof(is->message), fmt, ap);
    va_end(ap);
}

/* Category of the innermost open Begin, 0 at top level. */
static uint8_t
parent_category(const vstate *v)
{
    if (v->depth == 0 || v->overflow)
        return 0;
    return afp_sf_category(v->stack[v->depth - 1].id);
}

/* Abbreviation of the Begin field of category cat. */
static const char *
begin_abbr(uint8_t cat)
{
    return afp_sf_abbr(0xD3A800u | cat);
}

/* True when cat is one of the n categories listed. */
static int
in_set(uint8_t cat, const uint8_t *set, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (set[i] == cat)
            return 1;
    return 0;
}

#define CAT_DOC 0xA8
#define CAT_PAGE 0xAF
#define CAT_GROUP 0xAD
#define CAT_AEG 0xC9
#define CAT_OEG 0xC7
#define CAT_OVERLAY 0xDF
#define CAT_SEGMENT 0x5F
#define CAT_RG 0xC6
#define CAT_RES 0xCE
#define CAT_TEXT 0x9B
#define CAT_IMAGE 0xFB
#define CAT_GRAPHICS 0xBB
#define CAT_BARCODE 0xEB
#define CAT_CONTAINER 0x92
#define CAT_PRINTFILE 0xA5
#define CAT_REG 0xD9

/* Checks that a field appears inside one of the allowed parents (n == 0: no rule). */
static void
check_parent(vstate *v, const afp_sf *sf, const uint8_t *allowed, size_t n, int top_ok)
{
    uint8_t p = parent_category(v);
    char list[128] = "";
    size_t i;

    if (v->overflow)
        return;
    if (p == 0 && top_ok)
        return;
    if (p != 0 && in_set(p, allowed, n))
        return;
    for (i = 0; i < n; i++)
    {
        if (i)
            strncat(list, i + 1 == n ? " or " : ", ", sizeof(list) - strlen(list) - 1);
        strncat(list, begin_abbr(allowed[i]), sizeof(list) - strlen(list) - 1);
    }
    add_issue(v, AFP_SEV_ERROR, sf->offset, "%s (%06X) must be inside %s, found %s", afp_sf_abbr(sf->id),
              sf->id, list, p ? begin_abbr(p) : "at top level");
}

/* Where each kind of field may appear. */
static void
check_placement(vstate *v, const afp_sf *sf)
{
    static const uint8_t page_parents[] = {CAT_DOC, CAT_GROUP};
    static const uint8_t group_parents[] = {CAT_DOC, CAT_GROUP};
    static const uint8_t doc_parents[] = {CAT_PRINTFILE};
    static const uint8_t aeg_parents[] = {CAT_PAGE, CAT_OVERLAY};
    static const uint8_t oeg_parents[] = {CAT_TEXT, CAT_IMAGE, CAT_GRAPHICS, CAT_BARCODE, CAT_CONTAINER};
    static const uint8_t res_parents[] = {CAT_RG};
    static const uint8_t include_parents[] = {CAT_PAGE, CAT_OVERLAY};
    static const uint8_t text[] = {CAT_TEXT};
    static const uint8_t image[] = {CAT_IMAGE};
    static const uint8_t graphics[] = {CAT_GRAPHICS};
    static const uint8_t barcode[] = {CAT_BARCODE};
    static const uint8_t container[] = {CAT_CONTAINER};
    static const uint8_t aeg[] = {CAT_AEG};
    static const uint8_t font_map[] = {CAT_AEG, CAT_REG};
    static const uint8_t oeg[] = {CAT_OEG};
    static const uint8_t image_desc[] = {CAT_OEG, CAT_IMAGE};
    static const uint8_t graphics_desc[] = {CAT_OEG, CAT_GRAPHICS};
    static const uint8_t barcode_desc[] = {CAT_OEG, CAT_BARCODE};
    static const uint8_t container_desc[] = {CAT_OEG, CAT_CONTAINER};
    static const uint8_t ptd_parents[] = {CAT_AEG, CAT_OEG};
    static const uint8_t object_parents[] = {CAT_PAGE, CAT_OVERLAY, CAT_SEGMENT, CAT_RES, CAT_DOC, CAT_GROUP};

#define RULE(list, top) check_parent(v, sf, list, sizeof(list), top)
    switch (sf->id)
    {
        case 0xD3A8AF: RULE(page_parents, 1); break;            /* BPG (top level: a bare page) */
        case 0xD3A8AD: RULE(group_parents, 0); break;           /* BNG */
        case 0xD3A8A8: RULE(doc_parents, 1); break;             /* BDT */
        case 0xD3A8C9: RULE(aeg_parents, 0); break;             /* BAG */
        case 0xD3A8C7: RULE(oeg_parents, 0); break;             /* BOG */
        case 0xD3A8CE: RULE(res_parents, 0); break;             /* BRS */
        case 0xD3AFC3:                                          /* IOB */
        case 0xD3AFD8:                                          /* IPO */
            RULE(include_parents, 0);
            break;
        case 0xD3EE9B: RULE(text, 0); break;                    /* PTX */
        case 0xD3EEFB: RULE(image, 0); break;                   /* IPD */
        case 0xD3EEBB: RULE(graphics, 0); break;                /* GAD */
        case 0xD3EEEB: RULE(barcode, 0); break;                 /* BDA */
        case 0xD3EE92: RULE(container, 0); break;               /* OCD */
        case 0xD3A6AF: RULE(aeg, 0); break;                     /* PGD */
        case 0xD3AB8A:                                          /* MCF-2 */
        case 0xD3B18A:                                          /* MCF-1 */
            RULE(font_map, 0);
            break;
        case 0xD3A66B:                                          /* OBD */
        case 0xD3AC6B:                                          /* OBP */
            RULE(oeg, 0);
            break;
        case 0xD3A6FB: RULE(image_desc, 0); break;              /* IDD */
        case 0xD3A6BB: RULE(graphics_desc, 0); break;           /* GDD */
        case 0xD3A6EB: RULE(barcode_desc, 0); break;            /* BDD */
        case 0xD3A692: RULE(container_desc, 0); break;          /* CDD */
        case 0xD3B19B: RULE(ptd_parents, 0); break;             /* PTD-2 */
        case 0xD3A89B:                                          /* BPT */
        case 0xD3A8FB:                                          /* BIM */
        case 0xD3A8BB:                                          /* BGR */
        case 0xD3A8EB:                                          /* BBC */
        case 0xD3A892:                                          /* BOC */
            RULE(object_parents, 1);
            break;
        default:
            break;
    }
#undef RULE
}

/* Validates the triplets in p[0..n) and records a malformed one. */
static void
check_triplets(vstate *v, const afp_sf *sf, const uint8_t *p, size_t n, int64_t off)
{
    afp_triplet_iter it;
    afp_triplet t;
    afp_error err;
    int rc;

    afp_error_clear(&err);
    afp_triplet_iter_init(&it, p, n, off);
    while ((rc = afp_triplet_next(&it, &t, &err)) == 1)
    {
        if (t.id == 0x02 && t.len < 2)
            add_issue(v, AFP_SEV_ERROR, t.offset, "%s: Fully Qualified Name triplet too short (%zu bytes)",
                      afp_sf_abbr(sf->id), t.len + 2);
        if (t.id == 0x24 && t.len != 2)
            add_issue(v, AFP_SEV_ERROR, t.offset, "%s: Resource Local Identifier triplet must be 4 bytes, is %zu",
                      afp_sf_abbr(sf->id), t.len + 2);
        if (t.id == 0x4B && t.len != 6)
            add_issue(v, AFP_SEV_ERROR, t.offset, "%s: Measurement Units triplet must be 8 bytes, is %zu",
                      afp_sf_abbr(sf->id), t.len + 2);
        if (t.id == 0x4C && t.len != 7)
            add_issue(v, AFP_SEV_ERROR, t.offset, "%s: Object Area Size triplet must be 9 bytes, is %zu",
                      afp_sf_abbr(sf->id), t.len + 2);
    }
    if (rc < 0)
        add_issue(v, AFP_SEV_ERROR, err.offset, "%s: %s", afp_sf_abbr(sf->id), err.message);
}

/* Validates 2-byte-RGLength repeating groups of triplets (MCF-2, MDR). */
static void
check_groups(vstate *v, const afp_sf *sf)
{
    size_t pos = 0;

    while (pos < sf->data_len)
    {
        size_t rg;

        if (sf->data_len - pos < 2)
        {
            add_issue(v, AFP_SEV_ERROR, sf->data_offset + (int64_t) pos,
                      "%s: %zu stray byte(s) after the last repeating group", afp_sf_abbr(sf->id),
                      sf->data_len - pos);
            return;
        }
        rg = ((size_t) sf->data[pos] << 8) | sf->data[pos + 1];
        if (rg < 2 || pos + rg > sf->data_len)
        {
            add_issue(v, AFP_SEV_ERROR, sf->data_offset + (int64_t) pos,
                      "%s: repeating group length %zu does not fit (%zu bytes remain)", afp_sf_abbr(sf->id), rg,
                      sf->data_len - pos);
            return;
        }
        check_triplets(v, sf, sf->data + pos + 2, rg - 2, sf->data_offset + (int64_t) pos + 2);
        pos += rg;
    }
}

/* Validates the PTOCA control-sequence chains in a PTX field. */
static void
check_ptx(vstate *v, const afp_sf *sf)
{
    const uint8_t *d = sf->data;
    size_t n = sf->data_len, pos = 0;
    int in_chain = 0;

    while (pos < n)
    {
        uint8_t len, type;

        if (!in_chain)
        {
            if (d[pos] != 0x2B || pos + 1 >= n || d[pos + 1] != 0xD3)
            {
                /* code points outside control sequences: skip to the next escape */
                while (pos < n && d[pos] != 0x2B)
                    pos++;
                if (pos < n && (pos + 1 >= n || d[pos + 1] != 0xD3))
                    pos++;
                continue;
            }
            pos += 2;
        }
        if (pos + 2 > n)
        {
            add_issue(v, AFP_SEV_ERROR, sf->data_offset + (int64_t) pos,
                      "PTX: control sequence truncated at the end of the field");
            return;
        }
        len = d[pos];
        type = d[pos + 1];
        if (len < 2 || pos + len > n)
        {
            add_issue(v, AFP_SEV_ERROR, sf->data_offset + (int64_t) pos,
                      "PTX: control sequence X'%02X' has length %u, %zu bytes remain", type, len, n - pos);
            return;
        }
        pos += len;
        in_chain = type & 1;
    }
    if (in_chain)
        add_issue(v, AFP_SEV_WARNING, sf->offset,
                  "PTX: control-sequence chain not ended (last sequence has an odd, chained type)");
}

/* Per-field checks of fields whose layout the core knows. */
static void
check_field(vstate *v, const afp_sf *sf)
{
    int tstart;

    if (sf->flags & ~(AFP_FLAG_EXT | AFP_FLAG_SEG | AFP_FLAG_PAD | 0x40))
        add_issue(v, AFP_SEV_WARNING, sf->offset + 6, "%s: reserved flag bits set (flag byte X'%02X')",
                  afp_sf_abbr(sf->id), sf->flags);
    if (!afp_sf_lookup(sf->id))
        add_issue(v, AFP_SEV_WARNING, sf->offset, "unknown structured field %06X", sf->id);
    if (sf->flags & AFP_FLAG_SEG)
        return;
    switch (sf->id)
    {
        case 0xD3AB8A:
        case 0xD3ABC3:
            check_groups(v, sf);
            break;
        case 0xD3EE9B:
            check_ptx(v, sf);
            break;
        case 0xD3A6AF:
            if (sf->data_len < 12)
                add_issue(v, AFP_SEV_ERROR, sf->offset, "PGD: %zu data bytes, at least 12 expected",
                          sf->data_len);
            else if (((sf->data[2] << 8) | sf->data[3]) == 0 || ((sf->data[4] << 8) | sf->data[5]) == 0)
                add_issue(v, AFP_SEV_ERROR, sf->data_offset + 2, "PGD: units per unit base must be 1..32767");
            break;
        case 0xD3AFC3:
            if (sf->data_len < 27)
                add_issue(v, AFP_SEV_ERROR, sf->offset, "IOB: %zu data bytes, at least 27 expected",
                          sf->data_len);
            break;
        default:
            break;
    }
    tstart = afp_sf_triplet_start(sf->id, sf->data_len);
    if (tstart >= 0)
        check_triplets(v, sf, sf->data + tstart, sf->data_len - (size_t) tstart, sf->data_offset + tstart);
}

/* Handles a Begin field: placement, then push. */
static void
on_begin(vstate *v, const afp_sf *sf)
{
    open_begin *b;

    if (v->depth >= MAX_DEPTH || v->overflow)
    {
        if (v->overflow == 0)
            add_issue(v, AFP_SEV_ERROR, sf->offset, "nesting deeper than %d Begin fields", MAX_DEPTH);
        v->overflow++;
        return;
    }
    if (v->depth > 0)
    {
        open_begin *p = &v->stack[v->depth - 1];

        p->children++;
        if (sf->id == 0xD3A8C9)
        {
            p->aeg_count++;
            if (p->aeg_count > 1)
                add_issue(v, AFP_SEV_ERROR, sf->offset, "second active environment group (BAG) in %s at offset %lld",
                          afp_sf_abbr(p->id), (long long) p->offset);
        }
    }
    b = &v->stack[v->depth++];
    memset(b, 0, sizeof(*b));
    b->id = sf->id;
    b->offset = sf->offset;
    if (sf->data_len >= 8)
    {
        memcpy(b->name, sf->data, 8);
        b->has_name = !(sf->data[0] == 0xFF && sf->data[1] == 0xFF);
    }
}

/* Handles an End field: matching Begin, names, required content; then pop. */
static void
on_end(vstate *v, const afp_sf *sf)
{
    uint8_t cat = afp_sf_category(sf->id);
    open_begin *b;
    int i;
    char n1[9], n2[9];

    if (v->overflow)
    {
        v->overflow--;
        return;
    }
    if (v->depth == 0)
    {
        add_issue(v, AFP_SEV_ERROR, sf->offset, "%s without a matching Begin (%s)", afp_sf_abbr(sf->id),
                  begin_abbr(cat));
        return;
    }
    b = &v->stack[v->depth - 1];
    if (afp_sf_category(b->id) != cat)
    {
        for (i = v->depth - 2; i >= 0; i--)
            if (afp_sf_category(v->stack[i].id) == cat)
                break;
        if (i < 0)
        {
            add_issue(v, AFP_SEV_ERROR, sf->offset, "%s does not match the open %s at offset %lld (no open %s)",
                      afp_sf_abbr(sf->id), afp_sf_abbr(b->id), (long long) b->offset, begin_abbr(cat));
            return;
        }
        while (v->depth - 1 > i)
        {
            b = &v->stack[v->depth - 1];
            add_issue(v, AFP_SEV_ERROR, b->offset, "%s at offset %lld is not ended before %s at offset %lld",
                      afp_sf_abbr(b->id), (long long) b->offset, afp_sf_abbr(sf->id), (long long) sf->offset);
            v->depth--;
        }
        b = &v->stack[v->depth - 1];
    }
    if (b->has_name && sf->data_len >= 8 && !(sf->data[0] == 0xFF && sf->data[1] == 0xFF) &&
        memcmp(b->name, sf->data, 8) != 0)
        add_issue(v, AFP_SEV_ERROR, sf->offset, "%s name '%s' does not match %s name '%s' at offset %lld",
                  afp_sf_abbr(sf->id), afp_token_name(sf->data, 8, n1), afp_sf_abbr(b->id),
                  afp_token_name(b->name, 8, n2), (long long) b->offset);
    if (b->id == 0xD3A8AF && b->aeg_count == 0)
        add_issue(v, AFP_SEV_ERROR, b->offset, "page (BPG) at offset %lld has no active environment group (BAG…EAG)",
                  (long long) b->offset);
    if (b->id == 0xD3A8C9 && !b->pgd_seen && v->depth >= 2)
    {
        uint32_t pid = v->stack[v->depth - 2].id;

        if (pid == 0xD3A8AF || pid == 0xD3A8DF)
            add_issue(v, AFP_SEV_ERROR, b->offset, "active environment group at offset %lld has no page descriptor (PGD)",
                      (long long) b->offset);
    }
    v->depth--;
}

/* Validates a whole stream; problems are appended to out. */
afp_status
afp_validate(const uint8_t *buf, size_t len, afp_issue_list *out, afp_error *err)
{
    vstate v;
    afp_reader r;
    afp_sf sf;
    afp_error rerr;
    int rc;
    uint32_t seg_id = 0;
    int64_t seg_off = -1;
    long nfields = 0;

    memset(&v, 0, sizeof(v));
    v.out = out;
    afp_error_clear(&rerr);
    if (len == 0)
    {
        add_issue(&v, AFP_SEV_ERROR, 0, "empty input: no structured fields");
        return AFP_OK;
    }
    afp_reader_init(&r, buf, len);
    while ((rc = afp_reader_next(&r, &sf, &rerr)) == 1)
    {
        if ((++nfields & 0xFFF) == 0 && afp_check_interrupt())
            return afp_error_set(err, AFP_ERR_INTERRUPTED, sf.offset, "", "validation interrupted");
        if (seg_off >= 0 && sf.id != seg_id)
            add_issue(&v, AFP_SEV_ERROR, sf.offset,
                      "%s interrupts the segmented %s started at offset %lld (segments must be consecutive)",
                      afp_sf_abbr(sf.id), afp_sf_abbr(seg_id), (long long) seg_off);
        if (sf.flags & AFP_FLAG_SEG)
        {
            if (seg_off < 0)
            {
                seg_off = sf.offset;
                seg_id = sf.id;
            }
        }
        else
            seg_off = -1;

        if (v.depth > 0 && !v.overflow && afp_sf_type(sf.id) != AFP_SF_END)
        {
            v.stack[v.depth - 1].children++;
            if (sf.id == 0xD3A6AF)
                v.stack[v.depth - 1].pgd_seen = 1;
        }
        check_placement(&v, &sf);
        check_field(&v, &sf);
        if (afp_sf_type(sf.id) == AFP_SF_BEGIN)
            on_begin(&v, &sf);
        else if (afp_sf_type(sf.id) == AFP_SF_END)
            on_end(&v, &sf);
    }
    if (rc < 0)
    {
        add_issue(&v, AFP_SEV_ERROR, rerr.offset, "%s", rerr.message);
        return AFP_OK;
    }
    if (seg_off >= 0)
        add_issue(&v, AFP_SEV_ERROR, seg_off, "segmented %s at offset %lld is never completed (last segment has X'20' set)",
                  afp_sf_abbr(seg_id), (long long) seg_off);
    while (v.depth > 0)
    {
        open_begin *b = &v.stack[--v.depth];

        add_issue(&v, AFP_SEV_ERROR, b->offset, "%s at offset %lld is never ended (missing %s at end of input)",
                  afp_sf_abbr(b->id), (long long) b->offset, afp_sf_abbr(0xD3A900u | afp_sf_category(b->id)));
    }
    return AFP_OK;
}
