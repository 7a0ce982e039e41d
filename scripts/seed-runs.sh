#!/bin/bash
# Run each config over several seeds and tabulate the final test accuracy.
# (Usage below, in help.) Every argument is passed to train as data, through
# GNU parallel (scripts/common.bash); a finished run is reused only when its
# whole command is the same, and the table names the flags its runs were run
# with.
set -eu
prog=seed-runs
case $0 in */*) here=${0%/*}/.. ;; *) here=.. ;; esac
here=$(cd "$here" && pwd)
# shellcheck source=scripts/common.bash
. "$here/scripts/common.bash"

help()
{
    cat << 'EOF'
Usage: scripts/seed-runs.sh [OPTION]... CONFIG... [-- TRAIN FLAGS...]
Train each CONFIG once per seed and tabulate the final test accuracy.

  -s, --seeds SEEDS  a range A..B or a list like 1,4,9 (default 1..5)
  -j, --jobs N       runs at a time (default: the number of cores); each gets
                     --threads cores/N
  -o, --out DIR      where the runs and the table go (default runs/seed-runs)
  -h, --help         print this help and exit

Options and configs may come in any order; everything after -- is passed to
every run of train as it is (e.g. -- --epochs 3 --data-dir /data/mnist).

Each run writes DIR/NAME-seedS.jsonl (its --json --report lines; NAME is the
config's file name without .json), .jsonl.err (its stderr), .pred.csv (its
--predictions) and .cmd (the record of its command). A finished run is reused
only when its command is the same: the train binary (sha256 and --version),
the config file's contents, $MNIST_DIR and every flag. A finished run of
another command is refused (exit 73), with what differs; nothing is
overwritten. The table (per seed accuracy and time, mean +- sample std, min,
max), labelled with the config and the flags, goes to stdout and to
DIR/table.md.

Exit status: 0 when every run finished; 1 when a run failed (its error line is
printed); 64 usage error; 66 a config or the binary is missing; 73 the folder
holds finished runs of another command; 130/143 interrupted (run the same
command to resume). TRAIN=PATH runs another binary than ./train.
EOF
}

cores=$(nproc)
seed_spec=1..5 jobs=$cores out=runs/seed-runs configs=() flags=()
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
        '') usage_error "an empty config name" ;;
        *) configs+=("$1"); shift ;;
    esac
done
[ "${#configs[@]}" -gt 0 ] || usage_error "no config given"
parse_seeds "$seed_spec"
positive_int "-j" "$jobs"
reserved_flags "set by seed-runs (-s, the configs, DIR/NAME-seedS.*)" --seed --config --predictions \
    --json --no-json --report --no-report -- "${flags[@]}"

# each config by its name; two configs with one name would share files
declare -A by_name=()
names=()
for c in "${configs[@]}"; do
    [ -f "$c" ] || fail 66 "$c: no such config file"
    n=${c%/}
    n=${n##*/}
    n=${n%.json}
    [ -z "${by_name[$n]-}" ] || usage_error "configs '${by_name[$n]}' and '$c' are both named $n"
    by_name[$n]=$c
    names+=("$n")
done

threads=$((cores / jobs)); [ "$threads" -ge 1 ] || threads=1
train=${TRAIN:-$here/train}
# the checkout's own binary is built when missing; TRAIN=PATH must exist
[ -n "${TRAIN:-}" ] || [ -x "$train" ] || make -C "$here" --no-print-directory all >&2
train_fingerprint
if ! command -v parallel > /dev/null || ! command -v jq > /dev/null; then
    "$here/scripts/install-deps.sh" parallel=cmd:parallel jq=cmd:jq
fi

# what each run would be; check every finished one before running anything
claim_folder "$out"
todo=() todo_records=()
for i in "${!configs[@]}"; do
    c=${configs[i]} n=${names[i]}
    for s in "${seeds[@]}"; do
        f=$out/$n-seed$s.jsonl
        args=(--seed "$s" --threads "$threads" --json --report "${flags[@]}")
        run_record "$c" "${args[@]}"
        reusable "$f" && continue
        todo+=("$f") todo_records+=("$record")
        add_job "$f" "$c seed $s" --config "$c" "${args[@]}" --predictions "${f%.jsonl}.pred.csv"
    done
done
refuse_others
# the records of the runs about to run, once none was refused
for i in "${!todo[@]}"; do record=${todo_records[i]}; write_record "${todo[i]}"; done
[ "${#todo[@]}" -eq 0 ] || echo "$prog: ${#todo[@]} runs, $jobs at a time with --threads $threads, in $out" >&2
status=0
run_jobs "$jobs" "$out/joblog" || status=$?
[ "$status" -eq 0 ] || [ "$status" -eq 1 ] || exit "$status"

# the label says what was run: the config's name and the flags after --
label_of()
{
    local l=$1
    local quoted=''
    [ "${#flags[@]}" -eq 0 ] || printf -v quoted ' %q' "${flags[@]}"
    l+=$quoted
    printf '%s' "${l//|/\\|}"
}
{
    echo "| config | seeds | test accuracy per seed (%) | mean ± std | min | max | s/run |"
    echo "|---|---|---|---|---|---|---|"
    for n in "${names[@]}"; do
        files=()
        for s in "${seeds[@]}"; do
            finished "$out/$n-seed$s.jsonl" && files+=("$out/$n-seed$s.jsonl")
        done
        [ "${#files[@]}" -gt 0 ] || { echo "| $(label_of "$n") | 0 | | | | | |"; continue; }
        for f in "${files[@]}"; do tail -n1 "$f"; done | jq -rs --arg name "$(label_of "$n")" '
            . as $r | ($r | length) as $n
            | ($r | map(.test_accuracy * 100)) as $a | ($a | add / $n) as $m
            | (if $n > 1 then ($a | map(. - $m | . * .) | add / ($n - 1) | sqrt) else 0 end) as $sd
            | "| \($name) | \($n) | \($a | map(. * 100 | round / 100 | tostring) | join(", ")) | "
              + "\($m * 100 | round / 100) ± \($sd * 100 | round / 100) | \($a | min * 100 | round / 100) | "
              + "\($a | max * 100 | round / 100) | \($r | map(.seconds) | add / $n | round) |"'
    done
} > "$out/table.md.tmp"
mv -f "$out/table.md.tmp" "$out/table.md"
write_provenance "$out"
cat "$out/table.md"
exit "$status"
