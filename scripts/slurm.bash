# Slurm for the sweep scripts (sweep.sh, seed-runs.sh; sourced after
# common.bash, bash). With --slurm a script checks and records its runs exactly
# as it does to run them here (the same command records, the same refusal of
# finished runs of another command), then submits the runs still to do as one
# job array instead of running them, plus a job that depends on the whole
# array (afterany) and re-runs the script with --slurm-collect: that run
# reuses the finished runs, names the ones that did not finish, and writes the
# table. Running the command again with --slurm submits only what is missing.
#
# A job's words reach train as data here too: DIR/slurm/jobs.ID holds one
# record per array task (NUL-ended; fields split by \x1f: the run's output
# file, the binary, then its arguments), and scripts/slurm-task.sh execs the
# record its SLURM_ARRAY_TASK_ID names. No word is ever part of a string a
# shell parses. The cluster is expected to see this folder at the same path
# (a shared file system), as sbatch's default --export=ALL passes MNIST_DIR
# and TRAIN along.
#
# The caller sets prog, here, out, jobs and train; it keeps all_args, its own
# arguments as given.
# shellcheck disable=SC2154,SC2034

slurm=0 slurm_collect=0 slurm_cpus=1 slurm_given='' slurm_sbatch=()

slurm_help="Slurm (a job array instead of running here):
      --slurm              submit the runs still to do as a Slurm job array,
                           -j N of them at a time (the array's %N), and a job
                           that writes the table once they have all ended;
                           run the command again to submit only what is
                           missing
      --cpus-per-task N    CPUs per run, also train's --threads (default 1)
      --partition P, --time T, --account A
                           passed to sbatch
      --sbatch-arg ARG     any other sbatch option, e.g. --sbatch-arg=--qos=low
      --slurm-collect      (what the table job runs) tabulate the finished
                           runs, name the missing ones; run nothing"

# slurm_option ARG...: takes a Slurm option and its value when $1 is one;
# slurm_shift says how many words it used (0: not a Slurm option)
slurm_option()
{
    slurm_shift=1
    case $1 in
        --slurm) slurm=1 ;;
        --slurm-collect) slurm_collect=1 ;;
        --cpus-per-task | --partition | --time | --account | --sbatch-arg)
            opt_value "$1" $# "${2-}"
            slurm_set "$1" "$2"
            slurm_shift=2 ;;
        --cpus-per-task=* | --partition=* | --time=* | --account=* | --sbatch-arg=*)
            slurm_set "${1%%=*}" "${1#*=}" ;;
        *) slurm_shift=0 ;;
    esac
}

slurm_set()
{
    case $1 in
        --cpus-per-task) positive_int "$1" "$2"; slurm_cpus=$2 ;;
        --sbatch-arg) slurm_sbatch+=("$2") ;;
        *) [ -n "$2" ] || usage_error "option '$1' needs a non-empty value"
           slurm_sbatch+=("$1=$2") ;;
    esac
    slurm_given=$1
}

# slurm_mode: this invocation submits or collects
slurm_mode() { [ "$slurm" = 1 ] || [ "$slurm_collect" = 1 ]; }

# slurm_check FLAG...: the Slurm options go together; the train flags leave
# --threads to --cpus-per-task (each run gets the CPUs it uses)
slurm_check()
{
    if ! slurm_mode; then
        [ -z "$slurm_given" ] || usage_error "option '$slurm_given' is for --slurm"
        return 0
    fi
    reserved_flags "set by --cpus-per-task with --slurm" --threads -- "$@"
    need_tools sbatch=slurm-client squeue=slurm-client
}

# slurm_threads T: train's --threads for each run
slurm_threads()
{
    if slurm_mode; then echo "$slurm_cpus"; else echo "$1"; fi
}

# slurm_busy: refuse (73) while an array submitted for this folder still has
# tasks queued or running: they would run the same runs as this invocation
slurm_busy()
{
    local f=$out/slurm/array id active
    [ -f "$f" ] || return 0
    id=$(< "$f")
    command -v squeue > /dev/null 2>&1 || return 0
    active=$(squeue -h -j "$id" -o %i 2> /dev/null | head -n1) || return 0
    [ -z "$active" ] ||
        fail 73 "$out: Slurm job $id still has runs queued or running; wait for it or scancel $id"
}

# slurm_run LABEL...: in place of run_jobs. Submitting: the array of this
# invocation's jobs and the table job, then exit 0 (nothing to tabulate yet).
# Collecting: each run that did not finish, named with its last error line;
# returns 1 when there is one (the table shows the finished ones).
slurm_run()
{
    local i n=${#job_out[@]} line
    failed_runs=0
    if [ "$slurm_collect" = 1 ]; then
        for i in "${!job_out[@]}"; do
            failed_runs=$((failed_runs + 1))
            line=$(grep -F "${train##*/}: " "${job_out[i]}.err" 2> /dev/null | tail -n1) || true
            [ -n "$line" ] || line="it did not run (cancelled, or still queued: see $out/slurm/)"
            printf '%s: %s did not finish: %s\n' "$prog" "${job_label[i]}" "$line" >&2
        done
        [ "$failed_runs" -eq 0 ] || return 1
        return 0
    fi
    mkdir -p -- "$out/slurm" || fail 73 "$out/slurm: cannot create the folder"
    if [ "$n" -eq 0 ]; then
        echo "$prog: every run has finished; nothing to submit" >&2
        return 0
    fi
    local stamp list abs_out array table
    stamp=$(date +%Y%m%d-%H%M%S)-$$
    case $out in /*) abs_out=$out ;; *) abs_out=$PWD/$out ;; esac
    list=$abs_out/slurm/jobs.$stamp
    for i in "${!job_out[@]}"; do
        case ${job_out[i]} in /*) line=${job_out[i]} ;; *) line=$PWD/${job_out[i]} ;; esac
        printf '%s\x1f%s\x1f%s\0' "$line" "$train" "${job_args[i]}"
    done > "$list"
    array=$(sbatch --parsable --job-name="$prog" --array="0-$((n - 1))%$jobs" --ntasks=1 \
        --cpus-per-task="$slurm_cpus" --output="$abs_out/slurm/%A_%a.log" "${slurm_sbatch[@]}" \
        "$here/scripts/slurm-task.sh" run "$list") ||
        fail 69 "sbatch refused the job array (its message is above)"
    array=${array%%;*}
    printf '%s\n' "$array" > "$out/slurm/array"
    table=$(sbatch --parsable --job-name="$prog-table" --dependency="afterany:$array" --ntasks=1 \
        --cpus-per-task=1 --output="$abs_out/slurm/table-%j.log" "${slurm_sbatch[@]}" \
        "$here/scripts/slurm-task.sh" collect "$here/scripts/$prog.sh" --slurm-collect \
        "${all_args[@]}") ||
        fail 69 "sbatch refused the table job (its message is above); the array $array runs"
    table=${table%%;*}
    printf '%s: submitted %d runs as Slurm job array %s (%s at a time, %s CPUs each); job %s writes the table when they have ended (%s/slurm/table-%s.log)\n' \
        "$prog" "$n" "$array" "$jobs" "$slurm_cpus" "$table" "$out" "$table" >&2
    exit 0
}
