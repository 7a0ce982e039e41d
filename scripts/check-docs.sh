#!/bin/bash
# Run every documented command as written. (Usage below, in help.)
# The commands are the lines of the ```sh blocks of README.md and docs/*.md;
# a block opened with ```sh skip is shown as shell but not run (make install
# to /usr/local, a multi-host recipe, the full suite itself), and any other
# block (```text, ```json, plain ```) is output or a file, never run. A line
# ending in \ continues on the next; a trailing "# comment" is the shell's.
#
# The option table of docs/reference.md is generated from train's option table
# (build/bin/gendoc markdown; --update-options) and checked against it on
# every run, so it cannot drift.
#
# Each command runs with bash from the top of a copy of the checkout, in
# order (a command may use what an earlier one wrote: a model file, a run
# folder), and must exit 0. Afterwards `git status --porcelain` in the copy
# must be empty: following the docs may write only ignored paths (runs/,
# data/, build/). The copy is either a fresh clone of HEAD on which
# `make run` is run first (--fresh, what a new user does), or, by default,
# the tracked files of this working tree (uncommitted edits included) with
# links to this tree's built binaries and data, which is what `make test`
# checks in seconds.
#
# --short (CHECK_DOCS_SHORT=1) makes training runs short: data/mnist in the
# copy holds only the first 11,000 training and 2,000 test images, and
# ./train becomes a wrapper that appends --epochs 1 to every run that trains
# from scratch (not to --load, --resume, --predict, --print-config, --help or
# --version), which also shortens the runs the scripts start, since they
# call ./train. What is checked is then that each command runs, not its figures.
set -eu
prog=check-docs
case $0 in */*) here=${0%/*}/.. ;; *) here=.. ;; esac
here=$(cd "$here" && pwd)
# shellcheck source=scripts/common.bash
. "$here/scripts/common.bash"

help()
{
    cat << 'EOF'
Usage: scripts/check-docs.sh [OPTION]... [FILE.md]...
Run the shell commands of README.md and docs/*.md (or of the FILEs given) as
written, in a copy of the checkout, and check that none fails and that none
modified a tracked file.

Which lines are commands: every line of a fenced block opened with ```sh,
in order (a line ending in \ continues on the next). Blocks opened with
```sh skip are shown as commands but not run (say why next to them);
```text, ```json and plain ``` blocks are output or files and never run.

  --fresh       clone HEAD into a temporary folder and run `make run` there
                first, as a new user does (MNIST_DIR, when set, is copied to
                data/mnist first, which make run then only verifies); default: copy this
                working tree's tracked files and link its build/bin and
                data/mnist (run `make` first)
  --short       short runs (also CHECK_DOCS_SHORT=1): data/mnist in the copy
                holds the first 11,000 training and 2,000 test images, and
                ./train appends --epochs 1 to every training from scratch
                (not to --load, --resume, --predict, --print-config, --help,
                --version); the scripts call ./train, so their runs shrink too.
                Without it, every command runs at full length (hours for
                the long recipes)
  -l, --list    print the commands (and the skipped ones, marked) and exit
  --options     print the option table of docs/reference.md as the option
                table itself makes it (build/bin/gendoc markdown, or $GENDOC)
                and exit
  --update-options
                rewrite that table in docs/reference.md and exit
  -k, --keep    keep the temporary copy and print where it is
  -h, --help    print this help and exit

Without --fresh, TRAIN=PATH, COMPARE=PATH and GENDOC=PATH name the binaries under test (a
sanitizer build, say); the data is $MNIST_DIR, else data/mnist. The
commands themselves run without MNIST_DIR, TRAIN and COMPARE, as a new
user's would.

The option table of docs/reference.md (between its BEGIN options and END
options lines) must be what --options prints: a new or changed option fails
the check until the table is regenerated.

Each command runs with bash (pipefail) from the top of the copy, stdin
empty; the end of a failing command's output is printed. Exit status: 0
every command ran and no tracked file changed; 1 a command failed or a
tracked file changed (each is named); 64 usage error; 66 a FILE or, without
--fresh, the built binary is missing; 130/143 interrupted.
EOF
}

fresh="" short=${CHECK_DOCS_SHORT:-} list="" keep="" files=() options=""
while [ $# -gt 0 ]; do
    case $1 in
        -h | --help) help; exit 0 ;;
        --fresh) fresh=1; shift ;;
        --short) short=1; shift ;;
        -l | --list) list=1; shift ;;
        -k | --keep) keep=1; shift ;;
        --options) options=print; shift ;;
        --update-options) options=update; shift ;;
        --) shift; files+=("$@"); break ;;
        -?*) usage_error "unknown option '$1'" ;;
        *) files+=("$1"); shift ;;
    esac
done
[ "$short" != 0 ] || short=""
if [ ${#files[@]} -eq 0 ]; then
    files=("$here/README.md")
    for f in "$here"/docs/*.md; do [ -f "$f" ] && files+=("$f"); done
fi
for f in "${files[@]}"; do
    [ -f "$f" ] || fail 66 "$f: no such file"
done

# commands FILE: one command per line (continuations joined), skipped ones
# prefixed with "#skip ", preceded by "#file FILE:LINE"
commands()
{
    awk -v file="$1" '
        /^[ \t]*```/ {
            if (!inblock) {
                info = $0; sub(/^[ \t]*```[ \t]*/, "", info)
                inblock = 1; kind = ""
                if (info ~ /^(sh|bash|shell)([ \t]|$)/)
                    kind = (info ~ /[ \t]skip([ \t]|$)/) ? "skip" : "run"
            } else
                inblock = 0
            next
        }
        inblock && kind != "" {
            line = $0
            if (cmd == "") start = NR
            if (line ~ /\\$/) { cmd = cmd substr(line, 1, length(line) - 1); next }
            cmd = cmd line
            if (cmd ~ /^[ \t]*(#.*)?$/) { cmd = ""; next }
            printf "#file %s:%d\n%s%s\n", file, start, (kind == "skip" ? "#skip " : ""), cmd
            cmd = ""
        }' "$1"
}

# options_table: the option table of docs/reference.md, written from train's
# option table itself by build/bin/gendoc (or $GENDOC), as --help and the man
# page are: no parser of --help's text stands between the two
options_table()
{
    local gendoc=${GENDOC:-${1:-$here}/build/bin/gendoc}
    [ -x "$gendoc" ] || fail 66 "$gendoc: not built (run make first)"
    "$gendoc" markdown
}

# options_block FILE: the generated table in FILE, without its marker lines
options_block()
{
    awk '/^<!-- END options/ { inside = 0 } inside { print } /^<!-- BEGIN options/ { inside = 1 }' "$1"
}

if [ -n "$options" ]; then
    ref=$here/docs/reference.md
    if [ "$options" = print ]; then
        options_table
        exit 0
    fi
    grep -q '^<!-- BEGIN options' "$ref" && grep -q '^<!-- END options' "$ref" ||
        fail 65 "$ref: no <!-- BEGIN options ... --> and <!-- END options --> lines"
    table=$(mktemp "${TMPDIR:-/tmp}/check-docs-options.XXXXXX") || fail 73 "cannot create a temporary file"
    trap 'rm -f "$table" "$ref.new"' EXIT
    options_table > "$table"
    awk -v table="$table" '
        /^<!-- END options/ { inside = 0 }
        !inside { print }
        /^<!-- BEGIN options/ { inside = 1; while ((getline l < table) > 0) print l }' "$ref" > "$ref.new"
    mv "$ref.new" "$ref"
    echo "$prog: $ref: option table rewritten from the option table (gendoc markdown)" >&2
    exit 0
fi

if [ -n "$list" ]; then
    for f in "${files[@]}"; do commands "$f"; done
    exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-docs.XXXXXX") || fail 73 "cannot create a temporary folder"
cleanup() { if [ -n "$keep" ]; then echo "$prog: the copy is in $tmp" >&2; else rm -rf "$tmp"; fi; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
copy=$tmp/train

# short_idx SRC DST COUNT: the first COUNT items of the IDX file SRC (gzipped
# or not), with the count in the header rewritten, gzipped to DST
short_idx()
{
    local src=$1 dst=$2 count=$3 hdr item magic have
    magic=$(gzip -dcf "$src" | head -c 4 | od -An -tx1 | tr -d ' \n')
    have=$(gzip -dcf "$src" | head -c 8 | tail -c 4 | od -An -tu1 |
        awk '{ print $1 * 16777216 + $2 * 65536 + $3 * 256 + $4 }')
    [ "$count" -le "$have" ] || count=$have
    case $magic in
        00000803) hdr=16 item=$(gzip -dcf "$src" | head -c 16 | tail -c 8 | od -An -tu1 |
                      awk '{ print ($1 * 16777216 + $2 * 65536 + $3 * 256 + $4) * ($5 * 16777216 + $6 * 65536 + $7 * 256 + $8) }') ;;
        00000801) hdr=8 item=1 ;;
        *) fail 65 "$src: not an IDX image or label file" ;;
    esac
    {
        gzip -dcf "$src" | head -c 4
        printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((count >> 24 & 255)) $((count >> 16 & 255)) \
            $((count >> 8 & 255)) $((count & 255)))"
        [ "$hdr" -eq 8 ] || gzip -dcf "$src" | head -c 16 | tail -c 8
        gzip -dcf "$src" | tail -c +$((hdr + 1)) | head -c $((count * item))
    } | gzip -1 > "$dst"
}

if [ -n "$fresh" ]; then
    git -C "$here" rev-parse --verify -q HEAD > /dev/null || fail 66 "$here: not a git checkout"
    git clone -q "$here" "$copy"
    # the verified copy in MNIST_DIR, when given, saves the download: make
    # run's fetch then only checks it
    if [ -n "${MNIST_DIR:-}" ] && [ -d "$MNIST_DIR" ]; then
        mkdir -p "$copy/data/mnist" && cp "$MNIST_DIR"/*-ubyte.gz "$copy/data/mnist/"
    fi
    echo "$prog: make run in a fresh clone of HEAD ($copy)" >&2
    (cd "$copy" && make run) > "$tmp/make-run.log" 2>&1 ||
        { tail -n 20 "$tmp/make-run.log" >&2; fail 1 "make run failed in the fresh clone"; }
else
    # the binaries under test: TRAIN and COMPARE (a sanitizer build, say), else this tree's
    bin_train=${TRAIN:-$here/build/bin/train} bin_compare=${COMPARE:-$here/build/bin/compare}
    for b in "$bin_train" "$bin_compare"; do
        [ -x "$b" ] || fail 66 "$b: not built (run make first)"
    done
    mkdir -p "$copy"
    # the files git would commit, as they are in this working tree, edits included
    (cd "$here" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' p; do
        if [ -e "$p" ] || [ -L "$p" ]; then printf '%s\0' "$p"; fi
    done | tar --null --no-recursion -T - -cf -) | tar -C "$copy" -xf - ||
        fail 70 "cannot copy the checkout"
    (cd "$copy" && git init -q && git add -A && git -c user.name=check-docs \
        -c user.email=check-docs@localhost commit -qm copy) ||
        fail 70 "cannot make a git repository of the copy"
    mkdir -p "$copy/build/bin" "$copy/data/mnist"
    for b in "$here"/build/bin/*; do [ -e "$b" ] && ln -s "$b" "$copy/build/bin/"; done
    ln -sfn "$(readlink -f "$bin_train")" "$copy/build/bin/train"
    ln -sfn "$(readlink -f "$bin_compare")" "$copy/build/bin/compare"
    ln -s build/bin/train "$copy/train"
    data=${MNIST_DIR:-$here/data/mnist}
    for n in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
        for d in "$data/$n.gz" "$data/$n"; do
            [ -f "$d" ] || continue
            ln -s "$(readlink -f "$d")" "$copy/data/mnist/${d##*/}"
            break
        done
        [ -e "$copy/data/mnist/$n.gz" ] || [ -e "$copy/data/mnist/$n" ] ||
            fail 66 "$data/$n.gz: no MNIST here (set MNIST_DIR, or run make data)"
    done
fi

if [ -n "$short" ]; then
    # the first 11,000 training and 2,000 test images (10,000 may be held out
    # for validation), and one epoch for every training from scratch
    for f in "$copy"/data/mnist/*-ubyte*; do
        n=2000
        case ${f##*/} in train-*) n=11000 ;; esac
        short_idx "$f" "$tmp/short.gz" "$n"
        rm -f "$f"
        mv "$tmp/short.gz" "$copy/data/mnist/$(basename "$f" .gz).gz"
    done
    real=$(readlink -f "$copy/train")
    rm -f "$copy/train"
    cat > "$copy/train" << EOF
#!/bin/sh
# check-docs --short: every training from scratch is cut to one epoch
for a in "\$@"; do
    case \$a in
        --load | --load=* | --resume | --resume=* | --predict | --predict=* | \\
        --print-config | --help | --version | -h) exec "$real" "\$@" ;;
    esac
done
exec "$real" "\$@" --epochs 1
EOF
    chmod +x "$copy/train"
fi

# the option table in the docs is the one --help gives
ref=$copy/docs/reference.md
if [ -f "$ref" ]; then
    if ! diff <(options_table "$copy") <(options_block "$ref") > "$tmp/options.diff"; then
        printf '%s: docs/reference.md: the option table differs from the option table of train (< gendoc markdown, > the document); run scripts/check-docs.sh --update-options\n' "$prog" >&2
        head -n 20 "$tmp/options.diff" | sed 's/^/  | /' >&2
        options_failed=1
    fi
fi

# the docs' commands run with the copy's MNIST and binaries, as a user's would
unset MNIST_DIR TRAIN COMPARE
failed=${options_failed:-0} n=0 skipped=0
log=$tmp/command.log
for f in "${files[@]}"; do
    while IFS= read -r where && IFS= read -r cmd; do
        case $cmd in
            '#skip '*) skipped=$((skipped + 1)); continue ;;
        esac
        n=$((n + 1))
        printf '%s: %s\n' "${where#\#file }" "$cmd" >&2
        rc=0
        (cd "$copy" && bash -c "set -o pipefail; $cmd") > "$log" 2>&1 < /dev/null || rc=$?
        if [ "$rc" -ne 0 ]; then
            printf '%s: %s: exit %d: %s\n' "$prog" "${where#\#file }" "$rc" "$cmd" >&2
            tail -n 15 "$log" | sed 's/^/  | /' >&2
            failed=$((failed + 1))
        fi
    done < <(commands "$f")
done

changed=$(cd "$copy" && git status --porcelain)
if [ -n "$changed" ]; then
    printf '%s: following the docs changed tracked or unignored files:\n%s\n' "$prog" "$changed" >&2
    failed=$((failed + 1))
fi
echo "$prog: $n commands run, $skipped skipped, $failed failed${short:+ (--short)}" >&2
[ "$failed" -eq 0 ] || exit 1
