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
# shellcheck source=scripts/slurm.bash
. "$here/scripts/slurm.bash"
all_args=("$@")

help()
{
    cat << 'EOF'
Usage: scripts/seed-runs.sh [OPTION]... CONFIG... [-- TRAIN FLAGS...]
Train each CONFIG once per seed and tabulate the final test accuracy.

  -s, --seeds SEEDS  a range A..B or a list like 1,4,9 (default 1..5)
  -j, --jobs N       runs at a time (default: the number of cores); each gets
                     --threads cores/N
  -o, --out DIR      where the runs and the table go (default runs/seed-runs)
      --checkpoint-every N
                     also save each run's checkpoint every N epochs (default
                     0: only when interrupted); for runs that a SIGKILL or a
                     lost machine could end
  -h, --help         print this help and exit

Options and configs may come in any order; everything after -- is passed to
every run of train as it is (e.g. -- --epochs 3 --data-dir /data/mnist).

Each run writes DIR/NAME-seedS.jsonl (its --json --report lines; NAME is the
config's file name without .json), .jsonl.err (its stderr), .pred.csv (its
--predictions) and .cmd (the record of its command); run here (not with
--slurm), also .ckpt (its checkpoint, then its trained model, which train
--load reads) and .sittings (when each sitting began and ended).

A finished run (exit 0, a whole summary line) is reused only when its
command is the same: the train binary (sha256 and --version), the config
file's contents, $MNIST_DIR, the data train reads (each file's CRC-32) and
every flag. A finished run of another command or of other data is refused
(exit 73), with what differs; nothing is overwritten. A run interrupted by
SIGINT, SIGTERM or SIGHUP saves its checkpoint, and the same command goes on
from it (train --resume: the same bytes as a run never interrupted; its wall
time adds the sittings). Flags or config keys that name a file each run
would write (--save, --metrics, --resume, ...) are refused (64). The table
(per seed accuracy and time, mean +- sample std, min, max), labelled with
the config and the flags, goes to stdout and to DIR/table.md.

Exit status: 0 when every run finished; 1 when a run failed (its error line is
printed); 64 usage error; 66 a config, the binary or the data are missing;
69 jq is not installed; 73 the folder holds finished runs of another command;
130/143 interrupted (run the same command to resume). TRAIN=PATH runs another
binary than ./train.
EOF
    printf '\n%s\n' "$slurm_help"
}

cores=$(nproc)
seed_spec=1..5 jobs=$cores out=runs/seed-runs configs=() flags=() every=0
while [ $# -gt 0 ]; do
    case $1 in
        -h | --help) help; exit 0 ;;
        -s | --seeds) opt_value "$1" $# "${2-}"; seed_spec=$2; shift 2 ;;
        -j | --jobs) opt_value "$1" $# "${2-}"; jobs=$2; shift 2 ;;
        -o | --out) opt_value "$1" $# "${2-}"; out=$2; shift 2 ;;
        --checkpoint-every) opt_value "$1" $# "${2-}"; every=$2; shift 2 ;;
        --seeds=* | --jobs=* | --out=* | --checkpoint-every=*)
            o=${1%%=*}; v=${1#*=}; shift; set -- "$o" "$v" "$@"; continue ;;
        --slurm* | --cpus-per-task* | --partition* | --time* | --account* | --sbatch-arg*)
            slurm_option "$@"
            [ "$slurm_shift" -gt 0 ] || usage_error "unknown option '$1'"
            shift "$slurm_shift" ;;
        --) shift; flags=("$@"); break ;;
        -?*) usage_error "unknown option '$1' (flags for train go after --)" ;;
        '') usage_error "an empty config name" ;;
        *) configs+=("$1"); shift ;;
    esac
done
[ "${#configs[@]}" -gt 0 ] || usage_error "no config given"
parse_seeds "$seed_spec"
positive_int "-j" "$jobs"
[ "$every" = 0 ] || positive_int "--checkpoint-every" "$every"
# a Slurm array's runs have no checkpoints: a requeued run starts again
[ "$every" = 0 ] || ! slurm_mode || usage_error "--checkpoint-every is for runs here, not with --slurm"
reserved_flags "set by seed-runs (-s, the configs, DIR/NAME-seedS.*, --checkpoint-every)" --seed --config \
    --predictions --json --no-json --report --no-report --checkpoint-every -- "${flags[@]}"
slurm_check "${flags[@]}"

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
threads=$(slurm_threads "$threads")
train=${TRAIN:-$here/train}
# the checkout's own binary is built when missing; TRAIN=PATH must exist
[ -n "${TRAIN:-}" ] || [ -x "$train" ] || make -C "$here" --no-print-directory all >&2
need_tools jq=jq
train_fingerprint
data_flags=("${flags[@]}")
for c in "${configs[@]}"; do
    check_outputs "each run's files are DIR/NAME-seedS.*" "$c" "${flags[@]}"
done

# what each run would be; check every finished one before running anything
claim_folder "$out"
[ "$slurm_collect" = 1 ] || slurm_busy
todo=() todo_records=()
for i in "${!configs[@]}"; do
    c=${configs[i]} n=${names[i]}
    for s in "${seeds[@]}"; do
        f=$out/$n-seed$s.jsonl
        args=(--seed "$s" --threads "$threads" --json --report "${flags[@]}")
        run_record "$c" "${args[@]}"
        merge_sitting "$f"      # a resumed sitting that a SIGKILL ended
        reusable "$f" && continue
        todo+=("$f") todo_records+=("$record")
        if slurm_mode; then
            add_job "$f" "$c seed $s" --config "$c" "${args[@]}" --predictions "${f%.jsonl}.pred.csv"
        else
            add_resumable_job "$f" "$c seed $s" "$every" --config "$c" "${args[@]}" \
                --predictions "${f%.jsonl}.pred.csv"
        fi
    done
done
refuse_others
# the records of the runs about to run, once none was refused
for i in "${!todo[@]}"; do record=${todo_records[i]}; write_record "${todo[i]}"; done
[ "${#todo[@]}" -eq 0 ] || echo "$prog: ${#todo[@]} runs, $jobs at a time with --threads $threads, in $out" >&2
status=0
if slurm_mode; then
    slurm_run || status=$?
else
    run_jobs "$jobs" "$out/joblog" || status=$?
fi
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
        for f in "${files[@]}"; do
            tail -n1 "$f" | jq -c --argjson s "$(run_seconds "$f")" '.seconds = $s'
        done | jq -rs --arg name "$(label_of "$n")" '
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
