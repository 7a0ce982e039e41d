#!/bin/sh
# PNG plots with gnuplot, from train's JSON lines.
#
#   scripts/plot.sh curves OUT.png RUN.jsonl...    train loss and test accuracy per epoch,
#                                                  one line per run (e.g. both heads)
#   scripts/plot.sh confusion OUT.png RUN.jsonl    the confusion matrix of a --report run
#   scripts/plot.sh sweep OUTDIR SWEEPDIR [BY]     test accuracy against each grid key of a
#                                                  sweep (points per run, line through the means;
#                                                  with BY, one series per value of that key)
#
# Runs are labelled from their settings: head, and bce_reduction when mean.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/install-deps.sh" gnuplot-nox=cmd:gnuplot jq=cmd:jq
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

label() {
    tail -n1 "$1" | jq -r '.config | .head + (if .bce_reduction == "mean" and .head == "sigmoid"
        then " (mean BCE)" else "" end)
        + (if (.task // "classify") != "classify" then ", " + .task else "" end)'
}

curves() {
    out=$1; shift
    plots_loss="" plots_acc="" i=0
    for f in "$@"; do
        i=$((i + 1))
        jq -r 'select(.type == "epoch") | "\(.epoch) \(.train_loss) \(.test_accuracy * 100)"' "$f" > "$tmp/$i.dat"
        name=$(label "$f")
        plots_loss="$plots_loss${plots_loss:+, }'$tmp/$i.dat' using 1:2 with linespoints title '$name'"
        plots_acc="$plots_acc${plots_acc:+, }'$tmp/$i.dat' using 1:3 with linespoints title '$name'"
    done
    gnuplot <<GP
set terminal pngcairo size 1000,420 font ",10"
set output '$out'
set multiplot layout 1,2
set xlabel 'epoch'
set grid
set key top right
set logscale y
set ylabel 'train loss (log scale)'
set title 'training loss'
plot $plots_loss
unset logscale y
set key bottom right
set ylabel 'test accuracy (%)'
set title 'test accuracy'
plot $plots_acc
unset multiplot
GP
}

confusion() {
    out=$1 f=$2
    jq -r 'select(.type == "summary") | .report.confusion // error("no --report in this run")
        | to_entries[] | .key as $t | .value | to_entries[] | "\(.key) \($t) \(.value)"' "$f" > "$tmp/c.dat"
    name=$(label "$f")
    gnuplot <<GP
set terminal pngcairo size 620,560 font ",10"
set output '$out'
set title 'confusion matrix, $name head (test set)'
set xlabel 'predicted digit'
set ylabel 'true digit'
set xrange [-0.5:9.5]
set yrange [9.5:-0.5]
set xtics 0,1,9
set ytics 0,1,9
set logscale cb
set cbrange [1:*]
set cblabel 'images (log scale)'
set palette defined (0 'white', 1 '#fdd49e', 2 '#ef6548', 3 '#7f0000')
plot '$tmp/c.dat' using 1:2:(\$3 > 0 ? \$3 : 1) with image notitle, \
     '$tmp/c.dat' using 1:2:(\$3 > 0 ? sprintf('%d', \$3) : '') with labels font ',8' notitle
GP
}

sweep() {
    outdir=$1 dir=$2 by=${3:-}
    [ -f "$dir/keys" ] || { echo "plot: $dir: not a sweep folder" >&2; exit 66; }
    if [ -n "$by" ] && ! grep -qx "$by" "$dir/keys"; then
        echo "plot: $by: not a grid key of $dir ($(tr '\n' ' ' < "$dir/keys"))" >&2
        exit 64
    fi
    mkdir -p "$outdir"
    for key in $(cat "$dir/keys"); do
        [ "$key" = "$by" ] && continue
        # each finished run: the key's value as text, its test accuracy, its series
        for f in "$dir"/runs/*.jsonl; do
            tail -n1 "$f" | jq -r --arg k "$key" --arg by "$by" 'select(.type == "summary")
                | def text: if type == "array" then map(tostring) | join(",") else tostring end;
                  (.config[$k] | text) + " " + (.test_accuracy * 100 | tostring) + " "
                  + (if $by == "" then "runs" else $by + "=" + (.config[$by] | text) end)'
        done > "$tmp/$key.raw"
        # numeric values on a numeric axis (logarithmic when they span 100x or
        # more); others (sigmoid, 800,800) as categories
        xt=""
        if awk '{ if ($1 !~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/) exit 1 }' "$tmp/$key.raw"; then
            awk '{ print $1, $2, $1, $3 }' "$tmp/$key.raw" > "$tmp/$key.dat"
            using="1:2"
            awk 'NR == 1 || $1 < lo { lo = $1 } NR == 1 || $1 > hi { hi = $1 }
                 END { exit !(lo > 0 && hi >= 100 * lo) }' "$tmp/$key.raw" && xt="set logscale x"
        else
            awk '!($1 in i) { i[$1] = n++ } { print i[$1], $2, $1, $3 }' "$tmp/$key.raw" > "$tmp/$key.dat"
            using="1:2:xtic(3)" xt="set xrange [-0.5:$(cut -d' ' -f1 "$tmp/$key.dat" | sort -n | tail -n1).5]"
        fi
        # one series per value of the by-key: its runs as points, a line through its means
        plots="" i=0
        for series in $(cut -d' ' -f4 "$tmp/$key.dat" | sort -u); do
            i=$((i + 1))
            awk -v s="$series" '$4 == s' "$tmp/$key.dat" > "$tmp/$key.$i.dat"
            awk '{ v[$1] += $2; n[$1]++ } END { for (k in v) print k, v[k] / n[k] }' "$tmp/$key.$i.dat" \
                | sort -g > "$tmp/$key.$i.mean"
            if [ -z "$by" ]; then pts="title 'runs'" line="title 'mean'"
            else pts="notitle" line="title '$series'"; fi
            plots="$plots${plots:+, }'$tmp/$key.$i.dat' using $using with points pt 7 ps 0.8 lc $i $pts, '$tmp/$key.$i.mean' using 1:2 with lines lw 2 lc $i $line"
        done
        gnuplot <<GP
set terminal pngcairo size 640,420 font ",10" noenhanced
set output '$outdir/sweep-$key.png'
set title 'test accuracy against $key${by:+, by $by}'
set xlabel '$key'
set ylabel 'test accuracy (%)'
set key bottom right
set grid
$xt
plot $plots
GP
        echo "plot: $outdir/sweep-$key.png"
    done
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
    curves) [ $# -ge 2 ] || { echo "usage: plot.sh curves OUT.png RUN.jsonl..." >&2; exit 64; }; curves "$@" ;;
    confusion) [ $# -eq 2 ] || { echo "usage: plot.sh confusion OUT.png RUN.jsonl" >&2; exit 64; }; confusion "$@" ;;
    sweep) [ $# -eq 2 ] || [ $# -eq 3 ] || { echo "usage: plot.sh sweep OUTDIR SWEEPDIR [BY-KEY]" >&2; exit 64; }; sweep "$@" ;;
    *) echo "usage: plot.sh curves|confusion|sweep ..." >&2; exit 64 ;;
esac
