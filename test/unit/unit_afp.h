/*
 * unit_afp.h — helpers shared by the unit tests that build AFP and inspect PDF or text output
 * (test_pdf.c, test_pdf_resources.c, test_raster.c, test_dbcs.c, test_reader.c,
 * test_gen_assets.c): structured-field builders on the core writer, byte searches, the warning
 * counter, an uncompressed conversion and a validation issue counter. Defined in unit_afp.c.
 */
#ifndef AFP_UNIT_AFP_H
#define AFP_UNIT_AFP_H

#include "afp.h"
#include "afp_pdf.h"

/* An A4 page in units of 240 per inch (the PGD/PTD size of most test pages). */
#define UNIT_A4_W 1984
#define UNIT_A4_H 2806

/* ------------------------------------------------------------------ building AFP */

/* PGD/PTD data: 240 units per inch in both directions, w x h units (PTD uses the first 14). */
void unit_pgd(uint8_t out[15], unsigned w, unsigned h);
/* An active environment group BAG … EAG: the map field map_id with data map (map NULL: none),
 * then a PGD and a PTD of pw x ph units. */
void unit_aeg(afp_writer *w, uint32_t map_id, const afp_buf *map, unsigned pw, unsigned ph);
/* Appends an MCF-2 repeating group: font local ID lid → font character set fcs + code page cp. */
void unit_mcf_group(afp_buf *b, uint8_t lid, const char *fcs, const char *cp);
/* Replaces out with ASCII text s encoded in CP500 (T1V10500). */
void unit_ebcdic(const char *s, afp_buf *out);
/* Writes the OBD (240 units per inch, a 480 x 240 unit area) and the OBP (origin (240, 240),
 * no rotation) of an object environment group; the caller writes BOG/EOG and the rest. */
void unit_object_area(afp_writer *w);
/* Writes BDT "DOC1", BPG "PAGE1", an A4 environment group with the MCF data mcf (NULL: none)
 * and BPT "PT1"; the caller writes the text and ends with unit_page_end. */
void unit_page_begin(afp_writer *w, const afp_buf *mcf);
/* Ends the page's last object (EPT, or EIM, EOC, … for other objects), the page and the
 * document, appends the writer's output to out and frees the writer. */
void unit_page_end(afp_writer *w, afp_buf *out);

/* ------------------------------------------------------------------ inspecting output */

/* True when b holds the C string s (binary-safe search). */
int unit_has(const afp_buf *b, const char *s);
/* Number of (possibly overlapping) occurrences of the C string s in b. */
int unit_count(const afp_buf *b, const char *s);
/* Offset of the first occurrence of s[0..n) in b, -1 when absent. */
long unit_find(const afp_buf *b, const uint8_t *s, size_t n);
/* Warning callback that counts: ctx points at an int. */
void unit_count_warning(void *ctx, const char *msg);
/* Converts afp to PDF with uncompressed streams (unless json says "compress": true) and the
 * options JSON json (NULL: none); counts warnings into *warnings (NULL: no callback). */
afp_status unit_convert(const afp_buf *afp, const char *json, afp_buf *pdf, int *warnings,
                        afp_error *err);
/* Number of issues of severity sev when validating buf[0..len); copies the first one's message
 * into first (NULL: not wanted). */
int unit_issues(const uint8_t *buf, size_t len, afp_severity sev, char *first, size_t firstsz);

#endif
