/*
 * main.c — runs every unit-test suite of the format core and prints the totals.
 */
#include "unit.h"

#include <stdlib.h>

int unit_checks = 0;
int unit_failures = 0;

#define SUITE(name) void suite_##name(void);
#include "suites.h"
#undef SUITE

/* Reads a whole file into memory. */
unsigned char *
unit_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *buf;
    long n;

    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t) n + 1);
    if (buf == NULL || fread(buf, 1, (size_t) n, f) != (size_t) n)
    {
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    *len = (size_t) n;
    return buf;
}

/* Location of ../shared/samples (overridable with AFP_SAMPLES). */
const char *
unit_samples_dir(void)
{
    const char *d = getenv("AFP_SAMPLES");

    return d ? d : "../shared/samples";
}

/* Runs all suites; exit status 1 when any check failed. */
int
main(void)
{
#define SUITE(name)                                   \
    do {                                              \
        int before = unit_failures, cb = unit_checks; \
        suite_##name();                               \
        printf("suite %-12s %4d checks, %d failed\n", #name, unit_checks - cb, \
               unit_failures - before);               \
    } while (0);
#include "suites.h"
#undef SUITE
    printf("unit: %d checks ran, %d failed\n", unit_checks, unit_failures);
    return unit_failures ? 1 : 0;
}
