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

# the quoted includes of $1, as paths from the checkout
quoted() {
    sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$1" |
        while read -r q_name; do realpath -m --relative-to=. "$(dirname "$1")/$q_name"; done
}

# a leaf header includes nothing but the C library and util/
leaf() {
    grep -Eq '^[[:space:]]*#[[:space:]]*include[[:space:]]*<(oneapi/|cjson/|zlib|cmocka|omp)' "$1" &&
        return 1
    for l_h in $(quoted "$1"); do
        case $l_h in src/util/*) ;; *) return 1 ;; esac
    done
    return 0
}

bad=0
say() { echo "$1" >&2; bad=1; }
# every file outside src/nn/ with the headers it reaches, in one compiler run
# (a rule's first prerequisite is the file itself)
for f in $("$@" -Isrc -M -MG $(find src -name '*.[ch]' ! -path 'src/nn/*' | sort) |
           awk '/^[^ ].*:/ { f = $2 } /dnnl/ { print f }' | sort -u); do
    say "$f: reaches oneDNN's header, which is private to src/nn/"
done
for f in $(find src -name '*.[ch]' | sort); do
    case $f in src/*/*) layer=$(echo "$f" | cut -d/ -f2) ;; *) continue ;; esac
    ok=$(allowed "$layer")
    for h in $(quoted "$f"); do
        to=$(echo "$h" | cut -d/ -f2)
        case " $ok " in *" $to "*) continue ;; esac
        if [ "$layer" = config ] && { [ "$to" = nn ] || [ "$to" = data ]; } && leaf "$h"; then
            continue
        fi
        say "$f: $layer/ includes $h"
    done
done
[ $bad = 0 ] || echo "train: the includes above break the layers of docs/ARCHITECTURE.md" >&2
exit $bad
