/*
 * afp_sftable.c — the structured-field identifier table (MO:DCA, FOCA, line data).
 *
 * Facts from modca-reference-10 Appendix E (Tables 53/54), foca-reference-06 Appendix A and
 * linedata-reference-05. Format-1/format-2 pairs (MCF, PTD, PGP) share one abbreviation, as all
 * common AFP tools report them; the name tells the format apart.
 */
#include "afp.h"

#include <stdlib.h>

/* Sorted by id (binary search). */
static const afp_sf_info sf_table[] = {
    {0xD38C87, "CPI", "Code Page Index"},
    {0xD38C89, "FNI", "Font Index"},
    {0xD38C8A, "CFI", "Coded Font Index"},
    {0xD3A088, "MFC", "Medium Finishing Control"},
    {0xD3A090, "TLE", "Tag Logical Element"},
    {0xD3A288, "MCC", "Medium Copy Count"},
    {0xD3A289, "FNM", "Font Patterns Map"},
    {0xD3A66B, "OBD", "Object Area Descriptor"},
    {0xD3A67B, "IID", "IM Image Input Descriptor"},
    {0xD3A687, "CPD", "Code Page Descriptor"},
    {0xD3A688, "MDD", "Medium Descriptor"},
    {0xD3A689, "FND", "Font Descriptor"},
    {0xD3A68D, "RCD", "Record Descriptor"},
    {0xD3A68E, "XMD", "XML Descriptor"},
    {0xD3A692, "CDD", "Container Data Descriptor"},
    {0xD3A69B, "PTD", "Presentation Text Descriptor Format-1"},
    {0xD3A6AF, "PGD", "Page Descriptor"},
    {0xD3A6BB, "GDD", "Graphics Data Descriptor"},
    {0xD3A6C5, "FGD", "Form Environment Group Descriptor"},
    {0xD3A6E3, "DXD", "Data Map Transmission Subcase Descriptor"},
    {0xD3A6E7, "LND", "Line Descriptor"},
    {0xD3A6EB, "BDD", "Bar Code Data Descriptor"},
    {0xD3A6FB, "IDD", "Image Data Descriptor"},
    {0xD3A77B, "IOC", "IM Image Output Control"},
    {0xD3A787, "CPC", "Code Page Control"},
    {0xD3A788, "MMC", "Medium Modification Control"},
    {0xD3A789, "FNC", "Font Control"},
    {0xD3A78A, "CFC", "Coded Font Control"},
    {0xD3A79B, "CTC", "Composed Text Control"},
    {0xD3A7A8, "PEC", "Presentation Environment Control"},
    {0xD3A7AF, "PMC", "Page Modification Control"},
    {0xD3A7CA, "CCP", "Conditional Processing Control"},
    {0xD3A85F, "BPS", "Begin Page Segment"},
    {0xD3A877, "BCA", "Begin Color Attribute Table"},
    {0xD3A87B, "BII", "Begin IM Image"},
    {0xD3A887, "BCP", "Begin Code Page"},
    {0xD3A889, "BFN", "Begin Font"},
    {0xD3A88A, "BCF", "Begin Coded Font"},
    {0xD3A892, "BOC", "Begin Object Container"},
    {0xD3A89B, "BPT", "Begin Presentation Text Object"},
    {0xD3A8A5, "BPF", "Begin Print File"},
    {0xD3A8A7, "BDI", "Begin Document Index"},
    {0xD3A8A8, "BDT", "Begin Document"},
    {0xD3A8AD, "BNG", "Begin Named Page Group"},
    {0xD3A8AF, "BPG", "Begin Page"},
    {0xD3A8BB, "BGR", "Begin Graphics Object"},
    {0xD3A8C4, "BDG", "Begin Document Environment Group"},
    {0xD3A8C5, "BFG", "Begin Form Environment Group"},
    {0xD3A8C6, "BRG", "Begin Resource Group"},
    {0xD3A8C7, "BOG", "Begin Object Environment Group"},
    {0xD3A8C9, "BAG", "Begin Active Environment Group"},
    {0xD3A8CA, "BDM", "Begin Data Map"},
    {0xD3A8CB, "BPM", "Begin Page Map"},
    {0xD3A8CC, "BMM", "Begin Medium Map"},
    {0xD3A8CD, "BFM", "Begin Form Map"},
    {0xD3A8CE, "BRS", "Begin Resource"},
    {0xD3A8D9, "BSG", "Begin Resource Environment Group"},
    {0xD3A8DF, "BMO", "Begin Overlay"},
    {0xD3A8E3, "BDX", "Begin Data Map Transmission Subcase"},
    {0xD3A8EB, "BBC", "Begin Bar Code Object"},
    {0xD3A8FB, "BIM", "Begin Image Object"},
    {0xD3A95F, "EPS", "End Page Segment"},
    {0xD3A977, "ECA", "End Color Attribute Table"},
    {0xD3A97B, "EII", "End IM Image"},
    {0xD3A987, "ECP", "End Code Page"},
    {0xD3A989, "EFN", "End Font"},
    {0xD3A98A, "ECF", "End Coded Font"},
    {0xD3A992, "EOC", "End Object Container"},
    {0xD3A99B, "EPT", "End Presentation Text Object"},
    {0xD3A9A5, "EPF", "End Print File"},
    {0xD3A9A7, "EDI", "End Document Index"},
    {0xD3A9A8, "EDT", "End Document"},
    {0xD3A9AD, "ENG", "End Named Page Group"},
    {0xD3A9AF, "EPG", "End Page"},
    {0xD3A9BB, "EGR", "End Graphics Object"},
    {0xD3A9C4, "EDG", "End Document Environment Group"},
    {0xD3A9C5, "EFG", "End Form Environment Group"},
    {0xD3A9C6, "ERG", "End Resource Group"},
    {0xD3A9C7, "EOG", "End Object Environment Group"},
    {0xD3A9C9, "EAG", "End Active Environment Group"},
    {0xD3A9CA, "EDM", "End Data Map"},
    {0xD3A9CB, "EPM", "End Page Map"},
    {0xD3A9CC, "EMM", "End Medium Map"},
    {0xD3A9CD, "EFM", "End Form Map"},
    {0xD3A9CE, "ERS", "End Resource"},
    {0xD3A9D9, "ESG", "End Resource Environment Group"},
    {0xD3A9DF, "EMO", "End Overlay"},
    {0xD3A9E3, "EDX", "End Data Map Transmission Subcase"},
    {0xD3A9EB, "EBC", "End Bar Code Object"},
    {0xD3A9FB, "EIM", "End Image Object"},
    {0xD3AAE7, "LNC", "Line Descriptor Count"},
    {0xD3AAEC, "FDS", "Fixed Data Size"},
    {0xD3AB77, "MCA", "Map Color Attribute Table"},
    {0xD3AB88, "MMT", "Map Media Type"},
    {0xD3AB89, "FNN", "Font Names (Outline Fonts)"},
    {0xD3AB8A, "MCF", "Map Coded Font"},
    {0xD3AB92, "MCD", "Map Container Data"},
    {0xD3AB9B, "MPT", "Map Presentation Text"},
    {0xD3ABAF, "MPG", "Map Page"},
    {0xD3ABBB, "MGO", "Map Graphics Object"},
    {0xD3ABC3, "MDR", "Map Data Resource"},
    {0xD3ABCA, "IDM", "Invoke Data Map"},
    {0xD3ABCC, "IMM", "Invoke Medium Map"},
    {0xD3ABCD, "MMD", "Map Media Destination"},
    {0xD3ABD8, "MPO", "Map Page Overlay"},
    {0xD3ABEA, "MSU", "Map Suppression"},
    {0xD3ABEB, "MBC", "Map Bar Code Object"},
    {0xD3ABFB, "MIO", "Map Image Object"},
    {0xD3AC6B, "OBP", "Object Area Position"},
    {0xD3AC7B, "ICP", "IM Image Cell Position"},
    {0xD3AC89, "FNP", "Font Position"},
    {0xD3ACAF, "PGP", "Page Position Format-1"},
    {0xD3ADC3, "PPO", "Preprocess Presentation Object"},
    {0xD3AE89, "FNO", "Font Orientation"},
    {0xD3AF5F, "IPS", "Include Page Segment"},
    {0xD3AFAF, "IPG", "Include Page"},
    {0xD3AFC3, "IOB", "Include Object"},
    {0xD3AFD8, "IPO", "Include Page Overlay"},
    {0xD3B077, "CAT", "Color Attribute Table"},
    {0xD3B15F, "MPS", "Map Page Segment"},
    {0xD3B18A, "MCF", "Map Coded Font Format-1"},
    {0xD3B19B, "PTD", "Presentation Text Data Descriptor"},
    {0xD3B1AF, "PGP", "Page Position"},
    {0xD3B1DF, "MMO", "Map Medium Overlay"},
    {0xD3B288, "PFC", "Presentation Fidelity Control"},
    {0xD3B2A7, "IEL", "Index Element"},
    {0xD3B490, "LLE", "Link Logical Element"},
    {0xD3EE7B, "IRD", "IM Image Raster Data"},
    {0xD3EE89, "FNG", "Font Patterns"},
    {0xD3EE92, "OCD", "Object Container Data"},
    {0xD3EE9B, "PTX", "Presentation Text Data"},
    {0xD3EEBB, "GAD", "Graphics Data"},
    {0xD3EEEB, "BDA", "Bar Code Data"},
    {0xD3EEEC, "FDX", "Fixed Data Text"},
    {0xD3EEEE, "NOP", "No Operation"},
    {0xD3EEFB, "IPD", "Image Picture Data"},
};

#define SF_TABLE_SIZE (sizeof(sf_table) / sizeof(sf_table[0]))

/* bsearch comparator: key is a uint32_t id. */
static int
cmp_sf(const void *key, const void *elem)
{
    uint32_t k = *(const uint32_t *) key;
    uint32_t e = ((const afp_sf_info *) elem)->id;

    return (k > e) - (k < e);
}

/* Looks up a structured-field ID; NULL when unknown. */
const afp_sf_info *
afp_sf_lookup(uint32_t id)
{
    return bsearch(&id, sf_table, SF_TABLE_SIZE, sizeof(sf_table[0]), cmp_sf);
}

/* Abbreviation of an ID, "UNK" when unknown. */
const char *
afp_sf_abbr(uint32_t id)
{
    const afp_sf_info *i = afp_sf_lookup(id);

    return i ? i->abbr : "UNK";
}

/* Number of known structured fields. */
size_t
afp_sf_table_size(void)
{
    return SF_TABLE_SIZE;
}

/* Entry i of the table (NULL past the end). */
const afp_sf_info *
afp_sf_table_entry(size_t i)
{
    return i < SF_TABLE_SIZE ? &sf_table[i] : NULL;
}
