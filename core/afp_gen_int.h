/*
 * afp_gen_int.h — internal types shared by the generator's layout (afp_layout.c) and output
 * (afp_generate.c): resolved fonts, display lists of pages.
 */
#ifndef AFP_GEN_INT_H
#define AFP_GEN_INT_H

#include "afp_gen.h"

#define PT 20                   /* output units (1440 per inch) per point */

/* A font as used by one text run. */
typedef struct gen_font {
    afp_family family;
    afp_style style;
    double size;                /* points */
    const afp_font_metrics *m;
} gen_font;

typedef enum gen_item_kind {
    GI_TEXT, GI_RULE, GI_IMAGE, GI_BARCODE, GI_OVERLAY, GI_SEGMENT
} gen_item_kind;

/* One thing to draw on a page, in output units from the page's top-left corner. */
typedef struct gen_item {
    gen_item_kind kind;
    int32_t x, y;               /* TEXT: start of baseline; RULE/IMAGE/BARCODE: top-left */
    int32_t w, h;               /* RULE: length and thickness (horizontal if h_axis); IMAGE: size */
    int horizontal;             /* RULE: 1 = along the inline axis (DIR), 0 = baseline axis (DBR) */
    uint32_t rgb;               /* TEXT/RULE colour 0xRRGGBB */
    gen_font font;              /* TEXT */
    int codepage;               /* TEXT: index into the generator's code-page list */
    int32_t space_inc;          /* TEXT: advance of the space character (SVI), output units */
    uint8_t *bytes;             /* TEXT: EBCDIC code points; IMAGE: resource bytes (not owned) */
    size_t nbytes;
    char name[9];               /* OVERLAY/SEGMENT/IMAGE resource name (token) */
    const char *res;            /* IMAGE: the template's resource name (owned by the template) */
    afp_barcode bc;             /* BARCODE (bc.data owned: bytes) */
} gen_item;

/* One laid-out page. */
typedef struct gen_page {
    gen_item *items;
    size_t count, cap;
} gen_page;

/* The pages of one document being laid out. */
typedef struct gen_doc {
    gen_page *pages;
    size_t count, cap;
} gen_doc;

#endif
