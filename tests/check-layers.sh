#!/bin/sh
# The include graph of src/ against the layers of docs/ARCHITECTURE.md; prints
# each include that breaks a rule and exits 1. Run from the checkout:
#   tests/check-layers.sh CC FLAGS...   (the compiler, and flags that find
#                                        the libraries' headers)
# Dependencies point one way: a directory of src/ includes only from the
# directories listed for it below. config/ may also take from nn/ and data/
# their leaf headers, those that include nothing but the C library and util/
# (the enum name lists, the augmentation spec), so that no setting pulls a
# module in. oneDNN's header is reached, directly or through other headers,
# only from src/nn/ (bench/ and tests/ are not checked).
allowed() {
    case $1 in
    util) echo "util" ;;
    stats) echo "stats util" ;;
    data) echo "data util" ;;
    nn) echo "nn util" ;;
    config) echo "config util" ;;
    train) echo "train config data nn util" ;;
    report) echo "report train config data nn util" ;;
    model) echo "model report train config data nn util" ;;
    *) echo "" ;;
    esac
}

# every quoted include of src/ as a line "FILE HEADER", the header as a path
# from the checkout ("src/config/../nn/x.h" is src/nn/x.h), in one awk run:
# a process per include made this check take half a minute on a busy machine
pairs=$(find src -name '*.[ch]' | sort | xargs awk '
    function norm(p,   n, i, part, out, k, r) {
        n = split(p, part, "/"); k = 0
        for (i = 1; i <= n; i++) {
            if (part[i] == "." || part[i] == "") continue
            if (part[i] == ".." && k > 0 && out[k] != "..") { k--; continue }
            out[++k] = part[i]
        }
        r = out[1]
        for (i = 2; i <= k; i++) r = r "/" out[i]
        return r
    }
    /^[ \t]*#[ \t]*include[ \t]*"/ {
        h = $0; sub(/^[^"]*"/, "", h); sub(/".*/, "", h)
        d = FILENAME; sub(/\/[^\/]*$/, "", d)
        print FILENAME, norm(d "/" h)
    }')

# a leaf header includes nothing but the C library and util/
leaf() {
    grep -Eq '^[[:space:]]*#[[:space:]]*include[[:space:]]*<(oneapi/|cjson/|zlib|cmocka|omp)' "$1" &&
        return 1
    ! printf '%s\n' "$pairs" | awk -v f="$1" '$1 == f && $2 !~ /^src\/util\// { found = 1 } END { exit !found }'
}

bad=0
say() { echo "$1" >&2; bad=1; }
# every file outside src/nn/ with the headers it reaches, in one compiler run
# (a rule's first prerequisite is the file itself)
for f in $("$@" -Isrc -M -MG $(find src -name '*.[ch]' ! -path 'src/nn/*' | sort) |
           awk '/^[^ ].*:/ { f = $2 } /dnnl/ { print f }' | sort -u); do
    say "$f: reaches oneDNN's header, which is private to src/nn/"
done
while read -r f h; do
    case $f in src/*/*) ;; *) continue ;; esac
    layer=${f#src/} to=${h#src/}
    layer=${layer%%/*} to=${to%%/*}
    ok=$(allowed "$layer")
    case " $ok " in *" $to "*) continue ;; esac
    if [ "$layer" = config ] && { [ "$to" = nn ] || [ "$to" = data ]; } && leaf "$h"; then
        continue
    fi
    say "$f: $layer/ includes $h"
done << EOF
$pairs
EOF
[ $bad = 0 ] || echo "train: the includes above break the layers of docs/ARCHITECTURE.md" >&2
exit $bad
