#!/bin/bash
# Where the point goes: one recipe (configs/default.json) trained under each
# output setup that people arrive from, with the recipe's momentum SGD and with
# Adam, over several seeds; each sigmoid setup compared with softmax under the
# same optimizer and seeds (McNemar per seed). (Usage below, in help.) The
# runs are scripts/seed-runs.sh's, from configs this script writes into
# DIR/configs (the recipe with head, loss and optimizer set), so a finished
# run is reused only for the same command; the statistics are build/bin/compare's
# (src/compare.c). TRAIN=PATH and COMPARE=PATH run other binaries.
set -eu
prog=where
case $0 in */*) here=${0%/*}/.. ;; *) here=.. ;; esac
here=$(cd "$here" && pwd)
# shellcheck source=scripts/common.bash
. "$here/scripts/common.bash"

help()
{
    cat << 'EOF'
Usage: scripts/where.sh [OPTION]... [-- TRAIN FLAGS...]
Train configs/default.json (784-256-10 relu, batch 64, 10 epochs, cosine lr)
under five output setups, each with momentum SGD (the recipe's lr 0.1) and
with Adam, over several seeds, and compare every sigmoid setup with softmax:

  softmax     softmax + categorical cross-entropy
  bce         10 sigmoids + binary cross-entropy summed over the outputs
  bce-mean    10 sigmoids + binary cross-entropy averaged over them
  squared     10 sigmoids + squared error, 1/2 sum (p-y)^2
  keras-cce   10 sigmoids + Keras's categorical cross-entropy (p/sum p)

  -s, --seeds SEEDS  a range A..B or a list like 1,4,9 (default 1..5)
  -j, --jobs N       runs at a time (default: the number of cores); each gets
                     --threads cores/N
  -o, --out DIR      where the configs, runs and results go (default runs/where)
      --adam-lr X    Adam's learning rate, the same for every setup (default
                     0.001)
  -h, --help         print this help and exit

Options may come in any order; everything after -- is passed to every run of
train as it is (e.g. -- --epochs 3); not --head, --loss, --optimizer or --lr,
which the setups set.

Writes DIR/configs/SETUP-OPT.json, the runs (DIR/SETUP-OPT-seedS.*, see
scripts/seed-runs.sh --help), DIR/compare-SETUP-OPT.md (build/bin/compare's
full output against softmax-OPT; all of them in DIR/comparison.md), and the
results: DIR/summary.md (setup x optimizer: test accuracy mean +- std,
difference to softmax with its 95% interval, McNemar p per seed and pooled,
Keras binary accuracy), DIR/summary.csv (the same figures unrounded) and
DIR/where.png (mean +- std per setup, the optimizers side by side; needs
gnuplot). A config in DIR/configs written for other settings
(another --adam-lr) is refused (exit 73), as are finished runs of another
command.

Exit status: 0 done; 1 a run failed (its error line is printed); 64 usage
error; 66 the recipe, a binary or the data are missing; 69 jq is not
installed; 73 DIR holds configs or runs of other settings; 130/143
interrupted (run the same command to resume).
EOF
}

seed_spec=1..5 jobs=$(nproc) out=runs/where adam_lr=0.001 flags=()
while [ $# -gt 0 ]; do
    case $1 in
        -h | --help) help; exit 0 ;;
        -s | --seeds) opt_value "$1" $# "${2-}"; seed_spec=$2; shift 2 ;;
        -j | --jobs) opt_value "$1" $# "${2-}"; jobs=$2; shift 2 ;;
        -o | --out) opt_value "$1" $# "${2-}"; out=$2; shift 2 ;;
        --adam-lr) opt_value "$1" $# "${2-}"; adam_lr=$2; shift 2 ;;
        --seeds=* | --jobs=* | --out=* | --adam-lr=*)
            o=${1%%=*}; v=${1#*=}; shift; set -- "$o" "$v" "$@"; continue ;;
        --) shift; flags=("$@"); break ;;
        -?*) usage_error "unknown option '$1' (flags for train go after --)" ;;
        *) usage_error "unexpected argument '$1' (the recipe is configs/default.json; flags for train go after --)" ;;
    esac
done
parse_seeds "$seed_spec"
positive_int "-j" "$jobs"
[[ $adam_lr =~ ^([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$ ]] ||
    usage_error "--adam-lr: '$adam_lr' is not a number"
reserved_flags "set by where (the setups)" --head --loss --bce-reduction --optimizer --lr --config \
    --seed --predictions --json --no-json --report --no-report -- "${flags[@]}"

setups=(softmax bce bce-mean squared keras-cce)
opts=(momentum adam)
recipe=$here/configs/default.json
[ -f "$recipe" ] || fail 66 "$recipe: no such config file"
compare=${COMPARE:-$here/build/bin/compare}
if [ ! -x "$compare" ] || { [ -z "${TRAIN:-}" ] && [ ! -x "$here/train" ]; }; then
    make -C "$here" --no-print-directory all >&2
fi
[ -x "$compare" ] || fail 66 "$compare: not an executable compare binary"
need_tools jq=jq

# the configs: the recipe with the setup's head and loss and the optimizer's
# rule and rate; one written for other settings is not overwritten
mkdir -p -- "$out/configs" 2> /dev/null || fail 73 "$out/configs: cannot create the folder"
configs=()
for o in "${opts[@]}"; do
    for s in "${setups[@]}"; do
        head=sigmoid loss=$s
        [ "$s" != softmax ] || head=softmax loss=cce
        opt_jq='.'
        # jq's own $lr, not the shell's
        # shellcheck disable=SC2016
        [ "$o" != adam ] || opt_jq='.optimizer = "adam" | .lr = ($lr | tonumber)'
        want=$(jq --arg h "$head" --arg l "$loss" --arg lr "$adam_lr" \
            ".head = \$h | .loss = \$l | $opt_jq" "$recipe") || fail 66 "$recipe: not a JSON config"
        c=$out/configs/$s-$o.json
        if [ -e "$c" ]; then
            have=$(cat -- "$c" 2> /dev/null) || fail 73 "$c: cannot read it"
            [ "$have" = "$want" ] ||
                fail 73 "$c: written for other settings (another --adam-lr or recipe?); use another output folder"
        else
            if ! { printf '%s\n' "$want" > "$c.tmp" && mv -f -- "$c.tmp" "$c"; } 2> /dev/null; then
                fail 73 "$c: cannot write it"
            fi
        fi
        configs+=("$c")
    done
done

# every run in one pool, so no core idles between setups
seed_runs -s "$seed_spec" -j "$jobs" -o "$out" "${configs[@]}" -- "${flags[@]}"

# compare reads NAME-seed*.jsonl in a folder: give it exactly these seeds' runs
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
abs_out=$(cd "$out" && pwd)
for o in "${opts[@]}"; do
    for s in "${setups[@]}"; do
        for seed in "${seeds[@]}"; do
            ln -s "$abs_out/$s-$o-seed$seed.jsonl" "$stage/$s-$o-seed$seed.jsonl"
            ln -s "$abs_out/$s-$o-seed$seed.pred.csv" "$stage/$s-$o-seed$seed.pred.csv"
        done
    done
done

# per setup and optimizer: mean, std, the Keras binary accuracy and seconds
# from the runs' summaries; difference, interval and McNemar from compare
stats()
{
    for seed in "${seeds[@]}"; do tail -n1 "$out/$1-seed$seed.jsonl"; done | jq -rs '
        (length) as $n | map(.test_accuracy * 100) as $a | ($a | add / $n) as $m
        | (if $n > 1 then ($a | map(. - $m | . * .) | add / ($n - 1) | sqrt) else 0 end) as $sd
        | [$n, $m, $sd, (map(.report.keras_binary_accuracy // empty) | if length > 0
           then add / length * 100 else "" end), (map(.seconds) | add / $n)] | @tsv'
}
{
    printf 'setup\toptimizer\tx\tseeds\tmean\tstd\tkeras_binary\tseconds\tdiff\tlo\thi\tp_per_seed\tsignificant\tpooled_p\n'
    xi=0
    for s in "${setups[@]}"; do
        oi=0
        for o in "${opts[@]}"; do
            x=$(awk -v a="$xi" -v b="$oi" 'BEGIN { printf "%.2f", a + (b ? 0.15 : -0.15) }')
            IFS=$'\t' read -r n m sd kb sec < <(stats "$s-$o")
            d='' lo='' hi='' ps='' sig='' pool=''
            if [ "$s" != softmax ]; then
                "$compare" "$stage" "softmax-$o" "$s-$o" > "$out/compare-$s-$o.md.tmp"
                mv -f "$out/compare-$s-$o.md.tmp" "$out/compare-$s-$o.md"
                # the per-seed rows: | seed | A | B | b | c | p |; pooled: | pooled | | | b | c | p |
                ps=$(awk -F' *\\| *' '$2 ~ /^[0-9]+$/ && NF == 8 { printf "%s%s", (n++ ? ", " : ""), $7 }' \
                    "$out/compare-$s-$o.md")
                sig=$(awk -F' *\\| *' '$2 ~ /^[0-9]+$/ && NF == 8 && $7 + 0 < 0.05 { k++ }
                    $2 ~ /^[0-9]+$/ && NF == 8 { n++ } END { printf "%d of %d", k, n }' "$out/compare-$s-$o.md")
                pool=$(awk -F' *\\| *' '$2 == "pooled" { print $7 }' "$out/compare-$s-$o.md")
                # one seed has no interval: compare gives the difference alone,
                # and lo and hi stay empty
                read -r d lo hi < <(sed -n -e 's/^Paired difference .*: \([^ ]*\) points, 95% CI \[\([^,]*\), \([^]]*\)\].*/\1 \2 \3/p' \
                    -e 's/^Paired difference .* over 1 seed: \([^ ]*\) points (one seed.*/\1/p' \
                    "$out/compare-$s-$o.md") || true
            fi
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$s" "$o" "$x" "$n" "$m" "$sd" \
                "$kb" "$sec" "$d" "$lo" "$hi" "$ps" "$sig" "$pool"
            oi=$((oi + 1))
        done
        xi=$((xi + 1))
    done
} > "$stage/where.tsv"
# as CSV: a field with a comma or a quote is quoted
awk -F'\t' '{ for (i = 1; i <= NF; i++) { f = $i
        if (f ~ /[,"]/) { gsub(/"/, "\"\"", f); f = "\"" f "\"" }
        printf "%s%s", f, i < NF ? "," : "\n" } }' "$stage/where.tsv" > "$out/summary.csv.tmp"
mv -f "$out/summary.csv.tmp" "$out/summary.csv"
for o in "${opts[@]}"; do
    for s in "${setups[@]:1}"; do
        printf '## %s-%s against softmax-%s\n\n' "$s" "$o" "$o"
        cat "$out/compare-$s-$o.md"
        echo
    done
done > "$out/comparison.md.tmp"
mv -f "$out/comparison.md.tmp" "$out/comparison.md"

about="seeds $seed_spec, Adam lr $adam_lr"
if [ "${#flags[@]}" -gt 0 ]; then
    printf -v quoted ' %q' "${flags[@]}"
    about+=", flags:$quoted"
fi
{
    echo "Where the point goes: configs/default.json under each output setup, $about ($(date -u +%Y-%m-%d); $(head -n1 < <("${TRAIN:-$here/train}" --version)))"
    echo
    echo "| setup | optimizer | test accuracy (%) mean ± std | − softmax (points) [95% CI] | McNemar p per seed | seeds with p < 0.05 | pooled p | Keras binary accuracy (%) | s/run |"
    echo "|---|---|---|---|---|---|---|---|---|"
    awk -F'\t' 'NR > 1 {
        opt = $2 == "adam" ? "Adam" : "momentum SGD"
        num = "^[-+]?[0-9]+([.][0-9]*)?$"
        if ($1 == "softmax") diff = "(reference)"
        else if ($9 !~ num) diff = "(no paired seeds)"
        else if ($10 !~ num || $11 !~ num) diff = sprintf("%+.2f (no interval from one seed)", $9)
        else diff = sprintf("%+.2f [%+.2f, %+.2f]", $9, $10, $11)
        kb = $7 == "" ? "" : sprintf("%.2f", $7)
        printf "| %s | %s | %.2f ± %.2f | %s | %s | %s | %s | %s | %.0f |\n", $1, opt, $5, $6, diff,
            $12, $13, $14, kb, $8 }' "$stage/where.tsv"
} > "$out/summary.md.tmp"
mv -f "$out/summary.md.tmp" "$out/summary.md"
write_provenance "$out"

# the figure: mean +- std per setup, momentum left and Adam right of each tic
if command -v gnuplot > /dev/null; then
    awk -F'\t' -v OFS='\t' 'NR > 1 && $2 == "momentum" { print $3, $5, $6 }' "$stage/where.tsv" > "$stage/m.tsv"
    awk -F'\t' -v OFS='\t' 'NR > 1 && $2 == "adam" { print $3, $5, $6 }' "$stage/where.tsv" > "$stage/a.tsv"
    # single runs, faint, beside the means
    for o in "${opts[@]}"; do
        xi=0
        for s in "${setups[@]}"; do
            for seed in "${seeds[@]}"; do
                tail -n1 "$out/$s-$o-seed$seed.jsonl" | jq -r --argjson x "$xi" --arg o "$o" \
                    '"\($x + (if $o == "adam" then 0.15 else -0.15 end))\t\(.test_accuracy * 100)"'
            done
            xi=$((xi + 1))
        done > "$stage/r-$o.tsv"
    done
    title="configs/default.json, $about: test accuracy, mean ± std (small circles: single runs)"
    title=${title//\'/\'\'}
    cat > "$stage/where.gp" << GP
set terminal pngcairo size 900,480 font ",10" noenhanced
set output '$stage/where.png'
set datafile separator tab
set title '$title'
set ylabel 'test accuracy (%)'
set xrange [-0.6:4.6]
set xtics ('softmax + CE' 0, 'sigmoid + BCE (sum)' 1, 'sigmoid + BCE (mean)' 2, 'sigmoid + squared' 3, 'sigmoid + Keras CCE' 4)
set key bottom left
set grid ytics
plot '$stage/m.tsv' using 1:2:3 with yerrorbars pt 7 ps 1.2 lc 1 title 'momentum SGD, lr 0.1', \
     '$stage/r-momentum.tsv' using 1:2 with points pt 6 ps 0.5 lc 1 notitle, \
     '$stage/a.tsv' using 1:2:3 with yerrorbars pt 5 ps 1.2 lc 2 title 'Adam, lr $adam_lr', \
     '$stage/r-adam.tsv' using 1:2 with points pt 6 ps 0.5 lc 2 notitle
GP
    gnuplot "$stage/where.gp" && mv -f "$stage/where.png" "$out/where.png"
else
    echo "$prog: gnuplot is not installed: no figure (install with: make deps, or: sudo apt-get install gnuplot-nox)" >&2
fi
cat "$out/summary.md"
