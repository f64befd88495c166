# gen_lib.sh — helpers shared by the generators of the core's code page tables from glibc iconv
# (tools/gen_codepages.sh, tools/gen_dbcs.sh). Sourced, not run: the caller sets $gen, its name
# for messages, before using them.

# gen_die MESSAGE — prints "$gen: MESSAGE" on stderr and exits 1.
gen_die() {
    echo "$gen: $*" >&2
    exit 1
}

# gen_setup — checks that iconv is there, makes the scratch directory $tmp (removed on exit) and
# writes the character set names iconv knows, one a line, to $tmp/names.
gen_setup() {
    command -v iconv >/dev/null || gen_die "iconv not found"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    iconv -l | sed 's/[, ]\{1,\}/\n/g' > "$tmp/names"
}

# gen_require_charset NAME — exits unless iconv knows the character set NAME.
gen_require_charset() {
    grep -qx "$1//" "$tmp/names" || gen_die "iconv lacks $1"
}

# gen_c_list FORMAT ITEM... — prints each item with printf FORMAT, separated by ", ", then "};"
# and a newline: the rest of a C array initializer whose "… = {" the caller printed.
gen_c_list() {
    local fmt=$1 sep="" item
    shift
    for item in "$@"; do
        printf "%s$fmt" "$sep" "$item"
        sep=", "
    done
    echo "};"
}
