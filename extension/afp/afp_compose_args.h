/*
 * afp_compose_args.h — turns the jsonb arguments of afp_compose_text() into core structures.
 */
#ifndef AFP_COMPOSE_ARGS_H
#define AFP_COMPOSE_ARGS_H

#include "postgres.h"

#include "utils/jsonb.h"

#include "afp.h"

/* Reads docs (an array of {"name", "index", "text"} objects, or one such object) into a palloc'd
 * array; wrong shapes raise ERROR 22023 naming the jsonb path (docs[2].index.Account). */
extern afp_compose_doc *afp_compose_docs_from_jsonb(Jsonb *docs, size_t *ndocs);

/* Reads the options object into opts, starting from the documented defaults. */
extern void afp_compose_opts_from_jsonb(Jsonb *options, afp_compose_opts *opts);

#endif
