#!/bin/sh
# Compare two configs (typically the same recipe with a softmax and a sigmoid
# head) over the same seeds, with statistics a reviewer can check.
#
#   scripts/compare-heads.sh [-n N | -s SEEDS] [-j JOBS] [-o DIR] A.json B.json [-- FLAGS...]
#   scripts/compare-heads.sh --quick
#
# Each seed gives both configs the same initial hidden weights, data order,
# dropout masks and shifts, so only what the configs change differs. Runs go
# JOBS at a time (default: the core count). Everything lands in DIR (default
# results/compare-A-vs-B): per run its JSON lines, stderr and per-image
# predictions, and the tables as comparison.md (accuracy, paired statistics,
# and what the outputs look like, from each run's --report). Re-running on the same DIR
# retrains nothing that finished and rebuilds the table. The statistics are
# computed by build/bin/compare (src/compare.c). TRAIN=PATH and COMPARE=PATH
# run other binaries (a sanitizer build, say); the defaults are built if missing.
#
# --quick: configs/default.json against configs/default-sigmoid.json for 3
# epochs over 5 seeds, in results/quick: about a minute on 2 cores.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)

seeds=1..5 jobs=$(nproc) out="" quick=""
[ "${1:-}" = --quick ] && { quick=1; shift; }
while getopts n:s:j:o: opt; do
    case $opt in
        n) seeds=1..$OPTARG ;;
        s) seeds=$OPTARG ;;
        j) jobs=$OPTARG ;;
        o) out=$OPTARG ;;
        *) echo "usage: $0 [-n N | -s SEEDS] [-j JOBS] [-o DIR] A.json B.json [-- FLAGS...] | --quick" >&2
           exit 64 ;;
    esac
done
shift $((OPTIND - 1))
if [ -n "$quick" ]; then
    a=$here/configs/default.json b=$here/configs/default-sigmoid.json
    out=${out:-results/quick}
    set -- --epochs 3
else
    [ $# -ge 2 ] || { echo "compare-heads: need two configs (or --quick)" >&2; exit 64; }
    a=$1 b=$2; shift 2
    [ "${1:-}" = -- ] && shift
fi
na=$(basename "$a" .json) nb=$(basename "$b" .json)
[ "$na" != "$nb" ] || { echo "compare-heads: both configs are named $na" >&2; exit 64; }
out=${out:-results/compare-$na-vs-$nb}

compare=${COMPARE:-$here/build/bin/compare}
[ -x "$compare" ] && [ -x "${TRAIN:-$here/train}" ] || make -C "$here" --no-print-directory all >&2
"$here/scripts/seed-runs.sh" -s "$seeds" -j "$jobs" -o "$out" "$a" "$b" -- "$@" > /dev/null
{
    echo "Comparison of $na and $nb, seeds $seeds${*:+, flags: $*} ($(date -u +%Y-%m-%d))"
    echo
    "$compare" "$out" "$na" "$nb"
    echo
    echo "What the outputs look like (--report, mean over the seeds):"
    echo
    echo "| config | sum of the outputs, mean (std) | exactly one > 0.5 | none | two or more | strict accuracy | argmax accuracy | ECE | mean top output right / wrong |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for n in "$na" "$nb"; do
        cat "$out/$n"-seed*.jsonl | jq -s -r --arg n "$n" '
          map(select(.type == "summary" and .report)) as $s | ($s | length) as $k
          | def m(f): ($s | map(f) | add) / $k;
            def pct: . * 10000 | round / 100 | tostring + "%";
            def sci: if . > 0 and . < 0.001 then (log10 | floor) as $e
                     | "\(. / pow(10; $e) * 10 | round / 10)e\($e)" else . * 1000 | round / 1000 | tostring end;
          select($k > 0)
          | "| \($n) | \(m(.report.output_sum_mean) | . * 1e6 | round / 1e6) (\(m(.report.output_sum_std) | sci)) | \(m(.report.share_one_above) | pct) | \(m(.report.share_none_above) | pct) | \(m(.report.share_multi_above) | pct) | \(m(.report.strict_accuracy) | pct) | \(m(.test_accuracy) | pct) | \(m(.report.ece) | . * 10000 | round / 10000) | \(m(.report.mean_top_correct) | . * 1000 | round / 1000) / \(m(.report.mean_top_wrong) | . * 1000 | round / 1000) |"'
    done
} > "$out/comparison.md.tmp"
mv "$out/comparison.md.tmp" "$out/comparison.md"
cat "$out/comparison.md"
