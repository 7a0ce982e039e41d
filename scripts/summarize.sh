#!/bin/bash
# Rebuild a sweep's summary from its folder. (Usage below, in help.)
set -eu
prog=summarize
case $0 in */*) here=${0%/*}/.. ;; *) here=.. ;; esac
here=$(cd "$here" && pwd)
# shellcheck source=scripts/common.bash
. "$here/scripts/common.bash"

help()
{
    cat << 'EOF'
Usage: scripts/summarize.sh [-h] DIR
Rebuild the summary of the sweep in DIR (a folder written by scripts/sweep.sh).

Reads DIR/keys (the grid's config keys), DIR/jobs.tsv (its runs), DIR/about
(the base config, flags and binary the runs were made with) and every finished
run among DIR/runs/NAME.jsonl (one that ends in a summary line), and writes
DIR/summary.csv and DIR/summary.md: the grid values, final test accuracy, best
validation accuracy (empty without --val), macro F1 (pairs runs only), epochs
and wall seconds, best first. summary.md starts with the line from DIR/about;
it also goes to stdout.

  -h, --help   print this help and exit

Exit status: 0 done; 64 usage error; 66 DIR is not a sweep folder; 69 jq is
not installed.
EOF
}

dir=""
while [ $# -gt 0 ]; do
    case $1 in
        -h | --help) help; exit 0 ;;
        --) shift; [ $# -le 1 ] || usage_error "one DIR only"; dir=${1-}; break ;;
        -?*) usage_error "unknown option '$1'" ;;
        *) [ -z "$dir" ] || usage_error "one DIR only"; dir=$1; shift ;;
    esac
done
[ -n "$dir" ] || usage_error "no sweep folder given"
need_tools jq=jq
[ -f "$dir/keys" ] || fail 66 "$dir/keys: not a sweep folder (no such file)"
keys=$(tr '\n' ' ' < "$dir/keys")
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
# the grid's runs (all runs in the folder when there is no jobs.tsv)
runs=()
if [ -f "$dir/jobs.tsv" ]; then
    while IFS=$'\t' read -r name _; do runs+=("$dir/runs/$name.jsonl"); done < "$dir/jobs.tsv"
else
    for f in "$dir"/runs/*.jsonl; do runs+=("$f"); done
fi
# one JSON object per finished run: the grid values, then the figures
for f in "${runs[@]}"; do
    finished "$f" || continue
    jq -cs --arg keys "$keys" '
        (map(select(.type == "epoch") | .val_accuracy // empty) | max) as $val
        | (.[-1]) as $s
        | {values: [$keys | split(" ") | map(select(length > 0)) | .[] as $k
             | $s.config[$k] | if type == "array" then map(tostring) | join(",") else tostring end],
           test_accuracy: ($s.test_accuracy * 10000 | round / 100),
           best_val_accuracy: (if $val then $val * 10000 | round / 100 else null end),
           macro_f1: (if $s.macro_f1 then $s.macro_f1 * 10000 | round / 100 else null end),
           epochs: $s.epochs, seconds: ($s.seconds * 10 | round / 10)}' "$f"
done > "$tmp"
# best first; macro_f1 (pairs) only when some run has it
# shellcheck disable=SC2016
table='
    (map(.macro_f1 != null) | any) as $f1
    | ($keys | split(" ") | map(select(length > 0))
       + ["test_accuracy", "best_val_accuracy"] + (if $f1 then ["macro_f1"] else [] end)
       + ["epochs", "seconds"]) as $head
    | [$head] + (sort_by(-.test_accuracy) | map(.values + [.test_accuracy, .best_val_accuracy]
       + (if $f1 then [.macro_f1] else [] end) + [.epochs, .seconds]))'
jq -rs --arg keys "$keys" "$table | .[] | @csv" "$tmp" > "$dir/summary.csv.tmp"
mv -f "$dir/summary.csv.tmp" "$dir/summary.csv"
{
    if [ -f "$dir/about" ]; then
        printf 'Runs of %s\n\n' "$(head -n1 "$dir/about")"
    fi
    jq -rs --arg keys "$keys" "
        def row: map(if . == null then \"\" else tostring | gsub(\"[|]\"; \"\\\\|\") end)
                 | \"| \" + join(\" | \") + \" |\";
        $table | (.[0] | row), (.[0] | map(\"---\") | \"|\" + join(\"|\") + \"|\"), (.[1:][] | row)" "$tmp"
} > "$dir/summary.md.tmp"
mv -f "$dir/summary.md.tmp" "$dir/summary.md"
echo "$prog: $(wc -l < "$tmp") of ${#runs[@]} runs finished" >&2
cat "$dir/summary.md"
