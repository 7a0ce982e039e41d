#!/bin/bash
# Nielsen's MLP table (Neural Networks and Deep Learning, chapters 1, 3 and 6)
# reproduced over several seeds: the seven configs/nielsen/*.json rows run by
# scripts/seed-runs.sh, then each row's figure computed from the runs' own
# per-epoch JSON lines with the split, epoch and metric the book used. (Usage
# below, in help; the rows and their metrics are in configs/nielsen/README.md.)
set -eu
prog=nielsen
case $0 in */*) here=${0%/*}/.. ;; *) here=.. ;; esac
here=$(cd "$here" && pwd)
# shellcheck source=scripts/common.bash
. "$here/scripts/common.bash"

help()
{
    cat << 'EOF'
Usage: scripts/nielsen.sh [OPTION]... [-- TRAIN FLAGS...]
Train the seven rows of Nielsen's MLP table (configs/nielsen/*.json) over
several seeds and tabulate, per row: the book's figure, ours with the book's
split, epoch and metric (mean +- std over the seeds), the difference, the
other epoch's figure, the book's best-of-three protocol where the book says it
used one, and the time per run.

  -s, --seeds SEEDS  a range A..B or a list like 1,4,9 (default 1..5)
  -j, --jobs N       runs at a time (default 2); every run has --threads 1
  -o, --out DIR      where the runs and the table go (default runs/nielsen)
  -h, --help         print this help and exit

Options may come in any order; everything after -- is passed to every run of
train after --threads 1 (e.g. -- --epochs 2 for a quick look; the table then
says so, and that its figures are not the book's settings). The runs are scripts/seed-runs.sh's (see its --help): a finished
run is reused only when its whole command is the same, a finished run of
another command is refused (exit 73). Writes DIR/summary.md (the table) and
DIR/summary.csv (per run: the figures of every metric), and prints the table.

Metrics, per run, from its --json epoch lines: test accuracy at the last epoch
and at its best epoch ("peak"); validation accuracy at the last epoch and at
its best; test accuracy at the epoch of best validation accuracy (the latest
such epoch on ties, as network3.py's >= does). Best of three: the mean, over
every 3 of the seeds, of the figure of the run the book would have kept (the
best peak for chapter 1; the best validation accuracy for chapter 6).

Exit status: 0 done; 1 a run failed (its error line is printed); 64 usage
error; 66 a config or the binary is missing; 73 the folder holds finished runs
of another command; 130/143 interrupted (run the same command to resume).
EOF
}

seed_spec=1..5 jobs=2 out=runs/nielsen flags=()
while [ $# -gt 0 ]; do
    case $1 in
        -h | --help) help; exit 0 ;;
        -s | --seeds) opt_value "$1" $# "${2-}"; seed_spec=$2; shift 2 ;;
        -j | --jobs) opt_value "$1" $# "${2-}"; jobs=$2; shift 2 ;;
        -o | --out) opt_value "$1" $# "${2-}"; out=$2; shift 2 ;;
        --seeds=* | --jobs=* | --out=*)
            o=${1%%=*}; v=${1#*=}; shift; set -- "$o" "$v" "$@"; continue ;;
        --) shift; flags=("$@"); break ;;
        -?*) usage_error "unknown option '$1' (flags for train go after --)" ;;
        *) usage_error "unexpected argument '$1' (the configs are configs/nielsen/*.json; flags for train go after --)" ;;
    esac
done
parse_seeds "$seed_spec"
positive_int "-j" "$jobs"
reserved_flags "set by nielsen (the rows' configs, -s, one thread a run)" --config --seed --threads \
    --predictions --json --no-json --report --no-report -- "${flags[@]}"
if ! command -v jq > /dev/null; then "$here/scripts/install-deps.sh" jq=cmd:jq; fi

# row: config name, book figure (%), the book's metric, chapter's protocol
# metric keys: peak_test, last_test, last_val, test_at_best_val
rows=(
    "ch1-30-quadratic|95.42|peak_test|best3_peak|784-30-10 sigmoid, quadratic, N(0,1); lr 3.0, 30 epochs"
    "ch1-100-quadratic|96.59|peak_test|best3_peak|784-100-10 sigmoid, quadratic, N(0,1); lr 3.0, 30 epochs"
    "ch3-30-ce|95.49|last_test||784-30-10, 10 sigmoids + cross-entropy, N(0,1); lr 0.5, 30 epochs"
    "ch3-100-ce|96.82|last_test||784-100-10, same; lr 0.5, 30 epochs"
    "ch3-30-ce-l2|96.49|last_test||784-30-10, cross-entropy + L2 λ 5.0, N(0,1); lr 0.5, 30 epochs"
    "ch3-100-ce-l2-scaled|98.04|last_val||784-100-10, cross-entropy + L2 λ 5.0, N(0,1/n_in); lr 0.1, 60 epochs"
    "ch6-100-softmax|97.80|test_at_best_val|best3_val|784-100-10 sigmoid hidden, softmax + log-likelihood; lr 0.1, 60 epochs"
)
configs=()
for r in "${rows[@]}"; do
    c=$here/configs/nielsen/${r%%|*}.json
    [ -f "$c" ] || fail 66 "$c: no such config file"
    configs+=("$c")
done

# every run one thread: at batch 10 a step is too small to split, and the
# thread count is part of what makes a run reproducible
seed_runs -s "$seed_spec" -j "$jobs" -o "$out" "${configs[@]}" -- --threads 1 "${flags[@]}"

# per run: every metric, from its own epoch lines (in percent), and its time
{
    printf 'row,seed,epochs,last_test,peak_test,peak_test_epoch,last_val,peak_val,best_val_epoch,test_at_best_val,seconds\n'
    for r in "${rows[@]}"; do
        n=${r%%|*}
        for s in "${seeds[@]}"; do
            jq -rs --arg n "$n" --argjson s "$s" '
                map(select(.type == "epoch")) as $e
                | if ($e | length) == 0 or ($e[0].val_accuracy == null) then
                      error("\($n) seed \($s): no epoch lines with val_accuracy") else . end
                | ($e | max_by(.test_accuracy)) as $pt
                # the latest epoch of best validation accuracy (network3.py keeps it on >=)
                | ($e | map(.val_accuracy) | max) as $bv
                | ($e | map(select(.val_accuracy == $bv)) | last) as $bve
                | [$n, $s, ($e | length), ($e[-1].test_accuracy * 100), ($pt.test_accuracy * 100), $pt.epoch,
                   ($e[-1].val_accuracy * 100), ($bv * 100), $bve.epoch, ($bve.test_accuracy * 100),
                   (map(select(.type == "summary")) | last | .seconds)] | map(tostring) | join(",")' "$out/$n-seed$s.jsonl" ||
                fail 65 "$out/$n-seed$s.jsonl: cannot read its epoch lines"
        done
    done
} > "$out/summary.csv.tmp"
mv -f "$out/summary.csv.tmp" "$out/summary.csv"

about="seeds $seed_spec"
if [ "${#flags[@]}" -gt 0 ]; then
    printf -v quoted ' %q' "${flags[@]}"
    about+=", flags:$quoted (not the book's settings)"
fi
{
    echo "Nielsen's MLP table, $about, one thread a run ($(date -u +%Y-%m-%d); $(head -n1 < <("${TRAIN:-$here/train}" --version)))"
    echo
    echo "| row | config | network and settings | book | book's metric | ours, mean ± std | ours − book | ours, the other reading | best of 3, as the book chose | s/run |"
    echo "|---|---|---|---|---|---|---|---|---|---|"
    i=0
    for r in "${rows[@]}"; do
        i=$((i + 1))
        IFS='|' read -r n book metric proto what <<< "$r"
        awk -F, -v OFS='\t' -v n="$n" 'NR == 1 { for (k = 1; k <= NF; k++) col[$k] = k; next }
            $1 == n { print $col["last_test"], $col["peak_test"], $col["last_val"], $col["peak_val"],
                      $col["test_at_best_val"], $col["seconds"] }' "$out/summary.csv" |
        awk -F'\t' -v row="$i" -v n="$n" -v book="$book" -v metric="$metric" -v proto="$proto" -v what="$what" '
            function ms(a, k,   j, m, v) { m = 0; for (j = 1; j <= k; j++) m += a[j]; m /= k
                v = 0; for (j = 1; j <= k; j++) v += (a[j] - m) ^ 2
                return sprintf("%.2f ± %.2f", m, k > 1 ? sqrt(v / (k - 1)) : 0) }
            function mean(a, k,   j, m) { m = 0; for (j = 1; j <= k; j++) m += a[j]; return m / k }
            { k++; lt[k] = $1; pt[k] = $2; lv[k] = $3; pv[k] = $4; tbv[k] = $5; sec += $6 }
            END {
                if (metric == "peak_test") { for (j = 1; j <= k; j++) x[j] = pt[j]; lab = "test, best epoch (\"at its peak\")"
                    for (j = 1; j <= k; j++) y[j] = lt[j]; other = "last epoch " ms(y, k) }
                if (metric == "last_test") { for (j = 1; j <= k; j++) x[j] = lt[j]; lab = "test, last epoch"
                    for (j = 1; j <= k; j++) y[j] = pt[j]; other = "best epoch " ms(y, k) }
                if (metric == "last_val") { for (j = 1; j <= k; j++) x[j] = lv[j]; lab = "**validation**, last epoch"
                    for (j = 1; j <= k; j++) y[j] = pv[j]; other = "best epoch " ms(y, k) }
                if (metric == "test_at_best_val") { for (j = 1; j <= k; j++) x[j] = tbv[j]
                    lab = "test, at the epoch of best validation"
                    for (j = 1; j <= k; j++) y[j] = lt[j]; other = "last epoch " ms(y, k) }
                # best of 3: over every 3 of the k runs, the kept run is the
                # one with the best peak (ch. 1) or best validation (ch. 6)
                b3 = ""
                if (proto != "" && k >= 3) {
                    t = 0; c = 0
                    for (a = 1; a <= k; a++) for (b = a + 1; b <= k; b++) for (d = b + 1; d <= k; d++) {
                        if (proto == "best3_peak") { v = pt[a]; if (pt[b] > v) v = pt[b]; if (pt[d] > v) v = pt[d] }
                        else { w = a; if (pv[b] >= pv[w]) w = b; if (pv[d] >= pv[w]) w = d; v = tbv[w] }
                        t += v; c++ }
                    b3 = sprintf("%.2f (%d triples)", t / c, c)
                }
                printf "| %d | `%s` | %s | %.2f | %s | %s | %+.2f | %s | %s | %.0f |\n", row, n, what, book, lab,
                    ms(x, k), mean(x, k) - book, other, b3, sec / k }'
    done
} > "$out/summary.md.tmp"
mv -f "$out/summary.md.tmp" "$out/summary.md"
write_provenance "$out"
cat "$out/summary.md"
