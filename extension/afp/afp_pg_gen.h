/*
 * afp_pg_gen.h — glue of the generator's SQL functions (afp_generate.c) shared with
 * afp_generate_batch_lo (afp_generate_lo.c): the resource provider over afp.resources and the
 * template check.
 */
#ifndef AFP_PG_GEN_H
#define AFP_PG_GEN_H

#include "postgres.h"

#include "nodes/pg_list.h"

#include "afp_gen.h"

/* The resources afp_pg_resource has read, copied into cxt, for the rest of the call. */
typedef struct afp_pg_res_cache {
    MemoryContext cxt;
    List *items;
} afp_pg_res_cache;

/* Resource provider for afp_generator_begin (ctx: an afp_pg_res_cache): the highest version of
 * the name and type in afp.resources, read with its own SPI connection and cached. */
extern int afp_pg_resource(void *ctx, const char *type, const char *name, const uint8_t **data,
                           size_t *len);

/* Raises the first problem afp_template_validate finds, if any, as 22023 with its path. */
extern void afp_pg_check_template(const afp_json *tmpl);

#endif
