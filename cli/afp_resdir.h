/*
 * afp_resdir.h — `--resources DIR` of `bin/afp pdf` and `bin/afp split --pdf`: the resolver of
 * external resources (afp_pdf_options.resolve) reading files named like the resource.
 */
#ifndef AFP_RESDIR_H
#define AFP_RESDIR_H

#include "afp.h"

/* One file read (or found missing) for a type and name. */
typedef struct afp_resdir_file {
    char type[12];
    char name[64];
    uint8_t *data;             /* NULL: not found */
    size_t len;
} afp_resdir_file;

/* The directory and the files read from it (each read once). */
typedef struct afp_resdir {
    const char *dir;
    afp_resdir_file *items;
    size_t count;
} afp_resdir;

/* Resolver for afp_pdf_options.resolve (ctx: an afp_resdir): DIR/NAME, then DIR/NAME.EXT with
 * the extensions of the type (overlay .ovl .afp; segment .psg .afp; object/image .afp .obj .jpg
 * .jpeg .png .tif .tiff; font .ttf .otf), each with the name as given, then in lower case.
 * Names with '/' or ".." are refused. */
int afp_resdir_resolve(void *ctx, const char *type, const char *name, const uint8_t **data,
                       size_t *len);
/* Releases the files read. */
void afp_resdir_free(afp_resdir *d);

#endif
