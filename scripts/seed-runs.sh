#!/bin/sh
# Run each config over several seeds and tabulate the final test accuracy.
#
#   scripts/seed-runs.sh [-s SEEDS] [-j JOBS] [-o DIR] CONFIG... [-- TRAIN FLAGS...]
#
# SEEDS is a range like 1..5 (default) or a list 1,4,9. Runs go JOBS at a time
# (default: the number of cores), each with --threads cores/JOBS. Every run
# writes DIR/<config>-seed<N>.jsonl (its --json --report lines; default DIR
# results/seed-runs) and DIR/<config>-seed<N>.pred.csv (its --predictions); a run
# whose file already ends in a summary line is not run again. The table (per
# seed accuracy and time, mean +- sample std, min, max) goes to stdout and to
# DIR/table.md. TRAIN=PATH runs another binary than ./train.
set -eu

seeds=1..5 jobs=$(nproc) out=results/seed-runs
while getopts s:j:o: opt; do
    case $opt in
        s) seeds=$OPTARG ;;
        j) jobs=$OPTARG ;;
        o) out=$OPTARG ;;
        *) echo "usage: $0 [-s SEEDS] [-j JOBS] [-o DIR] CONFIG... [-- FLAGS...]" >&2; exit 64 ;;
    esac
done
shift $((OPTIND - 1))
configs=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do configs="$configs $1"; shift; done
[ $# -gt 0 ] && shift
[ -n "$configs" ] || { echo "seed-runs: no config given" >&2; exit 64; }
case $seeds in
    *..*) seeds=$(seq "${seeds%..*}" "${seeds#*..}") ;;
    *) seeds=$(echo "$seeds" | tr , ' ') ;;
esac
threads=$(( $(nproc) / jobs )); [ "$threads" -ge 1 ] || threads=1
mkdir -p "$out"
train=${TRAIN:-$(cd "$(dirname "$0")/.." && pwd)/train}

for c in $configs; do
    [ -f "$c" ] || { echo "seed-runs: $c: no such config" >&2; exit 66; }
    for s in $seeds; do
        f="$out/$(basename "$c" .json)-seed$s.jsonl"
        tail -n1 "$f" 2>/dev/null | grep -q '"type":"summary"' && continue
        printf '%s\n' "$c $s $f"
    done
done | xargs -r -P "$jobs" -L 1 sh -c '
    # arguments: N, the N extra flags, then the line: config seed file
    n=$1; shift; i=0
    while [ $i -lt "$n" ]; do set -- "$@" "$1"; shift; i=$((i + 1)); done
    c=$1 s=$2 f=$3; shift 3
    if "$0" --config "$c" --seed "$s" --threads '"$threads"' --json --report \
            --predictions "${f%.jsonl}.pred.csv" "$@" > "$f.tmp" 2> "${f%.jsonl}.err"; then
        mv "$f.tmp" "$f"; echo "seed-runs: $f done" >&2
    else
        echo "seed-runs: $c seed $s failed: $(cat "${f%.jsonl}.err")" >&2
    fi' "$train" $# "$@"

{
    echo "| config | seeds | test accuracy per seed (%) | mean ± std | min | max | s/run |"
    echo "|---|---|---|---|---|---|---|"
    for c in $configs; do
        name=$(basename "$c" .json)
        cat "$out/$name"-seed*.jsonl 2>/dev/null | jq -rs --arg name "$name" '
            [.[] | select(.type == "summary")] as $r | ($r | length) as $n
            | if $n == 0 then "| \($name) | 0 | | | | | |" else
              ($r | map(.test_accuracy * 100)) as $a | ($a | add / $n) as $m
              | (if $n > 1 then ($a | map(. - $m | . * .) | add / ($n - 1) | sqrt) else 0 end) as $sd
              | "| \($name) | \($n) | \($a | map(. * 100 | round / 100 | tostring) | join(", ")) | "
                + "\($m * 100 | round / 100) ± \($sd * 100 | round / 100) | \($a | min * 100 | round / 100) | "
                + "\($a | max * 100 | round / 100) | \($r | map(.seconds) | add / $n | round) |" end'
    done
} | tee "$out/table.md"
