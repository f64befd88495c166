/*
 * fuzz_generate.c — libFuzzer target for the generator: template validation, data binding,
 * layout and AFP output. Input: TEMPLATE-JSON [X'00' DATA-JSON]; the resource named "self" is
 * the data part's raw bytes (so image decoding is fuzzed too). Whatever is generated must read
 * back and validate without errors.
 */
#include "afp_gen.h"

#include <stdlib.h>
#include <string.h>

static const uint8_t *self_data;
static size_t self_len;

/* Resource provider: only "self" exists. */
static int
fuzz_resource(void *ctx, const char *type, const char *name, const uint8_t **data, size_t *len)
{
    (void) ctx;
    (void) type;
    if (strcmp(name, "self") != 0)
        return 0;
    *data = self_data;
    *len = self_len;
    return 1;
}

/* libFuzzer entry point. */
int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t len)
{
    const uint8_t *sep = memchr(buf, 0, len);
    size_t tlen = sep ? (size_t) (sep - buf) : len;
    afp_json *tmpl = NULL, *data = NULL;
    afp_path_issue_list issues = {0};
    afp_generator *g = NULL;
    afp_error err;
    afp_buf out;

    afp_error_clear(&err);
    if (afp_json_parse((const char *) buf, tlen, &tmpl, &err) != AFP_OK)
        return 0;
    self_data = sep ? sep + 1 : (const uint8_t *) "";
    self_len = sep ? len - tlen - 1 : 0;
    if (afp_json_parse((const char *) self_data, self_len, &data, &err) != AFP_OK)
        data = NULL;
    afp_template_validate(tmpl, &issues);
    afp_buf_init(&out);
    if (issues.count == 0 && afp_generator_begin(&g, tmpl, fuzz_resource, NULL, &out, &err) == AFP_OK)
    {
        afp_json empty = {AFP_JSON_OBJECT, 0, NULL, 0, NULL, NULL, NULL, 0};

        if (afp_generator_add(g, data ? data : &empty, &err) == AFP_OK)
        {
            afp_issue_list vl = {0};
            size_t i;

            afp_generator_end(g, &err);
            afp_validate(out.data, out.len, &vl, &err);
            for (i = 0; i < vl.count; i++)
                if (vl.items[i].severity == AFP_SEV_ERROR)
                    abort();    /* the generator wrote something invalid */
            afp_issue_list_free(&vl);
        }
        else
            afp_generator_abort(g);
    }
    afp_buf_free(&out);
    afp_path_issue_list_free(&issues);
    afp_json_free(tmpl);
    afp_json_free(data);
    return 0;
}
