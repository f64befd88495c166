/*
 * afp_cli.h — helpers shared by the bin/afp commands in cli/.
 */
#ifndef AFP_CLI_H
#define AFP_CLI_H

#include "afp.h"

/* Reads a whole file (stdin for "-") into memory allocated with afp_alloc. With quiet == 0 a
 * failure is reported on stderr as "afp: cannot open/read PATH: reason"; returns NULL then. */
uint8_t *afp_cli_read_file(const char *path, size_t *len, int quiet);

/* The command entry points other than those in afp_cli.c. */
int afp_cli_generate(int argc, char **argv);
int afp_cli_pdf(int argc, char **argv);
int afp_cli_split(int argc, char **argv);

#endif
