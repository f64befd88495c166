/*
 * test_text.c — unit tests of the code pages, the PTOCA interpreter and page-text extraction.
 */
#include "afp.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

/* Appends one structured field (5A, SFLength, ID, flags 0, reserved 0, data). */
static void
put_sf(afp_buf *b, uint32_t id, const void *data, size_t n)
{
    afp_buf_putc(b, 0x5A);
    afp_buf_put16(b, (uint16_t) (8 + n));
    afp_buf_put24(b, id);
    afp_buf_putc(b, 0);
    afp_buf_put16(b, 0);
    afp_buf_append(b, data, n);
}

/* Appends a Begin/End field with an 8-character name. */
static void
put_named(afp_buf *b, uint32_t id, const char *name)
{
    uint8_t n[8];

    afp_token_encode(name, n);
    put_sf(b, id, n, 8);
}

/* Appends an FQN triplet (type, character name in CP500) to a buffer. */
static void
put_fqn(afp_buf *b, uint8_t type, const char *name)
{
    size_t n = strlen(name), i;

    afp_buf_putc(b, (uint8_t) (4 + n));
    afp_buf_putc(b, 0x02);
    afp_buf_putc(b, type);
    afp_buf_putc(b, 0x00);
    for (i = 0; i < n; i++)
        afp_buf_putc(b, (uint8_t) afp_codepage_from_unicode(afp_codepage_find("500"),
                                                            (uint8_t) name[i]));
}

/* Appends an MCF-2 repeating group mapping lid to a code page and font character set. */
static void
put_mcf_group(afp_buf *b, uint8_t lid, const char *cp, const char *fcs)
{
    afp_buf g;

    afp_buf_init(&g);
    if (cp)
        put_fqn(&g, 0x85, cp);
    if (fcs)
        put_fqn(&g, 0x86, fcs);
    afp_buf_putc(&g, 4);
    afp_buf_putc(&g, 0x24);
    afp_buf_putc(&g, 0x05);
    afp_buf_putc(&g, lid);
    afp_buf_put16(b, (uint16_t) (g.len + 2));
    afp_buf_append(b, g.data, g.len);
    afp_buf_free(&g);
}

/* Appends the start of a page: BPG, AEG with the given MCF data, PGD/PTD at 1440 units/inch. */
static void
put_page_start(afp_buf *b, const char *name, const afp_buf *mcf)
{
    static const uint8_t pgd[] = {0, 0, 0x38, 0x40, 0x38, 0x40, 0, 0x2E, 0x80, 0, 0x3E, 0x80, 0, 0, 0};
    static const uint8_t ptd[] = {0, 0, 0x38, 0x40, 0x38, 0x40, 0, 0x2E, 0x80, 0, 0x3E, 0x80, 0, 0};

    put_named(b, 0xD3A8AF, name);
    put_named(b, 0xD3A8C9, "AEG");
    if (mcf && mcf->len)
        put_sf(b, 0xD3AB8A, mcf->data, mcf->len);
    put_sf(b, 0xD3A6AF, pgd, sizeof(pgd));
    put_sf(b, 0xD3B19B, ptd, sizeof(ptd));
    put_named(b, 0xD3A9C9, "AEG");
}

/* Control-sequence helpers for hand-built PTX data (all chained, odd types). */
static void
cs2(afp_buf *p, uint8_t type, int v)
{
    afp_buf_putc(p, 4);
    afp_buf_putc(p, type);
    afp_buf_put16(p, (uint16_t) v);
}

/* Transparent data in code page cp500/any: the bytes are given already encoded. */
static void
trn(afp_buf *p, const char *ebcdic, size_t n)
{
    afp_buf_putc(p, (uint8_t) (n + 2));
    afp_buf_putc(p, 0xDB);
    afp_buf_append(p, ebcdic, n);
}

/* Encodes ASCII text to CP500 and emits it as TRN. */
static void
trn_text(afp_buf *p, const char *s)
{
    afp_buf e;
    afp_error err;

    afp_buf_init(&e);
    afp_codepage_encode(afp_codepage_find("T1V10500"), s, strlen(s), &e, &err);
    trn(p, (const char *) e.data, e.len);
    afp_buf_free(&e);
}

/* Extracts the text of buf into a NUL-terminated malloc'd string (NULL on error). */
static char *
extract(const afp_buf *b, afp_error *err)
{
    afp_buf out;
    char *s;

    afp_buf_init(&out);
    afp_error_clear(err);
    if (afp_extract_text(b->data, b->len, &out, err) != AFP_OK)
    {
        afp_buf_free(&out);
        return NULL;
    }
    s = malloc(out.len + 1);
    memcpy(s, out.data ? (const char *) out.data : "", out.len);
    s[out.len] = '\0';
    afp_buf_free(&out);
    return s;
}

/* Code page lookup, round trips and encoding errors. */
static void
codepage_tests(void)
{
    static const char *const names[] = {"500", "37", "273", "277", "278", "280", "284", "285",
                                        "297", "871", "1140", "1141", "1142", "1143", "1144",
                                        "1145", "1146", "1147", "1148", "1149", "1047", "1026",
                                        "875"};
    const afp_codepage *cp500 = afp_codepage_find("T1V10500");
    const afp_codepage *cp;
    afp_buf out;
    afp_error err;
    size_t i;

    CHECK(cp500 != NULL && afp_codepage_number(cp500) == 500);
    CHECK_STR(afp_codepage_name(cp500), "T1V10500");
    CHECK(afp_codepage_find("t1v10500  ") == cp500);
    CHECK(afp_codepage_find("500") == cp500 && afp_codepage_find("cp500") == cp500);
    CHECK(afp_codepage_find("IBM-500") == cp500 && afp_codepage_find(" CCSID 500") == cp500);
    CHECK(afp_codepage_find("T1000500") == cp500);
    CHECK_STR(afp_codepage_name(afp_codepage_find("T1000037")), "T1000037");
    CHECK(afp_codepage_find("T1V10037") == afp_codepage_find("37"));
    CHECK(afp_codepage_number(afp_codepage_find("IBM-1047")) == 1047);
    CHECK(afp_codepage_find("T1V11047") == afp_codepage_find("cp1047"));
    CHECK(afp_codepage_number(afp_codepage_find("IBM01140")) == 1140);
    CHECK_STR(afp_codepage_name(afp_codepage_find("1148")), "T1001148");
    CHECK(afp_codepage_find("T1XXXXXX") == NULL && afp_codepage_find("12345") == NULL);
    CHECK(afp_codepage_find("") == NULL && afp_codepage_find(NULL) == NULL);
    CHECK(afp_codepage_find("cp") == NULL && afp_codepage_find("500x") == NULL);

    /* every defined byte maps back to itself */
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
    {
        int b, bad = 0, defined = 0;

        cp = afp_codepage_find(names[i]);
        CHECK(cp != NULL);
        if (cp == NULL)
            continue;
        for (b = 0; b < 256; b++)
        {
            uint32_t u = afp_codepage_to_unicode(cp, (uint8_t) b);

            if (u == 0xFFFD)
                continue;
            defined++;
            if (afp_codepage_from_unicode(cp, u) != b)
                bad++;
        }
        CHECK(bad == 0 && defined >= 240);
    }
    CHECK(afp_codepage_from_unicode(cp500, 'A') == 0xC1);
    CHECK(afp_codepage_from_unicode(cp500, 'a') == 0x81);
    CHECK(afp_codepage_from_unicode(cp500, '0') == 0xF0);
    CHECK(afp_codepage_from_unicode(cp500, ' ') == 0x40);
    CHECK(afp_codepage_to_unicode(cp500, 0x40) == ' ');
    CHECK(afp_codepage_to_unicode(cp500, 0x4A) == '[' && afp_codepage_to_unicode(cp500, 0x5A) == ']');
    CHECK(afp_codepage_to_unicode(afp_codepage_find("37"), 0x4A) == 0xA2);   /* ¢ */
    CHECK(afp_codepage_to_unicode(cp500, 0x9F) == 0xA4);                       /* ¤ */
    CHECK(afp_codepage_from_unicode(cp500, 0x20AC) == -1);
    CHECK(afp_codepage_from_unicode(afp_codepage_find("1140"), 0x20AC) == 0x9F);
    CHECK(afp_codepage_from_unicode(afp_codepage_find("1141"), 0x20AC) == 0x9F);
    CHECK(afp_codepage_from_unicode(afp_codepage_find("1148"), 0x20AC) == 0x9F);
    CHECK(afp_codepage_to_unicode(afp_codepage_find("T1001148"), 0x9F) == 0x20AC);
    CHECK(afp_codepage_from_unicode(afp_codepage_find("273"), 0xE4) == 0xC0);  /* ä */
    CHECK(afp_codepage_from_unicode(cp500, 0x1F600) == -1);
    CHECK(afp_codepage_to_unicode(NULL, 0x40) == 0xFFFD && afp_codepage_from_unicode(NULL, 'A') == -1);

    afp_buf_init(&out);
    CHECK(afp_codepage_encode(cp500, "Hello", 5, &out, &err) == AFP_OK);
    CHECK(out.len == 5 && memcmp(out.data, "\xC8\x85\x93\x93\x96", 5) == 0);
    /* € at character 12 (byte offset 11) of a text with a 2-byte character before it */
    afp_error_clear(&err);
    CHECK(afp_codepage_encode(cp500, "Prüfsumme: €5", strlen("Prüfsumme: €5"), &out, &err) ==
          AFP_ERR_ENCODING);
    CHECK(out.len == 5);     /* nothing appended on failure */
    CHECK(err.status == AFP_ERR_ENCODING && err.offset == 12);
    CHECK(strstr(err.message, "U+20AC '€' at position 12") != NULL);
    CHECK(strstr(err.message, "T1V10500 (CP500)") != NULL);
    CHECK(afp_codepage_encode(afp_codepage_find("1148"), "€", 3, &out, &err) == AFP_OK);
    CHECK(out.len == 6 && out.data[5] == 0x9F);
    CHECK(afp_codepage_encode(cp500, "a\xFF", 2, &out, &err) == AFP_ERR_ENCODING);
    CHECK(err.offset == 1 && strstr(err.message, "invalid UTF-8") != NULL);
    CHECK(afp_codepage_encode(cp500, "\xC2\x85", 2, &out, &err) == AFP_OK);   /* NEL → X'15' */
    CHECK(out.data[out.len - 1] == 0x15);
    afp_buf_free(&out);
}

/* A hand-built document: reading order, fonts, control sequences, pages and resources. */
static void
extraction_tests(void)
{
    afp_buf doc, mcf, ptx, cpd;
    afp_error err;
    int64_t pages = -1;
    char *s;
    static const uint8_t euro1140[] = {0xD7, 0x99, 0x85, 0x89, 0xA2, 0x40, 0xF5, 0x40, 0x9F};
    static const uint8_t rps[] = {0x05, 0xEF, 0x00, 0x05, 0x60};

    afp_buf_init(&doc);
    afp_buf_init(&mcf);
    afp_buf_init(&ptx);
    afp_buf_init(&cpd);

    /* an overlay in a resource group: not a page, its text is not extracted */
    put_named(&doc, 0xD3A8C6, "RG");
    put_named(&doc, 0xD3A8CE, "OVL1");
    put_named(&doc, 0xD3A8DF, "OVL1");
    put_named(&doc, 0xD3A8AF, "INNER");      /* even a BPG inside a resource is no page */
    afp_buf_append(&ptx, "\x2B\xD3", 2);
    trn_text(&ptx, "Overlay");
    afp_buf_append(&ptx, "\x02\xF8", 2);
    put_sf(&doc, 0xD3EE9B, ptx.data, ptx.len);
    put_named(&doc, 0xD3A9AF, "INNER");
    put_named(&doc, 0xD3A9DF, "OVL1");
    put_named(&doc, 0xD3A9CE, "OVL1");
    /* an inline code page: X'41' A, X'42' €, X'43' ä, X'44' unknown GCGID, X'45' Unicode value */
    put_named(&doc, 0xD3A8CE, "T1TEST01");
    put_named(&doc, 0xD3A887, "T1TEST01");
    {
        static const uint8_t cpc[] = {0xE2, 0xD7, 0xF0, 0xF1, 0xF0, 0xF0, 0xF0, 0xF0, 0x00, 0xFE,
                                      0x00, 0x40, 0x00};
        static const struct { const char *g; uint8_t cp; uint32_t u; } gr[] = {
            {"LA020000", 0x41, 0}, {"SC200000", 0x42, 0}, {"LA170000", 0x43, 0},
            {"XX990000", 0x44, 0}, {"XX990001", 0x45, 0x263A}, {"SP010000", 0x40, 0}};
        size_t i;

        put_sf(&doc, 0xD3A787, cpc, sizeof(cpc));
        for (i = 0; i < sizeof(gr) / sizeof(gr[0]); i++)
        {
            uint8_t g[8];

            afp_token_encode(gr[i].g, g);
            afp_buf_append(&cpd, g, 8);
            afp_buf_putc(&cpd, 0x00);
            afp_buf_putc(&cpd, gr[i].cp);
            afp_buf_putc(&cpd, gr[i].u ? 1 : 0);
            if (gr[i].u)
            {
                afp_buf_put16(&cpd, 0);
                afp_buf_put16(&cpd, (uint16_t) gr[i].u);
            }
        }
        put_sf(&doc, 0xD38C87, cpd.data, cpd.len);
    }
    put_named(&doc, 0xD3A987, "T1TEST01");
    put_named(&doc, 0xD3A9CE, "T1TEST01");
    put_named(&doc, 0xD3A9C6, "RG");

    put_named(&doc, 0xD3A8A8, "DOC");
    put_mcf_group(&mcf, 1, "T1V10500", "C0H200A0");
    put_mcf_group(&mcf, 2, "T1001140", "C0N20000");
    put_mcf_group(&mcf, 3, "T1TEST01", "C0H200A0");
    put_mcf_group(&mcf, 4, "T1UNKNWN", NULL);            /* unknown code page → CP500 */
    put_page_start(&doc, "P1", &mcf);
    put_named(&doc, 0xD3A89B, "PT1");
    ptx.len = 0;
    afp_buf_append(&ptx, "\x2B\xD3", 2);
    afp_buf_append(&ptx, "\x03\xF1\x01", 3);   /* SCFL 1 */
    cs2(&ptx, 0xD3, 2880);                     /* AMB 2 in */
    cs2(&ptx, 0xC7, 1440);                     /* AMI 1 in */
    trn_text(&ptx, "Hello");
    cs2(&ptx, 0xC7, 4320);                     /* AMI 3 in: a gap → one blank */
    trn_text(&ptx, "World");
    cs2(&ptx, 0xC7, 360);                      /* same baseline, further left, later in stream */
    trn_text(&ptx, "Left");
    cs2(&ptx, 0xD3, 2881);                     /* 1 unit lower: still the same line */
    cs2(&ptx, 0xC7, 7200);
    trn_text(&ptx, "Right ");
    cs2(&ptx, 0xD3, 1440);                     /* above everything: first line */
    cs2(&ptx, 0xC7, 1440);
    trn_text(&ptx, "Top");
    afp_buf_append(&ptx, "\x03\xF1\x02", 3);   /* SCFL 2: CP1140 with € */
    cs2(&ptx, 0xD3, 4320);
    cs2(&ptx, 0xC7, 1440);
    trn(&ptx, (const char *) euro1140, sizeof(euro1140));
    afp_buf_append(&ptx, "\x03\xF1\x01", 3);   /* font change without a move: no blank */
    trn_text(&ptx, "!");
    afp_buf_append(&ptx, "\x02\xF8", 2);       /* NOP ends the chain */
    put_sf(&doc, 0xD3EE9B, ptx.data, ptx.len);
    /* the next PTX field continues the same text object: SIM, SBI, BLN, raw code points, RPS */
    ptx.len = 0;
    afp_buf_append(&ptx, "\x2B\xD3", 2);
    cs2(&ptx, 0xC1, 720);                      /* SIM 0.5 in */
    cs2(&ptx, 0xD1, 288);                      /* SBI 0.2 in */
    cs2(&ptx, 0xD3, 5760);                     /* AMB 4 in */
    cs2(&ptx, 0xC6, 720);                      /* AMI, even: chain ends, code points follow */
    afp_buf_append(&ptx, "\xD3\x89\x95\x85\xF1", 5);           /* "Line1" */
    afp_buf_append(&ptx, "\x2B\xD3\x02\xD9", 4);               /* BLN, chained */
    afp_buf_append(&ptx, rps, sizeof(rps));                     /* RPS "-" repeated to 5 bytes */
    afp_buf_append(&ptx, "\x03\xF1\x03", 3);                    /* SCFL 3: inline code page */
    afp_buf_append(&ptx, "\x04\xC9\x01\x00", 4);                /* RMI */
    afp_buf_append(&ptx, "\x08\xDB\x41\x42\x43\x44\x45\x40", 8);
    afp_buf_append(&ptx, "\x03\xF1\x04", 3);
    afp_buf_append(&ptx, "\x02\xD8", 2);                       /* BLN, even: ends the chain */
    afp_buf_append(&ptx, "\xE7\x2B\xC1", 3);   /* X'2B' not followed by X'D3' is a code point */
    put_sf(&doc, 0xD3EE9B, ptx.data, ptx.len);
    put_named(&doc, 0xD3A99B, "PT1");
    put_named(&doc, 0xD3A9AF, "P1");

    /* page 2: a page segment inside the page counts; rotated text (STO 90°, 180°) */
    put_page_start(&doc, "P2", NULL);
    put_named(&doc, 0xD3A85F, "SEG");
    put_named(&doc, 0xD3A89B, "PT2");
    ptx.len = 0;
    afp_buf_append(&ptx, "\x2B\xD3", 2);
    cs2(&ptx, 0xD3, 1440);
    cs2(&ptx, 0xC7, 1440);
    trn_text(&ptx, "Segment text");
    afp_buf_append(&ptx, "\x06\xF7\x2D\x00\x5A\x00", 6);   /* STO 90°,180° */
    cs2(&ptx, 0xD3, 2000);                                   /* B runs leftwards from the right */
    cs2(&ptx, 0xC7, 8000);                                   /* I runs down the page */
    trn_text(&ptx, "Down");
    afp_buf_append(&ptx, "\x02\xF8", 2);
    put_sf(&doc, 0xD3EE9B, ptx.data, ptx.len);
    put_named(&doc, 0xD3A99B, "PT2");
    put_named(&doc, 0xD3A95F, "SEG");
    put_named(&doc, 0xD3A9AF, "P2");
    /* page 3: empty */
    put_page_start(&doc, "P3", NULL);
    put_named(&doc, 0xD3A9AF, "P3");
    put_named(&doc, 0xD3A9A8, "DOC");

    afp_error_clear(&err);
    CHECK(afp_page_count(doc.data, doc.len, &pages, &err) == AFP_OK && pages == 3);
    s = extract(&doc, &err);
    CHECK_STR(s, "Top\nLeft Hello World Right\nPreis 5 €!\nLine1\n----- A€ä\xEF\xBF\xBD\xE2\x98\xBA\nXA"
                 "\fSegment text\nDown\f");
    if (s == NULL)
        fprintf(stderr, "  error: %s\n", err.message);
    free(s);

    /* damaged PTOCA: a TRN whose length runs past the end → format error at its length byte */
    {
        afp_buf bad;
        size_t ptx_at;

        afp_buf_init(&bad);
        put_named(&bad, 0xD3A8A8, "DOC");
        put_page_start(&bad, "P1", NULL);
        ptx_at = bad.len;
        put_sf(&bad, 0xD3EE9B, "\x2B\xD3\x04\xC7\x00\x10\x20\xDB\xC1", 9);
        put_named(&bad, 0xD3A9AF, "P1");
        put_named(&bad, 0xD3A9A8, "DOC");
        s = extract(&bad, &err);
        CHECK(s == NULL && err.status == AFP_ERR_FORMAT);
        CHECK(err.offset == (int64_t) (ptx_at + 9 + 6));
        CHECK(strstr(err.message, "TRN") != NULL && strstr(err.message, "runs past the end") != NULL);
        free(s);
        /* LEN below 2 */
        bad.data[ptx_at + 9 + 6] = 0x01;
        s = extract(&bad, &err);
        CHECK(s == NULL && err.status == AFP_ERR_FORMAT && strstr(err.message, "invalid length"));
        free(s);
        /* a reader error is propagated with its offset */
        bad.data[ptx_at] = 0x00;
        s = extract(&bad, &err);
        CHECK(s == NULL && err.status == AFP_ERR_FORMAT && err.offset == (int64_t) ptx_at);
        CHECK(afp_page_count(bad.data, bad.len, &pages, &err) == AFP_ERR_FORMAT);
        free(s);
        afp_buf_free(&bad);
    }

    /* garbage never crashes: every truncation and byte flips of the document */
    {
        size_t cut;
        uint32_t x = 12345;
        afp_buf out;

        afp_buf_init(&out);
        for (cut = 0; cut < doc.len; cut += 7)
        {
            out.len = 0;
            (void) afp_extract_text(doc.data, cut, &out, &err);
            (void) afp_page_count(doc.data, cut, &pages, &err);
        }
        for (cut = 0; cut < 3000; cut++)
        {
            afp_buf m;

            afp_buf_init(&m);
            afp_buf_append(&m, doc.data, doc.len);
            x = x * 1103515245u + 12345u;
            m.data[(x >> 8) % m.len] = (uint8_t) (x >> 24);
            x = x * 1103515245u + 12345u;
            m.data[(x >> 8) % m.len] = (uint8_t) (x >> 24);
            out.len = 0;
            (void) afp_extract_text(m.data, m.len, &out, &err);
            afp_buf_free(&m);
        }
        CHECK(1);
        afp_buf_free(&out);
    }
    afp_buf_free(&doc);
    afp_buf_free(&mcf);
    afp_buf_free(&ptx);
    afp_buf_free(&cpd);
}

/* Font maps in object environment groups: a text object's own fonts hold until its EPT; those
 * of a graphics object do not apply to the text. */
static void
scope_tests(void)
{
    afp_buf doc, mcf, ptx;
    afp_error err;
    char *s;

    afp_buf_init(&doc);
    afp_buf_init(&mcf);
    afp_buf_init(&ptx);
    put_named(&doc, 0xD3A8A8, "DOC");
    put_mcf_group(&mcf, 1, "T1V10500", "C0H200A0");
    put_page_start(&doc, "P1", &mcf);
    /* a graphics object maps LID 1 to CP1140 in its OEG: ignored */
    mcf.len = 0;
    put_mcf_group(&mcf, 1, "T1001140", "C0H200A0");
    put_named(&doc, 0xD3A8BB, "G1");
    put_named(&doc, 0xD3A8C7, "G1");
    put_sf(&doc, 0xD3AB8A, mcf.data, mcf.len);
    put_named(&doc, 0xD3A9C7, "G1");
    put_named(&doc, 0xD3A9BB, "G1");
    /* a text object with its own OEG mapping LID 1 to CP1140 */
    put_named(&doc, 0xD3A89B, "T1");
    put_named(&doc, 0xD3A8C7, "T1");
    put_sf(&doc, 0xD3AB8A, mcf.data, mcf.len);
    put_named(&doc, 0xD3A9C7, "T1");
    afp_buf_append(&ptx, "\x2B\xD3\x03\xF1\x01", 5);
    cs2(&ptx, 0xD3, 1440);
    cs2(&ptx, 0xC7, 1440);
    afp_buf_append(&ptx, "\x03\xDA\x9F", 3);
    put_sf(&doc, 0xD3EE9B, ptx.data, ptx.len);
    put_named(&doc, 0xD3A99B, "T1");
    /* the next text object uses the page's LID 1 again (CP500: X'9F' is ¤) */
    put_named(&doc, 0xD3A89B, "T2");
    ptx.data[7] = 0x0B;                      /* AMB 2880 (X'0B40'): the next line */
    ptx.data[8] = 0x40;
    put_sf(&doc, 0xD3EE9B, ptx.data, ptx.len);
    put_named(&doc, 0xD3A99B, "T2");
    put_named(&doc, 0xD3A9AF, "P1");
    put_named(&doc, 0xD3A9A8, "DOC");
    s = extract(&doc, &err);
    CHECK_STR(s, "€\n¤");
    free(s);
    afp_buf_free(&doc);
    afp_buf_free(&mcf);
    afp_buf_free(&ptx);
}

/* Interrupt hook that always asks to stop. */
static int
stop_now(void)
{
    return 1;
}

/* Long inputs honour the interrupt hook. */
static void
interrupt_tests(void)
{
    afp_buf doc, out;
    afp_error err;
    int64_t pages;
    int i;

    afp_buf_init(&doc);
    afp_buf_init(&out);
    put_named(&doc, 0xD3A8A8, "DOC");
    put_page_start(&doc, "P1", NULL);
    for (i = 0; i < 5000; i++)
        put_sf(&doc, 0xD3EEEE, "", 0);
    put_named(&doc, 0xD3A9AF, "P1");
    put_named(&doc, 0xD3A9A8, "DOC");
    CHECK(afp_extract_text(doc.data, doc.len, &out, &err) == AFP_OK && out.len == 0);
    afp_set_interrupt_hook(stop_now);
    CHECK(afp_extract_text(doc.data, doc.len, &out, &err) == AFP_ERR_INTERRUPTED);
    CHECK(afp_page_count(doc.data, doc.len, &pages, &err) == AFP_ERR_INTERRUPTED);
    afp_set_interrupt_hook(NULL);
    CHECK(afp_page_count(doc.data, doc.len, &pages, NULL) == AFP_OK && pages == 1);
    afp_buf_free(&doc);
    afp_buf_free(&out);
}

/* The FOP samples (when the shared samples are present). */
static void
sample_tests(void)
{
    static const struct { const char *file; int64_t pages; const char *text; } cases[] = {
        {"fop/text.afp", 3, "Invoice 4711\nHello AFP world. Umlauts: äöü ÄÖÜ ß, Euro \xEF\xBF\xBD.\n"
                            "Courier line 1234567890\fSecond page text.\fThird page text."},
        {"fop/table.afp", 1, "Statement\nItem Qty Amount\nWidget 2 10.00\nGadget 1 5.50"},
        {"fop/ext.afp", 3, "Statement page 1 for account 123456789.\fStatement page 2.\f"
                           "Second document group, page 3."},
        {"afp/afplib_cs.afp", 0, ""},
        {"afp/afplib_start.afp", 1, NULL},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    {
        char path[1024];
        size_t len;
        unsigned char *buf;
        afp_buf b;
        afp_error err;
        int64_t pages = -1;
        char *s;

        snprintf(path, sizeof(path), "%s/%s", unit_samples_dir(), cases[i].file);
        buf = unit_read_file(path, &len);
        if (buf == NULL)
            continue;          /* samples not available here */
        CHECK(afp_page_count(buf, len, &pages, &err) == AFP_OK && pages == cases[i].pages);
        b.data = buf;
        b.len = len;
        b.cap = len;
        s = extract(&b, &err);
        CHECK(s != NULL);
        if (cases[i].text)
            CHECK_STR(s, cases[i].text);
        free(s);
        free(buf);
    }
}

/* Entry point of the suite. */
void
suite_text(void)
{
    codepage_tests();
    extraction_tests();
    scope_tests();
    interrupt_tests();
    sample_tests();
}
