/*
 * afp_cli.h — helpers shared by the bin/afp commands in cli/.
 */
#ifndef AFP_CLI_H
#define AFP_CLI_H

#include "afp.h"

/* Reads a whole file (stdin for "-") into memory allocated with afp_alloc. With quiet == 0 a
 * failure is reported on stderr as "afp: cannot open/read PATH: reason"; returns NULL then. */
uint8_t *afp_cli_read_file(const char *path, size_t *len, int quiet);

/* An input file: mapped read-only (regular files) or read into memory (pipes, "-"). A
 * mapping is advised MADV_SEQUENTIAL, and its pages are dropped from the process
 * (MADV_DONTNEED: read back from the page cache if touched again) by afp_cli_input_release
 * behind a reader and by the core's interrupt hook, which the CLI points at the open mapping
 * (every long loop of the core calls it), so resident memory does not grow with the file. One
 * mapped input at a time. */
typedef struct afp_cli_input {
    const uint8_t *data;
    size_t len;
    void *map;              /* mmap base; NULL when read into heap */
    uint8_t *heap;          /* afp_alloc'd copy when not mapped */
    size_t dropped;         /* bytes [0, dropped) released since the pass started */
} afp_cli_input;

/* Opens path ("-" = stdin); reports failures on stderr unless quiet; 0 ok, -1 failed. */
int afp_cli_input_open(const char *path, afp_cli_input *in, int quiet);
/* A sequential pass has reached offset upto: releases whole 1 MB steps of the mapping before
 * it (a smaller offset than before starts a new pass; the next interrupt hook call then leaves
 * the mapping alone). No-op for heap input. */
void afp_cli_input_release(afp_cli_input *in, int64_t upto);
/* Unmaps or frees the input. */
void afp_cli_input_close(afp_cli_input *in);

/* The command entry points other than those in afp_cli.c. */
int afp_cli_generate(int argc, char **argv);
int afp_cli_pdf(int argc, char **argv);
int afp_cli_split(int argc, char **argv);

#endif
