/*
 * test_pdfa.c — unit tests of the PDF/A-2b option (core/afp_pdfa.c and its hooks): the sRGB
 * colorants and ICC profile, the DeviceCMYK → DeviceN image space, CMYK content colours as RGB,
 * option parsing, and a converted document's catalog, trailer /ID, Info and XMP.
 */
#include "afp.h"
#include "afp_pdf.h"
#include "afp_pdf_int.h"
#include "unit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Big-endian 32-bit value. */
static uint32_t
rd32(const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
}

/* s15Fixed16 value. */
static double
rds15(const uint8_t *p)
{
    return (int32_t) rd32(p) / 65536.0;
}

/* True when the n bytes at p contain the C string needle (PDFs hold binary data). */
static int
contains(const uint8_t *p, size_t n, const char *needle)
{
    size_t k = strlen(needle), i;

    for (i = 0; k <= n && i <= n - k; i++)
        if (p[i] == (uint8_t) needle[0] && memcmp(p + i, needle, k) == 0)
            return 1;
    return 0;
}

/* Finds a tag in an ICC profile; its data or NULL. */
static const uint8_t *
icc_tag(const afp_buf *b, const char *sig, uint32_t *size)
{
    uint32_t n = rd32(b->data + 128), k;

    for (k = 0; k < n; k++)
    {
        const uint8_t *e = b->data + 132 + 12 * k;

        if (memcmp(e, sig, 4) == 0)
        {
            *size = rd32(e + 8);
            return b->data + rd32(e + 4);
        }
    }
    return NULL;
}

/* The colorants and the profile structure. */
static void
test_icc(void)
{
    double xyz[3][3];
    afp_buf b;
    const uint8_t *t;
    uint32_t size = 0;

    pdfa_srgb_colorants(xyz);
    /* the published D50-adapted sRGB colorants (Bradford), to 4 decimals */
    CHECK(fabs(xyz[0][0] - 0.4361) < 2e-4 && fabs(xyz[0][1] - 0.2225) < 2e-4 &&
          fabs(xyz[0][2] - 0.0139) < 2e-4);
    CHECK(fabs(xyz[1][0] - 0.3851) < 2e-4 && fabs(xyz[1][1] - 0.7169) < 2e-4 &&
          fabs(xyz[1][2] - 0.0971) < 2e-4);
    CHECK(fabs(xyz[2][0] - 0.1431) < 2e-4 && fabs(xyz[2][1] - 0.0606) < 2e-4 &&
          fabs(xyz[2][2] - 0.7141) < 2e-4);
    /* they add up to the D50 white */
    CHECK(fabs(xyz[0][0] + xyz[1][0] + xyz[2][0] - 0.9642) < 1e-4);
    CHECK(fabs(xyz[0][1] + xyz[1][1] + xyz[2][1] - 1.0) < 1e-4);
    CHECK(fabs(xyz[0][2] + xyz[1][2] + xyz[2][2] - 0.8249) < 1e-4);

    afp_buf_init(&b);
    pdfa_srgb_icc(&b);
    CHECK(b.len > 2048 && rd32(b.data) == b.len);
    CHECK(memcmp(b.data + 36, "acsp", 4) == 0);
    CHECK(b.data[8] == 2 && b.data[9] == 0x10);
    CHECK(memcmp(b.data + 12, "mntrRGB XYZ ", 12) == 0);
    CHECK(fabs(rds15(b.data + 68) - 0.9642) < 1e-4 && fabs(rds15(b.data + 76) - 0.8249) < 1e-4);
    CHECK(rd32(b.data + 128) == 9);
    t = icc_tag(&b, "rXYZ", &size);
    CHECK(t != NULL && size == 20 && memcmp(t, "XYZ ", 4) == 0 && fabs(rds15(t + 8) - 0.4361) < 2e-4);
    t = icc_tag(&b, "gTRC", &size);
    CHECK(t != NULL && memcmp(t, "curv", 4) == 0 && rd32(t + 8) == 1024 && size == 12 + 2048);
    if (t)
    {
        /* the tone curve: 0 → 0, 1 → 1, 0.5 → 0.214 (sRGB) */
        unsigned mid = (unsigned) ((t[12 + 2 * 512] << 8) | t[13 + 2 * 512]);

        CHECK(t[12] == 0 && t[13] == 0 && t[12 + 2046] == 0xFF && t[13 + 2046] == 0xFF);
        CHECK(fabs(mid / 65535.0 - 0.2148) < 0.002);
    }
    t = icc_tag(&b, "desc", &size);
    CHECK(t != NULL && memcmp(t, "desc", 4) == 0 && memcmp(t + 12, "sRGB IEC61966-2.1", 17) == 0);
    CHECK(icc_tag(&b, "wtpt", &size) != NULL && icc_tag(&b, "cprt", &size) != NULL);
    afp_buf_free(&b);
}

/* The writer replaces DeviceCMYK image spaces by one shared DeviceN space in PDF/A mode. */
static void
test_cmyk_space(void)
{
    pdf_writer w;
    const uint8_t px[4] = {0x10, 0x20, 0x30, 0xFF};  /* no NUL: strstr below */
    char *s;

    pdfw_init(&w, 0);
    w.pdfa = 1;
    pdfw_stream(&w, pdfw_alloc(&w), "/Type /XObject /Subtype /Image /Width 1 /Height 1 "
                "/ColorSpace /DeviceCMYK /BitsPerComponent 8", px, 4, 0, NULL);
    pdfw_stream(&w, pdfw_alloc(&w), "/Type /XObject /Subtype /Image /Width 1 /Height 1 "
                "/ColorSpace /DeviceCMYK /BitsPerComponent 8", px, 4, 0, NULL);
    afp_buf_putc(&w.out, 0);
    s = (char *) w.out.data;
    CHECK(strstr(s, "/DeviceCMYK") == NULL);
    CHECK(strstr(s, "[/DeviceN [/Cyan /Magenta /Yellow /Black] /DeviceRGB 2 0 R]") != NULL);
    CHECK(strstr(s, "/FunctionType 4 /Domain [0 1 0 1 0 1 0 1] /Range [0 1 0 1 0 1]") != NULL);
    CHECK(strstr(s, "/ColorSpace 3 0 R /BitsPerComponent 8") != NULL);
    /* written once: the second image refers to the same object */
    CHECK(strstr(strstr(s, "/ColorSpace 3 0 R") + 1, "/ColorSpace 3 0 R") != NULL);
    pdfw_free(&w);

    pdfw_init(&w, 0);          /* without PDF/A nothing changes */
    pdfw_stream(&w, pdfw_alloc(&w), "/ColorSpace /DeviceCMYK", px, 4, 0, NULL);
    afp_buf_putc(&w.out, 0);
    CHECK(strstr((char *) w.out.data, "/ColorSpace /DeviceCMYK") != NULL);
    pdfw_free(&w);
}

/* Content colours: CMYK becomes RGB on an rgb_only canvas. */
static void
test_cmyk_fill(void)
{
    cv_canvas c;
    const double cyan[4] = {1, 0, 0, 0}, grey[4] = {0, 0, 0, 0.5};

    cv_canvas_init(&c);
    cv_fill(&c, 4, cyan);
    afp_buf_putc(&c.cs, 0);
    CHECK_STR((char *) c.cs.data, "1 0 0 0 k 1 0 0 0 K\n");
    cv_canvas_reset(&c);
    c.rgb_only = 1;
    cv_canvas_reset(&c);        /* the flag survives a reset */
    cv_fill(&c, 4, cyan);
    cv_fill(&c, 4, grey);
    afp_buf_putc(&c.cs, 0);
    CHECK_STR((char *) c.cs.data, "0 1 1 rg 0 1 1 RG\n0.5 0.5 0.5 rg 0.5 0.5 0.5 RG\n");
    cv_canvas_free(&c);
}

/* Option parsing. */
static void
test_options(void)
{
    afp_pdf_options o;
    afp_error err;
    const char *j;

    afp_pdf_options_init(&o);
    j = "{\"pdfa\": \"2b\", \"author\": \"Erika\"}";
    CHECK(afp_pdf_options_parse(&o, j, strlen(j), &err) == AFP_OK && o.pdfa == 2 &&
          strcmp(o.author, "Erika") == 0);
    afp_pdf_options_init(&o);
    j = "{\"fonts\": \"base14\", \"pdfa\": \"2b\"}";
    CHECK(afp_pdf_options_parse(&o, j, strlen(j), &err) == AFP_ERR_ARGUMENT);
    CHECK(strstr(err.message, "base14") != NULL && strstr(err.message, "embedded") != NULL);
    afp_pdf_options_init(&o);
    j = "{\"pdfa\": \"1b\"}";
    CHECK(afp_pdf_options_parse(&o, j, strlen(j), &err) == AFP_ERR_ARGUMENT);
    CHECK(strstr(err.message, "options.pdfa") != NULL);
    afp_pdf_options_init(&o);
    j = "{\"pdfa\": false}";
    CHECK(afp_pdf_options_parse(&o, j, strlen(j), &err) == AFP_OK && o.pdfa == 0);
}

/* A composed two-page document converted with PDF/A: catalog, trailer, Info = XMP. */
static void
test_document(void)
{
    afp_compose_doc doc;
    afp_compose_opts copts;
    afp_pdf_options o;
    afp_buf afp, pdf;
    afp_error err;
    afp_index_pair idx = {(char *) "Account", (char *) "4711 <&>"};
    const char *s;

    memset(&doc, 0, sizeof(doc));
    memset(&copts, 0, sizeof(copts));
    doc.name = "STMT";
    doc.text = "Hello PDF/A\fSecond page \xE2\x82\xAC";
    doc.text_len = strlen(doc.text);
    doc.index = &idx;
    doc.index_count = 1;
    afp_buf_init(&afp);
    afp_buf_init(&pdf);
    CHECK(afp_compose_text(&doc, 1, &copts, &afp, &err) == AFP_OK);
    afp_pdf_options_init(&o);
    o.pdfa = 2;
    o.compress = 0;
    snprintf(o.author, sizeof(o.author), "Stadtwerke");
    setenv("SOURCE_DATE_EPOCH", "1767225600", 1);
    CHECK(afp_to_pdf(afp.data, afp.len, &o, &pdf, NULL, &err) == AFP_OK);
    unsetenv("SOURCE_DATE_EPOCH");
    s = (const char *) pdf.data;
    CHECK(pdf.len > 20 && strncmp(s, "%PDF-1.", 7) == 0 && (uint8_t) s[10] >= 128);
    CHECK(contains(pdf.data, pdf.len, "/OutputIntents [<< /Type /OutputIntent /S /GTS_PDFA1"));
    CHECK(contains(pdf.data, pdf.len, "/Type /Metadata /Subtype /XML /Length"));
    CHECK(contains(pdf.data, pdf.len, "<pdfaid:part>2</pdfaid:part>"));
    CHECK(contains(pdf.data, pdf.len, "<pdfaid:conformance>B</pdfaid:conformance>"));
    CHECK(contains(pdf.data, pdf.len, "/ID [<"));
    CHECK(contains(pdf.data, pdf.len, "/CreationDate (D:20260101000000+00'00')"));
    CHECK(contains(pdf.data, pdf.len, "<xmp:CreateDate>2026-01-01T00:00:00+00:00</xmp:CreateDate>"));
    /* the page group gives Title, Subject and Keywords; the option the author */
    CHECK(contains(pdf.data, pdf.len, "/Title (STMT)"));
    CHECK(contains(pdf.data, pdf.len, "<rdf:li xml:lang=\"x-default\">STMT</rdf:li>"));
    CHECK(contains(pdf.data, pdf.len, "/Author (Stadtwerke)") && contains(pdf.data, pdf.len, "<rdf:li>Stadtwerke</rdf:li>"));
    CHECK(contains(pdf.data, pdf.len, "/Keywords (4711 <&>)"));
    CHECK(contains(pdf.data, pdf.len, "<pdf:Keywords>4711 &lt;&amp;&gt;</pdf:Keywords>"));
    CHECK(contains(pdf.data, pdf.len, "<dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">Account: 4711 "
                 "&lt;&amp;&gt;</rdf:li>"));
    CHECK(contains(pdf.data, pdf.len, "/FontFile2") && contains(pdf.data, pdf.len, "/Subtype /Type1") == 0);
    afp_buf_free(&pdf);
    afp_buf_free(&afp);
}

/* Runs the PDF/A tests. */
void suite_pdfa(void);
void
suite_pdfa(void)
{
    test_icc();
    test_cmyk_space();
    test_cmyk_fill();
    test_options();
    test_document();
}
