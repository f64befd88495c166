/*
 * fuzz_json.c — libFuzzer target for the JSON parser, template validation and placeholder binding.
 *
 * For one input: parses it as JSON; when it parses, checks that writing it compactly and parsing
 * that again gives the same text (a fixed point), validates it as a template, and binds every
 * string in it (as a template text) with the parsed value itself as the data root — once with a
 * plain scope chain and once inside a loop/page scope chain. Error messages, issue paths and
 * bound text must be valid UTF-8 without NUL bytes (PostgreSQL stores them as text).
 *
 * Built by `make fuzz-build` (clang -fsanitize=fuzzer,address,undefined); run by test/fuzz/run.sh.
 */
#define FUZZ_NAME "fuzz_json"
#include "afp_gen.h"
#include "fuzz_util.h"

/* Scope chains for binding: the data root alone, and root ← loop ← item ← page. */
typedef struct fuzz_scopes {
    afp_scope data, loop, item, page;
} fuzz_scopes;

/* Binds one string in both scope chains and checks the results. */
static void
bind_one(const char *tmpl, const fuzz_scopes *sc, afp_buf *out)
{
    afp_error err;

    out->len = 0;
    if (afp_bind_text(tmpl, &sc->data, "$.x", out, &err) == AFP_OK)
        fuzz_check_utf8("afp_bind_text result", out->data, out->len);
    else
    {
        if (err.status != AFP_ERR_ARGUMENT || out->len != 0)
            FUZZ_FAIL("afp_bind_text failed with status %d and %zu bytes of output", (int) err.status,
                      out->len);
        fuzz_check_cstr("afp_bind_text error", err.message, 0);
    }
    out->len = 0;
    if (afp_bind_text(tmpl, &sc->page, "$.y", out, &err) == AFP_OK)
        fuzz_check_utf8("afp_bind_text result (page)", out->data, out->len);
    else
        fuzz_check_cstr("afp_bind_text error (page)", err.message, 0);
    (void) afp_bind_uses_page_count(tmpl);
    (void) afp_scope_lookup(&sc->item, tmpl);
}

/* Walks the tree and binds every string (values and keys) as a template. */
static void
bind_all(const afp_json *v, const fuzz_scopes *sc, afp_buf *out, int depth)
{
    size_t i;

    if (depth > 300)
        FUZZ_FAIL("tree deeper than the parser allows");
    if (v->type == AFP_JSON_STRING)
    {
        if (strlen(v->string) != v->string_len)
            FUZZ_FAIL("string_len %zu but strlen %zu", v->string_len, strlen(v->string));
        fuzz_check_utf8("parsed string", (const uint8_t *) v->string, v->string_len);
        bind_one(v->string, sc, out);
    }
    for (i = 0; i < v->count; i++)
    {
        if (v->type == AFP_JSON_OBJECT)
        {
            fuzz_check_cstr("parsed key", v->keys[i], 0);
            bind_one(v->keys[i], sc, out);
        }
        bind_all(v->items[i], sc, out, depth + 1);
    }
    (void) afp_json_truthy(v);
}

/* One fuzz input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    afp_json *v = NULL, *again = NULL;
    afp_error err;
    afp_buf w1, w2, out;

    if (afp_json_parse((const char *) data, size, &v, &err) != AFP_OK)
    {
        if (v != NULL || err.status == AFP_OK)
            FUZZ_FAIL("failed parse returned a tree or no error status");
        fuzz_check_cstr("afp_json_parse error", err.message, 0);
        return 0;
    }
    /* write → parse → write is a fixed point */
    afp_buf_init(&w1);
    afp_buf_init(&w2);
    afp_json_write(v, &w1);
    if (afp_json_parse((const char *) w1.data, w1.len, &again, &err) != AFP_OK)
        FUZZ_FAIL("written JSON does not parse: %s", err.message);
    afp_json_write(again, &w2);
    if (w1.len != w2.len || memcmp(w1.data, w2.data, w1.len) != 0)
        FUZZ_FAIL("write/parse/write differs (%zu vs %zu bytes)", w1.len, w2.len);
    afp_json_free(again);
    afp_buf_free(&w1);
    afp_buf_free(&w2);

    {
        afp_path_issue_list issues;
        size_t i;

        memset(&issues, 0, sizeof(issues));
        afp_template_validate(v, &issues);
        for (i = 0; i < issues.count; i++)
        {
            fuzz_check_cstr("issue path", issues.items[i].path, 0);
            fuzz_check_cstr("issue message", issues.items[i].message, 0);
            if (issues.items[i].path[0] != '$')
                FUZZ_FAIL("issue path %s does not start with $", issues.items[i].path);
        }
        afp_path_issue_list_free(&issues);
    }

    {
        static const char loop_json[] = "{\"index\":1,\"count\":3}";
        afp_json *loopv = NULL;
        fuzz_scopes sc;

        if (afp_json_parse(loop_json, sizeof(loop_json) - 1, &loopv, &err) != AFP_OK)
            FUZZ_FAIL("cannot parse %s: %s", loop_json, err.message);
        sc.data = (afp_scope) {NULL, NULL, v, 0, 0};
        sc.loop = (afp_scope) {&sc.data, "loop", loopv, 0, 0};
        sc.item = (afp_scope) {&sc.loop, "item", v, 0, 0};
        sc.page = (afp_scope) {&sc.item, NULL, NULL, 2, 0};
        afp_buf_init(&out);
        bind_all(v, &sc, &out, 0);
        afp_buf_free(&out);
        afp_json_free(loopv);
    }
    afp_json_free(v);
    return 0;
}
