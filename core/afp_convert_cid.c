/*
 * afp_convert_cid.c — the CJK outline font that draws double-byte text (fonts whose code page
 * is a DBCS page, afp_dbcs.c) in the PDF.
 *
 * The text is decoded to Unicode by the PTOCA interpreter, so the font only has to cover the
 * characters: it is embedded like a TrueType font carried in the file (afp_convert_fonts.c) —
 * a Type 0 font, Identity-H, over a CIDFontType2 whose CIDs are the glyph ids, /W with the
 * advances of the glyphs used, a ToUnicode CMap and a FontFile2 subset that keeps the glyph ids.
 *
 * Which font: $AFP_CJK_FONT, else the first readable of Debian's fonts-droid-fallback
 * (DroidSansFallbackFull.ttf, about 4 MB, Chinese, Japanese and Korean) and fonts-wqy-microhei.
 * A font map entry matching the font comes first (afp_convert_fontsel.c); when nothing can be
 * read (or AFP_CJK_FONT=none) the conversion fails naming the font (afp_to_pdf), rather than
 * showing empty boxes.
 */
#include "afp_pdf_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const cjk_candidates[] = {
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
};

/* Opens the CJK font (path gets the file used); NULL when none can be read. A file named by
 * $AFP_CJK_FONT that cannot be read is reported once, then the Debian paths are tried. */
pdf_font *
pdf_font_cjk(pdf_fonts *fs, pdf_writer *w, char *path, size_t pathlen)
{
    const char *env = getenv("AFP_CJK_FONT");
    size_t i;

    if (pathlen)
        path[0] = '\0';
    if (env && strcmp(env, "none") == 0)
        return NULL;           /* AFP_CJK_FONT=none: no CJK font (double-byte text fails) */
    for (i = 0; i < 1 + sizeof(cjk_candidates) / sizeof(cjk_candidates[0]); i++)
    {
        const char *p = i == 0 ? env : cjk_candidates[i - 1];
        uint8_t *data;
        size_t len = 0;
        pdf_font *pf = NULL;

        if (p == NULL || p[0] == '\0')
            continue;
        data = pdf_font_file_read(p, &len);   /* afp_convert_fontsel.c */
        if (data)
            pf = pdf_font_carried(fs, w, data, len);
        afp_free(data);
        if (pf)
        {
            if (pathlen)
                snprintf(path, pathlen, "%s", p);
            return pf;
        }
        if (i == 0 && fs->warn)
        {
            char msg[700];

            snprintf(msg, sizeof(msg), "AFP_CJK_FONT=%.500s is not a TrueType/OpenType font "
                     "FreeType can read; the Debian CJK fonts are tried", p);
            fs->warn(fs->warn_ctx, msg);
        }
    }
    return NULL;
}

/* The font that shows character u of a double-byte font: pf when it has the glyph (or the font
 * is no double-byte font), else the Liberation face of the font's name when that has it. */
pdf_font *
cv_dbcs_glyph_font(cv_ctx *ctx, const afp_font_ref *f, pdf_font *pf, uint32_t u)
{
    pdf_font *alt;
    unsigned code;
    int w;

    if (f->dcp == NULL || pf == NULL || pdf_font_code_bytes(pf) != 2)
        return pf;
    pdf_font_glyph(pf, u, &code, &w);
    if (code != 0)
        return pf;
    alt = pdf_font_for(&ctx->fonts, &ctx->w, f);
    if (alt == NULL || alt == pf)
        return pf;
    pdf_font_glyph(alt, u, &code, &w);
    return code != 0 ? alt : pf;
}
