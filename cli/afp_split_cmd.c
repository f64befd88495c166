/*
 * afp_split_cmd.c — `bin/afp split IN.afp OUTDIR [--pdf] [--options JSON] [--resources DIR]`:
 * writes one self-contained AFP file per document (core/afp_split.c) as OUTDIR/NNNN.afp and,
 * with --pdf, its PDF as OUTDIR/NNNN.pdf (resources the file lacks from --resources DIR).
 * Prints SEQ<TAB>FILE<TAB>NAME<TAB>PAGES per document. Exit 0 success, 2 error (damaged input,
 * unwritable directory, bad usage).
 */
#include "afp_pdf.h"
#include "afp_cli.h"
#include "afp_resdir.h"
#include "afp_split.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* State of the command passed to the split callback. */
typedef struct split_cli {
    const char *dir;
    int pdf;
    afp_pdf_options opts;
    afp_resdir res;            /* --resources DIR */
    int failed;
} split_cli;

/* Prints the command's usage. */
static void
split_usage(FILE *f)
{
    fprintf(f,
            "usage: afp split IN.afp OUTDIR [--pdf] [--options JSON] [--resources DIR]\n"
            "\n"
            "Writes one self-contained AFP file per document (outermost named page group, or a\n"
            "BDT without page groups) to OUTDIR/NNNN.afp: the print file's inline resource groups\n"
            "and form maps, then BDT, the group and EDT. --pdf also writes OUTDIR/NNNN.pdf\n"
            "(--options, --resources: as for 'afp pdf'). Prints SEQ<TAB>FILE<TAB>NAME<TAB>PAGES.\n"
            "Exit 0 success, 2 error.\n");
}

/* Writes n bytes to path; 0 on success (message printed on failure). */
static int
write_all(const char *path, const uint8_t *d, size_t n)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL || fwrite(d, 1, n, f) != n || fclose(f) != 0)
    {
        fprintf(stderr, "afp: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Split callback: writes one part (and its PDF). */
static int
split_cli_part(void *p, const afp_split_part *part)
{
    split_cli *c = p;
    char path[4096];
    afp_buf pdf;
    afp_error err;

    snprintf(path, sizeof(path), "%s/%04lld.afp", c->dir, (long long) part->seq);
    if (write_all(path, part->afp, part->len) != 0)
        return c->failed = 1;
    printf("%lld\t%s\t%s\t%lld\n", (long long) part->seq, path,
           part->doc && part->doc->name ? part->doc->name : "",
           part->doc ? (long long) part->doc->page_count : 0LL);
    if (!c->pdf)
        return 0;
    afp_buf_init(&pdf);
    afp_error_clear(&err);
    if (afp_to_pdf(part->afp, part->len, &c->opts, &pdf, NULL, &err) != AFP_OK)
    {
        fprintf(stderr, "afp: document %lld: %s\n", (long long) part->seq, err.message);
        afp_buf_free(&pdf);
        return c->failed = 1;
    }
    snprintf(path, sizeof(path), "%s/%04lld.pdf", c->dir, (long long) part->seq);
    if (write_all(path, pdf.data, pdf.len) != 0)
        c->failed = 1;
    afp_buf_free(&pdf);
    return c->failed;
}


/* `afp split`: argv holds the arguments after the command name. */
int
afp_cli_split(int argc, char **argv)
{
    const char *in = NULL, *dir = NULL, *json = NULL;
    split_cli c;
    afp_error err;
    uint8_t *buf;
    size_t len = 0;
    int64_t count = 0;
    int i;
    afp_status st;

    memset(&c, 0, sizeof(c));
    afp_pdf_options_init(&c.opts);
    for (i = 0; i < argc; i++)
    {
        if (strcmp(argv[i], "--pdf") == 0)
            c.pdf = 1;
        else if (strcmp(argv[i], "--options") == 0 && i + 1 < argc)
            json = argv[++i];
        else if (strcmp(argv[i], "--resources") == 0 && i + 1 < argc)
        {
            c.res.dir = argv[++i];
            c.opts.resolve = afp_resdir_resolve;
            c.opts.resolve_ctx = &c.res;
        }
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
        {
            split_usage(stdout);
            return 0;
        }
        else if (argv[i][0] == '-')
        {
            fprintf(stderr, "afp: split: unknown option %s\n", argv[i]);
            split_usage(stderr);
            return 2;
        }
        else if (in == NULL)
            in = argv[i];
        else if (dir == NULL)
            dir = argv[i];
        else
        {
            split_usage(stderr);
            return 2;
        }
    }
    if (in == NULL || dir == NULL)
    {
        split_usage(stderr);
        return 2;
    }
    afp_error_clear(&err);
    if (json && afp_pdf_options_parse(&c.opts, json, strlen(json), &err) != AFP_OK)
    {
        fprintf(stderr, "afp: split: %s\n", err.message);
        return 2;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
    {
        fprintf(stderr, "afp: cannot create %s: %s\n", dir, strerror(errno));
        return 2;
    }
    c.dir = dir;
    buf = afp_cli_read_file(in, &len, 0);
    if (buf == NULL)
        return 2;
    st = afp_split(buf, len, split_cli_part, &c, &count, &err);
    afp_free(buf);
    afp_resdir_free(&c.res);
    if (st != AFP_OK && !c.failed)
        fprintf(stderr, "afp: %s: %s\n", in, err.message);
    if (st == AFP_OK && count == 0)
        fprintf(stderr, "afp: %s: no document (no BDT) found\n", in);
    return st == AFP_OK && !c.failed ? 0 : 2;
}
