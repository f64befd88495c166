/*
 * afp_pdf_cmd.c — `bin/afp pdf IN.afp OUT.pdf [--options JSON] [--quiet]`: converts an AFP print
 * stream to PDF with the core's afp_to_pdf (docs/conversion.md).
 *
 * The PDF is streamed to OUT.pdf.tmp and renamed when complete, so a failed conversion leaves no
 * partial OUT.pdf ("-" writes to standard output instead). On a terminal a progress line (pages,
 * percentage of the input) is shown on stderr; warnings go to stderr. Exit status 0 success,
 * 2 error (damaged input, a file without pages, bad usage).
 */
#include "afp_pdf.h"
#include "afp_cli.h"
#include "afp_resdir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* State shared with the conversion callbacks. */
typedef struct pdf_cli {
    const char *in;
    FILE *out;
    int quiet;
    int progress_shown;
    int tty;                    /* stderr is a terminal: show the progress line */
    time_t last_progress;
    int write_failed;
    afp_cli_input input;        /* mapped input (pages behind the converter are dropped) */
} pdf_cli;

/* Prints the command's usage. */
static void
pdf_usage(FILE *f)
{
    fprintf(f,
            "usage: afp pdf IN.afp OUT.pdf [--options JSON] [--resources DIR] [--quiet]\n"
            "\n"
            "Converts an AFP (MO:DCA) print stream to PDF: text stays searchable text in embedded\n"
            "Liberation fonts, rules, IOCA images and overlays are drawn. OUT.pdf '-' writes to\n"
            "standard output. Options (JSON object):\n"
            "  \"missing\": \"error\" | \"warn\" | \"ignore\"   a resource the file lacks (default error)\n"
            "  \"fonts\": \"embed\" | \"base14\"               embed Liberation subsets (default) or\n"
            "                                              reference the standard 14 fonts\n"
            "  \"compress\": true | false                    Flate-compress streams (default true)\n"
            "  \"title\": \"...\"                              document title\n"
            "--resources DIR: overlays, page segments, objects and fonts the file lacks are read\n"
            "from DIR/NAME or DIR/NAME.ovl|.psg|.afp|.png|.jpg|.tif|.ttf … (see docs/conversion.md).\n"
            "--font-map FILE.json: font replacements, a JSON array of {\"char_set\"|\"coded_font\":\n"
            "PATTERN, [\"code_page\": PATTERN,] \"liberation\": \"sans|serif|mono\" [\"style\": ...] |\n"
            "\"base14\": NAME | \"file\": PATH}; the first match wins over the defaults.\n"
            "--quiet suppresses warnings and the progress line. Exit 0 success, 2 error.\n");
}

/* Conversion callback: writes a chunk of PDF. */
static int
pdf_cli_write(void *p, const uint8_t *data, size_t len)
{
    pdf_cli *c = p;

    if (fwrite(data, 1, len, c->out) != len)
    {
        c->write_failed = 1;
        return -1;
    }
    return 0;
}

/* Conversion callback: a warning. */
static void
pdf_cli_warning(void *p, const char *msg)
{
    pdf_cli *c = p;

    if (c->quiet)
        return;
    if (c->progress_shown)
    {
        fputs("\r\033[K", stderr);
        c->progress_shown = 0;
    }
    fprintf(stderr, "afp: %s: warning: %s\n", c->in, msg);
}

/* Conversion callback: progress after each page. Releases the mapped input behind the page
 * just written; shows the progress line (once a second, terminals only). */
static void
pdf_cli_progress(void *p, int64_t pages, int64_t offset, int64_t total)
{
    pdf_cli *c = p;
    time_t now = time(NULL);

    afp_cli_input_release(&c->input, offset);
    if (!c->tty || c->quiet || now == c->last_progress)
        return;
    c->last_progress = now;
    fprintf(stderr, "\r\033[Kafp pdf: %lld pages, %3.0f%% of %s", (long long) pages,
            total > 0 ? 100.0 * (double) offset / (double) total : 100.0, c->in);
    c->progress_shown = 1;
}


/* afp pdf IN OUT [--options JSON] [--quiet] */
int
afp_cli_pdf(int argc, char **argv)
{
    const char *in = NULL, *outp = NULL, *json = NULL;
    afp_pdf_options opts;
    pdf_cli cli;
    afp_resdir resdir;
    const char *fontmap = NULL;        /* --font-map FILE.json */
    afp_error err;
    afp_buf rest;
    const uint8_t *buf;
    size_t len;
    char *tmp = NULL;
    int i, rc = 0;
    afp_status st;

    memset(&cli, 0, sizeof(cli));
    memset(&resdir, 0, sizeof(resdir));
    for (i = 0; i < argc; i++)
    {
        if (strcmp(argv[i], "--options") == 0 && i + 1 < argc)
            json = argv[++i];
        else if (strcmp(argv[i], "--resources") == 0 && i + 1 < argc)
            resdir.dir = argv[++i];
        else if (strcmp(argv[i], "--font-map") == 0 && i + 1 < argc)
            fontmap = argv[++i];
        else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0)
            cli.quiet = 1;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
        {
            pdf_usage(stdout);
            return 0;
        }
        else if (argv[i][0] == '-' && argv[i][1] != '\0')
        {
            fprintf(stderr, "afp: pdf: unknown option %s\n", argv[i]);
            pdf_usage(stderr);
            return 2;
        }
        else if (in == NULL)
            in = argv[i];
        else if (outp == NULL)
            outp = argv[i];
        else
        {
            fprintf(stderr, "afp: pdf: too many arguments\n");
            pdf_usage(stderr);
            return 2;
        }
    }
    if (in == NULL || outp == NULL)
    {
        pdf_usage(stderr);
        return 2;
    }
    afp_error_clear(&err);
    afp_pdf_options_init(&opts);
    if (json && afp_pdf_options_parse(&opts, json, strlen(json), &err) != AFP_OK)
    {
        fprintf(stderr, "afp: pdf: %s\n", err.message);
        return 2;
    }
    if (fontmap)
    {
        size_t mlen;
        uint8_t *m = afp_cli_read_file(fontmap, &mlen, 0);
        afp_status mst = m ? afp_pdf_font_map_parse(&opts, (const char *) m, mlen, fontmap, &err)
                           : AFP_ERR_ARGUMENT;

        afp_free(m);
        if (mst != AFP_OK)
        {
            if (m)
                fprintf(stderr, "afp: pdf: --font-map %s\n", err.message);
            afp_pdf_options_free(&opts);
            return 2;
        }
    }
    if (afp_cli_input_open(in, &cli.input, 0) != 0)
        return 2;
    buf = cli.input.data;
    len = cli.input.len;
    cli.in = in;
    if (strcmp(outp, "-") == 0)
        cli.out = stdout;
    else
    {
        size_t n = strlen(outp) + 5;

        tmp = malloc(n);
        if (tmp == NULL)
        {
            afp_cli_input_close(&cli.input);
            return 2;
        }
        snprintf(tmp, n, "%s.tmp", outp);
        cli.out = fopen(tmp, "wb");
        if (cli.out == NULL)
        {
            fprintf(stderr, "afp: cannot write %s: %s\n", tmp, strerror(errno));
            free(tmp);
            afp_cli_input_close(&cli.input);
            return 2;
        }
    }
    cli.tty = isatty(fileno(stderr));
    opts.progress = pdf_cli_progress;
    opts.warning = pdf_cli_warning;
    opts.write = pdf_cli_write;
    opts.cb_ctx = &cli;
    if (resdir.dir)
    {
        opts.resolve = afp_resdir_resolve;
        opts.resolve_ctx = &resdir;
    }
    afp_buf_init(&rest);
    st = afp_to_pdf(buf, len, &opts, &rest, NULL, &err);
    if (cli.progress_shown)
        fputs("\r\033[K", stderr);
    if (st == AFP_OK && rest.len > 0 && pdf_cli_write(&cli, rest.data, rest.len) != 0)
        cli.write_failed = 1;
    if (st != AFP_OK)
    {
        fprintf(stderr, "afp: %s: %s\n", in, err.message);
        rc = 2;
    }
    else if (cli.write_failed || (cli.out != stdout && fflush(cli.out) != 0))
    {
        fprintf(stderr, "afp: cannot write %s: %s\n", tmp ? tmp : "standard output",
                strerror(errno));
        rc = 2;
    }
    if (cli.out != stdout)
    {
        if (fclose(cli.out) != 0 && rc == 0)
        {
            fprintf(stderr, "afp: cannot write %s: %s\n", tmp, strerror(errno));
            rc = 2;
        }
        if (rc == 0 && rename(tmp, outp) != 0)
        {
            fprintf(stderr, "afp: cannot rename %s to %s: %s\n", tmp, outp, strerror(errno));
            rc = 2;
        }
        if (rc != 0)
            remove(tmp);
    }
    else
        fflush(stdout);
    free(tmp);
    afp_buf_free(&rest);
    afp_cli_input_close(&cli.input);
    afp_resdir_free(&resdir);
    afp_pdf_options_free(&opts);
    return rc;
}
