/*
 * test_json.c — unit tests of the JSON parser/writer (suite json), placeholder binding and the
 * formatters (suite bind) and template validation (suite template).
 */
#include "afp_gen.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

/* Returns a malloc'd copy of s with every ' replaced by " (keeps JSON in C readable). */
static char *
dq(const char *s)
{
    size_t n = strlen(s), i;
    char *d = malloc(n + 1);

    for (i = 0; i <= n; i++)
        d[i] = s[i] == '\'' ? '"' : s[i];
    return d;
}

/* Parses JSON text that must be valid; NULL (and a failed check) otherwise. */
static afp_json *
parse_ok(const char *text)
{
    afp_json *v = NULL;
    afp_error err;
    afp_status st = afp_json_parse(text, strlen(text), &v, &err);

    CHECK(st == AFP_OK);
    if (st != AFP_OK)
        fprintf(stderr, "  parse error: %s\n  input: %.200s\n", err.message, text);
    return v;
}

/* Parses n bytes that must fail with status st and exactly the message msg. */
static void
parse_fails(const char *text, size_t n, afp_status st, const char *msg)
{
    afp_json *v = (afp_json *) 1;
    afp_error err;

    CHECK(afp_json_parse(text, n, &v, &err) == st);
    CHECK(v == NULL);
    CHECK(err.status == st);
    CHECK_STR(err.message, msg);
}

/* Parses, writes compactly and compares with the expected text. */
static void
roundtrip(const char *text, const char *expect)
{
    afp_json *v = parse_ok(text);
    afp_buf b;

    afp_buf_init(&b);
    afp_json_write(v, &b);
    CHECK_STR(afp_buf_cstr(&b), expect);
    afp_buf_free(&b);
    afp_json_free(v);
}

/* ------------------------------------------------------------------ suite json */

/* Types, values, literal number text, key order and lookup. */
static void
json_basic_tests(void)
{
    char *t = dq("{'s':'x\\u00e4\\/\\n','n':-12.50e1,'i':0,'t':true,'f':false,'z':null,"
                 "'a':[1,[],{}],'o':{'k':'v'},'d':1,'d':2}");
    afp_json *v = parse_ok(t);
    const afp_json *m;

    free(t);
    if (v == NULL)
        return;
    CHECK(v->type == AFP_JSON_OBJECT);
    CHECK(v->count == 10);
    CHECK_STR(v->keys[0], "s");
    m = afp_json_get(v, "s");
    CHECK(m && m->type == AFP_JSON_STRING);
    CHECK_STR(m->string, "x\xC3\xA4/\n");
    CHECK(m->string_len == 5);
    m = afp_json_get(v, "n");
    CHECK(m && m->type == AFP_JSON_NUMBER && m->number == -125.0);
    CHECK_STR(m->number_text, "-12.50e1");
    CHECK(afp_json_get(v, "i")->number == 0.0);
    CHECK(afp_json_get(v, "t")->type == AFP_JSON_TRUE);
    CHECK(afp_json_get(v, "f")->type == AFP_JSON_FALSE);
    CHECK(afp_json_get(v, "z")->type == AFP_JSON_NULL);
    m = afp_json_get(v, "a");
    CHECK(m && m->type == AFP_JSON_ARRAY && m->count == 3);
    CHECK(m->items[1]->type == AFP_JSON_ARRAY && m->items[1]->count == 0);
    CHECK(m->items[2]->type == AFP_JSON_OBJECT && m->items[2]->count == 0);
    CHECK_STR(afp_json_get(afp_json_get(v, "o"), "k")->string, "v");
    CHECK(afp_json_get(v, "d")->number == 2.0);            /* the last duplicate wins */
    CHECK(afp_json_get(v, "missing") == NULL);
    CHECK(afp_json_get(afp_json_get(v, "a"), "x") == NULL); /* not an object */
    CHECK(afp_json_get(NULL, "x") == NULL);
    afp_json_free(v);

    v = parse_ok(" \t\r\n 3.25 \n");
    CHECK(v && v->type == AFP_JSON_NUMBER && v->number == 3.25);
    afp_json_free(v);
    v = parse_ok("\"\"");
    CHECK(v && v->type == AFP_JSON_STRING && v->string_len == 0 && v->string[0] == '\0');
    afp_json_free(v);
    v = parse_ok("1E+2");
    CHECK(v && v->number == 100.0);
    afp_json_free(v);
}

/* Unicode: escapes, surrogate pairs, raw UTF-8 and its validation. */
static void
json_unicode_tests(void)
{
    afp_json *v;

    v = parse_ok("\"\\uD83D\\uDE00 \\u20AC \xE2\x82\xAC \xF0\x9F\x98\x80\"");
    CHECK(v && strcmp(v->string, "\xF0\x9F\x98\x80 \xE2\x82\xAC \xE2\x82\xAC \xF0\x9F\x98\x80") == 0);
    afp_json_free(v);
    v = parse_ok("\"\\ud83d\\ude00\"");     /* lower-case hex */
    CHECK(v && strcmp(v->string, "\xF0\x9F\x98\x80") == 0);
    afp_json_free(v);
    v = parse_ok("\"\\b\\f\\r\\t\\\"\\\\\"");
    CHECK(v && strcmp(v->string, "\b\f\r\t\"\\") == 0);
    afp_json_free(v);

    parse_fails("\"\\uDE00\"", 8, AFP_ERR_FORMAT, "at byte offset 1: unpaired low surrogate \\uDE00");
    parse_fails("\"\\uD83Dx\"", 9, AFP_ERR_FORMAT,
                "at byte offset 1: high surrogate \\uD83D is not followed by a \\u escape of a "
                "low surrogate");
    parse_fails("\"\\uD83D\\u0041\"", 14, AFP_ERR_FORMAT,
                "at byte offset 1: high surrogate \\uD83D is followed by \\u0041, not by a low "
                "surrogate");
    parse_fails("\"\\u12G4\"", 8, AFP_ERR_FORMAT,
                "at byte offset 5: expected a hexadecimal digit in a \\u escape, found 'G'");
    parse_fails("\"\\u0000\"", 8, AFP_ERR_FORMAT, "at byte offset 1: \\u0000 is not supported in strings");
    parse_fails("\"a\\x\"", 5, AFP_ERR_FORMAT,
                "at byte offset 3: expected one of \" \\ / b f n r t u after '\\', found 'x'");
    parse_fails("\"a\x01\"", 4, AFP_ERR_FORMAT,
                "at byte offset 2: control character X'01' in a string (it must be escaped)");
    parse_fails("\"\xC3(\"", 4, AFP_ERR_FORMAT, "at byte offset 1: invalid UTF-8 byte X'C3' in a string");
    parse_fails("\"\xC0\xAF\"", 4, AFP_ERR_FORMAT, "at byte offset 1: invalid UTF-8 byte X'C0' in a string");
    parse_fails("\"\xED\xA0\x80\"", 5, AFP_ERR_FORMAT,      /* UTF-8 encoded surrogate */
                "at byte offset 1: invalid UTF-8 byte X'ED' in a string");
    parse_fails("\"abc", 4, AFP_ERR_FORMAT, "at byte offset 4: expected '\"' to end the string, found end of input");
    parse_fails("\xEF\xBB\xBF{}", 5, AFP_ERR_FORMAT,
                "at byte offset 0: expected a JSON value (object, array, string, number, true, "
                "false or null), found byte X'EF'");
}

/* Syntax errors name the offset and what was expected. */
static void
json_error_tests(void)
{
    parse_fails("", 0, AFP_ERR_FORMAT, "at byte offset 0: expected a JSON value, found end of input");
    parse_fails("  ", 2, AFP_ERR_FORMAT, "at byte offset 2: expected a JSON value, found end of input");
    parse_fails("{\"a\":1,}", 8, AFP_ERR_FORMAT,
                "at byte offset 7: expected '\"' to start an object key, found '}'");
    parse_fails("{\"a\" 1}", 7, AFP_ERR_FORMAT, "at byte offset 5: expected ':' after an object key, found '1'");
    parse_fails("{\"a\":1 \"b\":2}", 13, AFP_ERR_FORMAT,
                "at byte offset 7: expected ',' or '}' after an object member, found '\"'");
    parse_fails("[1 2]", 5, AFP_ERR_FORMAT,
                "at byte offset 3: expected ',' or ']' after an array element, found '2'");
    parse_fails("[1,]", 4, AFP_ERR_FORMAT,
                "at byte offset 3: expected a JSON value (object, array, string, number, true, "
                "false or null), found ']'");
    parse_fails("[", 1, AFP_ERR_FORMAT, "at byte offset 1: expected a JSON value, found end of input");
    parse_fails("{", 1, AFP_ERR_FORMAT, "at byte offset 1: expected '\"' to start an object key, found end of input");
    parse_fails("01", 2, AFP_ERR_FORMAT,
                "at byte offset 1: expected the end of input after the JSON value, found '1'");
    parse_fails("1.", 2, AFP_ERR_FORMAT,
                "at byte offset 2: expected a digit after the decimal point, found end of input");
    parse_fails("-", 1, AFP_ERR_FORMAT, "at byte offset 1: expected a digit, found end of input");
    parse_fails("+1", 2, AFP_ERR_FORMAT,
                "at byte offset 0: expected a JSON value (object, array, string, number, true, "
                "false or null), found '+'");
    parse_fails("1e", 2, AFP_ERR_FORMAT, "at byte offset 2: expected a digit in the exponent, found end of input");
    parse_fails(".5", 2, AFP_ERR_FORMAT,
                "at byte offset 0: expected a JSON value (object, array, string, number, true, "
                "false or null), found '.'");
    parse_fails("tru", 3, AFP_ERR_FORMAT,
                "at byte offset 0: expected a JSON value (object, array, string, number, true, "
                "false or null), found 't'");
    parse_fails("nul", 3, AFP_ERR_FORMAT,
                "at byte offset 0: expected a JSON value (object, array, string, number, true, "
                "false or null), found 'n'");
    parse_fails("1e400", 5, AFP_ERR_FORMAT, "at byte offset 0: number 1e400 is out of range");
    parse_fails("[-1e999]", 8, AFP_ERR_FORMAT, "at byte offset 1: number -1e999 is out of range");
    parse_fails("{} {}", 5, AFP_ERR_FORMAT,
                "at byte offset 3: expected the end of input after the JSON value, found '{'");
    parse_fails("[1]\x00", 4, AFP_ERR_FORMAT,
                "at byte offset 3: expected the end of input after the JSON value, found byte X'00'");
    parse_fails("{1:2}", 5, AFP_ERR_FORMAT, "at byte offset 1: expected '\"' to start an object key, found '1'");
}

/* Nesting: 256 levels parse, 257 are AFP_ERR_LIMIT; very deep input does not recurse. */
static void
json_depth_tests(void)
{
    size_t n = 100000, i;
    char *s = malloc(2 * n + 1);
    afp_json *v = NULL;
    afp_error err;

    for (i = 0; i < 256; i++)
    {
        s[i] = '[';
        s[256 + i] = ']';
    }
    s[512] = '\0';
    v = parse_ok(s);
    CHECK(v != NULL && v->type == AFP_JSON_ARRAY && v->count == 1);
    afp_json_free(v);

    for (i = 0; i < 257; i++)
    {
        s[i] = '[';
        s[257 + i] = ']';
    }
    parse_fails(s, 514, AFP_ERR_LIMIT, "at byte offset 256: nesting deeper than 256 arrays/objects");

    for (i = 0; i < 256; i++)
        memcpy(s + 5 * i, "{\"a\":", 5);
    s[5 * 256] = '{';
    CHECK(afp_json_parse(s, 5 * 256 + 1, &v, &err) == AFP_ERR_LIMIT);
    CHECK_STR(err.message, "at byte offset 1280: nesting deeper than 256 arrays/objects");

    memset(s, '[', 2 * n);
    CHECK(afp_json_parse(s, 2 * n, &v, &err) == AFP_ERR_LIMIT && v == NULL);
    free(s);

    /* a long flat array */
    {
        afp_buf b;

        afp_buf_init(&b);
        afp_buf_putc(&b, '[');
        for (i = 0; i < 20000; i++)
            afp_buf_printf(&b, "%s{\"k\":%zu}", i ? "," : "", i);
        afp_buf_putc(&b, ']');
        v = parse_ok(afp_buf_cstr(&b));
        CHECK(v && v->count == 20000 && afp_json_get(v->items[19999], "k")->number == 19999.0);
        afp_json_free(v);
        afp_buf_free(&b);
    }
}

/* Compact writing keeps number literals and escapes strings. */
static void
json_write_tests(void)
{
    afp_json num;
    afp_buf b;

    roundtrip(" { \"a\" : [ 1 , 2.50 , -3e2 , true , false , null ] , \"b\" : \"x\\\"y\\n\\u00e4\" , "
              "\"c\" : { } , \"d\" : [ ] } ",
              "{\"a\":[1,2.50,-3e2,true,false,null],\"b\":\"x\\\"y\\u000a\xC3\xA4\",\"c\":{},\"d\":[]}");
    roundtrip("\"\\uD83D\\uDE00\"", "\"\xF0\x9F\x98\x80\"");
    roundtrip("{\"\":\"\"}", "{\"\":\"\"}");
    /* numbers built without literal text */
    memset(&num, 0, sizeof(num));
    num.type = AFP_JSON_NUMBER;
    num.number = 42;
    afp_buf_init(&b);
    afp_json_write(&num, &b);
    num.number = 0.5;
    afp_buf_putc(&b, ' ');
    afp_json_write(&num, &b);
    afp_buf_putc(&b, ' ');
    afp_json_write(NULL, &b);
    CHECK_STR(afp_buf_cstr(&b), "42 0.5 null");
    afp_buf_free(&b);
}

/* All JSON tests. */
void
suite_json(void)
{
    json_basic_tests();
    json_unicode_tests();
    json_error_tests();
    json_depth_tests();
    json_write_tests();
}

/* ------------------------------------------------------------------ suite bind */

static const char *BIND_DATA =
    "{'customer':{'name':'J\xC3\xBCrgen M\xC3\xBCller','nick':' \\t jm \xC2\xA0','city':'\xC3\xA9vry'},"
    "'account':{'number':'DE-001','balance':1234.5,'neg':-1234.567,'str':'1234.5','zero':0,"
    "'tiny':-0.004,'half':2.675,'big':1234567890.125,'exp':1.5e3,'small':5e-3,'nines':999.995,"
    "'sneg':' -0.5 ','lit':'12,5','huge':'1e500','plus':'+7'},"
    "'items':[{'amount':10},{'amount':20.5}],'d':'2026-11-26','ts':'2026-03-05T09:07:03.5+01:00',"
    "'bad':'2026-02-29','nul':null,'flag':true,'off':false,'obj':{},'arr':[],'empty':''}";

/* Binds tmpl against data (with the scope chain s or the data root) and returns the result or
 * "ERR <message>" in a static buffer. */
static const char *
bindx(const char *tmpl, const afp_json *data, const afp_scope *s)
{
    static char res[1024];
    afp_scope root = {NULL, NULL, data, 0, 0};
    afp_buf out;
    afp_error err;
    afp_status st;

    afp_buf_init(&out);
    afp_buf_append(&out, "<", 1);
    st = afp_bind_text(tmpl, s ? s : &root, "$.t", &out, &err);
    if (st != AFP_OK)
    {
        CHECK(st == AFP_ERR_ARGUMENT && err.status == AFP_ERR_ARGUMENT);
        CHECK(out.len == 1);    /* nothing appended on error */
        snprintf(res, sizeof(res), "ERR %s", err.message);
    }
    else
        snprintf(res, sizeof(res), "%s", afp_buf_cstr(&out) + 1);
    afp_buf_free(&out);
    return res;
}

/* A template and what binding it gives ("ERR " and the message when binding fails). */
typedef struct bind_case {
    const char *tmpl;
    const char *expect;
} bind_case;

/* Binds every template of cases against d (no scope chain) and checks each result; a failure
 * also names the template. */
static void
check_binds(const bind_case *cases, size_t n, const afp_json *d)
{
    size_t i;

    for (i = 0; i < n; i++)
    {
        int before = unit_failures;

        CHECK_STR(bindx(cases[i].tmpl, d, NULL), cases[i].expect);
        if (unit_failures != before)
            fprintf(stderr, "  template: \"%s\"\n", cases[i].tmpl);
    }
}

/* Paths, scopes, literals and plain values. */
static void
bind_path_tests(const afp_json *d)
{
    afp_scope root = {NULL, NULL, d, 0, 0};
    afp_json *loopv = parse_ok("{\"index\":2,\"count\":5}");
    afp_json *shadow = parse_ok("{\"name\":\"Shadow\"}");
    afp_scope loop = {&root, "loop", loopv, 0, 0};
    afp_scope item = {&loop, "item", afp_json_get(d, "items")->items[1], 0, 0};
    afp_scope cust = {&item, "customer", shadow, 0, 0};
    afp_scope page = {&item, NULL, NULL, 2, 0};
    afp_scope page5 = {&item, NULL, NULL, 2, 5};
    const afp_json *v;

    CHECK_STR(bindx("Hello {{customer.name}}!", d, NULL), "Hello J\xC3\xBCrgen M\xC3\xBCller!");
    CHECK_STR(bindx("no placeholders { } }} {", d, NULL), "no placeholders { } }} {");
    CHECK_STR(bindx("", d, NULL), "");
    CHECK_STR(bindx("{{ items[1].amount }}/{{items[0].amount}}", d, NULL), "20.5/10");
    CHECK_STR(bindx("{{flag}} {{off}} {{account.zero}} [{{empty}}]", d, NULL), "true false 0 []");
    CHECK_STR(bindx("{{\"{{\"}} literal {{\"}}\"}}", d, NULL), "{{ literal }}");
    CHECK_STR(bindx("{{ \"abc\" | upper }}", d, NULL), "ABC");
    CHECK_STR(bindx("{{item.amount}} {{loop.index}}/{{loop.count}} {{account.number}}", d, &item),
              "20.5 2/5 DE-001");
    CHECK_STR(bindx("{{customer.name}} {{item.amount}}", d, &cust), "Shadow 20.5");
    CHECK_STR(bindx("Page {{page.number}} of {{ page.count }}", d, &page), "Page 2 of 2");
    CHECK_STR(bindx("Page {{page.number}} of {{page.count}} {{item.amount}} {{account.number}}", d,
                    &page5), "Page 2 of 5 20.5 DE-001");

    v = afp_scope_lookup(&root, "items[0].amount");
    CHECK(v && v->number == 10.0);
    CHECK(afp_scope_lookup(&root, "items[2]") == NULL);
    CHECK(afp_scope_lookup(&root, "items[99999999999999999999999]") == NULL);
    CHECK(afp_scope_lookup(&root, "items.0") == NULL);
    CHECK(afp_scope_lookup(&root, "items[x]") == NULL);
    CHECK(afp_scope_lookup(&root, "customer")->type == AFP_JSON_OBJECT);
    CHECK(afp_scope_lookup(&root, "customer.name.x") == NULL);
    CHECK(afp_scope_lookup(&item, "loop.index")->number == 2.0);
    CHECK(afp_scope_lookup(&item, "item")->type == AFP_JSON_OBJECT);
    CHECK(afp_scope_lookup(&root, "item") == NULL);
    CHECK(afp_scope_lookup(&root, "") == NULL);
    CHECK(afp_scope_lookup(NULL, "customer") == NULL);

    CHECK(afp_bind_uses_page_count("Page {{page.number}} of {{ page.count | number:0 }}"));
    CHECK(!afp_bind_uses_page_count("Page {{page.number}}"));
    CHECK(!afp_bind_uses_page_count("{{\"page.count\"}} {{pages.count}}"));
    CHECK(!afp_bind_uses_page_count("{{x | uper}} {{page.count}}"));
    afp_json_free(loopv);
    afp_json_free(shadow);
}

/* Templates and results of bind_number_tests. */
static const bind_case bind_number_cases[] = {
    {"{{account.balance | number:2}}", "1,234.50"},
    {"{{account.balance|number}}", "1,235"},
    {"{{account.balance|number:0}}", "1,235"},
    {"{{account.half|number:2}}", "2.68"},
    {"{{account.neg|number:2}}", "-1,234.57"},
    {"{{account.tiny|number:2}}", "0.00"},
    {"{{account.tiny|number:3}}", "-0.004"},
    {"{{account.big|number:2}}", "1,234,567,890.13"},
    {"{{account.exp|number}}", "1,500"},
    {"{{account.small|number:2}}", "0.01"},
    {"{{account.small|number:1}}", "0.0"},
    {"{{account.nines|number:2}}", "1,000.00"},
    {"{{account.sneg|number}}", "-1"},
    {"{{account.plus|number:1}}", "7.0"},
    {"{{account.zero|number:2}}", "0.00"},
    {"{{account.str|number:10}}", "1,234.5000000000"},
    {"{{account.big|number:2:de}}", "1.234.567.890,13"},
    {"{{account.big|number:1:fr}}", "1\xC2\xA0" "234\xC2\xA0" "567\xC2\xA0" "890,1"},
    {"{{account.big|number:0:ch}}", "1'234'567'890"},
    {"{{loop.index | number:1}}", "ERR $.t: data path loop.index not found"},

    {"{{account.balance | money:EUR}}", "\xE2\x82\xAC" "1,234.50"},
    {"{{account.balance | money:USD}}", "$1,234.50"},
    {"{{account.balance | money:GBP:en}}", "\xC2\xA3" "1,234.50"},
    {"{{account.str | money:EUR:de}}", "1.234,50\xC2\xA0\xE2\x82\xAC"},
    {"{{account.str | money:EUR:fr}}", "1\xC2\xA0" "234,50\xC2\xA0\xE2\x82\xAC"},
    {"{{account.str | money:CHF:ch}}", "CHF\xC2\xA0" "1'234.50"},
    {"{{account.str | money:EUR:ch}}", "\xE2\x82\xAC\xC2\xA0" "1'234.50"},
    {"{{account.str | money:CHF}}", "CHF\xC2\xA0" "1,234.50"},
    {"{{account.str | money:SEK:de}}", "1.234,50\xC2\xA0SEK"},
    {"{{account.neg | money:USD}}", "-$1,234.57"},
    {"{{account.neg | money:EUR:de}}", "-1.234,57\xC2\xA0\xE2\x82\xAC"},
    {"{{account.neg | money:CHF:ch}}", "CHF\xC2\xA0-1'234.57"},
    {"{{account.str | money:JPY}}", "\xC2\xA5" "1,235"},
    {"{{account.half | money:EUR}}", "\xE2\x82\xAC" "2.68"},
    {"{{account.tiny | money:EUR}}", "\xE2\x82\xAC" "0.00"},

    {"{{customer.name|number:2}}",
     "ERR $.t: data path customer.name: value 'J\xC3\xBCrgen M\xC3\xBCller' is not a number"},
    {"{{account.lit|money:EUR}}", "ERR $.t: data path account.lit: value '12,5' is not a number"},
    {"{{account.huge|number}}", "ERR $.t: data path account.huge: value '1e500' is out of range"},
    {"{{flag|number}}", "ERR $.t: data path flag: value 'true' is not a number"},
};

/* number and money: grouping, rounding from the decimal text, locales. */
static void
bind_number_tests(const afp_json *d)
{
    check_binds(bind_number_cases, sizeof(bind_number_cases) / sizeof(bind_number_cases[0]), d);
}

/* Templates and results of bind_text_format_tests. */
static const bind_case bind_text_format_cases[] = {
    {"{{d | date:dd.MM.yyyy}}", "26.11.2026"},
    {"{{d|date:d MMMM yyyy}}", "26 November 2026"},
    {"{{d|date:MMM yy}}", "Nov 26"},
    {"{{d|date:yyyy-MM-dd'T'HH:mm:ss}}", "2026-11-26T00:00:00"},
    {"{{ts|date:yyyy-MM-dd HH:mm:ss}}", "2026-03-05 09:07:03"},
    {"{{ts | date: d.M.yyyy H:m:s }}", "5.3.2026 9:7:3"},
    {"{{ts | date:MMMM, 'at' HH''mm}}", "March, at 09'07"},
    {"{{bad|date:dd.MM.yyyy}}",
     "ERR $.t: data path bad: value '2026-02-29' is not an ISO date (yyyy-mm-dd) or "
     "timestamp (yyyy-mm-ddThh:mm:ss)"},
    {"{{account.zero|date:yyyy}}",
     "ERR $.t: data path account.zero: value '0' is not an ISO date (yyyy-mm-dd) or "
     "timestamp (yyyy-mm-ddThh:mm:ss)"},

    {"{{ customer.name | upper }}", "J\xC3\x9CRGEN M\xC3\x9CLLER"},
    {"{{customer.name|lower}}", "j\xC3\xBCrgen m\xC3\xBCller"},
    {"{{customer.city|upper}}", "\xC3\x89VRY"},
    {"{{\"Stra\xC3\x9F" "e \xC3\xBF \xC5\x93 \xC5\xA1 \xD0\xB6 \xCE\xB1\"|upper}}",
     "STRASSE \xC5\xB8 \xC5\x92 \xC5\xA0 \xD0\x96 \xCE\x91"},
    {"{{\"\xC3\x80\xC3\x9E \xC5\xB8 \xC4\x8C \xD0\x81 \xCE\xA3 \xC3\x97\"|lower}}",
     "\xC3\xA0\xC3\xBE \xC3\xBF \xC4\x8D \xD1\x91 \xCF\x83 \xC3\x97"},
    {"[{{customer.nick|trim}}]", "[jm]"},
    {"[{{customer.nick|trim|upper}}]", "[JM]"},

    {"{{missing | default:n/a}}", "n/a"},
    {"{{nul|default:-}}", "-"},
    {"[{{nul|default:}}]", "[]"},
    {"{{missing|default: 10:30 h }}", "10:30 h"},
    {"{{customer.city|default:x}}", "\xC3\xA9vry"},
    {"{{empty|default:x}}", ""},
    {"{{missing|default:abc|upper}}", "ABC"},
    {"{{missing | upper | number:2 | default:n/a}}", "n/a"},
    {"{{missing | money:EUR | default:0}}", "0"},
    {"{{missing | default:0 | money:EUR}}", "\xE2\x82\xAC" "0.00"},
};

/* date, upper, lower, trim and default. */
static void
bind_text_format_tests(const afp_json *d)
{
    check_binds(bind_text_format_cases,
                sizeof(bind_text_format_cases) / sizeof(bind_text_format_cases[0]), d);
}

/* Templates and error messages of bind_error_tests. */
static const bind_case bind_error_cases[] = {
    {"{{nul}}", "ERR $.t: data path nul is null"},
    {"{{nul | upper}}", "ERR $.t: data path nul is null"},
    {"{{obj}}", "ERR $.t: data path obj is an object, not a scalar"},
    {"{{arr|default:x}}", "ERR $.t: data path arr is an array, not a scalar"},
    {"x {{ }}", "ERR $.t: placeholder at byte 2: empty data path"},
    {"{{|upper}}", "ERR $.t: placeholder at byte 0: empty data path"},
    {"{{x|uper}}",
     "ERR $.t: placeholder at byte 0: unknown formatter 'uper' (expected number, money, "
     "date, upper, lower, trim or default)"},
    {"{{x|}}", "ERR $.t: placeholder at byte 0: expected a formatter name after '|'"},
    {"{{x|number:x}}",
     "ERR $.t: placeholder at byte 0: number: 'x' is not a number of decimals (0 to 10)"},
    {"{{x|number:11}}",
     "ERR $.t: placeholder at byte 0: number: '11' is not a number of decimals (0 to 10)"},
    {"{{x|number:}}",
     "ERR $.t: placeholder at byte 0: number: '' is not a number of decimals (0 to 10)"},
    {"{{x|number:2:de:x}}",
     "ERR $.t: placeholder at byte 0: number takes at most two arguments (number:D or "
     "number:D:LOCALE)"},
    {"{{x|money}}",
     "ERR $.t: placeholder at byte 0: money: expected a 3-letter ISO 4217 currency code "
     "such as EUR, found ''"},
    {"{{x|money:euro}}",
     "ERR $.t: placeholder at byte 0: money: expected a 3-letter ISO 4217 currency code "
     "such as EUR, found 'euro'"},
    {"{{x|money:EUR:es}}",
     "ERR $.t: placeholder at byte 0: unknown locale 'es' (expected en, de, fr or ch)"},
    {"{{x|date:YYYY}}",
     "ERR $.t: placeholder at byte 0: date: 'YYYY' is not a pattern letter group (use "
     "yyyy, yy, MMMM, MMM, MM, M, dd, d, HH, H, mm, m, ss, s; quote literal letters with ')"},
    {"{{x|date:dd 'at}}", "ERR $.t: placeholder at byte 0: date: unterminated quote in the pattern"},
    {"{{x|date}}", "ERR $.t: placeholder at byte 0: date: expected a pattern such as dd.MM.yyyy"},
    {"{{x|upper:1}}", "ERR $.t: placeholder at byte 0: formatter 'upper' takes no argument"},
    {"{{a..b}}",
     "ERR $.t: placeholder at byte 0: 'a..b' is not a valid data path (expected names "
     "separated by '.' and [index], e.g. items[0].amount)"},
    {"{{[0]}}",
     "ERR $.t: placeholder at byte 0: '[0]' is not a valid data path (expected names "
     "separated by '.' and [index], e.g. items[0].amount)"},
    {"{{\"abc}}", "ERR $.t: placeholder at byte 0: unterminated \"...\" literal"},
    {"{{\"abc\" x}}", "ERR $.t: placeholder at byte 0: expected '|' or '}}' after the \"...\" literal"},
    {"{{page.number}}",
     "ERR $.t: placeholder at byte 0: page.number is only available in header, footer "
     "and every_page"},
    {"{{x|upper|upper|upper|upper|upper|upper|upper|upper|upper|upper|upper|upper|"
     "upper|upper|upper|upper|upper}}",
     "ERR $.t: placeholder at byte 0: too many formatters (at most 16)"},
};

/* Error messages: the template path, the data path, the byte position of the placeholder. */
static void
bind_error_tests(const afp_json *d)
{
    afp_scope root = {NULL, NULL, d, 0, 0};
    afp_buf out;
    afp_error err;

    afp_buf_init(&out);
    CHECK(afp_bind_text("Dear {{customer.nmae}}", &root, "$.body[3].text", &out, &err) ==
          AFP_ERR_ARGUMENT);
    CHECK_STR(err.message, "$.body[3].text: data path customer.nmae not found");
    CHECK(err.offset == 5);
    CHECK(out.len == 0);
    CHECK(afp_bind_text("ab {{x", &root, "$.body[0].columns[1].value", &out, &err) == AFP_ERR_ARGUMENT);
    CHECK_STR(err.message, "$.body[0].columns[1].value: placeholder at byte 3: unclosed placeholder "
              "(expected '}}')");
    CHECK(err.offset == 3);
    afp_buf_free(&out);

    check_binds(bind_error_cases, sizeof(bind_error_cases) / sizeof(bind_error_cases[0]), d);
}

/* afp_json_truthy. */
static void
bind_truthy_tests(void)
{
    afp_json *v = parse_ok("[null,false,0,0.0,\"\",[],true,1,-0.5,\"0\",{},[0]]");
    size_t i;
    const int expect[12] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1};

    for (i = 0; v && i < 12; i++)
        CHECK(afp_json_truthy(v->items[i]) == expect[i]);
    CHECK(afp_json_truthy(NULL) == 0);
    afp_json_free(v);
}

/* All binding tests. */
void
suite_bind(void)
{
    char *t = dq(BIND_DATA);
    afp_json *d = parse_ok(t);

    free(t);
    if (d == NULL)
        return;
    bind_path_tests(d);
    bind_number_tests(d);
    bind_text_format_tests(d);
    bind_error_tests(d);
    bind_truthy_tests();
    afp_json_free(d);
}

/* ------------------------------------------------------------------ suite template */

/* A complete statement template that uses every element and key of docs/templates.md. */
static const char *STATEMENT =
    "{'name': 'statement',"
    " 'page': {'size': 'A4', 'orientation': 'portrait',"
    "          'margins': {'top': 72, 'right': 54, 'bottom': 72, 'left': 54}},"
    " 'font': {'family': 'Helvetica', 'style': 'regular', 'size': 10},"
    " 'color': '#000000',"
    " 'document': {'name': '{{account.number}}'},"
    " 'index': {'AccountNumber': '{{account.number}}', 'Customer Name': '{{customer.name | upper}}'},"
    " 'form': {'duplex': 'long', 'copies': 2},"
    " 'resources': {'embed': true},"
    " 'header': [{'type': 'image', 'resource': 'logo', 'x': 54, 'y': 20, 'width': 120},"
    "            {'type': 'text', 'x': 541, 'y': 30, 'text': 'Statement {{period.end | date:MMMM yyyy}}', 'align': 'right',"
    "             'font': {'style': 'bold'}}],"
    " 'footer': [{'type': 'text', 'x': 541, 'y': 20, 'text': 'Page {{page.number}} of {{page.count}}',"
    "             'align': 'right'}],"
    " 'fixed': [{'type': 'text', 'x': 54, 'y': 120, 'width': 250, 'line_height': 1.1,"
    "            'text': '{{customer.name}}\\n{{customer.street}}\\n{{customer.city}}'},"
    "           {'type': 'overlay', 'name': 'O1LOGO', 'x': 0, 'y': 0},"
    "           {'type': 'box', 'x': 54, 'y': 700, 'width': 487, 'height': 50, 'fill': '#EEEEEE',"
    "            'border_width': 0},"
    "           {'type': 'barcode', 'symbology': 'datamatrix', 'data': '{{account.number}}',"
    "            'x': 500, 'y': 60, 'module_width': 1.5}],"
    " 'every_page': [{'type': 'line', 'x1': 54, 'y1': 100, 'x2': 541, 'y2': 100, 'width': 0.5,"
    "                 'color': '#336699'},"
    "                {'type': 'segment', 'name': 'S1SIGN', 'x': 400, 'y': 780},"
    "                {'type': 'if', 'test': 'draft', 'then': [{'type': 'text', 'x': 200, 'y': 400,"
    "                  'text': 'DRAFT {{page.number}}', 'color': '#ff0000', 'font': {'size': 48}}]}],"
    " 'body': ["
    "  {'type': 'text', 'text': 'Dear {{customer.name}},', 'space_after': 12, 'space_before': 0},"
    "  {'type': 'table', 'rows': 'transactions', 'as': 'tx',"
    "   'columns': [{'header': 'Date', 'value': '{{tx.date | date:dd.MM.yyyy}}', 'width': 80},"
    "               {'header': 'Text', 'value': '{{tx.text}}', 'width': 260},"
    "               {'header': 'Amount', 'value': '{{tx.amount | money:EUR:de}}', 'width': 147,"
    "                'align': 'right'}],"
    "   'header': true, 'font': {'size': 9}, 'header_font': {'style': 'bold', 'size': 9},"
    "   'padding': 3, 'borders': 'horizontal', 'border_width': 0.5,"
    "   'header_shading': '#DDDDDD', 'shading': '#F5F5F5',"
    "   'footer_rows': [['', 'Total', '{{total | money:EUR:de}}']]},"
    "  {'type': 'spacer', 'height': 18},"
    "  {'type': 'if', 'test': 'overdue', 'equals': true,"
    "   'then': [{'type': 'box', 'height': 40, 'border_width': 1, 'color': '#CC0000', 'fill': '#FFEEEE'}],"
    "   'else': [{'type': 'line', 'width': 0.5}]},"
    "  {'type': 'repeat', 'items': 'notes', 'as': 'note',"
    "   'body': [{'type': 'text', 'text': '{{loop.index}}. {{note.text | trim}}', 'line_height': 1.3,"
    "             'align': 'justify'}]},"
    "  {'type': 'image', 'resource': 'chart', 'width': 300},"
    "  {'type': 'barcode', 'symbology': 'code128', 'data': '{{account.number}}', 'height': 30,"
    "   'hri': true},"
    "  {'type': 'page_break'},"
    "  {'type': 'text', 'text': 'Terms', 'font': {'family': 'times', 'style': 'bold-italic', 'size': 14}}"
    " ]}";

/* Validates the (single-quoted) JSON text; returns the issues (caller frees). */
static afp_path_issue_list
validate(const char *sq)
{
    afp_path_issue_list l;
    char *t = dq(sq);
    afp_json *v = parse_ok(t);

    memset(&l, 0, sizeof(l));
    free(t);
    if (v != NULL)
        afp_template_validate(v, &l);
    afp_json_free(v);
    return l;
}

/* Prints the issues of a list (for failing checks). */
static void
print_issues(const afp_path_issue_list *l)
{
    size_t i;

    for (i = 0; i < l->count; i++)
        fprintf(stderr, "  issue: %s: %s\n", l->items[i].path, l->items[i].message);
}

/* Checks that a template has exactly one issue, with this path and message. */
static void
expect_issue(const char *sq, const char *path, const char *msg)
{
    afp_path_issue_list l = validate(sq);

    CHECK(l.count == 1);
    if (l.count >= 1)
    {
        CHECK_STR(l.items[0].path, path);
        CHECK_STR(l.items[0].message, msg);
    }
    if (l.count != 1)
    {
        fprintf(stderr, "  expected 1 issue for %s, got %zu\n", sq, l.count);
        print_issues(&l);
    }
    afp_path_issue_list_free(&l);
}

/* Checks that a template is valid. */
static void
expect_valid(const char *sq)
{
    afp_path_issue_list l = validate(sq);

    CHECK(l.count == 0);
    print_issues(&l);
    afp_path_issue_list_free(&l);
}

/* The full example and small valid templates. */
static void
template_valid_tests(void)
{
    expect_valid(STATEMENT);
    expect_valid("{'body': []}");
    expect_valid("{'page': {'size': {'width': 300, 'height': 400}, 'orientation': 'landscape',"
                 " 'margins': {'left': 10}}, 'body': [{'type': 'text', 'text': 'x'}]}");
    expect_valid("{'page': {'size': 'Letter'}, 'footer': [{'type': 'line', 'x1': 0, 'y1': 5, 'x2': 0,"
                 " 'y2': 50}, {'type': 'box', 'x': 0, 'y': 0, 'width': 10, 'height': 10}], 'body': [{'type': 'box',"
                 " 'height': 5}]}");
    expect_valid("{'body': [{'type': 'if', 'test': 'a[0].b', 'then': [{'type': 'if', 'test': 'c',"
                 " 'then': [{'type': 'repeat', 'items': 'x.y', 'body': [{'type': 'spacer', 'height': 0}]}],"
                 " 'else': []}]}]}");
    expect_valid("{'index': {}, 'form': {'copies': 255, 'duplex': 'none'}, 'body': [{'type': 'text',"
                 " 'text': '{{\\'{{\\'}} {{x | default:a:b}}'}]}");
}

/* Invalid templates: each gives one problem at the expected path. */
static void
template_invalid_tests(void)
{
    expect_issue("{'name': 'x'}", "$", "missing required key \"body\"");
    expect_issue("[]", "$", "expected a template object");
    expect_issue("{'body': [], 'colour': '#000000'}", "$.colour",
                 "unknown key \"colour\" (did you mean \"color\"?)");
    expect_issue("{'body': [], 'body': []}", "$.body", "duplicate key \"body\"");
    expect_issue("{'body': {}}", "$.body", "expected an array of elements");
    expect_issue("{'body': [42]}", "$.body[0]", "expected an element object {\"type\": ...}");
    expect_issue("{'body': [{'text': 'x'}]}", "$.body[0]", "missing required key \"type\"");
    expect_issue("{'body': [{'type': 'textt', 'text': 'x'}]}", "$.body[0].type",
                 "unknown element type \"textt\" (did you mean \"text\"?)");
    expect_issue("{'body': [{'type': 7}]}", "$.body[0].type", "expected a string");
    expect_issue("{'body': [{'type': 'text', 'text': 'x', 'colour': '#FF0000'}]}", "$.body[0].colour",
                 "unknown key \"colour\" (did you mean \"color\"?)");
    expect_issue("{'body': [{'type': 'text', 'text': 'x', 'bogus': 1}]}", "$.body[0].bogus",
                 "unknown key \"bogus\"");
    expect_issue("{'body': [{'type': 'text'}]}", "$.body[0]", "missing required key \"text\"");
    expect_issue("{'body': [{'type': 'text', 'text': 5}]}", "$.body[0].text", "expected a string");
    expect_issue("{'body': [{'type': 'table', 'rows': 'items', 'columns': [{'value': 'x', 'width': '80'}]}]}",
                 "$.body[0].columns[0].width", "expected a number");
    expect_issue("{'body': [{'type': 'table', 'rows': 'items', 'columns': [{'value': 'x'},"
                 " {'header': 'H', 'width': 5}]}]}",
                 "$.body[0].columns[1]", "missing required key \"value\"");
    expect_issue("{'body': [{'type': 'table', 'rows': 'items', 'columns': []}]}", "$.body[0].columns",
                 "expected a non-empty array of columns");
    expect_issue("{'body': [{'type': 'table', 'rows': 'items', 'columns': [{'value': 'x', 'align': 'justify'}]}]}",
                 "$.body[0].columns[0].align", "expected \"left\", \"right\" or \"center\"");
    expect_issue("{'body': [{'type': 'table', 'rows': 'items', 'columns': [{'value': 'x'}],"
                 " 'borders': 'all'}]}", "$.body[0].borders", "expected \"none\", \"grid\" or \"horizontal\"");
    expect_issue("{'body': [{'type': 'table', 'rows': 'items', 'columns': [{'value': 'x'}],"
                 " 'footer_rows': [['a', 'b', 'c']]}]}", "$.body[0].footer_rows[0]",
                 "row has 3 cells but the table has 1 columns");
    expect_issue("{'body': [{'type': 'table', 'rows': 'items', 'columns': [{'value': 'x'}],"
                 " 'footer_rows': [['{{t | money}}']]}]}", "$.body[0].footer_rows[0][0]",
                 "placeholder at byte 0: money: expected a 3-letter ISO 4217 currency code such as "
                 "EUR, found ''");
    expect_issue("{'body': [{'type': 'table', 'rows': '{{items}}', 'columns': [{'value': 'x'}]}]}",
                 "$.body[0].rows", "expected a data path without {{ }} (e.g. \"items\")");
    expect_issue("{'body': [{'type': 'repeat', 'items': 'a b', 'body': []}]}", "$.body[0].items",
                 "\"a b\" is not a valid data path (expected names separated by '.' and [index])");
    expect_issue("{'body': [{'type': 'repeat', 'items': 'x', 'as': 'loop', 'body': []}]}", "$.body[0].as",
                 "\"loop\" is reserved and cannot be a loop variable name");
    expect_issue("{'body': [{'type': 'repeat', 'items': 'x', 'as': '1x', 'body': []}]}", "$.body[0].as",
                 "\"1x\" is not a valid variable name (letters, digits and _)");
    expect_issue("{'body': [{'type': 'if', 'test': 'x', 'then': [{'type': 'text'}]}]}",
                 "$.body[0].then[0]", "missing required key \"text\"");
    expect_issue("{'body': [{'type': 'if', 'test': 'x', 'then': [], 'else': [{'type': 'overlay',"
                 " 'name': 'O1', 'x': 0, 'y': 0}]}]}", "$.body[0].else[0]",
                 "element type \"overlay\" is only allowed in positioned elements (fixed, every_page, "
                 "header, footer)");
    expect_issue("{'body': [{'type': 'text', 'text': '{{x | uper}}'}]}", "$.body[0].text",
                 "placeholder at byte 0: unknown formatter 'uper' (expected number, money, date, upper, "
                 "lower, trim or default)");
    expect_issue("{'body': [{'type': 'text', 'text': 'Page {{page.number}}'}]}", "$.body[0].text",
                 "page.number and page.count are only available in header, footer and every_page");
    expect_issue("{'document': {'name': '{{page.count}}'}, 'body': []}", "$.document.name",
                 "page.number and page.count are only available in header, footer and every_page");
    expect_issue("{'body': [{'type': 'text', 'text': 'x', 'x': 10}]}", "$.body[0].x",
                 "\"x\" is only allowed in positioned elements (fixed, every_page, header, footer)");
    expect_issue("{'body': [{'type': 'text', 'text': 'x', 'align': 'middle'}]}", "$.body[0].align",
                 "expected \"left\", \"right\", \"center\" or \"justify\"");
    expect_issue("{'body': [{'type': 'text', 'text': 'x', 'align': 'centre'}]}", "$.body[0].align",
                 "unknown value \"centre\" (did you mean \"center\"?)");
    expect_issue("{'body': [{'type': 'text', 'text': 'x', 'font': {'size': 0}}]}", "$.body[0].font.size",
                 "expected a font size > 0 and <= 1000 pt");
    expect_issue("{'body': [{'type': 'text', 'text': 'x', 'font': {'weight': 'bold'}}]}",
                 "$.body[0].font.weight", "unknown key \"weight\"");
    expect_issue("{'body': [{'type': 'text', 'text': 'x', 'line_height': 0}]}", "$.body[0].line_height",
                 "expected a number > 0");
    expect_issue("{'body': [{'type': 'spacer'}]}", "$.body[0]", "missing required key \"height\"");
    expect_issue("{'body': [{'type': 'spacer', 'height': -1}]}", "$.body[0].height", "expected a number >= 0");
    expect_issue("{'body': [{'type': 'page_break', 'height': 1}]}", "$.body[0].height", "unknown key \"height\"");
    expect_issue("{'body': [{'type': 'barcode', 'symbology': 'ean13', 'data': '1'}]}", "$.body[0].symbology",
                 "expected \"code128\", \"qr\", \"datamatrix\" or \"imb\"");
    expect_issue("{'body': [{'type': 'barcode', 'symbology': 'code-128', 'data': '1'}]}",
                 "$.body[0].symbology", "unknown value \"code-128\" (did you mean \"code128\"?)");
    expect_issue("{'body': [{'type': 'barcode', 'symbology': 'qr', 'data': '1', 'hri': 'yes'}]}",
                 "$.body[0].hri", "expected true or false");
    expect_issue("{'body': [{'type': 'image', 'resource': ''}]}", "$.body[0].resource",
                 "expected a non-empty string");
    expect_issue("{'body': [{'type': 'box', 'height': 5, 'width': 10}]}", "$.body[0].width",
                 "\"width\" is only allowed in positioned elements (fixed, every_page, header, footer)");
    expect_issue("{'body': [{'type': 'line', 'width': 1, 'x1': 3}]}", "$.body[0].x1",
                 "\"x1\" is only allowed in positioned elements (fixed, every_page, header, footer)");
    expect_issue("{'fixed': [{'type': 'text', 'y': 10, 'text': 'a'}], 'body': []}", "$.fixed[0]",
                 "missing required key \"x\"");
    expect_issue("{'fixed': [{'type': 'text', 'x': 1, 'y': 10, 'text': 'a', 'space_before': 3}], 'body': []}",
                 "$.fixed[0].space_before", "\"space_before\" is only allowed in flow elements (body)");
    expect_issue("{'fixed': [{'type': 'table', 'rows': 'x', 'columns': [{'value': 'x'}]}], 'body': []}",
                 "$.fixed[0]", "element type \"table\" is only allowed in flow elements (body)");
    expect_issue("{'fixed': [{'type': 'box', 'x': 0, 'y': 0, 'height': 5}], 'body': []}", "$.fixed[0]",
                 "missing required key \"width\"");
    expect_issue("{'fixed': [{'type': 'overlay', 'name': 'TOOLONGNAME', 'x': 0, 'y': 0}], 'body': []}",
                 "$.fixed[0].name", "expected a resource name of 1 to 8 characters A-Z, 0-9, @, # or $");
    expect_issue("{'fixed': [{'type': 'text', 'x': -1, 'y': 0, 'text': 'a'}], 'body': []}", "$.fixed[0].x",
                 "expected a number >= 0");
    expect_issue("{'every_page': [{'type': 'line', 'x1': 0, 'y1': 0, 'x2': 10, 'y2': 10}], 'body': []}",
                 "$.every_page[0]", "lines must be horizontal or vertical (y1 = y2 or x1 = x2)");
    expect_issue("{'header': [{'type': 'line', 'x1': 0, 'y1': 0, 'x2': 10}], 'body': []}", "$.header[0]",
                 "missing required key \"y2\"");
    expect_issue("{'footer': [{'type': 'text', 'y': 0, 'text': 'Page {{page.number}}'}], 'body': []}",
                 "$.footer[0]", "missing required key \"x\"");
    expect_issue("{'every_page': [{'type': 'segment', 'name': 's1sign', 'x': 0, 'y': 0}], 'body': []}",
                 "$.every_page[0].name", "expected a resource name of 1 to 8 characters A-Z, 0-9, @, # or $");
    expect_issue("{'header': [{'type': 'repeat', 'items': 'x', 'body': []}], 'body': []}", "$.header[0]",
                 "element type \"repeat\" is only allowed in flow elements (body)");
    expect_issue("{'page': {'size': 'A5'}, 'body': []}", "$.page.size",
                 "expected \"A4\", \"Letter\", \"Legal\" or {\"width\": pt, \"height\": pt}");
    expect_issue("{'page': {'size': {'width': 0, 'height': 100}}, 'body': []}", "$.page.size.width",
                 "expected a number > 0");
    expect_issue("{'page': {'size': {'width': 100}}, 'body': []}", "$.page.size",
                 "missing required key \"height\"");
    expect_issue("{'page': {'orientation': 'sideways'}, 'body': []}", "$.page.orientation",
                 "expected \"portrait\" or \"landscape\"");
    expect_issue("{'page': {'margins': {'left': 300, 'right': 300}}, 'body': []}", "$.page.margins",
                 "the margins leave no room on the 595.28 x 841.89 pt page");
    expect_issue("{'page': {'orientation': 'landscape', 'margins': {'top': 300, 'bottom': 300}}, 'body': []}",
                 "$.page.margins", "the margins leave no room on the 841.89 x 595.28 pt page");
    expect_issue("{'page': {'margins': {'top': '72'}}, 'body': []}", "$.page.margins.top",
                 "expected a number");
    expect_issue("{'font': {'family': 'Comic'}, 'body': []}", "$.font.family",
                 "expected \"Helvetica\", \"Arial\", \"Times\" or \"Courier\"");
    expect_issue("{'font': {'style': 'Bold'}, 'body': []}", "$.font.style",
                 "unknown value \"Bold\" (did you mean \"bold\"?)");
    expect_issue("{'color': 'red', 'body': []}", "$.color", "expected a colour \"#RRGGBB\"");
    expect_issue("{'color': '#12345G', 'body': []}", "$.color", "expected a colour \"#RRGGBB\"");
    expect_issue("{'form': {'copies': 0}, 'body': []}", "$.form.copies", "expected an integer from 1 to 255");
    expect_issue("{'form': {'copies': 1.5}, 'body': []}", "$.form.copies", "expected an integer from 1 to 255");
    expect_issue("{'form': {'duplex': 'both'}, 'body': []}", "$.form.duplex",
                 "expected \"none\", \"long\" or \"short\"");
    expect_issue("{'resources': {'embed': 1}, 'body': []}", "$.resources.embed", "expected true or false");
    expect_issue("{'index': {'Account No': '{{x'}, 'body': []}", "$.index.\"Account No\"",
                 "placeholder at byte 0: unclosed placeholder (expected '}}')");
    expect_issue("{'index': {'': 'x'}, 'body': []}", "$.index.\"\"", "index names must not be empty");
    expect_issue("{'index': [], 'body': []}", "$.index", "expected an object of index names and values");
    expect_issue("{'name': 5, 'body': []}", "$.name", "expected a string");
}

/* Every problem is reported, in document order. */
static void
template_many_tests(void)
{
    afp_path_issue_list l = validate(
        "{'page': {'size': 'A3', 'margins': {'top': -1}}, 'colour': 1,"
        " 'fixed': [{'type': 'text', 'text': '{{a'}],"
        " 'body': [{'type': 'table', 'rows': 'x', 'columns': [{'value': '{{v}}', 'width': 0}],"
        "           'padding': 'x'},"
        "          {'type': 'repeat', 'items': 'r', 'body': [{'type': 'spacer', 'height': 'big'}]}]}");
    static const char *const expect[][2] = {
        {"$.page.size", "expected \"A4\", \"Letter\", \"Legal\" or {\"width\": pt, \"height\": pt}"},
        {"$.page.margins.top", "expected a number >= 0"},
        {"$.colour", "unknown key \"colour\" (did you mean \"color\"?)"},
        {"$.fixed[0].text", "placeholder at byte 0: unclosed placeholder (expected '}}')"},
        {"$.fixed[0]", "missing required key \"x\""},
        {"$.fixed[0]", "missing required key \"y\""},
        {"$.body[0].columns[0].width", "expected a number > 0"},
        {"$.body[0].padding", "expected a number"},
        {"$.body[1].body[0].height", "expected a number"},
    };
    size_t i, n = sizeof(expect) / sizeof(expect[0]);

    CHECK(l.count == n);
    for (i = 0; i < n && i < l.count; i++)
    {
        CHECK_STR(l.items[i].path, expect[i][0]);
        CHECK_STR(l.items[i].message, expect[i][1]);
    }
    afp_path_issue_list_free(&l);
    afp_path_issue_list_free(&l);       /* freeing twice is harmless */
}

/* All template validation tests. */
void
suite_template(void)
{
    template_valid_tests();
    template_invalid_tests();
    template_many_tests();
}
