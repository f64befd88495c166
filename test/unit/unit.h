/*
 * unit.h — a minimal unit-test harness for the format core.
 *
 * Each test file defines one or more suites `void suite_NAME(void)` and lists them in
 * test/unit/suites.h; main.c runs them all and prints how many checks ran and failed.
 */
#ifndef AFP_UNIT_H
#define AFP_UNIT_H

#include <stdio.h>
#include <string.h>

extern int unit_checks;
extern int unit_failures;

/* Records one check; prints the failing expression with file and line. */
#define CHECK(cond)                                                                     \
    do {                                                                                \
        unit_checks++;                                                                  \
        if (!(cond)) {                                                                  \
            unit_failures++;                                                            \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);             \
        }                                                                               \
    } while (0)

/* Checks two C strings for equality and prints both when they differ. */
#define CHECK_STR(a, b)                                                                 \
    do {                                                                                \
        const char *ua_ = (a), *ub_ = (b);                                              \
        unit_checks++;                                                                  \
        if (ua_ == NULL || ub_ == NULL || strcmp(ua_, ub_) != 0) {                      \
            unit_failures++;                                                            \
            fprintf(stderr, "FAIL %s:%d: %s == %s\n  got:      \"%s\"\n  expected: \"%s\"\n", \
                    __FILE__, __LINE__, #a, #b, ua_ ? ua_ : "(null)", ub_ ? ub_ : "(null)"); \
        }                                                                               \
    } while (0)

/* Reads a whole file into a malloc'd buffer (NULL if unreadable). */
unsigned char *unit_read_file(const char *path, size_t *len);
/* Directory of the shared samples (AFP_SAMPLES or ../shared/samples). */
const char *unit_samples_dir(void);

#endif
