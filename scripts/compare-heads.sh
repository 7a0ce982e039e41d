#!/bin/bash
# Compare two configs (typically the same recipe with a softmax and a sigmoid
# head) over the same seeds, with statistics a reviewer can check. (Usage below,
# in help.) The runs are scripts/seed-runs.sh's, so they are reused only for
# the same command; the statistics are computed by build/bin/compare
# (src/compare.c) over exactly the seeds asked for. TRAIN=PATH and
# COMPARE=PATH run other binaries (a sanitizer build, say).
set -eu
prog='compare-heads'
case $0 in */*) here=${0%/*}/.. ;; *) here=.. ;; esac
here=$(cd "$here" && pwd)
# shellcheck source=scripts/common.bash
. "$here/scripts/common.bash"

help()
{
    cat << 'EOF'
Usage: scripts/compare-heads.sh [OPTION]... A.json B.json [-- TRAIN FLAGS...]
   or: scripts/compare-heads.sh --quick [OPTION]... [-- TRAIN FLAGS...]
Train two configs over the same seeds and compare them: accuracy per config,
paired difference with a 95% interval, McNemar's test per seed and pooled, and
what the outputs look like (from --report).

  -n, --runs N       seeds 1..N (default 5)
  -s, --seeds SEEDS  a range A..B or a list like 1,4,9 (instead of -n)
  -j, --jobs N       runs at a time (default: the number of cores); each gets
                     --threads cores/N
  -o, --out DIR      where the runs and comparison.md go (default
                     runs/compare-A-vs-B, with --quick runs/quick)
      --quick        configs/default.json against configs/default-sigmoid.json
                     for 3 epochs (--epochs 3 before the flags after --)
  -h, --help         print this help and exit

Options and configs may come in any order; everything after -- is passed to
every run of train as it is. Each seed gives both configs the same initial
hidden weights, data order, dropout masks and shifts, so only what the configs
change differs. The runs are scripts/seed-runs.sh's (see its --help): a
finished run is reused only when its whole command is the same, a finished run
of another command is refused (exit 73). The tables go to DIR/comparison.md
and to stdout.

Exit status: 0 done; 1 a run failed (its error line is printed); 64 usage
error; 66 a config is missing; 73 the folder holds finished runs of another
command; 130/143 interrupted (run the same command to resume).
EOF
}

seed_spec="" runs="" jobs=$(nproc) out="" quick="" configs=() flags=()
while [ $# -gt 0 ]; do
    case $1 in
        -h | --help) help; exit 0 ;;
        --quick) quick=1; shift ;;
        -n | --runs) opt_value "$1" $# "${2-}"; runs=$2; shift 2 ;;
        -s | --seeds) opt_value "$1" $# "${2-}"; seed_spec=$2; shift 2 ;;
        -j | --jobs) opt_value "$1" $# "${2-}"; jobs=$2; shift 2 ;;
        -o | --out) opt_value "$1" $# "${2-}"; out=$2; shift 2 ;;
        --runs=* | --seeds=* | --jobs=* | --out=*)
            o=${1%%=*}; v=${1#*=}; shift; set -- "$o" "$v" "$@"; continue ;;
        --) shift; flags=("$@"); break ;;
        -?*) usage_error "unknown option '$1' (flags for train go after --)" ;;
        '') usage_error "an empty config name" ;;
        *) configs+=("$1"); shift ;;
    esac
done
[ -z "$runs" ] || [ -z "$seed_spec" ] || usage_error "give -n or -s, not both"
if [ -n "$runs" ]; then
    positive_int "-n" "$runs"
    seed_spec=1..$runs
fi
seed_spec=${seed_spec:-1..5}
parse_seeds "$seed_spec"
positive_int "-j" "$jobs"
if [ -n "$quick" ]; then
    [ "${#configs[@]}" -eq 0 ] || usage_error "--quick compares its own two configs; give no config"
    configs=("$here/configs/default.json" "$here/configs/default-sigmoid.json")
    flags=(--epochs 3 "${flags[@]}")
    out=${out:-runs/quick}
else
    [ "${#configs[@]}" -eq 2 ] || usage_error "need two configs (or --quick), got ${#configs[@]}"
fi
reserved_flags "set by compare-heads (-n/-s, the configs, DIR/NAME-seedS.*)" --seed --config \
    --predictions --json --no-json --report --no-report -- "${flags[@]}"
a=${configs[0]} b=${configs[1]}
na=${a%/} nb=${b%/}
na=${na##*/} nb=${nb##*/}
na=${na%.json} nb=${nb%.json}
[ "$na" != "$nb" ] || usage_error "both configs are named $na"
out=${out:-runs/compare-$na-vs-$nb}

compare=${COMPARE:-$here/build/bin/compare}
if [ ! -x "$compare" ] || { [ -z "${TRAIN:-}" ] && [ ! -x "$here/train" ]; }; then
    make -C "$here" --no-print-directory all >&2
fi
seed_runs -s "$seed_spec" -j "$jobs" -o "$out" "${configs[@]}" -- "${flags[@]}"

# compare reads NAME-seed*.jsonl in a folder: give it exactly these seeds'
# runs, under names no glob can misread
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
sa=${na//[][*?\\]/_} sb=${nb//[][*?\\]/_}
[ "$sa" != "$sb" ] || sb=$sb-b
for s in "${seeds[@]}"; do
    for pair in "$na:$sa" "$nb:$sb"; do
        from=$(cd "$out" && pwd)/${pair%%:*}-seed$s to=$stage/${pair#*:}-seed$s
        ln -s "$from.jsonl" "$to.jsonl"
        ln -s "$from.pred.csv" "$to.pred.csv"
    done
done
files() { for s in "${seeds[@]}"; do cat "$out/$1-seed$s.jsonl"; done; }
about="seeds $seed_spec"
if [ "${#flags[@]}" -gt 0 ]; then
    printf -v quoted ' %q' "${flags[@]}"
    about+=", flags:$quoted"
fi
{
    echo "Comparison of $na and $nb, $about ($(date -u +%Y-%m-%d); $(head -n1 < <("${TRAIN:-$here/train}" --version)))"
    echo
    "$compare" "$stage" "$sa" "$sb"
    echo
    echo "What the outputs look like (--report, mean over the seeds):"
    echo
    echo "| config | sum of the outputs, mean (std) | exactly one > 0.5 | none | two or more | strict accuracy | argmax accuracy | ECE | mean top output right / wrong |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for n in "$na" "$nb"; do
        files "$n" | jq -s -r --arg n "${n//|/\\|}" '
          map(select(.type == "summary" and .report)) as $s | ($s | length) as $k
          | def m(f): ($s | map(f) | add) / $k;
            def pct: . * 10000 | round / 100 | tostring + "%";
            def sci: if . > 0 and . < 0.001 then (log10 | floor) as $e
                     | "\(. / pow(10; $e) * 10 | round / 10)e\($e)" else . * 1000 | round / 1000 | tostring end;
          select($k > 0)
          | "| \($n) | \(m(.report.output_sum_mean) | . * 1e6 | round / 1e6) (\(m(.report.output_sum_std) | sci)) | \(m(.report.share_one_above) | pct) | \(m(.report.share_none_above) | pct) | \(m(.report.share_multi_above) | pct) | \(m(.report.strict_accuracy) | pct) | \(m(.test_accuracy) | pct) | \(m(.report.ece) | . * 10000 | round / 10000) | \(m(.report.mean_top_correct) | . * 1000 | round / 1000) / \(m(.report.mean_top_wrong) | . * 1000 | round / 1000) |"'
    done
} > "$out/comparison.md.tmp"
mv -f "$out/comparison.md.tmp" "$out/comparison.md"
write_provenance "$out"
cat "$out/comparison.md"
