/*
 * afp_cli.c — bin/afp: the command-line face of the format core.
 *
 *   afp dump FILE          one line per structured field: OFFSET LENGTH ID ABBR (tab-separated)
 *   afp validate FILE      exit 0 when valid, 1 with one message per problem
 *   afp text FILE          page text, pages separated by form feeds
 *   afp pages FILE         number of pages
 *   afp documents FILE     named page groups with their index (TLE) values
 *   afp compose ...        plain text → AFP (Courier pages, one named page group)
 *
 * Errors go to stderr with the byte offset; exit status 2.
 */
#define _DEFAULT_SOURCE 1     /* madvise, MADV_SEQUENTIAL, MADV_DONTNEED */
#include "afp.h"
#include "afp_cli.h"
#include "afp_dbcs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *progname = "afp";



/* Prints the top-level usage. */
static void
usage(FILE *f)
{
    fprintf(f,
            "usage: %s COMMAND [OPTIONS] FILE\n"
            "\n"
            "AFP (MO:DCA) print-stream tool of the afp document factory.\n"
            "\n"
            "commands:\n"
            "  dump FILE          list structured fields: OFFSET<TAB>LENGTH<TAB>ID<TAB>ABBR\n"
            "  validate FILE      check framing, nesting and known fields (exit 0 valid, 1 invalid)\n"
            "  text FILE          print page text in reading order, pages separated by form feeds\n"
            "  pages FILE         print the number of pages\n"
            "  documents FILE     list named page groups (documents) with their index values\n"
            "  compose -o OUT [--name NAME] [--index KEY=VALUE]... [--codepage CP] TEXTFILE\n"
            "                     compose plain text (pages split at form feeds) into AFP\n"
            "  generate TEMPLATE.json DATA.json -o OUT.afp [--resources DIR]\n"
            "                     generate a document (or a batch: DATA is an array) from a template\n"
            "  pdf IN.afp OUT.pdf [--options JSON]\n"
            "                     convert to PDF (searchable text, images, graphics, overlays)\n"
            "  split IN.afp OUTDIR [--pdf]\n"
            "                     one self-contained AFP (and PDF) per document\n"
            "\n"
            "Run '%s COMMAND --help' for a command's options. Exit status: 0 success,\n"
            "1 validation problems, 2 error (damaged input, bad usage).\n",
            progname, progname);
}

/* Prints the usage of one command. */
static int
command_help(const char *cmd)
{
    if (strcmp(cmd, "dump") == 0)
        printf("usage: %s dump FILE\n\nPrints one line per structured field:\n"
               "  OFFSET  byte offset of its X'5A'\n  LENGTH  SFLength\n"
               "  ID      six upper-case hex digits (D3A8A8)\n  ABBR    abbreviation, UNK if unknown\n"
               "Option --detail adds a fifth column with the decoded field as JSON.\n", progname);
    else if (strcmp(cmd, "validate") == 0)
        printf("usage: %s validate FILE\n\nChecks framing, Begin/End nesting and names, and the fields\n"
               "the core decodes. Prints one line per problem: SEVERITY<TAB>OFFSET<TAB>MESSAGE.\n"
               "Exit 0 when valid (warnings allowed), 1 when any error was found.\n", progname);
    else if (strcmp(cmd, "text") == 0)
        printf("usage: %s text FILE [--options JSON]\n\nPrints the text of every page in reading order (lines by\n"
               "baseline, words by inline position); pages are separated by form feeds.\n"
               "Options: {\"code_pages\": {\"FONT\": \"950\"}} assigns code pages (double-byte: 300,\n"
               "16684, 834, 837, 835, 950, 936, 943, 949 …) to fonts by name pattern; {\"missing\":\n"
               "\"warn\"} shows U+FFFD with a warning for undefined codes instead of failing;\n"
               "{\"includes\": false} leaves out the text of included overlays and page segments.\n",
               progname);
    else if (strcmp(cmd, "pages") == 0)
        printf("usage: %s pages FILE\n\nPrints the number of pages in the document(s).\n", progname);
    else if (strcmp(cmd, "documents") == 0)
        printf("usage: %s documents FILE\n\nPrints SEQ<TAB>NAME<TAB>FIRST_PAGE<TAB>PAGE_COUNT<TAB>INDEX\n"
               "for each named page group; INDEX is a JSON object of its TLE values.\n", progname);
    else if (strcmp(cmd, "compose") == 0)
        printf("usage: %s compose -o OUT.afp [--name NAME] [--index KEY=VALUE]... [--codepage CP]\n"
               "                  [--font-size PT] [--page WxH inches] TEXTFILE\n\n"
               "Composes UTF-8 plain text into an AFP print file: Courier, one line per text\n"
               "line, a new page at each form feed or when the page is full. The document is one\n"
               "named page group carrying the --index values as TLEs. Characters the code page\n"
               "cannot hold are an error (CP500 by default, CP1148 when the text needs the euro).\n",
               progname);
    else if (strcmp(cmd, "generate") == 0)
        printf("usage: %s generate TEMPLATE.json DATA.json -o OUT.afp [--resources DIR]\n\n"
               "Generates an AFP print file from a template (docs/templates.md) and JSON data. DATA is\n"
               "one document (an object) or a batch (an array of objects): one print file with one\n"
               "named page group per document, written to OUT as each document completes.\n"
               "Images, overlays and page segments are read from DIR (NAME, NAME.png, NAME.jpg).\n"
               "Template problems are listed with their JSON path; nothing is written on error.\n",
               progname);
    else if (strcmp(cmd, "pdf") == 0)
    {
        char *help[] = {"--help", NULL};

        return afp_cli_pdf(1, help);
    }
    else if (strcmp(cmd, "split") == 0)
    {
        char *help[] = {"--help", NULL};

        return afp_cli_split(1, help);
    }
    else
    {
        fprintf(stderr, "%s: unknown command '%s'\n", progname, cmd);
        return 2;
    }
    return 0;
}

/* Reads a whole file (stdin for "-"); reports failures on stderr unless quiet. */
uint8_t *
afp_cli_read_file(const char *path, size_t *len, int quiet)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    afp_buf b;
    uint8_t chunk[65536];
    size_t n;

    if (f == NULL)
    {
        if (!quiet)
            fprintf(stderr, "%s: cannot open %s: %s\n", "afp", path, strerror(errno));
        return NULL;
    }
    afp_buf_init(&b);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        afp_buf_append(&b, chunk, n);
    if (ferror(f))
    {
        if (!quiet)
            fprintf(stderr, "%s: cannot read %s: %s\n", "afp", path, strerror(errno));
        if (f != stdin)
            fclose(f);
        afp_buf_free(&b);
        return NULL;
    }
    if (f != stdin)
        fclose(f);
    *len = b.len;
    afp_buf_reserve(&b, 0);
    return b.data;
}

#define RELEASE_STEP ((size_t) 1 << 20)

static afp_cli_input *mapped_input;   /* the mapping the interrupt hook releases */
static int positions_reported;         /* afp_cli_input_release calls since the last hook call */

/* Interrupt hook of the CLI (the core calls it every 1,024-4,096 fields in every long loop: the
 * converter's passes, text extraction, afp_documents …): drops every page of the mapped input
 * from the process (MADV_DONTNEED on a read-only file mapping: a page touched again is read
 * back from the page cache), so no pass — whoever adds one — makes the resident memory grow
 * with the file. While a pass reports its position (the converter's page pass calls
 * afp_cli_input_release between two hook calls) the hook leaves the work to that release behind
 * the reader: dropping everything also drops the page being worked on, and refaulting it on
 * every call cost a quarter of the CPU time. Never interrupts (Ctrl-C ends the process). */
static int
release_hook(void)
{
    int reported = positions_reported;

    positions_reported = 0;
    if (mapped_input == NULL || mapped_input->map == NULL || reported > 0)
        return 0;
    madvise(mapped_input->map, mapped_input->len, MADV_DONTNEED);
    return 0;
}

/* Opens an input: mmap for regular files, afp_cli_read_file otherwise. */
int
afp_cli_input_open(const char *path, afp_cli_input *in, int quiet)
{
    struct stat st;
    int fd;

    memset(in, 0, sizeof(*in));
    if (strcmp(path, "-") != 0 && (fd = open(path, O_RDONLY)) >= 0)
    {
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
            (uint64_t) st.st_size <= (uint64_t) SIZE_MAX)
        {
            void *m = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);

            if (m != MAP_FAILED)
            {
                close(fd);
                madvise(m, (size_t) st.st_size, MADV_SEQUENTIAL);
                in->map = m;
                in->data = m;
                in->len = (size_t) st.st_size;
                mapped_input = in;
                afp_set_interrupt_hook(release_hook);
                return 0;
            }
        }
        close(fd);
    }
    in->heap = afp_cli_read_file(path, &in->len, quiet);
    if (in->heap == NULL)
        return -1;
    in->data = in->heap;
    return 0;
}

/* Drops the mapped pages behind a sequential reader. */
void
afp_cli_input_release(afp_cli_input *in, int64_t upto)
{
    size_t page = (size_t) sysconf(_SC_PAGESIZE), end;

    if (in->map == NULL || upto < 0)
        return;
    positions_reported++;
    if ((size_t) upto < in->dropped)
        in->dropped = 0;        /* a new pass over the input */
    if ((size_t) upto > in->len || (size_t) upto - in->dropped < RELEASE_STEP)
        return;
    end = (size_t) upto / page * page;
    madvise((uint8_t *) in->map + in->dropped, end - in->dropped, MADV_DONTNEED);
    in->dropped = end;
}

/* Releases the input. */
void
afp_cli_input_close(afp_cli_input *in)
{
    if (in->map)
    {
        if (mapped_input == in)
        {
            afp_set_interrupt_hook(NULL);
            mapped_input = NULL;
        }
        munmap(in->map, in->len);
    }
    else
        afp_free(in->heap);
    memset(in, 0, sizeof(*in));
}

/* Reports a core error on stderr; returns exit status 2. */
static int
fail(const char *path, const afp_error *err)
{
    fprintf(stderr, "%s: %s: %s\n", progname, path, err->message);
    return 2;
}

/* afp dump FILE */
static int
cmd_dump(const char *path, int detail)
{
    afp_cli_input in;
    size_t len;
    afp_reader r;
    afp_sf sf;
    afp_error err;
    afp_buf d;
    int rc;
    uint64_t n = 0;

    if (afp_cli_input_open(path, &in, 0) != 0)
        return 2;
    len = in.len;
    afp_error_clear(&err);
    afp_reader_init(&r, in.data, len);
    afp_buf_init(&d);
    while ((rc = afp_reader_next(&r, &sf, &err)) == 1)
    {
        if ((++n & 1023) == 0)
            afp_cli_input_release(&in, sf.offset);
        printf("%lld\t%u\t%06X\t%s", (long long) sf.offset, sf.length, sf.id, afp_sf_abbr(sf.id));
        if (detail)
        {
            d.len = 0;
            if (afp_sf_detail_json(&sf, &d, &err) != AFP_OK)
            {
                rc = -1;
                break;
            }
            printf("\t%s", afp_buf_cstr(&d));
        }
        putchar('\n');
    }
    afp_buf_free(&d);
    afp_cli_input_close(&in);
    fflush(stdout);
    if (rc < 0)
        return fail(path, &err);
    if (len == 0)
    {
        fprintf(stderr, "%s: %s: empty input: no structured fields\n", progname, path);
        return 2;
    }
    return 0;
}

/* afp validate FILE */
static int
cmd_validate(const char *path)
{
    size_t len, i;
    uint8_t *buf = afp_cli_read_file(path, &len, 0);
    afp_issue_list issues = {0};
    afp_error err;
    int errors = 0;

    if (buf == NULL)
        return 2;
    afp_error_clear(&err);
    if (afp_validate(buf, len, &issues, &err) != AFP_OK)
    {
        afp_free(buf);
        return fail(path, &err);
    }
    for (i = 0; i < issues.count; i++)
    {
        printf("%s\t%lld\t%s\n", issues.items[i].severity == AFP_SEV_ERROR ? "error" : "warning",
               (long long) issues.items[i].offset, issues.items[i].message);
        if (issues.items[i].severity == AFP_SEV_ERROR)
            errors++;
    }
    afp_issue_list_free(&issues);
    afp_free(buf);
    return errors ? 1 : 0;
}

/* Text extraction warnings (characters a code page cannot map, with "missing": "warn"). */
static void
text_warning(void *ctx, const char *msg)
{
    fprintf(stderr, "%s: warning: %s\n", (const char *) ctx, msg);
}

/* afp text FILE [--options JSON] */
static int
cmd_text(const char *path, const char *options)
{
    afp_cli_input in;
    afp_buf out;
    afp_error err;
    afp_text_options to;

    memset(&to, 0, sizeof(to));
    afp_error_clear(&err);
    if (options && afp_text_options_parse(&to, options, strlen(options), &err) != AFP_OK)
    {
        afp_text_options_free(&to);
        return fail("--options", &err);
    }
    to.warning = text_warning;
    to.cb_ctx = (void *) path;
    if (afp_cli_input_open(path, &in, 0) != 0)
    {
        afp_text_options_free(&to);
        return 2;
    }
    afp_buf_init(&out);
    if (afp_extract_text_opts(in.data, in.len, &to, &out, &err) != AFP_OK)
    {
        afp_text_options_free(&to);
        afp_buf_free(&out);
        afp_cli_input_close(&in);
        return fail(path, &err);
    }
    afp_text_options_free(&to);
    fwrite(out.data, 1, out.len, stdout);
    if (out.len > 0 && out.data[out.len - 1] != '\n')
        putchar('\n');
    afp_buf_free(&out);
    afp_cli_input_close(&in);
    return 0;
}

/* afp pages FILE */
static int
cmd_pages(const char *path)
{
    size_t len;
    uint8_t *buf = afp_cli_read_file(path, &len, 0);
    afp_error err;
    int64_t n = 0;

    if (buf == NULL)
        return 2;
    afp_error_clear(&err);
    if (afp_page_count(buf, len, &n, &err) != AFP_OK)
    {
        afp_free(buf);
        return fail(path, &err);
    }
    printf("%lld\n", (long long) n);
    afp_free(buf);
    return 0;
}

/* afp documents FILE */
static int
cmd_documents(const char *path)
{
    size_t len, i, j;
    uint8_t *buf = afp_cli_read_file(path, &len, 0);
    afp_document_list docs = {0};
    afp_error err;
    afp_buf line;

    if (buf == NULL)
        return 2;
    afp_error_clear(&err);
    if (afp_documents(buf, len, &docs, &err) != AFP_OK)
    {
        afp_free(buf);
        return fail(path, &err);
    }
    afp_buf_init(&line);
    for (i = 0; i < docs.count; i++)
    {
        const afp_document *d = &docs.items[i];

        line.len = 0;
        afp_buf_putc(&line, '{');
        for (j = 0; j < d->index_count; j++)
        {
            if (j)
                afp_buf_append(&line, ", ", 2);
            afp_buf_json_string(&line, d->index[j].name, strlen(d->index[j].name));
            afp_buf_append(&line, ": ", 2);
            afp_buf_json_string(&line, d->index[j].value, strlen(d->index[j].value));
        }
        afp_buf_putc(&line, '}');
        printf("%zu\t%s\t%lld\t%lld\t%s\n", i + 1, d->name, (long long) d->first_page,
               (long long) d->page_count, afp_buf_cstr(&line));
    }
    afp_buf_free(&line);
    afp_document_list_free(&docs);
    afp_free(buf);
    return 0;
}

/* afp compose -o OUT [--name N] [--index K=V]... [--codepage CP] [--font-size PT] TEXTFILE */
static int
cmd_compose(int argc, char **argv)
{
    const char *out_path = NULL, *in_path = NULL;
    afp_compose_doc doc;
    afp_compose_opts opts;
    afp_index_pair pairs[64];
    size_t npairs = 0, len;
    uint8_t *text;
    afp_buf out;
    afp_error err;
    FILE *f;
    int i;

    memset(&doc, 0, sizeof(doc));
    memset(&opts, 0, sizeof(opts));
    for (i = 0; i < argc; i++)
    {
        const char *a = argv[i];

        if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && i + 1 < argc)
            out_path = argv[++i];
        else if (strcmp(a, "--name") == 0 && i + 1 < argc)
            doc.name = argv[++i];
        else if (strcmp(a, "--codepage") == 0 && i + 1 < argc)
            opts.codepage = argv[++i];
        else if (strcmp(a, "--font-size") == 0 && i + 1 < argc)
            opts.font_size_pt = atof(argv[++i]);
        else if (strcmp(a, "--page") == 0 && i + 1 < argc)
        {
            if (sscanf(argv[++i], "%lfx%lf", &opts.page_width_in, &opts.page_height_in) != 2)
            {
                fprintf(stderr, "%s: --page expects WIDTHxHEIGHT in inches, e.g. 8.5x11\n", progname);
                return 2;
            }
        }
        else if (strcmp(a, "--index") == 0 && i + 1 < argc)
        {
            char *kv = argv[++i];
            char *eq = strchr(kv, '=');

            if (eq == NULL || eq == kv || npairs == sizeof(pairs) / sizeof(pairs[0]))
            {
                fprintf(stderr, "%s: --index expects KEY=VALUE (at most 64)\n", progname);
                return 2;
            }
            *eq = '\0';
            pairs[npairs].name = kv;
            pairs[npairs].value = eq + 1;
            npairs++;
        }
        else if (a[0] == '-' && a[1] != '\0')
        {
            fprintf(stderr, "%s: compose: unknown option %s (see '%s compose --help')\n", progname, a,
                    progname);
            return 2;
        }
        else if (in_path == NULL)
            in_path = a;
        else
        {
            fprintf(stderr, "%s: compose: only one TEXTFILE is accepted\n", progname);
            return 2;
        }
    }
    if (out_path == NULL || in_path == NULL)
    {
        fprintf(stderr, "%s: compose needs -o OUT.afp and a TEXTFILE\n", progname);
        return 2;
    }
    text = afp_cli_read_file(in_path, &len, 0);
    if (text == NULL)
        return 2;
    doc.text = (const char *) text;
    doc.text_len = len;
    doc.index = pairs;
    doc.index_count = npairs;
    afp_error_clear(&err);
    afp_buf_init(&out);
    if (afp_compose_text(&doc, 1, &opts, &out, &err) != AFP_OK)
    {
        afp_free(text);
        afp_buf_free(&out);
        return fail(in_path, &err);
    }
    f = fopen(out_path, "wb");
    if (f == NULL || fwrite(out.data, 1, out.len, f) != out.len || fclose(f) != 0)
    {
        fprintf(stderr, "%s: cannot write %s: %s\n", progname, out_path, strerror(errno));
        afp_free(text);
        afp_buf_free(&out);
        return 2;
    }
    afp_free(text);
    afp_buf_free(&out);
    return 0;
}

/* Dispatches the command line. */
int
main(int argc, char **argv)
{
    const char *cmd;

    if (argc < 2)
    {
        usage(stderr);
        return 2;
    }
    cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0)
    {
        if (argc > 2)
            return command_help(argv[2]);
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "pdf") == 0)
        return afp_cli_pdf(argc - 2, argv + 2);
    if (strcmp(cmd, "split") == 0)
        return afp_cli_split(argc - 2, argv + 2);
    if (argc > 2 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0))
        return command_help(cmd);
    if (strcmp(cmd, "compose") == 0)
        return cmd_compose(argc - 2, argv + 2);
    if (strcmp(cmd, "generate") == 0)
        return afp_cli_generate(argc - 2, argv + 2);
    if (strcmp(cmd, "dump") == 0 && argc == 4 && strcmp(argv[2], "--detail") == 0)
        return cmd_dump(argv[3], 1);
    if (strcmp(cmd, "text") == 0 && argc == 5 && strcmp(argv[3], "--options") == 0)
        return cmd_text(argv[2], argv[4]);
    if (argc != 3)
    {
        if (command_help(cmd) == 2)
            return 2;
        return 2;
    }
    if (strcmp(cmd, "dump") == 0)
        return cmd_dump(argv[2], 0);
    if (strcmp(cmd, "validate") == 0)
        return cmd_validate(argv[2]);
    if (strcmp(cmd, "text") == 0)
        return cmd_text(argv[2], NULL);
    if (strcmp(cmd, "pages") == 0)
        return cmd_pages(argv[2]);
    if (strcmp(cmd, "documents") == 0)
        return cmd_documents(argv[2]);
    fprintf(stderr, "%s: unknown command '%s'\n", progname, cmd);
    usage(stderr);
    return 2;
}
