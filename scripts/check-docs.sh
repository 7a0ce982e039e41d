#!/bin/bash
# Run every documented command as written, and check every figure the docs
# quote against the result file it comes from. (Usage below, in help.)
#
# Figures. A number a document quotes from a result (an accuracy, an interval,
# a p-value, a time) is tied to the file that holds it, by an HTML comment
# that the rendered page does not show:
#   <!-- figures results/heads/comparison.md configs/softmax.json -->
#   prose quoting 99.21 ± 0.05, +0.06 [+0.02, +0.11], p 0.036, 616 s a run
#   <!-- /figures -->
# Every decimal number in the span (and every whole number of seconds or
# minutes) must be a number of one of the named files, as written there or
# rounded to the digits the prose gives (0.036 for 0.0364; U+2212 is a minus;
# `inline code` is not prose). A table shown as it is in a result file is
# included instead, and must equal it line for line (--update-figures
# rewrites such blocks from the files):
#   <!-- include results/heads/comparison.md table 2 -->  (or lines A-B, or
#   the whole file when nothing follows the name; a ``` fence inside the
#   block is allowed)
#   <!-- /include -->
# A result file under results/ must have a PROVENANCE beside it (the engine,
# commit, machine, date and command that made it: scripts write it). Outside
# spans, README.md and docs/*.md (but the documents listed in figures_loose)
# may not quote a result-like figure at all: a decimal
# percentage, "x ± y", an interval [a, b], a p-value, a time. A figure that
# is no result of ours (a book's, a literature value) sits in
# <!-- figures none: WHY --> ... <!-- /figures -->; ./train --help and the man
# pages quote none (they can cite no file). So: to quote a new figure, run the
# script that writes it into results/DIR, then wrap the sentence in a
# figures span naming that file; `scripts/check-docs.sh --figures` checks in
# a second.
#
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
# links to this tree's built binaries and data, which is what `make check` runs
# (test_docs).
#
# --short (CHECK_DOCS_SHORT=1) makes training runs short: data/mnist in the
# copy holds only the first 2,000 training and 1,000 test images, and
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
                holds the first 2,000 training and 1,000 test images, and
                ./train appends --epochs 1 to every training from scratch
                (not to --load, --resume, --predict, --print-config, --help,
                --version); the scripts call ./train, so their runs shrink too.
                Without it, every command runs at full length (hours for
                the long recipes)
  -l, --list    print the commands (and the skipped ones, marked) and exit
  --figures     only check the figures (see the top of this script) and exit
  --update-figures
                rewrite each <!-- include FILE --> block from FILE and exit
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

fresh="" short=${CHECK_DOCS_SHORT:-} list="" keep="" files=() options="" figures=""
while [ $# -gt 0 ]; do
    case $1 in
        -h | --help) help; exit 0 ;;
        --fresh) fresh=1; shift ;;
        --short) short=1; shift ;;
        -l | --list) list=1; shift ;;
        -k | --keep) keep=1; shift ;;
        --options) options=print; shift ;;
        --update-options) options=update; shift ;;
        --figures) figures=check; shift ;;
        --update-figures) figures=update; shift ;;
        --) shift; files+=("$@"); break ;;
        -?*) usage_error "unknown option '$1'" ;;
        *) files+=("$1"); shift ;;
    esac
done
[ "$short" != 0 ] || short=""
all_docs=""
if [ ${#files[@]} -eq 0 ]; then
    all_docs=1
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

# the documents whose uncited figures are not flagged yet (their spans and
# includes are checked like any other's): docs/performance.md holds the
# engine work's development measurements, dated in its text; docs/testing.md
# the kill rates of tests/mutate.py, dated with their commit
figures_loose="docs/performance.md docs/testing.md"

figures_program()
{
    cat << 'AWK'
# figures check (scripts/check-docs.sh): see the top of that file.
# -v root=TOP -v update=0|1 -v bare=0|1 (bare: --help or a man page, where
# no marker can cite a file, so no result figure may appear)
function err(where, msg) { printf "%s: %s\n", where, msg; bad++ }
# tokens S OUT: the decimal numbers of S (a dot or an exponent), with their
# sign, into OUT[1..n]; versions (0.2.0) and words (fp32, AVX512) are skipped
function tokens(s, out, ints,    n, i, L, c, p, pp, j, t, dec) {
    n = 0; L = length(s); i = 1
    while (i <= L) {
        c = substr(s, i, 1)
        if (c !~ /[0-9]/) { i++; continue }
        p = (i > 1) ? substr(s, i - 1, 1) : " "
        if (p ~ /[A-Za-z_.]/) { while (i <= L && substr(s, i, 1) ~ /[A-Za-z0-9_.]/) i++; continue }
        j = i; while (j <= L && substr(s, j, 1) ~ /[0-9,]/) { if (substr(s, j, 1) == "," && substr(s, j + 1, 3) !~ /^[0-9][0-9][0-9]/) break; j++ }
        dec = 0
        if (substr(s, j, 1) == "." && substr(s, j + 1, 1) ~ /[0-9]/) {
            j++; while (j <= L && substr(s, j, 1) ~ /[0-9]/) j++; dec = 1
        }
        if (substr(s, j, 1) ~ /[eE]/ && substr(s, j + 1) ~ /^[-+]?[0-9]/) {
            j++; if (substr(s, j, 1) ~ /[-+]/) j++
            while (j <= L && substr(s, j, 1) ~ /[0-9]/) j++; dec = 1
        }
        if (substr(s, j, 1) == "." && substr(s, j + 1, 1) ~ /[0-9]/ || substr(s, j, 1) ~ /[A-Za-z_]/ && substr(s, j) !~ /^(s|ms|h|x|k|M|G)([^A-Za-z]|$)/) {
            while (j <= L && substr(s, j, 1) ~ /[A-Za-z0-9_.]/) j++
            i = j; continue
        }
        t = substr(s, i, j - i); gsub(/,/, "", t)
        if (p ~ /[-+]/) { pp = (i > 2) ? substr(s, i - 2, 1) : " "; if (pp !~ /[0-9A-Za-z.)]/) t = p t }
        if (dec || ints) out[++n] = t
        i = j
    }
    return n
}
# tol T: half a unit of T's last digit
function tol(t,    m, e, d) {
    m = t; e = 0
    if (m ~ /[eE]/) { e = m; sub(/^[^eE]*[eE]/, "", e); sub(/[eE].*/, "", m); e += 0 }
    d = 0; if (m ~ /\./) { d = m; sub(/^[^.]*\./, "", d); d = length(d) }
    return 0.5 * 10 ^ (e - d) * (1 + 1e-9)
}
function absv(x) { x += 0; return x < 0 ? -x : x }
# load F: the numbers of file F (root-relative) into nums[F, k], count nnum[F]
function load(f, where,    path, line, n, k, arr, i, dir) {
    if (f in loaded) return loaded[f]
    path = (f ~ /^\//) ? f : root "/" f
    if ((getline line < path) < 0) { err(where, "cites " f ", which does not exist"); loaded[f] = 0; return 0 }
    n = 0
    do { k = tokens(line, arr, 1); for (i = 1; i <= k; i++) nums[f, ++n] = arr[i] } while ((getline line < path) > 0)
    close(path); nnum[f] = n; loaded[f] = 1
    if (f ~ /^results\// || f ~ /^\/.*\/results\//) {
        dir = path; sub(/\/[^\/]*$/, "", dir)
        if ((getline line < (dir "/PROVENANCE")) < 0)
            err(where, "cites " f ", but its folder has no PROVENANCE (which engine and machine made it)")
        else close(dir "/PROVENANCE")
    }
    return 1
}
# found T FILES: T matches a number of one of the files, to T's own rounding
# (a signed figure its sign too; an unsigned one, "costs 0.78 point", may
# be a magnitude)
function found(t, files,    fl, nf, i, k, v, w, signed) {
    v = t + 0; w = tol(t); nf = split(files, fl, " "); signed = (t ~ /^[-+]/)
    for (i = 1; i <= nf; i++)
        for (k = 1; k <= nnum[fl[i]]; k++)
            if (absv((signed ? nums[fl[i], k] : absv(nums[fl[i], k])) - v) <= w) return 1
    return 0
}
# accuracy S: S holds a decimal figure between 50 and 100, the range of the
# accuracies quoted here (99.21, 98.4); RSTART and RLENGTH say where
function accuracy(s,    n, arr, i, v) {
    n = tokens(s, arr, 0)
    for (i = 1; i <= n; i++) {
        v = arr[i] + 0
        if (arr[i] ~ /^[0-9]+\.[0-9]+$/ && v >= 50 && v <= 100) return match(s, arr[i])
    }
    return 0
}
# wordtime S: S spells a time in words ("six minutes"), which no file can
# confirm; RSTART and RLENGTH say where
function wordtime(s,    l) {
    l = tolower(s)
    return match(l, /(^|[^a-z])(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|sixty) (seconds?|minutes?|hours?)([^a-z]|$)/)
}
# text S: prose outside code fences, in the current span
function text(s, where,    n, arr, i, u, m, c) {
    gsub(/`[^`]*`/, " ", s)                   # inline code: commands, flags
    gsub(/\]\([^)]*\)/, "]", s)               # link targets
    if (span == "cite") {
        if (wordtime(s)) err(where, "\"" substr(s, RSTART, RLENGTH) "\": a time in words; give it in digits, as the result file has it")
        n = tokens(s, arr, 0)
        for (i = 1; i <= n; i++)
            if (!found(arr[i], files)) err(where, arr[i] " is in none of " files)
        # whole seconds and minutes are figures too
        u = s
        while (match(u, /[0-9]+(\.[0-9]+)? ?(s|ms|seconds?|min|minutes?|h|hours?)([^A-Za-z\/]|$)/)) {
            c = substr(u, RSTART, RLENGTH); u = substr(u, RSTART + RLENGTH)
            m = c; sub(/[^0-9.].*/, "", m)
            if (m !~ /\./ && !found(m, files)) err(where, "the time " m " (" c ") is in none of " files)
        }
    } else if (span == "none") {
        if ((s ~ /(^|[^A-Za-z0-9.\/])[0-9]+(\.[0-9]+)? ?(s|ms|seconds?|min|minutes?|hours?)([^A-Za-z\/]|$)/ || wordtime(s)) && reason !~ /[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]/)
            err(where, "a time in <!-- figures none: --> needs the machine and date (YYYY-MM-DD) it was measured on in the reason")
    } else if (span == "" && !(fn in loose)) {
        u = s
        if (match(u, /[0-9]+\.[0-9]+ ?%|[0-9] ?± ?[0-9]|\[[-+]?[0-9]+\.[0-9]+, [-+]?[0-9]+\.[0-9]+\]|[ (]p [=<≤]* ?[0-9]*\.?[0-9]+(e-[0-9]+)?/))
            err(where, "\"" substr(u, RSTART, RLENGTH) "\": a result figure that cites no result file (<!-- figures FILE... --> before it)")
        else if (accuracy(u))
            err(where, "\"" substr(u, RSTART, RLENGTH) "\": an accuracy-like figure that cites no result file (<!-- figures FILE... --> before it)")
        else if (match(u, /(^|[^A-Za-z0-9.\/])[0-9]+(\.[0-9]+)? ?(s|ms|seconds?|min|minutes?|hours?)([^A-Za-z\/]|$)/) || wordtime(u))
            err(where, "\"" substr(u, RSTART, RLENGTH) "\": a time that cites no result file (<!-- figures FILE... --> before it, or <!-- figures none: machine, YYYY-MM-DD -->)")
    }
}
function marker(m, where,    w, nw, i) {
    nw = split(m, w, " ")
    if (w[1] == "/figures") { if (span == "") err(where, "<!-- /figures --> closes no span"); span = ""; return }
    if (w[1] != "figures") return
    if (span != "") err(where, "<!-- figures --> inside another span (close it with <!-- /figures -->)")
    if (w[2] == "none:" || w[2] == "none") {
        span = "none"; spanwhere = where; reason = m
        if (m !~ /none: ..../) err(where, "<!-- figures none: --> needs a reason")
        return
    }
    span = "cite"; files = ""; spanwhere = where
    for (i = 2; i <= nw; i++) { if (load(w[i], where)) files = files " " w[i] }
    if (nw < 2) err(where, "<!-- figures --> names no file")
}
# extract F SPEC: the lines of F that an include shows, joined by \n
function extract(f, spec, where,    path, line, out, t, n, want, a, b, k, intable) {
    path = (f ~ /^\//) ? f : root "/" f; out = ""; k = 0; t = 0; intable = 0
    split(spec, want, " ")
    if (want[1] == "lines") { a = want[2]; b = a; sub(/-.*/, "", a); sub(/.*-/, "", b) }
    if ((getline line < path) < 0) { err(where, "includes " f ", which does not exist"); return "\001" }
    do {
        k++
        if (want[1] == "table") {
            if (line ~ /^\|/) { if (!intable) t++; intable = 1 } else intable = 0
            if (!(intable && t == want[2] + 0)) continue
        } else if (want[1] == "lines") { if (k < a + 0 || k > b + 0) continue }
        out = out line "\n"
    } while ((getline line < path) > 0)
    close(path)
    if (want[1] != "" && out == "") err(where, f ": no " spec)
    return out
}
BEGIN { bad = 0; nl = split(loosefiles, lf, " "); for (i = 1; i <= nl; i++) loose[lf[i]] = 1 }
function endfile() {
    if (inc != "") err(incwhere, "<!-- include --> with no <!-- /include -->")
    if (span != "") err(spanwhere, "<!-- figures --> with no <!-- /figures --> before the end of the file")
}
FNR == 1 { if (NR > 1) endfile(); span = ""; fence = 0; inc = "" }
{
    fn = FILENAME; if (index(fn, root "/") == 1) fn = substr(fn, length(root) + 2)
    if (label != "") fn = label
    where = fn ":" FNR
    line = $0
    if (inc != "") {
        if (line ~ /^[ \t]*<!-- \/include -->[ \t]*$/) {
            body = incbody; sub(/^[ \t]*```[^\n]*\n/, "", body); sub(/[ \t]*```[ \t]*\n$/, "", body)
            want = extract(incfile, incspec, incwhere)
            if (want != "\001" && body != want) {
                if (!update) err(incwhere, "the block differs from " incfile (incspec != "" ? " (" incspec ")" : "") "; scripts/check-docs.sh --update-figures rewrites it")
                else {
                    fl = incbody; fo = ""; lo = ""
                    if (match(fl, /^[ \t]*```[^\n]*\n/)) fo = substr(fl, 1, RLENGTH)
                    if (match(fl, /[ \t]*```[ \t]*\n$/)) lo = substr(fl, RSTART)
                    printf "%s%s%s", fo, want, lo > (FILENAME ".new")
                }
            } else if (update) printf "%s", incbody > (FILENAME ".new")
            if (update) print line > (FILENAME ".new")
            inc = ""
            next
        }
        incbody = incbody line "\n"
        next
    }
    if (update) print line > (FILENAME ".new")
    if (!bare && line ~ /^[ \t]*<!-- include [^ ]+.* -->[ \t]*$/) {
        s = line; sub(/^[ \t]*<!-- include /, "", s); sub(/ -->[ \t]*$/, "", s)
        incfile = s; sub(/ .*/, "", incfile); incspec = ""
        if (s ~ / /) { incspec = s; sub(/^[^ ]+ /, "", incspec) }
        if (incspec != "" && incspec !~ /^(table [1-9][0-9]*|lines [1-9][0-9]*-[1-9][0-9]*)$/)
            err(where, "<!-- include " s " -->: say 'table N' or 'lines A-B' after the file, or nothing")
        if (incfile ~ /^results\// || incfile ~ /^\/.*\/results\//) load(incfile, where)
        inc = "open"; incbody = ""; incwhere = where
        next
    }
    # commands (```sh) hold flags, not figures; output blocks (```text, ```)
    # are quoted like prose
    if (!bare && line ~ /^[ \t]*```/) {
        fence = !fence
        if (fence) { code = line; sub(/^[ \t]*```[ \t]*/, "", code); code = (code ~ /^(sh|bash|shell|console|c|json)([ \t]|$)/) }
        next
    }
    if (fence && code) next
    gsub(/\342\210\222/, "-", line)          # U+2212 minus
    gsub(/`[^`]*`/, " ", line)                # inline code: commands, flags, markers shown
    while (!bare && (k = index(line, "<!--")) > 0) {
        text(substr(line, 1, k - 1), where)
        rest = substr(line, k + 4); e = index(rest, "-->")
        if (e == 0) { err(where, "an HTML comment that does not end on its line"); line = ""; break }
        m = substr(rest, 1, e - 1); gsub(/^[ \t]+|[ \t]+$/, "", m)
        marker(m, where)
        line = substr(rest, e + 3)
    }
    text(line, where)
}
END {
    if (NR > 0) endfile()
    exit bad > 0
}
AWK
}

# check_figures [--update] BINARY FILE...: the figures check over the FILEs,
# ./train --help and the man pages; one line per problem on stderr, status 1
# when any. --update rewrites the include blocks of the FILEs instead.
check_figures()
{
    local update=0 bin rc=0 prog_awk
    if [ "$1" = --update ]; then update=1; shift; fi
    bin=$1
    shift
    prog_awk=$(figures_program)
    if [ "$update" = 1 ]; then
        LC_ALL=C awk -v root="$here" -v update=1 -v loosefiles="$figures_loose" "$prog_awk" "$@" >&2 || true
        local f
        for f in "$@"; do
            if [ -f "$f.new" ] && ! cmp -s "$f" "$f.new"; then
                mv -f "$f.new" "$f"; echo "$prog: $f: include blocks rewritten" >&2
            else rm -f "$f.new"; fi
        done
        return 0
    fi
    LC_ALL=C awk -v root="$here" -v loosefiles="$figures_loose" "$prog_awk" "$@" >&2 || rc=1
    if [ -x "$bin" ]; then
        "$bin" --help 2>&1 | LC_ALL=C awk -v root="$here" -v bare=1 -v label="./train --help" "$prog_awk" >&2 || rc=1
    fi
    local d m
    # every results/ folder, when the whole documentation is checked: made
    # by this engine (its PROVENANCE says so) and cited by some document
    local engine='' name
    # the version line without the program's name: a run of a copy of the
    # binary under another name (TRAIN=PATH) is the same engine
    [ ! -x "$bin" ] || engine=$("$bin" --version 2>/dev/null | head -n1 | cut -d' ' -f2-)
    for d in "$here"/results/*/; do
        [ -n "$all_docs" ] || break
        name=${d#"$here"/} name=${name%/}
        if [ ! -f "$d/PROVENANCE" ]; then
            printf '%s: no PROVENANCE: which engine and machine made it is unknown\n' "$name" >&2; rc=1
        elif [ -n "$engine" ] && ! grep -q "^engine: [^ ]* $engine;" "$d/PROVENANCE"; then
            printf '%s/PROVENANCE: made by another engine than today'"'"'s (%s): regenerate it\n' "$name" "$engine" >&2; rc=1
        fi
        cat "$@" 2> /dev/null | grep -q "$name\([/)\` ]\|$\)" ||
            { printf '%s: no document cites it: regenerate and cite it, or remove it\n' "$name" >&2; rc=1; }
    done
    for m in "$here"/man/*.1; do
        [ -f "$m" ] || continue
        LC_ALL=C awk -v root="$here" -v bare=1 "$prog_awk" "$m" >&2 || rc=1
    done
    [ "$rc" -eq 0 ] || printf '%s: figures that differ from their result files, or cite none (see the top of scripts/check-docs.sh)\n' "$prog" >&2
    return "$rc"
}

# options_table [DIR]: the option table of docs/reference.md, written from
# train's option table itself by DIR/build/bin/gendoc (or $GENDOC), as --help
# and the man page are: no parser of --help's text stands between the two
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
    bin=${TRAIN:-$here/build/bin/train}
    [ -x "$bin" ] || fail 66 "$bin: not built (run make first)"
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

if [ -n "$figures" ]; then
    if [ "$figures" = update ]; then check_figures --update "${TRAIN:-$here/build/bin/train}" "${files[@]}"; exit 0; fi
    check_figures "${TRAIN:-$here/build/bin/train}" "${files[@]}" || exit 1
    echo "$prog: figures: every quoted figure matches its result file" >&2
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
    # the first 2,000 training and 1,000 test images, and one epoch for every
    # training from scratch: what is checked is that each command runs, and
    # the docs' commands train some hundred networks
    for f in "$copy"/data/mnist/*-ubyte*; do
        n=1000
        case ${f##*/} in train-*) n=2000 ;; esac
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

# the figures the docs quote are those of the result files they cite
check_figures "$copy/build/bin/train" "${files[@]}" || figures_failed=1

# the docs' commands run with the copy's MNIST and binaries, as a user's would
unset MNIST_DIR TRAIN COMPARE
failed=$((${options_failed:-0} + ${figures_failed:-0})) n=0 skipped=0
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
