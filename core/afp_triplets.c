/*
 * afp_triplets.c — MO:DCA triplets: iteration, names and JSON decoding of the common ones
 * (modca-reference-10 Chapter 6). Also knows where each field's triplets start.
 */
#include "afp.h"

#include <string.h>

/* Prepares an iterator over the triplets in p[0..len); base_offset is p[0]'s file offset. */
void
afp_triplet_iter_init(afp_triplet_iter *it, const uint8_t *p, size_t len, int64_t base_offset)
{
    it->p = p;
    it->len = len;
    it->pos = 0;
    it->base_offset = base_offset;
}

/* Returns the next triplet: 1 = triplet, 0 = end, -1 = malformed (err filled). */
int
afp_triplet_next(afp_triplet_iter *it, afp_triplet *t, afp_error *err)
{
    size_t remain;
    uint8_t tlen;

    if (it->pos >= it->len)
        return 0;
    remain = it->len - it->pos;
    tlen = it->p[it->pos];
    if (remain < 2 || tlen < 2 || (size_t) tlen > remain)
    {
        afp_error_set(err, AFP_ERR_FORMAT, it->base_offset + (int64_t) it->pos, "",
                      "malformed triplet: length %u with %zu bytes remaining (a triplet needs 2..%zu)",
                      tlen, remain, remain);
        return -1;
    }
    t->id = it->p[it->pos + 1];
    t->data = it->p + it->pos + 2;
    t->len = (size_t) tlen - 2;
    t->offset = it->base_offset + (int64_t) it->pos;
    it->pos += tlen;
    return 1;
}

/* Offset within a field's data where its triplets start; -1 when it has none at a fixed place. */
int
afp_sf_triplet_start(uint32_t id, size_t data_len)
{
    int start = -1;

    switch (id)
    {
        case 0xD3A8A8:          /* BDT: name, 2 reserved */
        case 0xD3A8CE:          /* BRS: name, 2 reserved */
            start = 10;
            break;
        case 0xD3A090:          /* TLE */
        case 0xD3A66B:          /* OBD */
        case 0xD3B2A7:          /* IEL */
            start = 0;
            break;
        case 0xD3AFC3:          /* IOB */
            start = 27;
            break;
        case 0xD3AF5F:          /* IPS */
            start = 14;
            break;
        case 0xD3AFD8:          /* IPO */
            start = 16;
            break;
        case 0xD3A6AF:          /* PGD */
            start = 15;
            break;
        case 0xD3A692:          /* CDD */
            start = 12;
            break;
        case 0xD3ABCC:          /* IMM */
            start = 8;
            break;
        default:
            if (afp_sf_type(id) == AFP_SF_BEGIN || afp_sf_type(id) == AFP_SF_END)
            {
                /* FOCA begin fields (code page, font, coded font) carry no triplets */
                uint8_t cat = afp_sf_category(id);

                if (cat != 0x87 && cat != 0x89 && cat != 0x8A)
                    start = 8;
            }
            break;
    }
    if (start < 0 || (size_t) start >= data_len)
        return -1;
    return start;
}

/* Name of a triplet ID (NULL when not one of the common ones). */
static const char *
triplet_name(uint8_t id)
{
    switch (id)
    {
        case 0x01: return "Coded Graphic Character Set Global Identifier";
        case 0x02: return "Fully Qualified Name";
        case 0x04: return "Mapping Option";
        case 0x10: return "Object Classification";
        case 0x18: return "MO:DCA Interchange Set";
        case 0x1F: return "Font Descriptor Specification";
        case 0x20: return "Font Coded Graphic Character Set Global Identifier";
        case 0x21: return "Resource Object Type";
        case 0x22: return "Extended Resource Local Identifier";
        case 0x24: return "Resource Local Identifier";
        case 0x25: return "Resource Section Number";
        case 0x26: return "Character Rotation";
        case 0x2D: return "Object Byte Offset";
        case 0x36: return "Attribute Value";
        case 0x43: return "Descriptor Position";
        case 0x45: return "Media Eject Control";
        case 0x4B: return "Measurement Units";
        case 0x4C: return "Object Area Size";
        case 0x4D: return "Area Definition";
        case 0x4E: return "Color Specification";
        case 0x50: return "Encoding Scheme ID";
        case 0x56: return "Medium Map Page Number";
        case 0x57: return "Object Byte Extent";
        case 0x58: return "Object Structured Field Offset";
        case 0x59: return "Object Structured Field Extent";
        case 0x5A: return "Object Offset";
        case 0x5D: return "Font Horizontal Scale Factor";
        case 0x5E: return "Object Count";
        case 0x62: return "Local Date and Time Stamp";
        case 0x65: return "Comment";
        case 0x68: return "Medium Orientation";
        case 0x6C: return "Resource Object Include";
        case 0x70: return "Presentation Space Reset Mixing";
        case 0x71: return "Presentation Space Mixing Rules";
        case 0x72: return "Universal Date and Time Stamp";
        case 0x74: return "Toner Saver";
        case 0x75: return "Color Fidelity";
        case 0x78: return "Font Fidelity";
        case 0x80: return "Attribute Qualifier";
        case 0x81: return "Page Position Information";
        case 0x82: return "Parameter Value";
        case 0x83: return "Presentation Control";
        case 0x84: return "Font Resolution and Metric Technology";
        case 0x85: return "Finishing Operation";
        case 0x86: return "Text Fidelity";
        case 0x87: return "Media Fidelity";
        case 0x88: return "Finishing Fidelity";
        case 0x8B: return "Data-Object Font Descriptor";
        case 0x8C: return "Locale Selector";
        case 0x91: return "Color Management Resource Descriptor";
        case 0x95: return "Rendering Intent";
        case 0x96: return "CMR Tag Fidelity";
        case 0x97: return "Device Appearance";
        case 0x9A: return "Image Resolution";
        case 0x9C: return "Object Container Presentation Space Size";
        case 0x9D: return "Keep Group Together";
        case 0x9E: return "Setup Name";
        default: return NULL;
    }
}

/* Name of an FQN type (Chapter 6, triplet X'02'). */
static const char *
fqn_type_name(uint8_t t)
{
    switch (t)
    {
        case 0x01: return "replace first GID name";
        case 0x07: return "font family name";
        case 0x08: return "font typeface name";
        case 0x09: return "MO:DCA resource hierarchy reference";
        case 0x0A: return "begin resource group reference";
        case 0x0B: return "attribute GID";
        case 0x0C: return "process element GID";
        case 0x0D: return "begin page group reference";
        case 0x11: return "media type reference";
        case 0x12: return "media destination reference";
        case 0x41: return "color management resource reference";
        case 0x6E: return "data-object font base font identifier";
        case 0x7E: return "data-object font linked font identifier";
        case 0x83: return "begin document reference";
        case 0x84: return "resource object reference";
        case 0x85: return "code page name reference";
        case 0x86: return "font character set name reference";
        case 0x87: return "begin page reference";
        case 0x8D: return "begin medium map reference";
        case 0x8E: return "coded font name reference";
        case 0x98: return "begin document index reference";
        case 0xB0: return "begin overlay reference";
        case 0xBE: return "data-object internal resource reference";
        case 0xCA: return "index element GID";
        case 0xCE: return "other object data reference";
        case 0xDE: return "data-object external resource reference";
        default: return "unknown";
    }
}

/* Appends a byte string as upper-case hex inside a JSON string. */
static void
json_hex(afp_buf *out, const uint8_t *p, size_t n)
{
    size_t i;

    afp_buf_putc(out, '"');
    for (i = 0; i < n; i++)
        afp_buf_printf(out, "%02X", p[i]);
    afp_buf_putc(out, '"');
}

/* Decodes character data (EBCDIC CP500, or ASCII when no byte has the high bit set); trailing
 * blanks (padding) are dropped. */
void
afp_chars_to_utf8(const uint8_t *p, size_t n, afp_buf *out)
{
    const afp_codepage *cp = afp_codepage_find("T1V10500");
    size_t i;
    int ebcdic = 0;

    for (i = 0; i < n; i++)
        if (p[i] >= 0x80)
            ebcdic = 1;
    while (n > 0 && (p[n - 1] == 0x40 || p[n - 1] == 0x00 || (!ebcdic && p[n - 1] == 0x20)))
        n--;                    /* names and values are blank padded (X'40' EBCDIC blank) */
    for (i = 0; i < n; i++)
    {
        uint32_t u = ebcdic && cp ? afp_codepage_to_unicode(cp, p[i]) : p[i];

        if (u < 0x20 || u == 0x7F)
            u = 0xFFFD;
        afp_utf8_put(out, u);
    }
}

/* Appends character data as a JSON string (see afp_chars_to_utf8). */
static void
afp_json_chars(afp_buf *out, const uint8_t *p, size_t n)
{
    afp_buf s;

    afp_buf_init(&s);
    afp_chars_to_utf8(p, n, &s);
    afp_buf_json_string(out, (const char *) s.data, s.len);
    afp_buf_free(&s);
}

static uint32_t
be16(const uint8_t *p)
{
    return ((uint32_t) p[0] << 8) | p[1];
}

static uint32_t
be24(const uint8_t *p)
{
    return ((uint32_t) p[0] << 16) | ((uint32_t) p[1] << 8) | p[2];
}

/* Sign-extends a 24-bit big-endian value. */
static int32_t
sbe24(const uint8_t *p)
{
    uint32_t v = be24(p);

    return (v & 0x800000) ? (int32_t) v - 0x1000000 : (int32_t) v;
}

/* Appends one triplet as a JSON object with its decoded parameters. */
static void
triplet_json(afp_buf *out, const afp_triplet *t)
{
    const uint8_t *d = t->data;
    size_t n = t->len;
    const char *name = triplet_name(t->id);

    afp_buf_printf(out, "{\"id\": \"%02X\"", t->id);
    if (name)
        afp_buf_printf(out, ", \"name\": \"%s\"", name);
    switch (t->id)
    {
        case 0x01:
            if (n >= 4 && be16(d) == 0)
                afp_buf_printf(out, ", \"ccsid\": %u", be16(d + 2));
            else if (n >= 4)
                afp_buf_printf(out, ", \"gcsgid\": %u, \"cpgid\": %u", be16(d), be16(d + 2));
            break;
        case 0x02:
            if (n >= 2)
            {
                afp_buf_printf(out, ", \"type\": \"%02X\", \"type_name\": \"%s\", \"format\": \"%02X\"",
                               d[0], fqn_type_name(d[0]), d[1]);
                afp_buf_append(out, ", \"value\": ", 11);
                if (d[1] == 0x10)
                    json_hex(out, d + 2, n - 2);
                else if (d[1] == 0x20)
                {
                    afp_buf_json_string(out, (const char *) d + 2, n - 2);
                }
                else
                    afp_json_chars(out, d + 2, n - 2);
            }
            break;
        case 0x10:
            if (n >= 2)
                afp_buf_printf(out, ", \"class\": \"%02X\"", d[1]);
            if (n >= 20)
            {
                afp_buf_append(out, ", \"oid\": ", 9);
                json_hex(out, d + 4, 16);
            }
            break;
        case 0x18:
            if (n >= 3)
                afp_buf_printf(out, ", \"set_type\": \"%02X\", \"set_id\": \"%04X\"", d[0], be16(d + 1));
            break;
        case 0x21:
            if (n >= 1)
                afp_buf_printf(out, ", \"object_type\": \"%02X\"", d[0]);
            break;
        case 0x22:
            if (n >= 5)
                afp_buf_printf(out, ", \"resource_type\": \"%02X\", \"lid\": %u", d[0],
                               (unsigned) ((be16(d + 1) << 16) | be16(d + 3)));
            break;
        case 0x24:
            if (n >= 2)
                afp_buf_printf(out, ", \"resource_type\": \"%02X\", \"lid\": %u", d[0], d[1]);
            break;
        case 0x25:
            if (n >= 1)
                afp_buf_printf(out, ", \"section\": %u", d[0]);
            break;
        case 0x26:
            if (n >= 2)
                afp_buf_printf(out, ", \"rotation\": %u", be16(d) >> 7);
            break;
        case 0x36:
            afp_buf_append(out, ", \"value\": ", 11);
            afp_json_chars(out, n >= 2 ? d + 2 : d, n >= 2 ? n - 2 : 0);
            break;
        case 0x4B:
            if (n >= 6)
                afp_buf_printf(out, ", \"x_base\": \"%s\", \"y_base\": \"%s\", \"x_units\": %u, \"y_units\": %u",
                               d[0] ? "10cm" : "10in", d[1] ? "10cm" : "10in", be16(d + 2), be16(d + 4));
            break;
        case 0x4C:
            if (n >= 7)
                afp_buf_printf(out, ", \"size_type\": \"%02X\", \"x_size\": %u, \"y_size\": %u", d[0],
                               be24(d + 1), be24(d + 4));
            break;
        case 0x50:
            if (n >= 2)
                afp_buf_printf(out, ", \"esid\": \"%04X\"", be16(d));
            break;
        case 0x56:
        case 0x5E:
            if (n >= 4)
                afp_buf_printf(out, ", \"value\": %u", (unsigned) ((be16(d) << 16) | be16(d + 2)));
            break;
        case 0x65:
            afp_buf_append(out, ", \"text\": ", 10);
            afp_json_chars(out, d, n);
            break;
        case 0x68:
            if (n >= 1)
                afp_buf_printf(out, ", \"orientation\": %u", d[0]);
            break;
        case 0x80:
            if (n >= 8)
                afp_buf_printf(out, ", \"seq\": %u, \"level\": %u",
                               (unsigned) ((be16(d) << 16) | be16(d + 2)),
                               (unsigned) ((be16(d + 4) << 16) | be16(d + 6)));
            break;
        default:
            break;
    }
    afp_buf_append(out, ", \"hex\": ", 9);
    json_hex(out, d, n < 64 ? n : 64);
    afp_buf_putc(out, '}');
}

/* Appends "triplets": [...] for p[0..n); on a malformed triplet adds "triplet_error". */
static void
triplets_json(afp_buf *out, const char *key, const uint8_t *p, size_t n, int64_t off)
{
    afp_triplet_iter it;
    afp_triplet t;
    afp_error err;
    int rc, first = 1;

    afp_error_clear(&err);
    afp_triplet_iter_init(&it, p, n, off);
    afp_buf_printf(out, ", \"%s\": [", key);
    while ((rc = afp_triplet_next(&it, &t, &err)) == 1)
    {
        if (!first)
            afp_buf_append(out, ", ", 2);
        first = 0;
        triplet_json(out, &t);
    }
    afp_buf_putc(out, ']');
    if (rc < 0)
    {
        afp_buf_append(out, ", \"triplet_error\": ", 19);
        afp_buf_json_string(out, err.message, strlen(err.message));
    }
}

/* Appends the 8-byte token name at p as "key": "NAME" (X'FFFF…' = match any name). */
static void
name_json(afp_buf *out, const char *key, const uint8_t *p, size_t n)
{
    afp_buf_printf(out, ", \"%s\": ", key);
    if (n >= 2 && p[0] == 0xFF && p[1] == 0xFF)
        afp_buf_append(out, "\"*\"", 3);
    else
        afp_json_chars(out, p, n);
}

/* Appends repeating groups with a 2-byte RGLength followed by triplets (MCF-2, MDR). */
static void
groups_json(afp_buf *out, const afp_sf *sf, size_t start, int len_bytes)
{
    size_t pos = start;
    int first = 1;

    afp_buf_append(out, ", \"groups\": [", 13);
    while (pos + (size_t) len_bytes <= sf->data_len)
    {
        size_t rg = len_bytes == 2 ? be16(sf->data + pos) : sf->data[pos];

        if (rg < (size_t) len_bytes || pos + rg > sf->data_len)
        {
            afp_buf_printf(out, "], \"group_error\": \"repeating group at byte offset %lld has length %zu, "
                           "%zu bytes remain\"", (long long) (sf->data_offset + (int64_t) pos), rg,
                           sf->data_len - pos);
            return;
        }
        afp_buf_append(out, first ? "{" : ", {", first ? 1 : 3);
        first = 0;
        afp_buf_printf(out, "\"length\": %zu", rg);
        triplets_json(out, "triplets", sf->data + pos + len_bytes, rg - (size_t) len_bytes,
                      sf->data_offset + (int64_t) (pos + (size_t) len_bytes));
        afp_buf_putc(out, '}');
        pos += rg;
    }
    afp_buf_putc(out, ']');
}

/* Appends MCF-1 repeating groups (Appendix C: RGLength(1) + 3 reserved, then groups of
 * RGLength bytes: LID, reserved, section, reserved, coded font, code page, character set
 * names, optional rotation). */
static void
mcf1_json(afp_buf *out, const afp_sf *sf)
{
    size_t pos = 4, rg;
    int first = 1;

    if (sf->data_len < 4)
        return;
    rg = sf->data[0];
    afp_buf_append(out, ", \"groups\": [", 13);
    while (rg >= 28 && pos + rg <= sf->data_len)
    {
        const uint8_t *g = sf->data + pos;

        afp_buf_append(out, first ? "{" : ", {", first ? 1 : 3);
        first = 0;
        afp_buf_printf(out, "\"lid\": %u, \"section\": %u", g[0], g[2]);
        name_json(out, "coded_font", g + 4, 8);
        name_json(out, "code_page", g + 12, 8);
        name_json(out, "character_set", g + 20, 8);
        if (rg >= 30)
            afp_buf_printf(out, ", \"rotation\": %u", be16(g + 28) >> 7);
        afp_buf_putc(out, '}');
        pos += rg;
    }
    afp_buf_putc(out, ']');
    if (pos != sf->data_len)
        afp_buf_printf(out, ", \"group_error\": \"repeating groups of %zu bytes do not fill the %zu data bytes\"",
                       rg, sf->data_len - 4);
}

/* Appends the decoded details of one structured field as a JSON object. */
afp_status
afp_sf_detail_json(const afp_sf *sf, afp_buf *out, afp_error *err)
{
    const afp_sf_info *info = afp_sf_lookup(sf->id);
    const uint8_t *d = sf->data;
    size_t n = sf->data_len;
    int tstart;
    uint8_t type = afp_sf_type(sf->id);

    (void) err;
    afp_buf_putc(out, '{');
    afp_buf_append(out, "\"name\": ", 8);
    if (info)
        afp_buf_json_string(out, info->name, strlen(info->name));
    else
        afp_buf_append(out, "\"unknown structured field\"", 26);
    if (sf->flags)
        afp_buf_printf(out, ", \"flags\": \"%02X\"", sf->flags);
    if (sf->ext_len)
        afp_buf_printf(out, ", \"extension_length\": %zu", sf->ext_len);
    if (sf->pad_len)
        afp_buf_printf(out, ", \"padding_length\": %zu", sf->pad_len);
    afp_buf_printf(out, ", \"data_length\": %zu", n);

    if (sf->flags & AFP_FLAG_SEG)
    {
        /* segmented data continues in the next field: decode nothing partial */
        afp_buf_putc(out, '}');
        return AFP_OK;
    }
    switch (sf->id)
    {
        case 0xD3AB8A:          /* MCF-2 */
        case 0xD3ABC3:          /* MDR */
            groups_json(out, sf, 0, 2);
            break;
        case 0xD3B18A:          /* MCF-1 */
            mcf1_json(out, sf);
            break;
        case 0xD3AFC3:          /* IOB */
            if (n >= 27)
            {
                name_json(out, "object_name", d, 8);
                afp_buf_printf(out, ", \"object_type\": \"%02X\", \"x_offset\": %d, \"y_offset\": %d, "
                               "\"x_rotation\": %u, \"y_rotation\": %u", d[9], sbe24(d + 10), sbe24(d + 13),
                               be16(d + 16) >> 7, be16(d + 18) >> 7);
            }
            break;
        case 0xD3AF5F:          /* IPS */
        case 0xD3AFD8:          /* IPO */
            if (n >= 14)
            {
                name_json(out, sf->id == 0xD3AF5F ? "segment_name" : "overlay_name", d, 8);
                afp_buf_printf(out, ", \"x_offset\": %d, \"y_offset\": %d", sbe24(d + 8), sbe24(d + 11));
                if (sf->id == 0xD3AFD8 && n >= 16)
                    afp_buf_printf(out, ", \"rotation\": %u", be16(d + 14) >> 7);
            }
            break;
        case 0xD3A6AF:          /* PGD */
        case 0xD3B19B:          /* PTD-2 */
            if (n >= 12)
                afp_buf_printf(out, ", \"x_base\": \"%s\", \"y_base\": \"%s\", \"x_units\": %u, \"y_units\": %u, "
                               "\"x_size\": %u, \"y_size\": %u", d[0] ? "10cm" : "10in",
                               d[1] ? "10cm" : "10in", be16(d + 2), be16(d + 4), be24(d + 6), be24(d + 9));
            break;
        case 0xD3AC6B:          /* OBP */
            if (n >= 24)
                afp_buf_printf(out, ", \"position_id\": %u, \"x_offset\": %d, \"y_offset\": %d, "
                               "\"x_rotation\": %u, \"y_rotation\": %u, \"x_content_offset\": %d, "
                               "\"y_content_offset\": %d, \"reference\": \"%02X\"",
                               d[0], sbe24(d + 2), sbe24(d + 5), be16(d + 8) >> 7, be16(d + 10) >> 7,
                               sbe24(d + 13), sbe24(d + 16), d[23]);
            break;
        case 0xD3ABCC:          /* IMM */
            if (n >= 8)
                name_json(out, "medium_map", d, 8);
            break;
        default:
            if ((type == AFP_SF_BEGIN || type == AFP_SF_END) && n >= 8)
                name_json(out, "object_name", d, 8);
            break;
    }
    tstart = afp_sf_triplet_start(sf->id, n);
    if (tstart >= 0)
        triplets_json(out, "triplets", d + tstart, n - (size_t) tstart, sf->data_offset + tstart);
    afp_buf_putc(out, '}');
    return AFP_OK;
}
