#!/bin/bash
# PNG plots with gnuplot, from train's JSON lines. (Usage below, in help.)
# No user text reaches gnuplot as code: plots are drawn into a private temporary
# folder and moved to the path asked for; labels are quoted as gnuplot strings.
set -eu
prog=plot
case $0 in */*) here=${0%/*}/.. ;; *) here=.. ;; esac
here=$(cd "$here" && pwd)
# shellcheck source=scripts/common.bash
. "$here/scripts/common.bash"

help()
{
    cat << 'EOF'
Usage: scripts/plot.sh curves OUT.png RUN.jsonl...
   or: scripts/plot.sh confusion OUT.png RUN.jsonl
   or: scripts/plot.sh sweep OUTDIR SWEEPDIR [BY]
Draw PNG plots from the --json lines of finished train runs.

  curves     per epoch: the loss of each run on a panel of its own kind
             (cross-entropy, BCE summed over the outputs, BCE averaged over
             them, squared error, Keras's cross-entropy on sigmoid outputs:
             different quantities, never one axis), training solid and
             test dashed, in nats per image; and the test accuracy of all runs.
             Each run is labelled with its name (the file name, without
             -seedN) and its seed.
  confusion  the confusion matrix of a --report run
  sweep      for each grid key of a sweep but seed (and BY): test accuracy
             against the key, mean +- sample std over the seeds, one series
             per combination of the other keys; numeric keys on a numeric
             axis (logarithmic when the values span 100x or more), others as
             categories drawn as points; where the errors span ten times
             or more (a run near chance beside good ones), the test error
             on a log axis instead. Writes OUTDIR/sweep-KEY.png. BY: no
             plot against that key (its values are the series).

  -h, --help   print this help and exit

Exit status: 0 done; 64 usage error; 65 a run has no summary line (or no
--report for confusion); 66 a file or folder is missing; 69 gnuplot or jq is
not installed.
EOF
}

# a gnuplot string literal: '' is a quote inside '...'; no newline
gq()
{
    local s=${1//$'\n'/ }
    printf "'%s'" "${s//\'/\'\'}"
}

# the summary line of a finished run, or exit 65
summary_of()
{
    [ -f "$1" ] || fail 66 "$1: no such file"
    finished "$1" || fail 65 "$1: no summary line (an unfinished or failed run?)"
    tail -n1 "$1"
}

# what the loss of a run is: its kind, as a panel title
loss_kind()
{
    # the loss key names it (model files from before the key: bce_reduction)
    jq -r '.config | (if (.task // "classify") != "classify" then .task + " task, " else "" end)
        + ((.loss // "auto") as $l
           | if .head == "softmax" then "cross-entropy"
             elif $l == "bce-mean" or ($l == "auto" and .bce_reduction == "mean") then "BCE averaged over the outputs"
             elif $l == "squared" then "squared error"
             elif $l == "keras-cce" then "Keras cross-entropy on sigmoid outputs"
             else "BCE summed over the outputs" end)'
}

# a run's label: its name (file name without .jsonl and -seedN), its seed
run_label()
{
    local stem
    stem=$(basename -- "$1" .jsonl)
    [[ $stem =~ ^(.+)-seed[0-9]+$ ]] && stem=${BASH_REMATCH[1]}
    printf '%s, seed %s' "$stem" "$(jq -r '.config.seed' <<< "$2")"
}

curves()
{
    local out=$1 f i=0 s label kind kinds=() labels=()
    shift
    declare -A kind_of=() seen=()
    for f; do
        i=$((i + 1))
        s=$(summary_of "$f")
        jq -r 'select(.type == "epoch")
            | "\(.epoch)\t\(.train_loss // "?")\t\(.test_loss // "?")\t\(.test_accuracy * 100)"' \
            "$f" > "$tmp/$i.dat"
        kind=$(loss_kind <<< "$s")
        kind_of[$i]=$kind
        [ -n "${seen[$kind]-}" ] || kinds+=("$kind")
        seen[$kind]=1
        labels+=("$(run_label "$f" "$s")")
    done
    # two runs with one label (same name and seed elsewhere): add the folder
    if [ "$(printf '%s\n' "${labels[@]}" | sort | uniq -d)" ]; then
        i=0
        for f; do
            labels[i]="$(basename -- "$(dirname -- "$f")")/${labels[i]}"
            i=$((i + 1))
        done
    fi
    # one row of panels, two rows from four panels on
    local panels=$((${#kinds[@]} + 1)) rows=1 cols plot last
    [ "$panels" -lt 4 ] || rows=2
    cols=$(((panels + rows - 1) / rows))
    last=$(cat "$tmp"/*.dat | cut -f1 | sort -n | tail -n1)
    {
        echo "set terminal pngcairo size $((cols * 500)),$((rows * 440)) font ',10' noenhanced"
        echo "set output '$tmp/out.png'"
        echo "set datafile separator tab"
        echo "set datafile missing '?'"
        echo "set multiplot layout $rows,$cols"
        [ "${last:-0}" -gt 15 ] || echo "set xtics 1"
        echo "set xlabel 'epoch'"
        echo "set grid"
        echo "set key top right"
        echo "set logscale y"
        for kind in "${kinds[@]}"; do
            echo "set title $(gq "$kind (solid: training, dashed: test)")"
            case $kind in
                *squared*) echo "set ylabel 'loss, 1/2 sum (p-y)^2 per image (log scale)'" ;;
                *) echo "set ylabel 'loss, nats per image (log scale)'" ;;
            esac
            plot=""
            for i in "${!labels[@]}"; do
                [ "${kind_of[$((i + 1))]}" = "$kind" ] || continue
                plot+="${plot:+, }'$tmp/$((i + 1)).dat' using 1:2 with linespoints lc $((i + 1)) dt 1 title $(gq "${labels[i]}")"
                plot+=", '$tmp/$((i + 1)).dat' using 1:3 with lines lc $((i + 1)) dt 2 notitle"
            done
            echo "plot $plot"
        done
        echo "unset logscale y"
        echo "set key bottom right"
        echo "set title 'test accuracy'"
        echo "set ylabel 'test accuracy (%)'"
        plot=""
        for i in "${!labels[@]}"; do
            plot+="${plot:+, }'$tmp/$((i + 1)).dat' using 1:4 with linespoints lc $((i + 1)) title $(gq "${labels[i]}")"
        done
        echo "plot $plot"
        echo "unset multiplot"
    } > "$tmp/curves.gp"
    gnuplot "$tmp/curves.gp"
    mv -f "$tmp/out.png" "$out"
}

confusion()
{
    local out=$1 f=$2 s
    s=$(summary_of "$f")
    jq -e '.report.confusion' <<< "$s" > /dev/null || fail 65 "$f: no confusion matrix (run train with --report)"
    jq -r '.report.confusion | to_entries[] | .key as $t | .value | to_entries[]
        | "\(.key) \($t) \(.value)"' <<< "$s" > "$tmp/c.dat"
    cat > "$tmp/conf.gp" << GP
set terminal pngcairo size 620,560 font ",10" noenhanced
set output '$tmp/out.png'
set title $(gq "confusion matrix of $(run_label "$f" "$s") ($(jq -r '.config.head' <<< "$s") head), test set")
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
plot '$tmp/c.dat' using 1:2:(\$3 > 0 ? \$3 : 1) with image notitle, \\
     '$tmp/c.dat' using 1:2:(\$3 > 0 && \$3 < 100 ? sprintf('%d', \$3) : '') with labels font ',8' notitle, \\
     '$tmp/c.dat' using 1:2:(\$3 >= 100 ? sprintf('%d', \$3) : '') with labels font ',8' tc rgb 'white' notitle
GP
    gnuplot "$tmp/conf.gp"
    mv -f "$tmp/out.png" "$out"
}

sweep()
{
    local outdir=$1 dir=$2 by=${3:-} key f name keys=() runs=()
    [ -f "$dir/keys" ] || fail 66 "$dir: not a sweep folder (no keys file)"
    mapfile -t keys < "$dir/keys"
    if [ -n "$by" ]; then
        [ "$by" != seed ] || usage_error "BY: the plots average over seed; choose another key"
        printf '%s\n' "${keys[@]}" | grep -qxF -- "$by" ||
            usage_error "BY: $by is not a grid key of $dir (${keys[*]})"
    fi
    if [ -f "$dir/jobs.tsv" ]; then
        while IFS=$'\t' read -r name _; do runs+=("$dir/runs/$name.jsonl"); done < "$dir/jobs.tsv"
    else
        for f in "$dir"/runs/*.jsonl; do runs+=("$f"); done
    fi
    # one line per finished run: each key's value as text, then the accuracy
    local keys_json
    keys_json=$(printf '%s\n' "${keys[@]}" | jq -R . | jq -sc .)
    for f in "${runs[@]}"; do
        finished "$f" || continue
        tail -n1 "$f" | jq -r --argjson keys "$keys_json" '
            def text: if type == "array" then map(tostring) | join(",") else tostring end
                      | gsub("[\t\n]"; " ");
            [(.config as $c | $keys[] | $c[.] | text), (.test_accuracy * 100 | tostring)] | join("\t")'
    done > "$tmp/all.tsv"
    [ -s "$tmp/all.tsv" ] || fail 65 "$dir: no finished run to plot"
    mkdir -p -- "$outdir" || fail 73 "$outdir: cannot create the folder"
    local k
    for k in "${!keys[@]}"; do
        key=${keys[k]}
        if [ "$key" = seed ] || [ "$key" = "$by" ]; then continue; fi
        sweep_key "$k" "$key"
        mv -f "$tmp/out.png" "$outdir/sweep-$key.png"
        echo "$prog: $outdir/sweep-$key.png"
    done
}

# sweep_key COLUMN KEY: the plot against one key (column COLUMN of all.tsv)
sweep_key()
{
    local col=$(($1 + 1)) key=$2 ncol numeric xt="" using series=() s i off plot=""
    ncol=$(($(head -n1 "$tmp/all.tsv" | tr -cd '\t' | wc -c) + 1))
    # the series: the values of the other keys but seed; x: this key's value
    awk -F'\t' -v OFS='\t' -v col="$col" -v ncol="$ncol" -v keys="$(printf '%s\t' "${keys[@]}")" '
        BEGIN { split(keys, name, "\t") }
        { s = ""
          for (i = 1; i < ncol; i++)
              if (i != col && name[i] != "seed")
                  s = s (s == "" ? "" : ", ") name[i] "=" $i
          print (s == "" ? "all runs" : s), $col, $ncol }' "$tmp/all.tsv" > "$tmp/pts.tsv"
    # accuracies from near chance to near 100%: a linear axis would squash the
    # good runs into one line at the top, so draw the test error on a log
    # axis instead when the errors span ten times or more
    local what='test accuracy' ylab='test accuracy (%)' yt=""
    if awk -F'\t' 'NR == 1 || 100 - $3 < lo { lo = 100 - $3 } NR == 1 || 100 - $3 > hi { hi = 100 - $3 }
            END { exit !(lo > 0 && hi >= 10 * lo) }' "$tmp/pts.tsv"; then
        awk -F'\t' -v OFS='\t' '{ $3 = 100 - $3; print }' "$tmp/pts.tsv" > "$tmp/err.tsv"
        mv "$tmp/err.tsv" "$tmp/pts.tsv"
        what='test error' ylab='test error (%, log scale: lower is better)' yt='set logscale y'
    fi
    if awk -F'\t' '$2 !~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ { exit 1 }' "$tmp/pts.tsv"; then
        numeric=1
        awk -F'\t' 'NR == 1 || $2 < lo { lo = $2 } NR == 1 || $2 > hi { hi = $2 }
             END { exit !(lo > 0 && hi >= 100 * lo) }' "$tmp/pts.tsv" && xt="set logscale x"
    else
        numeric=""
    fi
    # categories: their order of first appearance, as positions 0, 1, ...
    awk -F'\t' -v OFS='\t' '!($2 in pos) { pos[$2] = n++ } { print $0, pos[$2] }' "$tmp/pts.tsv" > "$tmp/pos.tsv"
    mapfile -t series < <(cut -f1 "$tmp/pos.tsv" | awk '!seen[$0]++')
    local n=${#series[@]} ncat
    ncat=$(cut -f4 "$tmp/pos.tsv" | sort -n | tail -n1)
    for i in "${!series[@]}"; do
        s=${series[i]}
        # mean and sample std over the runs (seeds) of each point of the series
        # categories: the series side by side around each category's position
        off=$(awk -v i="$i" -v n="$n" 'BEGIN { print (n > 1 ? (i - (n - 1) / 2) * 0.5 / n : 0) }')
        awk -F'\t' -v OFS='\t' -v s="$s" -v num="$numeric" -v off="$off" '
            $1 == s { k = $2; x[k] = (num ? $2 : $4 + off); c[k]++; sum[k] += $3; sq[k] += $3 * $3
                      lab[k] = $2 }
            END { for (k in c) { m = sum[k] / c[k]
                      v = c[k] > 1 ? (sq[k] - c[k] * m * m) / (c[k] - 1) : 0
                      print x[k], m, sqrt(v > 0 ? v : 0), c[k], lab[k] } }' "$tmp/pos.tsv" |
            sort -g > "$tmp/s$i.tsv"
        awk -F'\t' -v OFS='\t' -v s="$s" -v num="$numeric" -v off="$off" \
            '$1 == s { print (num ? $2 : $4 + off), $3 }' "$tmp/pos.tsv" > "$tmp/r$i.tsv"
        local title
        title=$(gq "$s")
        plot+="${plot:+, }'$tmp/s$i.tsv' using 1:2:3 with yerrorbars pt 7 ps 1.2 lc $((i + 1)) title $title"
        [ -z "$numeric" ] || plot+=", '$tmp/s$i.tsv' using 1:2 with lines lc $((i + 1)) notitle"
        plot+=", '$tmp/r$i.tsv' using 1:2 with points pt 6 ps 0.6 lc $((i + 1)) notitle"
    done
    if [ -n "$numeric" ]; then
        using=""
    else
        # the category names as tics at their positions
        using=$(awk -F'\t' '!seen[$4]++ { printf "%s%s %s", (n++ ? ", " : ""), q($2), $4 }
            function q(t) { gsub(/\x27/, "\x27\x27", t); return "\x27" t "\x27" }' "$tmp/pos.tsv")
        xt="set xrange [-0.5:$ncat.5]"$'\n'"set xtics ($using)"
    fi
    cat > "$tmp/sweep.gp" << GP
set terminal pngcairo size 820,440 font ",10" noenhanced
set output '$tmp/out.png'
set datafile separator tab
set title $(gq "$what against $key: mean ± std over the seeds (small circles: single runs)")
set xlabel $(gq "$key")
set ylabel $(gq "$ylab")
set key outside right top vertical
set grid
$xt
$yt
plot $plot
GP
    gnuplot "$tmp/sweep.gp"
}

cmd="" args=()
while [ $# -gt 0 ]; do
    case $1 in
        -h | --help) help; exit 0 ;;
        --) shift; args+=("$@"); break ;;
        -?*) usage_error "unknown option '$1'" ;;
        *) if [ -z "$cmd" ]; then cmd=$1; else args+=("$1"); fi; shift ;;
    esac
done
case $cmd in
    curves) [ "${#args[@]}" -ge 2 ] || usage_error "curves needs OUT.png and at least one RUN.jsonl" ;;
    confusion) [ "${#args[@]}" -eq 2 ] || usage_error "confusion needs OUT.png and one RUN.jsonl" ;;
    sweep) [ "${#args[@]}" -eq 2 ] || [ "${#args[@]}" -eq 3 ] ||
               usage_error "sweep needs OUTDIR and SWEEPDIR, and at most one BY key" ;;
    '') usage_error "no command (curves, confusion or sweep)" ;;
    *) usage_error "unknown command '$cmd' (curves, confusion or sweep)" ;;
esac
need_tools gnuplot=gnuplot-nox jq=jq
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$cmd" "${args[@]}"
