/*
 * afp_resdir.c — the --resources DIR resolver of the CLI (see afp_resdir.h, docs/conversion.md
 * "Resources, form maps and images"): files named like the resource, read once per type and
 * name and kept until the command ends.
 */
#include "afp_resdir.h"
#include "afp_cli.h"

#include <stdio.h>
#include <string.h>

/* Resolver: DIR/NAME, then DIR/NAME.EXT by type; the name as given, then in lower case. */
int
afp_resdir_resolve(void *ctx, const char *type, const char *name, const uint8_t **data,
                   size_t *len)
{
    static const char *const ovl[] = {"", ".ovl", ".afp", NULL};
    static const char *const seg[] = {"", ".psg", ".afp", NULL};
    static const char *const obj[] = {"", ".afp", ".obj", ".jpg", ".jpeg", ".png", ".tif", ".tiff", NULL};
    static const char *const fnt[] = {"", ".ttf", ".otf", NULL};
    afp_resdir *d = ctx;
    const char *const *exts = strcmp(type, "overlay") == 0 ? ovl : strcmp(type, "segment") == 0 ? seg
                            : strcmp(type, "font") == 0 ? fnt : obj;
    char path[4096], lower[64];
    size_t i;
    int k, c;
    afp_resdir_file *f;

    if (d == NULL || d->dir == NULL || name[0] == '\0' || strchr(name, '/') || strstr(name, "..") ||
        strlen(name) >= sizeof(lower))
        return 0;
    for (i = 0; i < d->count; i++)
        if (strcmp(d->items[i].type, type) == 0 && strcmp(d->items[i].name, name) == 0)
        {
            *data = d->items[i].data;
            *len = d->items[i].len;
            return d->items[i].data != NULL;
        }
    for (i = 0; name[i]; i++)
        lower[i] = (char) (name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
    lower[i] = '\0';
    d->items = afp_realloc(d->items, (d->count + 1) * sizeof(afp_resdir_file));
    f = &d->items[d->count++];
    memset(f, 0, sizeof(*f));
    snprintf(f->type, sizeof(f->type), "%s", type);
    snprintf(f->name, sizeof(f->name), "%s", name);
    for (k = 0; exts[k] && f->data == NULL; k++)
        for (c = 0; c < 2 && f->data == NULL; c++)
        {
            snprintf(path, sizeof(path), "%s/%s%s", d->dir, c ? lower : name, exts[k]);
            f->data = afp_cli_read_file(path, &f->len, 1);
        }
    *data = f->data;
    *len = f->len;
    return f->data != NULL;
}

/* Releases the files read. */
void
afp_resdir_free(afp_resdir *d)
{
    size_t i;

    for (i = 0; i < d->count; i++)
        afp_free(d->items[i].data);
    afp_free(d->items);
    d->items = NULL;
    d->count = 0;
}
