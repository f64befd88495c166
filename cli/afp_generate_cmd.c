/*
 * afp_generate_cmd.c — `bin/afp generate TEMPLATE.json DATA.json -o OUT.afp [--resources DIR]`:
 * runs the generator without a server. DATA may hold one document (an object) or a batch (an
 * array of objects): one print file, documents written one at a time and streamed to the file.
 */
#include "afp_gen.h"
#include "afp_cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One resource file loaded from --resources DIR. */
typedef struct cli_res {
    char *name;
    uint8_t *data;
    size_t len;
} cli_res;

typedef struct cli_res_dir {
    const char *dir;
    cli_res *items;
    size_t count;
} cli_res_dir;


/* Resource provider: DIR/NAME, DIR/NAME.png, .jpg, .jpeg (images) or DIR/NAME (overlays/segments). */
static int
cli_resource(void *ctx, const char *type, const char *name, const uint8_t **data, size_t *len)
{
    static const char *const exts[] = {"", ".png", ".jpg", ".jpeg", ".PNG", ".JPG"};
    cli_res_dir *d = ctx;
    size_t i;
    char path[4096];

    (void) type;
    if (d->dir == NULL || strchr(name, '/') != NULL || strstr(name, "..") != NULL)
        return 0;
    for (i = 0; i < d->count; i++)
        if (strcmp(d->items[i].name, name) == 0)
        {
            *data = d->items[i].data;
            *len = d->items[i].len;
            return 1;
        }
    for (i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
    {
        uint8_t *buf;
        size_t n;

        snprintf(path, sizeof(path), "%s/%s%s", d->dir, name, exts[i]);
        buf = afp_cli_read_file(path, &n, 1);
        if (buf)
        {
            d->items = afp_realloc(d->items, (d->count + 1) * sizeof(cli_res));
            d->items[d->count].name = afp_alloc(strlen(name) + 1);
            strcpy(d->items[d->count].name, name);
            d->items[d->count].data = buf;
            d->items[d->count].len = n;
            d->count++;
            *data = buf;
            *len = n;
            return 1;
        }
    }
    return 0;
}

/* Parses a JSON file; prints an error and returns NULL on failure. */
static afp_json *
load_json(const char *path)
{
    size_t len;
    uint8_t *text = afp_cli_read_file(path, &len, 1);
    afp_json *v = NULL;
    afp_error err;

    if (text == NULL)
    {
        fprintf(stderr, "afp: cannot read %s: %s\n", path, strerror(errno));
        return NULL;
    }
    afp_error_clear(&err);
    if (afp_json_parse((const char *) text, len, &v, &err) != AFP_OK)
    {
        fprintf(stderr, "afp: %s: %s\n", path, err.message);
        v = NULL;
    }
    afp_free(text);
    return v;
}

/* Runs `afp generate`; returns the exit status. */
int
afp_cli_generate(int argc, char **argv)
{
    const char *tpath = NULL, *dpath = NULL, *out_path = NULL;
    cli_res_dir res = {NULL, NULL, 0};
    afp_json *tmpl = NULL, *data = NULL;
    afp_path_issue_list issues = {0};
    afp_generator *g = NULL;
    afp_buf out;
    afp_error err;
    FILE *f = NULL;
    int i, rc = 2;
    size_t k, ndocs = 0;

    for (i = 0; i < argc; i++)
    {
        if ((strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) && i + 1 < argc)
            out_path = argv[++i];
        else if (strcmp(argv[i], "--resources") == 0 && i + 1 < argc)
            res.dir = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
        {
            fprintf(stderr, "afp: generate: unknown option %s (see 'afp generate --help')\n", argv[i]);
            return 2;
        }
        else if (tpath == NULL)
            tpath = argv[i];
        else if (dpath == NULL)
            dpath = argv[i];
        else
        {
            fprintf(stderr, "afp: generate: too many arguments\n");
            return 2;
        }
    }
    if (tpath == NULL || dpath == NULL || out_path == NULL)
    {
        fprintf(stderr, "afp: generate needs TEMPLATE.json DATA.json -o OUT.afp\n");
        return 2;
    }
    afp_buf_init(&out);
    afp_error_clear(&err);
    if ((tmpl = load_json(tpath)) == NULL || (data = load_json(dpath)) == NULL)
        goto done;
    afp_template_validate(tmpl, &issues);
    if (issues.count > 0)
    {
        for (k = 0; k < issues.count; k++)
            fprintf(stderr, "afp: %s: %s: %s\n", tpath, issues.items[k].path, issues.items[k].message);
        goto done;
    }
    f = fopen(out_path, "wb");
    if (f == NULL)
    {
        fprintf(stderr, "afp: cannot write %s: %s\n", out_path, strerror(errno));
        goto done;
    }
    if (afp_generator_begin(&g, tmpl, cli_resource, &res, &out, &err) != AFP_OK)
        goto fail;
    for (k = 0; k < (data->type == AFP_JSON_ARRAY ? data->count : 1); k++)
    {
        const afp_json *doc = data->type == AFP_JSON_ARRAY ? data->items[k] : data;

        if (afp_generator_add(g, doc, &err) != AFP_OK)
        {
            if (data->type == AFP_JSON_ARRAY)
                fprintf(stderr, "afp: %s: document %zu: %s\n", dpath, k + 1, err.message);
            else
                fprintf(stderr, "afp: %s: %s\n", dpath, err.message);
            afp_generator_abort(g);
            g = NULL;
            goto done;
        }
        ndocs++;
        /* stream: the file receives each document as soon as it is complete */
        if (fwrite(out.data, 1, out.len, f) != out.len)
            goto write_fail;
        out.len = 0;
    }
    afp_generator_end(g, &err);
    g = NULL;
    if (fwrite(out.data, 1, out.len, f) != out.len)
        goto write_fail;
    if (fclose(f) != 0)
    {
        f = NULL;
        goto write_fail;
    }
    f = NULL;
    fprintf(stderr, "afp: wrote %zu document(s) to %s\n", ndocs, out_path);
    rc = 0;
    goto done;
write_fail:
    fprintf(stderr, "afp: cannot write %s: %s\n", out_path, strerror(errno));
    goto done;
fail:
    fprintf(stderr, "afp: %s: %s\n", tpath, err.message);
done:
    if (f)
    {
        fclose(f);
        remove(out_path);       /* never leave a partial print file behind */
    }
    if (g)
        afp_generator_abort(g);
    afp_path_issue_list_free(&issues);
    afp_json_free(tmpl);
    afp_json_free(data);
    for (k = 0; k < res.count; k++)
    {
        afp_free(res.items[k].name);
        afp_free(res.items[k].data);
    }
    afp_free(res.items);
    afp_buf_free(&out);
    return rc;
}
