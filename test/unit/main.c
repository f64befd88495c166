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

/* True when suite name is to run: all of them, or those listed (comma-separated) in
 * $AFP_UNIT_SUITES (a check script that needs one suite's side output runs only that). */
static int
unit_selected(const char *name)
{
    const char *sel = getenv("AFP_UNIT_SUITES"), *p;
    size_t n = strlen(name);

    if (sel == NULL || sel[0] == '\0')
        return 1;
    for (p = sel; (p = strstr(p, name)) != NULL; p += n)
        if ((p == sel || p[-1] == ',') && (p[n] == '\0' || p[n] == ','))
            return 1;
    return 0;
}

/* Runs all (or the selected) suites; exit status 1 when any check failed. */
int
main(void)
{
#define SUITE(name)                                   \
    if (unit_selected(#name)) do {                    \
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
