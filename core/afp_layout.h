/*
 * afp_layout.h — internal interface of the generator's layout (afp_layout.c, afp_table.c) used
 * by afp_generate.c.
 */
#ifndef AFP_LAYOUT_H
#define AFP_LAYOUT_H

#include "afp_gen_int.h"

enum { LAY_LEFT = 0, LAY_RIGHT = 1, LAY_CENTER = 2, LAY_JUSTIFY = 3 };

/* Code pages text is encoded into, in order of preference (index = gen_item.codepage). */
#define LAY_NCODEPAGES 2
extern const char *const lay_codepage_names[LAY_NCODEPAGES];

/* Layout state of one document. */
typedef struct lay_ctx {
    gen_doc *doc;
    double y;                   /* flow cursor (points from the page top) */
    double top, bottom, left, right;    /* body area (points) */
    double page_w, page_h, margin_r;
    gen_font base_font;
    uint32_t base_rgb;
    afp_resource_fn res;
    void *res_ctx;
    gen_page *fixed_page;       /* target of positioned elements */
    double band_y;              /* y offset added to positioned elements (footer band) */
    int nest;
    size_t object_seq;
} lay_ctx;

/* One wrapped line: bytes [start, start+len) of the text, its width in points, and whether it
 * ends a paragraph (hard break / end of text: not justified). */
typedef struct lay_line {
    size_t start, len;
    double width;
    int hard;
} lay_line;

/* The scopes of one loop iteration. */
typedef struct lay_loop {
    afp_json *loop_value;
    afp_scope loop_scope;
    afp_scope item_scope;
} lay_loop;

char *lay_path(const char *base, const char *key, long index);
afp_status lay_num(const afp_json *obj, const char *key, double def, double *out, const char *path, afp_error *err);
afp_status lay_str(const afp_json *obj, const char *key, const char **out, const char *path, afp_error *err);
afp_status lay_color(const char *s, uint32_t *rgb, const char *path, afp_error *err);
afp_status lay_font(const afp_json *fobj, const gen_font *inherit, gen_font *out, const char *path, afp_error *err);
afp_status lay_align(const afp_json *el, int *align, const char *path, afp_error *err);
gen_item *lay_add_item(gen_page *p, gen_item_kind kind);
void lay_doc_free(gen_doc *d);
afp_status lay_text_run(lay_ctx *L, gen_page *p, double x, double baseline, const gen_font *f, uint32_t rgb,
                        const char *s, size_t n, const char *path, afp_error *err);
void lay_rule(gen_page *p, double x, double y, double len, double thick, int horizontal, uint32_t rgb);
size_t lay_wrap(const char *s, size_t n, const gen_font *f, double width, lay_line **out);
afp_status lay_place_line(lay_ctx *L, gen_page *p, const char *s, const lay_line *ln, double x, double baseline,
                          double width, int align, const gen_font *f, uint32_t rgb, const char *path,
                          afp_error *err);
void lay_loop_init(lay_loop *lp, const afp_scope *parent, const char *as, const afp_json *item, size_t index,
                   size_t count);
void lay_loop_free(lay_loop *lp);
afp_status lay_flow(lay_ctx *L, const afp_json *arr, const afp_scope *s, const char *path, afp_error *err);
afp_status lay_positioned(lay_ctx *L, const afp_json *arr, const afp_scope *s, const char *path, afp_error *err);
afp_status lay_body(lay_ctx *L, const afp_json *body, const afp_scope *s, afp_error *err);
/* Table layout (afp_table.c). */
afp_status lay_table(lay_ctx *L, const afp_json *el, const afp_scope *s, const char *path, afp_error *err);
/* Internal to afp_layout.c, used by afp_table.c: the current flow page, a page break. */
gen_page *lay_cur_page(lay_ctx *L);
void lay_new_page(lay_ctx *L);

#endif
