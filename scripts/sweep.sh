#!/bin/sh
# Run a grid of train settings with GNU parallel; resumable; one machine or many.
#
#   scripts/sweep.sh -c BASE.json -g KEY=V1,V2 [-g KEY=A..B ...] [-j JOBS] [-o DIR]
#                    [--sshloginfile FILE] [--dry-run] [-- TRAIN FLAGS...]
#
#   scripts/sweep.sh -c configs/default.json -g head=sigmoid,softmax \
#       -g lr=0.01,0.05,0.1 -g seed=1..5 -j 2 -o results/lr-sweep
#
# Values are comma-separated, or |-separated when they contain commas
# (-g 'hidden=256|800,800'); A..B is a range of integers. Every combination of
# the -g values runs as train --config BASE --json
# --KEY=VALUE..., JOBS at a time (default: the core count), each with
# --threads cores/JOBS unless the flags say otherwise. DIR (default
# results/sweep) receives jobs.tsv (the grid, one job a line), joblog (GNU
# parallel's), runs/NAME.jsonl and runs/NAME.jsonl.err per run, and the summary
# (summary.md, summary.csv; scripts/summarize.sh rebuilds it). Running the same
# command again resumes: finished jobs are skipped, failed or interrupted ones
# run again. With --sshloginfile (passed to GNU parallel) jobs spread across
# hosts; the project must sit at the same path on each, built, with the data
# where the config or flags say. --dry-run prints the jobs and runs nothing.
# TRAIN=PATH runs another binary than ./train (e.g. a frozen copy while you
# rebuild).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
usage() {
    echo "usage: sweep.sh -c BASE.json -g KEY=VALUES [-g ...] [-j JOBS] [-o DIR] [--sshloginfile FILE] [--dry-run] [-- FLAGS...]" >&2
    exit 64
}

base="" out=results/sweep jobs=$(nproc) logins="" dry="" grid=""
while [ $# -gt 0 ]; do
    case $1 in
        -c) [ $# -ge 2 ] || usage; base=$2; shift 2 ;;
        -g) [ $# -ge 2 ] || usage; grid="$grid
$2"; shift 2 ;;
        -j) [ $# -ge 2 ] || usage; jobs=$2; shift 2 ;;
        -o) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
        --sshloginfile) [ $# -ge 2 ] || usage; logins=$2; shift 2 ;;
        --dry-run) dry=1; shift ;;
        --) shift; break ;;
        *) echo "sweep: $1: unknown option" >&2; usage ;;
    esac
done
[ -n "$base" ] || { echo "sweep: -c BASE.json is required" >&2; usage; }
[ -f "$base" ] || { echo "sweep: $base: no such file" >&2; exit 66; }
[ -n "$grid" ] || { echo "sweep: give at least one -g KEY=VALUES" >&2; usage; }
case $jobs in ''|*[!0-9]*|0) echo "sweep: -j: '$jobs' is not a positive integer" >&2; exit 64 ;; esac
base=$(cd "$(dirname "$base")" && pwd)/$(basename "$base")

# one line per grid axis: KEY<TAB>V1 V2 ...; A..B expands to the integers
axes=$(printf '%s\n' "$grid" | sed '/^$/d' | while IFS= read -r g; do
    key=${g%%=*} vals=${g#*=}
    case $g in *=*) ;; *) echo "sweep: -g $g: expected KEY=VALUES" >&2; exit 64 ;; esac
    case $key in ''|*[!a-z0-9_]*) echo "sweep: -g $g: '$key' is not a config key" >&2; exit 64 ;; esac
    [ -n "$vals" ] || { echo "sweep: -g $g: no values" >&2; exit 64; }
    list=""
    # values are split on | when there is one (hidden=256|800,800), else on commas
    case $vals in *'|'*) sep='|' ;; *) sep=',' ;; esac
    for v in $(printf '%s' "$vals" | tr "$sep" ' '); do
        case $v in
            *..*) a=${v%%..*} b=${v#*..}
                  case "$a$b" in ''|*[!0-9]*) echo "sweep: -g $g: '$v' is not a range A..B" >&2; exit 64 ;; esac
                  list="$list $(seq "$a" "$b" | tr '\n' ' ')" ;;
            *) list="$list $v" ;;
        esac
    done
    printf '%s\t%s\n' "$key" "$list"
done) || exit $?

# the cartesian product, in a fixed order: NAME<TAB>--key=value<TAB>...
expand() {
    printf '%s\n' "$axes" | {
        rows="	"
        while IFS="$(printf '\t')" read -r key list; do
            next=""
            next=$(printf '%s\n' "$rows" | while IFS= read -r row; do
                for v in $list; do printf '%s\t--%s=%s\n' "$row" "$(echo "$key" | tr _ -)" "$v"; done
            done)
            rows=$next
        done
        printf '%s\n' "$rows" | sed 's/^\t*//' | while IFS= read -r row; do
            name=$(printf '%s' "$row" | sed 's/--//g; s/\t/_/g; s/[^A-Za-z0-9_=.,:-]/-/g')
            printf '%s\t%s\n' "$name" "$row"
        done
    }
}
mkdir -p "$out/runs"
expand > "$out/jobs.tsv.new"
if [ -f "$out/jobs.tsv" ] && ! cmp -s "$out/jobs.tsv" "$out/jobs.tsv.new"; then
    rm -f "$out/jobs.tsv.new"
    echo "sweep: $out holds another grid; use another -o DIR" >&2
    exit 64
fi
mv "$out/jobs.tsv.new" "$out/jobs.tsv"
printf '%s\n' "$axes" | cut -f1 > "$out/keys"
n=$(wc -l < "$out/jobs.tsv")
cols=$(awk -F'\t' '{ print NF; exit }' "$out/jobs.tsv")
if [ -n "$dry" ]; then
    cat "$out/jobs.tsv"
    exit 0
fi

threads=$(( $(nproc) / jobs )); [ "$threads" -ge 1 ] || threads=1
"$here/scripts/install-deps.sh" parallel=cmd:parallel jq=cmd:jq
train=${TRAIN:-$here/train}
[ -x "$train" ] || make -C "$here" --no-print-directory all >&2
args=""
i=2
while [ "$i" -le "$cols" ]; do args="$args {$i}"; i=$((i + 1)); done
case " $* " in
    *" --threads"*) echo "sweep: $n runs, $jobs at a time, in $out" >&2 ;;
    *) echo "sweep: $n runs, $jobs at a time, $threads threads each, in $out" >&2 ;;
esac
status=0
# shellcheck disable=SC2086
parallel --will-cite --colsep '\t' -j "$jobs" --joblog "$out/joblog" --resume-failed \
    ${logins:+--sshloginfile "$logins"} --results "$out/runs/{1}.jsonl" \
    "$train" --config "$base" --json --threads "$threads" "$@" $args \
    :::: "$out/jobs.tsv" > /dev/null || status=$?
"$here/scripts/summarize.sh" "$out"
# GNU parallel's exit status: the number of failed jobs up to 100, 101 for more,
# 255 when it was interrupted or failed itself
if [ "$status" -ge 1 ] && [ "$status" -le 100 ]; then
    echo "sweep: $status run(s) failed; see $out/runs/*.err and $out/joblog" >&2
elif [ "$status" -ne 0 ]; then
    echo "sweep: stopped before the end (GNU parallel exit $status); run the same command to resume" >&2
fi
exit "$status"
