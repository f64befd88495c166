/*
 * afp_split.h — one self-contained AFP file per document of a print file (afp_split.c).
 *
 * Plain C, no PostgreSQL headers; memory through afp_alloc.
 */
#ifndef AFP_SPLIT_H
#define AFP_SPLIT_H

#include "afp.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One document handed to the callback; afp and doc are valid during the call only. */
typedef struct afp_split_part {
    int64_t seq;                    /* 1-based */
    const afp_document *doc;        /* name, first page, page count, TLE index; NULL if unknown */
    int64_t offset;                 /* input offset of its BNG (or of its BDT) */
    const uint8_t *afp;             /* resources + form map, BDT, [IMM], BNG … ENG, EDT */
    size_t len;
} afp_split_part;

/* Receives one part; a non-zero return stops the split (AFP_ERR_INTERRUPTED). */
typedef int (*afp_split_fn)(void *ctx, const afp_split_part *part);

/* Splits buf[0..len) into one AFP per outermost named page group (or per BDT without page
 * groups), each preceded by the inline resource groups and form maps found outside documents.
 * *count (may be NULL) receives the number of parts. Damaged framing fails with its offset. */
afp_status afp_split(const uint8_t *buf, size_t len, afp_split_fn fn, void *ctx, int64_t *count,
                     afp_error *err);

#ifdef __cplusplus
}
#endif
#endif
