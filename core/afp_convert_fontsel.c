/*
 * afp_convert_fontsel.c — which PDF font draws an AFP font: the font map, the raster font
 * character sets carried in the file, then the default mapping by name.
 *
 * Order for a font reference (character set name, coded font name, code page):
 *   1. the first font map entry whose patterns match (option "font_map", `afp pdf --font-map`,
 *      the afp.font_map table in SQL): a Liberation face, a standard-14 reference, or a
 *      TrueType/OpenType file or bytes (embedded as carried fonts are);
 *   2. a raster font character set (FOCA, pattern technology X'05') of that name carried in the
 *      file, drawn as a Type 3 font (afp_convert_raster.c), unless "raster_fonts" is false;
 *   3. the IBM core font name mapping to Liberation (afp_convert_fonts.c).
 * A map entry whose font cannot be loaded is reported once and skipped (steps 2-3 apply).
 *
 * The font character sets of the file (BFN … EFN outside pages) are recorded by the converter's
 * first pass (pdf_fontsel_note) and every raster set is checked before the first page is written, so a damaged one fails the
 * conversion with the offset of the field at fault instead of surfacing in the middle of a page.
 */
#include "afp_pdf_int.h"

#include "afp_gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define FONTSEL_MAX_FCS 4096
#define FONTSEL_MAX_FILE ((long) 64 << 20)

/* A font character set carried in the file. */
typedef struct fcs_entry {
    char name[9];
    size_t start, end;          /* BFN … after EFN */
    int closed;                 /* its EFN was seen */
    int raster;
} fcs_entry;

/* A raster font opened for one point size. */
typedef struct raster_open {
    char name[9];
    double size;
    pdf_font *pf;               /* NULL: could not be opened */
} raster_open;

struct pdf_fontsel {
    const uint8_t *buf;
    size_t len;
    const afp_pdf_options *opts;
    fcs_entry *fcs;
    size_t nfcs, capfcs;
    long cur;                   /* the set whose EFN is awaited, -1 none */
    raster_open *ro;
    size_t nro, capro;
    pdf_font **map_font;        /* per map entry: its loaded font (files, bytes) */
    uint8_t *map_tried;
    pdf_font *cjk;              /* CJK font for double-byte text (afp_convert_cid.c) */
    int cjk_tried;
    char cjk_missing[24];       /* first double-byte font without a CJK font */
};

static const char *const base14_names[3][4] = {
    {"Helvetica", "Helvetica-Oblique", "Helvetica-Bold", "Helvetica-BoldOblique"},
    {"Times-Roman", "Times-Italic", "Times-Bold", "Times-BoldItalic"},
    {"Courier", "Courier-Oblique", "Courier-Bold", "Courier-BoldOblique"}};
static const char *const family_names[3] = {"sans", "serif", "mono"};
static const char *const style_names[4] = {"regular", "italic", "bold", "bold-italic"};

/* ------------------------------------------------------------------ entries and options */

/* Appends a zeroed entry. */
afp_pdf_font_map *
afp_pdf_font_map_add(afp_pdf_options *o)
{
    afp_pdf_font_map *e;

    o->font_map = afp_text_grow(o->font_map, &o->capfont_map, o->nfont_map + 1,
                                sizeof(afp_pdf_font_map));
    e = &o->font_map[o->nfont_map++];
    memset(e, 0, sizeof(*e));
    return e;
}

/* Frees the entries and their paths. */
void
afp_pdf_options_free(afp_pdf_options *o)
{
    size_t i;

    for (i = 0; i < o->nfont_map; i++)
        afp_free(o->font_map[i].path);
    afp_free(o->font_map);
    o->font_map = NULL;
    o->nfont_map = o->capfont_map = 0;
    afp_free(o->code_pages);
    o->code_pages = NULL;
    o->ncode_pages = o->capcode_pages = 0;
}

/* True for a valid name pattern: 1-16 letters, digits, national characters, '*', '?'. */
static int
pattern_ok(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n > 16)
        return 0;
    for (i = 0; i < n; i++)
    {
        char c = s[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '@' || c == '#' || c == '$' || c == '*' || c == '?' || c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

/* Index of s in a list of names (case-insensitive), -1 if absent. */
static int
name_index(const char *s, const char *const *names, int n)
{
    int i;

    for (i = 0; i < n; i++)
        if (strcasecmp(s, names[i]) == 0)
            return i;
    return -1;
}

/* Fills one entry from a JSON object; errors name "source[i].key". */
static afp_status
parse_entry(afp_pdf_font_map *e, const afp_json *v, const char *source, size_t i, afp_error *err)
{
    static const char *const pat_keys[3] = {"char_set", "coded_font", "code_page"};
    char *pats[3] = {e->char_set, e->coded_font, e->code_page};
    const afp_json *style = NULL;
    int repl = 0;
    size_t k;

    {
        const char *base = strrchr(source, '/');    /* a file: its name */

        snprintf(e->label, sizeof(e->label), "%.32s[%u]", base && base[1] ? base + 1 : source,
                 (unsigned) (i % 100000));
    }
    if (v->type != AFP_JSON_OBJECT)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL, "%s: expected an object", e->label);
    for (k = 0; k < v->count; k++)
    {
        const char *key = v->keys[k];
        const afp_json *x = v->items[k];
        int p;

        for (p = 0; p < 3; p++)
            if (strcmp(key, pat_keys[p]) == 0)
                break;
        if (p < 3)
        {
            if (x->type != AFP_JSON_STRING || !pattern_ok(x->string, x->string_len))
                return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL,
                                     "%s.%s: expected a name pattern of 1-16 letters, digits, "
                                     "@#$-_ and the wildcards * and ?", e->label, key);
            memcpy(pats[p], x->string, x->string_len + 1);
            continue;
        }
        if (strcmp(key, "style") == 0)
        {
            style = x;
            continue;
        }
        if (strcmp(key, "liberation") == 0 || strcmp(key, "base14") == 0 ||
            strcmp(key, "file") == 0)
        {
            if (repl++)
                return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL,
                                     "%s: give exactly one of liberation, base14, file", e->label);
            if (x->type != AFP_JSON_STRING || x->string_len == 0)
                return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL,
                                     "%s.%s: expected a non-empty string", e->label, key);
        }
        if (strcmp(key, "liberation") == 0)
        {
            e->kind = AFP_PDF_FONT_LIBERATION;
            e->family = name_index(x->string, family_names, 3);
            if (e->family < 0)
                return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL,
                                     "%s.liberation: expected \"sans\", \"serif\" or \"mono\"",
                                     e->label);
        }
        else if (strcmp(key, "base14") == 0)
        {
            int f, s, found = 0;

            e->kind = AFP_PDF_FONT_BASE14;
            for (f = 0; f < 3 && !found; f++)
                for (s = 0; s < 4 && !found; s++)
                    if (strcmp(x->string, base14_names[f][s]) == 0)
                    {
                        e->family = f;
                        e->style = s;
                        found = 1;
                    }
            if (!found)
                return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL,
                                     "%s.base14: expected one of Helvetica, Times-Roman, Courier "
                                     "and their -Bold, -Italic/-Oblique variants", e->label);
        }
        else if (strcmp(key, "file") == 0)
        {
            e->kind = AFP_PDF_FONT_FILE;
            e->path = afp_alloc(x->string_len + 1);
            memcpy(e->path, x->string, x->string_len + 1);
        }
        else if (strcmp(key, "comment") != 0)
            return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL,
                                 "%s: unknown key \"%.60s\" (known: char_set, coded_font, "
                                 "code_page, liberation, style, base14, file, comment)", e->label,
                                 key);
    }
    if (repl == 0)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL,
                             "%s: give one of liberation, base14, file", e->label);
    if (e->char_set[0] == '\0' && e->coded_font[0] == '\0')
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL,
                             "%s: give char_set or coded_font (a name pattern)", e->label);
    if (style != NULL)
    {
        if (e->kind != AFP_PDF_FONT_LIBERATION)
            return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL,
                                 "%s.style: only with liberation (base14 names carry their style)",
                                 e->label);
        if (style->type != AFP_JSON_STRING ||
            (e->style = name_index(style->string, style_names, 4)) < 0)
            return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL,
                                 "%s.style: expected \"regular\", \"italic\", \"bold\" or "
                                 "\"bold-italic\"", e->label);
    }
    return AFP_OK;
}

/* Appends the entries of a parsed JSON array. */
static afp_status
parse_entries(afp_pdf_options *o, const afp_json *arr, const char *source, afp_error *err)
{
    size_t i;

    if (arr->type != AFP_JSON_ARRAY)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL,
                             "%s: expected an array of font map entries", source);
    for (i = 0; i < arr->count; i++)
    {
        afp_status st = parse_entry(afp_pdf_font_map_add(o), arr->items[i], source, i, err);

        if (st != AFP_OK)
        {
            afp_free(o->font_map[o->nfont_map - 1].path);
            o->nfont_map--;
            return st;
        }
    }
    return AFP_OK;
}

/* Reads font map entries from JSON text (an array, or an object with "font_map"). */
afp_status
afp_pdf_font_map_parse(afp_pdf_options *o, const char *json, size_t len, const char *source,
                       afp_error *err)
{
    afp_json *root = NULL;
    const afp_json *arr;
    afp_status st;

    st = afp_json_parse(json, len, &root, err);
    if (st != AFP_OK)
    {
        char msg[sizeof(err->message)];

        memcpy(msg, err->message, sizeof(msg));
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL, "%s: %.400s", source, msg);
    }
    arr = root->type == AFP_JSON_OBJECT ? afp_json_get(root, "font_map") : root;
    st = parse_entries(o, arr ? arr : root, source, err);
    afp_json_free(root);
    return st;
}

/* The font options of afp_pdf_options_parse: "font_map" (entries, true or false) and
 * "raster_fonts" (true or false). */
afp_status
cv_fontsel_option(afp_pdf_options *o, const char *key, const afp_json *v, afp_error *err)
{
    if (strcmp(key, "raster_fonts") == 0)
    {
        if (v->type != AFP_JSON_TRUE && v->type != AFP_JSON_FALSE)
            return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL,
                                 "options.raster_fonts: expected true or false");
        o->raster_fonts = v->type == AFP_JSON_TRUE;
        return AFP_OK;
    }
    if (v->type == AFP_JSON_TRUE || v->type == AFP_JSON_FALSE)
    {
        o->font_map_table = v->type == AFP_JSON_TRUE;
        return AFP_OK;
    }
    if (v->type != AFP_JSON_ARRAY)
        return afp_error_set(err, AFP_ERR_ARGUMENT, -1, NULL,
                             "options.font_map: expected an array of entries, true or false");
    return parse_entries(o, v, "options.font_map", err);
}

/* ------------------------------------------------------------------ matching */

/* Code page name of a font reference ("" if none). */
static const char *
ref_codepage(const afp_font_ref *f)
{
    if (f->dcp)
        return afp_dbcs_name(f->dcp);
    if (f->icp)
        return f->icp->name;
    if (f->cp)
        return afp_codepage_name(f->cp);
    return "";
}

/* The first entry matching a font reference, or -1. */
static long
map_match(const afp_pdf_options *o, const afp_font_ref *f)
{
    size_t i;

    for (i = 0; o && i < o->nfont_map; i++)
    {
        const afp_pdf_font_map *e = &o->font_map[i];

        if (e->char_set[0] && !afp_glob_ci(e->char_set, f->fcs))
            continue;
        if (e->coded_font[0] && !afp_glob_ci(e->coded_font, f->cf))
            continue;
        if (e->code_page[0] && !afp_glob_ci(e->code_page, ref_codepage(f)))
            continue;
        return (long) i;
    }
    return -1;
}

/* ------------------------------------------------------------------ setup */

/* The selection state of a font set (allocated on first use). */
static struct pdf_fontsel *
sel_get(pdf_fonts *fs)
{
    if (fs->sel == NULL)
    {
        fs->sel = afp_alloc(sizeof(struct pdf_fontsel));
        memset(fs->sel, 0, sizeof(struct pdf_fontsel));
        fs->sel->cur = -1;
    }
    return fs->sel;
}

/* Records a BFN or EFN outside pages (called by the converter's first pass). */
void
pdf_fontsel_note(pdf_fonts *fs, const afp_sf *sf, size_t len)
{
    struct pdf_fontsel *sel = sel_get(fs);

    if (sf->id == 0xD3A889 && sel->nfcs < FONTSEL_MAX_FCS)     /* BFN */
    {
        fcs_entry *e;

        sel->fcs = afp_text_grow(sel->fcs, &sel->capfcs, sel->nfcs + 1, sizeof(*e));
        e = &sel->fcs[sel->nfcs];
        memset(e, 0, sizeof(*e));
        cv_token(sf->data, sf->data_len, e->name);
        e->start = (size_t) sf->offset;
        e->end = len;
        sel->cur = (long) sel->nfcs++;
    }
    else if (sf->id == 0xD3A989 && sel->cur >= 0)               /* EFN */
    {
        sel->fcs[sel->cur].end = (size_t) sf->offset + 1 + sf->length;
        sel->fcs[sel->cur].closed = 1;
        sel->cur = -1;
    }
}

/* Keeps the font map and checks the raster font character sets the first pass recorded. */
afp_status
pdf_fontsel_init(pdf_fonts *fs, const uint8_t *buf, size_t len, const afp_pdf_options *o,
                 afp_error *err)
{
    struct pdf_fontsel *sel = sel_get(fs);
    size_t i;

    sel->buf = buf;
    sel->len = len;
    sel->opts = o;
    if (o->nfont_map)
    {
        sel->map_font = afp_alloc(o->nfont_map * sizeof(pdf_font *));
        memset(sel->map_font, 0, o->nfont_map * sizeof(pdf_font *));
        sel->map_tried = afp_alloc(o->nfont_map);
        memset(sel->map_tried, 0, o->nfont_map);
    }
    if (!o->raster_fonts)
        return AFP_OK;         /* font character sets are only needed for raster fonts */
    for (i = 0; i < sel->nfcs; i++)
    {
        fcs_entry *e = &sel->fcs[i];
        afp_status st;

        if (!e->closed)
            return afp_error_set(err, AFP_ERR_FORMAT, (int64_t) e->start, "BFN",
                                 "font character set %s has no End Font (EFN)", e->name);
        if (afp_check_interrupt())
            return afp_error_set(err, AFP_ERR_INTERRUPTED, (int64_t) e->start, "BFN",
                                 "interrupted");
        st = pdf_raster_check(buf, e->start, e->end, &e->raster, err);
        if (st != AFP_OK)
            return st;
    }
    return AFP_OK;
}

/* The first double-byte font no CJK font was found for, "" if none. */
const char *
pdf_fontsel_cjk_missing(const pdf_fonts *fs)
{
    return fs->sel ? fs->sel->cjk_missing : "";
}

/* Frees the selection state. */
void
pdf_fontsel_free(pdf_fonts *fs)
{
    struct pdf_fontsel *sel = fs->sel;

    if (sel == NULL)
        return;
    afp_free(sel->fcs);
    afp_free(sel->ro);
    afp_free(sel->map_font);
    afp_free(sel->map_tried);
    afp_free(sel);
    fs->sel = NULL;
}

/* ------------------------------------------------------------------ resolution */

/* Reads a font file (at most 64 MB) into afp_alloc memory; NULL when unreadable. Also reads the
 * CJK font (afp_convert_cid.c). */
uint8_t *
pdf_font_file_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && n <= FONTSEL_MAX_FILE &&
        fseek(f, 0, SEEK_SET) == 0)
    {
        data = afp_alloc((size_t) n);
        if (fread(data, 1, (size_t) n, f) != (size_t) n)
        {
            afp_free(data);
            data = NULL;
        }
        else
            *len = (size_t) n;
    }
    fclose(f);
    return data;
}

/* The font of a map entry; NULL (after one warning) when it cannot be loaded. */
static pdf_font *
map_font(pdf_fonts *fs, pdf_writer *w, long i)
{
    struct pdf_fontsel *sel = fs->sel;
    const afp_pdf_font_map *e = &sel->opts->font_map[i];
    char msg[512];

    if (e->kind == AFP_PDF_FONT_LIBERATION)
        return pdf_font_liberation(fs, w, e->family, e->style, fs->base14);
    if (e->kind == AFP_PDF_FONT_BASE14)
    {
        if (sel->opts->pdfa)
        {
            if (!sel->map_tried[i] && fs->warn)
            {
                snprintf(msg, sizeof(msg), "font map %s: PDF/A embeds every font, so the "
                         "Liberation face of %s is embedded instead", e->label,
                         base14_names[e->family][e->style]);
                fs->warn(fs->warn_ctx, msg);
            }
            sel->map_tried[i] = 1;
            return pdf_font_liberation(fs, w, e->family, e->style, 0);
        }
        return pdf_font_liberation(fs, w, e->family, e->style, 1);
    }
    if (!sel->map_tried[i])
    {
        uint8_t *data = NULL;
        size_t len = 0;

        sel->map_tried[i] = 1;
        if (e->kind == AFP_PDF_FONT_FILE)
        {
            data = pdf_font_file_read(e->path, &len);
            if (data)
                sel->map_font[i] = pdf_font_carried(fs, w, data, len);
            afp_free(data);
        }
        else if (e->data && e->data_len)
            sel->map_font[i] = pdf_font_carried(fs, w, e->data, e->data_len);
        if (sel->map_font[i] == NULL && fs->warn)
        {
            snprintf(msg, sizeof(msg), "font map %s: %s%.300s%s is not a TrueType/OpenType font "
                     "FreeType can read; the default mapping is used", e->label,
                     e->kind == AFP_PDF_FONT_FILE ? "file " : "the font bytes",
                     e->kind == AFP_PDF_FONT_FILE ? e->path : "",
                     e->kind == AFP_PDF_FONT_FILE && data == NULL ? " (unreadable)" : "");
            fs->warn(fs->warn_ctx, msg);
        }
    }
    return sel->map_font[i];
}

/* The Type 3 font of a raster set carried in the file at a point size; NULL when the file
 * carries no raster set of that name. */
static pdf_font *
raster_font(pdf_fonts *fs, pdf_writer *w, const char *name, double size)
{
    struct pdf_fontsel *sel = fs->sel;
    const fcs_entry *e = NULL;
    raster_open *ro;
    pdf_raster *r;
    size_t i;

    if (name[0] == '\0')
        return NULL;
    for (i = 0; i < sel->nro; i++)
        if (sel->ro[i].size == size && strcmp(sel->ro[i].name, name) == 0)
            return sel->ro[i].pf;
    for (i = 0; i < sel->nfcs; i++)
        if (strcmp(sel->fcs[i].name, name) == 0)
        {
            e = &sel->fcs[i];
            break;
        }
    if (e == NULL || !e->raster)
        return NULL;
    sel->ro = afp_text_grow(sel->ro, &sel->capro, sel->nro + 1, sizeof(*ro));
    ro = &sel->ro[sel->nro++];
    memset(ro, 0, sizeof(*ro));
    memcpy(ro->name, name, strlen(name) + 1);
    ro->size = size;
    r = pdf_raster_open(sel->buf, e->start, e->end, name, size, fs->warn, fs->warn_ctx);
    if (r != NULL)
        ro->pf = pdf_font_raster(fs, w, r);
    return ro->pf;
}

/* The PDF font of an AFP font reference: font map, raster set in the file, name mapping. */
pdf_font *
pdf_font_resolve(pdf_fonts *fs, pdf_writer *w, const afp_font_ref *f)
{
    struct pdf_fontsel *sel = fs->sel;
    pdf_font *pf;
    long i;

    if (sel == NULL)
        return pdf_font_for(fs, w, f);
    i = map_match(sel->opts, f);
    if (i >= 0 && (pf = map_font(fs, w, i)) != NULL)
        return pf;
    if (f->dcp)
    {
        /* double-byte text: the CJK font; without one the conversion fails at its end */
        if (!sel->cjk_tried)
        {
            char path[512];

            sel->cjk_tried = 1;
            sel->cjk = pdf_font_cjk(fs, w, path, sizeof(path));
        }
        if (sel->cjk)
            return sel->cjk;
        if (sel->cjk_missing[0] == '\0')
            snprintf(sel->cjk_missing, sizeof(sel->cjk_missing), "%s",
                     f->cf[0] ? f->cf : f->fcs[0] ? f->fcs : "(default)");
    }
    if (sel->opts->raster_fonts && (pf = raster_font(fs, w, f->fcs, pdf_font_size(f))) != NULL)
        return pf;
    return pdf_font_for(fs, w, f);
}
