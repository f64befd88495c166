#!/usr/bin/env bash
# gen_dbcs.sh — generates core/afp_dbcs_tables.c, the double-byte (DBCS) code page tables the
# core decodes, from glibc iconv.
#
# Usage: tools/gen_dbcs.sh [output-file]   (default: core/afp_dbcs_tables.c)
#
# EBCDIC DBCS pages (IBM939 … IBM1371): glibc's converters are stateful, so every pair
# X'4040'..X'FFFF' is fed as SO + 2 bytes + SI; a pair that converts to exactly one character
# (not U+FFFD) is defined. ASCII-based pages (CP950, CP936, IBM943, CP949): every single byte is
# tried first; a byte that does not convert alone is a lead byte and its pairs X'40'..X'FF' are
# tried. The DBCS parts of IBM930 and IBM939, and of IBM1390 and IBM1399, are identical, as are
# CP950 and BIG5; core/afp_dbcs.c names one table for each pair.
#
# Encoding (compact, decoded once per process by core/afp_dbcs.c): per table a byte stream of
# segments — varint(code gap from the end of the previous segment), varint(count), then count
# zigzag varints of (Unicode − previous Unicode) — written as base64 text. A table with a base
# (1399 on 939, 1364 on 933, 1371 on 937) holds only the codes whose mapping differs from its
# base (Unicode 0 = undefined in this table). A small C helper compiled from this script talks to
# iconv(3); it needs a C compiler.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/core/afp_dbcs_tables.c}
gen=gen_dbcs.sh
. "$here/tools/gen_lib.sh"

# name:mode:base — mode e = EBCDIC (SO/SI), a = ASCII-based mixed. Order = row numbers used by
# the dbcs_pages[] table of core/afp_dbcs.c: keep both in the same order.
tables="IBM939:e: IBM1399:e:IBM939 IBM933:e: IBM1364:e:IBM933 IBM935:e: IBM1388:e: IBM937:e: IBM1371:e:IBM937 CP950:a: CP936:a: IBM943:a: CP949:a:"

cc=${CC:-cc}
gen_setup

cat > "$tmp/dump.c" <<'EOF'
/* Prints "code unicode" (hex) for every defined code of an iconv character set; or, given a
 * table and a base table file, the base64 stream described in gen_dbcs.sh. */
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int convert(iconv_t cd, const unsigned char *in, size_t n, unsigned long *u)
{
    char ib[8], *ip = ib;
    unsigned char ob[64];
    char *op = (char *) ob;
    size_t il = n, ol = sizeof(ob);

    memcpy(ib, in, n);
    iconv(cd, NULL, NULL, NULL, NULL);
    if (iconv(cd, &ip, &il, &op, &ol) == (size_t) -1 || il != 0)
        return 0;
    if (iconv(cd, NULL, NULL, &op, &ol) == (size_t) -1 || sizeof(ob) - ol != 4)
        return 0;
    *u = ((unsigned long) ob[0] << 24) | ((unsigned long) ob[1] << 16) | (ob[2] << 8) | ob[3];
    return *u != 0xFFFD && *u != 0;
}

static unsigned char bytes[1 << 22];
static size_t nbytes;

static void varint(unsigned long v)
{
    while (v >= 0x80) { bytes[nbytes++] = (unsigned char) (0x80 | (v & 0x7F)); v >>= 7; }
    bytes[nbytes++] = (unsigned char) v;
}

static int load(const char *path, long *map)
{
    FILE *f = fopen(path, "r");
    unsigned long c, u;

    if (f == NULL) return 0;
    for (c = 0; c < 65536; c++) map[c] = -1;
    while (fscanf(f, "%lx %lx", &c, &u) == 2) map[c & 0xFFFF] = (long) u;
    fclose(f);
    return 1;
}

int main(int argc, char **argv)
{
    static long map[65536], base[65536];
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned long u;
    long c, prev_end = 0, prev_u = 0, col = 0;
    size_t i;

    if (argc == 3 && (argv[2][0] == 'e' || argv[2][0] == 'a'))
    {
        iconv_t cd = iconv_open("UTF-32BE", argv[1]);
        unsigned char b[4];
        int l, t;

        if (cd == (iconv_t) -1) return 1;
        if (argv[2][0] == 'a')
            for (l = 0; l < 256; l++) { b[0] = (unsigned char) l; if (convert(cd, b, 1, &u)) printf("%02X %lX\n", l, u); }
        for (l = 0x40; l < 256; l++)
        {
            if (argv[2][0] == 'a') { b[0] = (unsigned char) l; if (convert(cd, b, 1, &u)) continue; }
            for (t = 0x40; t < 256; t++)
            {
                int ok;
                if (argv[2][0] == 'e') { b[0] = 0x0E; b[1] = (unsigned char) l; b[2] = (unsigned char) t; b[3] = 0x0F; ok = convert(cd, b, 4, &u); }
                else { b[0] = (unsigned char) l; b[1] = (unsigned char) t; ok = convert(cd, b, 2, &u); }
                if (ok) printf("%02X%02X %lX\n", l, t, u);
            }
        }
        return 0;
    }
    if (argc < 2 || !load(argv[1], map)) return 1;
    if (argc >= 3 && argv[2][0] && !load(argv[2], base)) return 1;
    if (argc < 3 || !argv[2][0]) for (c = 0; c < 65536; c++) base[c] = -1;
    for (c = 0; c < 65536;)
    {
        long s = c, n;
        /* a segment: consecutive codes whose mapping differs from the base */
        while (s < 65536 && map[s] == base[s]) s++;
        if (s == 65536) break;
        for (n = 0; s + n < 65536 && map[s + n] != base[s + n]; n++) ;
        varint((unsigned long) (s - prev_end));
        varint((unsigned long) n);
        for (c = s; c < s + n; c++)
        {
            long v = map[c] < 0 ? 0 : map[c], d = v - prev_u;
            varint(d >= 0 ? (unsigned long) d * 2 : (unsigned long) (-d) * 2 - 1);
            prev_u = v;
        }
        prev_end = c;
    }
    /* base64, 96 characters per string piece */
    printf("    \"");
    for (i = 0; i < nbytes; i += 3)
    {
        unsigned long v = (unsigned long) bytes[i] << 16;
        int k, nch = 4;
        if (i + 1 < nbytes) v |= (unsigned long) bytes[i + 1] << 8; else nch = 2;
        if (i + 2 < nbytes) v |= bytes[i + 2]; else if (nch == 4) nch = 3;
        for (k = 0; k < 4; k++)
        {
            putchar(k < nch ? b64[(v >> (18 - 6 * k)) & 63] : '=');
            if (++col % 96 == 0) printf("\"\n    \"");
        }
    }
    printf("\"");
    fprintf(stderr, "%zu\n", nbytes);
    return 0;
}
EOF
"$cc" -O2 -o "$tmp/dump" "$tmp/dump.c" || gen_die "cannot compile the iconv helper"

n=0
names=""
for spec in $tables; do
    IFS=: read -r cs mode base <<< "$spec"
    names="$names $cs"
    gen_require_charset "$cs"
    "$tmp/dump" "$cs" "$mode" > "$tmp/$cs.map"
    [ "$(wc -l < "$tmp/$cs.map")" -gt 5000 ] || gen_die "too few codes in $cs"
    n=$((n + 1))
done

{
    echo "/*"
    echo " * afp_dbcs_tables.c — GENERATED by tools/gen_dbcs.sh from glibc iconv; do not edit."
    echo " *"
    echo " * Double-byte code pages as base64 byte streams of segments (see tools/gen_dbcs.sh for the"
    echo " * format); decoded by afp_dbcs.c, which also holds the names and CPGIDs."
    echo " */"
    echo "#include <stddef.h>"
    echo
    echo "extern const size_t afp_dbcs_gen_count;"
    echo "extern const char *const afp_dbcs_gen_name[];"
    echo "extern const int afp_dbcs_gen_base[];"
    echo "extern const char *const afp_dbcs_gen_data[];"
    echo
    echo "const size_t afp_dbcs_gen_count = $n;"
    echo
    printf "const char *const afp_dbcs_gen_name[%d] = {" "$n"
    gen_c_list '"%s"' $names
    echo
    echo "/* row of the base table, -1 none */"
    printf "const int afp_dbcs_gen_base[%d] = {" "$n"
    rows=""
    for spec in $tables; do
        IFS=: read -r cs mode base <<< "$spec"
        row=-1; k=0
        for s2 in $tables; do [ "${s2%%:*}" = "$base" ] && row=$k; k=$((k + 1)); done
        rows="$rows $row"
    done
    gen_c_list %d $rows
    echo
    for spec in $tables; do
        IFS=: read -r cs mode base <<< "$spec"
        c=$(wc -l < "$tmp/$cs.map")
        echo "/* $cs: $c codes${base:+, stored as the differences from $base} */"
        echo "static const char data_$cs[] ="
        "$tmp/dump" "$tmp/$cs.map" "${base:+$tmp/$base.map}" 2> "$tmp/$cs.bytes"
        echo ";"
        echo
    done
    printf "const char *const afp_dbcs_gen_data[%d] = {" "$n"
    gen_c_list 'data_%s' $names
} > "$tmp/out.c"
mv "$tmp/out.c" "$out"

echo "gen_dbcs.sh: wrote $out ($n code pages, $(wc -c < "$out") bytes)"
